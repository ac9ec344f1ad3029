"""toolkit: how should we encode our images for vision LLMs, and what will it cost?"""

from toolkit.errors import (
    CorruptImageError,
    DataURLError,
    DecompressionBombError,
    EmptyImageError,
    ImageError,
    ImageRejectedError,
    NotAnImageError,
    PayloadError,
    ReportError,
    RequestError,
    RulesError,
    SettingsError,
    ToolkitError,
    UnknownModelError,
    UnsupportedDetailError,
    UnsupportedImageError,
    VideoError,
)
from toolkit.paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_DIR, REPORTS_DIR, SAMPLES_DIR

__version__ = "0.1.0"

__all__ = [
    "CorruptImageError",
    "DATA_DIR",
    "DataURLError",
    "DecompressionBombError",
    "EmptyImageError",
    "ImageError",
    "ImageRejectedError",
    "NOTEBOOKS_DIR",
    "NotAnImageError",
    "PROJECT_DIR",
    "PayloadError",
    "REPORTS_DIR",
    "ReportError",
    "RequestError",
    "RulesError",
    "SAMPLES_DIR",
    "SettingsError",
    "ToolkitError",
    "UnknownModelError",
    "UnsupportedDetailError",
    "UnsupportedImageError",
    "VideoError",
    "__version__",
]

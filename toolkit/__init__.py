"""toolkit: how should we encode our images for vision LLMs, and what will it cost?"""

from toolkit.dataurl import parse_data_url, sniff_mime, to_data_url
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
from toolkit.images import (
    EncodedImage,
    EncodeSettings,
    SourceImage,
    encode_image,
    encode_pixels,
    iter_image_files,
    load_image,
    resize_image,
)
from toolkit.paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_DIR, REPORTS_DIR, SAMPLES_DIR
from toolkit.payload import (
    DOCUMENTED_LIMITS,
    OBSERVED_LIMITS,
    BatchLimits,
    ImagePart,
    Request,
    RequestLimits,
    RequestSpec,
    body_bytes,
    chat_body,
    read_batch_output,
    responses_body,
    split_requests,
    write_batch_files,
)
from toolkit.pricing import (
    DatasetCost,
    ImageCost,
    PriceTable,
    cost_usd,
    dataset_cost,
    image_cost,
    load_prices,
    output_cost_usd,
)
from toolkit.quality import psnr, ssim
from toolkit.sweep import SweepGrid, iter_sweep, pareto_front, recommend, run_sweep
from toolkit.tokens import (
    RuleSet,
    TokenEstimate,
    image_tokens,
    known_models,
    load_rules,
    max_useful_size,
    rule_sets,
)
from toolkit.video import SamplingPlan, VideoInfo, encode_frame, open_video, sample_frames
from toolkit.video_cost import VideoCost, cost_by_fps, video_cost, video_requests

__version__ = "0.1.0"

# The openai SDK takes about 2 s to import, so its modules load on first use.
_LAZY = {
    "Emulator": "toolkit.emulator",
    "FaultPlan": "toolkit.emulator",
    "RetryPolicy": "toolkit.client",
    "make_client": "toolkit.client",
    "read_results": "toolkit.client",
    "run_requests": "toolkit.client",
    "send_requests": "toolkit.client",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")


__all__ = [
    "BatchLimits",
    "DOCUMENTED_LIMITS",
    "Emulator",
    "FaultPlan",
    "ImagePart",
    "OBSERVED_LIMITS",
    "Request",
    "RequestLimits",
    "RequestSpec",
    "RetryPolicy",
    "body_bytes",
    "chat_body",
    "make_client",
    "read_batch_output",
    "read_results",
    "responses_body",
    "run_requests",
    "send_requests",
    "split_requests",
    "write_batch_files",
    "CorruptImageError",
    "DATA_DIR",
    "DataURLError",
    "DecompressionBombError",
    "EncodeSettings",
    "EncodedImage",
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
    "SamplingPlan",
    "SourceImage",
    "SweepGrid",
    "SettingsError",
    "ToolkitError",
    "UnknownModelError",
    "UnsupportedDetailError",
    "UnsupportedImageError",
    "VideoCost",
    "VideoError",
    "VideoInfo",
    "__version__",
    "cost_by_fps",
    "encode_frame",
    "encode_image",
    "encode_pixels",
    "iter_image_files",
    "iter_sweep",
    "load_image",
    "open_video",
    "pareto_front",
    "parse_data_url",
    "psnr",
    "recommend",
    "resize_image",
    "run_sweep",
    "sample_frames",
    "sniff_mime",
    "ssim",
    "to_data_url",
    "video_cost",
    "video_requests",
    "DatasetCost",
    "ImageCost",
    "PriceTable",
    "cost_usd",
    "dataset_cost",
    "image_cost",
    "load_prices",
    "output_cost_usd",
    "RuleSet",
    "TokenEstimate",
    "image_tokens",
    "known_models",
    "load_rules",
    "max_useful_size",
    "rule_sets",
]

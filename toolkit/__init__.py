"""toolkit: how should we encode our images for vision LLMs, and what will it cost?

The public API is every name in `__all__`, by pipeline stage in `API` (group -> module ->
names). Each loads its module on first use, so `import toolkit` is cheap: pandas, SciPy,
PyAV, the openai SDK, matplotlib and Tesseract load only when something that needs them is
used. Errors: `ToolkitError` and the few a caller catches at top level are here; the whole
tree is `toolkit.errors`. Plots: `toolkit.plots`. Other modules are internal.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING

from toolkit import errors
from toolkit.errors import ImageError, RulesError, SettingsError, ToolkitError

API: dict[str, dict[str, tuple[str, ...]]] = {
    "images": {
        "toolkit.images": (
            "DEFAULT_SETTINGS",
            "EncodeSettings",
            "EncodedImage",
            "SourceImage",
            "encode_image",
            "encode_pixels",
            "encode_source",
            "fit_size",
            "iter_image_files",
            "load_image",
            "read_size",
            "resize_image",
        ),
        "toolkit.quality": ("decode_image",),
    },
    "data URLs": {
        "toolkit.dataurl": ("data_url_size", "parse_data_url", "sniff_mime", "to_data_url"),
    },
    "tokens and prices": {
        "toolkit.rulesets": (
            "DEFAULT_DETAIL",
            "SEED_DETAIL",
            "RuleSet",
            "check_detail",
            "find_model",
            "known_models",
            "load_rules",
            "rule_sets",
        ),
        "toolkit.tokens": ("BILLING", "TokenEstimate", "image_tokens", "max_useful_size"),
        "toolkit.pricing": (
            "TIERS",
            "DatasetCost",
            "ImageCost",
            "PriceTable",
            "cost_or_none",
            "cost_usd",
            "dataset_cost",
            "default_price_tables",
            "image_cost",
            "load_prices",
            "output_cost_usd",
            "table_for",
            "usage_cost_usd",
        ),
    },
    "requests": {
        "toolkit.payload": (
            "BatchLimits",
            "DOCUMENTED_LIMITS",
            "ImagePart",
            "OBSERVED_LIMITS",
            "Request",
            "RequestLimits",
            "RequestSpec",
            "body_bytes",
            "chat_body",
            "parse_response",
            "read_batch_output",
            "request_volume",
            "responses_body",
            "split_requests",
            "write_batch_files",
        ),
        "toolkit.client": (
            "RetryPolicy",
            "make_client",
            "read_results",
            "run_requests",
            "send_requests",
        ),
        "toolkit.emulator": ("Emulator", "FaultPlan", "ServerSettings", "text_tokens"),
        "toolkit.plans": ("SendPlan",),
        "toolkit.policy": ("load_policy",),
        "toolkit.provider_limits": ("ANTHROPIC_LIMITS", "GEMINI_LIMITS"),
    },
    "sweeps and recommendations": {
        "toolkit.sweep": (
            "SweepGrid",
            "iter_sweep",
            "progress_bar",
            "run_sweep",
            "sweep_executor",
            "write_sweep",
        ),
        "toolkit.sources": ("list_images", "sample_images"),
        "toolkit.quality": ("busiest_box", "psnr", "seen_view", "ssim"),
        "toolkit.legibility": ("ocr_unavailable", "read_text"),
        "toolkit.readers": ("READERS", "ReaderSpec"),
        "toolkit.reader_columns": ("with_readers",),
        "toolkit.recommend": (
            "DecisionRules",
            "adaptive_picks",
            "pareto_front",
            "recommend",
            "search_settings",
        ),
        "toolkit.crops": ("CropPlan", "split_for_legibility"),
        "toolkit.compare": (
            "cheapest",
            "cheapest_text",
            "compare_providers",
            "comparison",
            "size_grid",
        ),
        "toolkit.projection": ("assumptions", "finding", "monthly_projection"),
        "toolkit.sensitivity": ("fidelity_curve", "sensitivity"),
        "toolkit.details": ("detail_levels", "detail_meaning"),
        "toolkit.adaptive": ("search_image",),
        "toolkit.summary": ("at_plateau", "summarize"),
        "toolkit.calibrate": (
            "CalibrationPlan",
            "CalibrationSettings",
            "calibrate",
            "fit_calibrations",
            "plan_calibration",
            "score_calibration",
        ),
        "toolkit.calibration": (
            "Calibration",
            "calibrated_rules",
            "load_calibrations",
            "write_calibrations",
        ),
        "toolkit.transcribe": ("TRANSCRIBE_PROMPT",),
    },
    "reports": {
        "toolkit.reports": ("build_report", "notebook_images", "notebook_output", "save_table"),
        "toolkit.paths": ("SAMPLES_DIR", "input_path"),
        "toolkit.report_index": ("monthly_html", "moves_html", "recommendations_html"),
    },
    "video": {
        "toolkit.video": (
            "SamplingPlan",
            "VideoInfo",
            "encode_frame",
            "open_video",
            "sample_frames",
        ),
        "toolkit.video_cost": ("VideoCost", "cost_by_fps", "video_cost", "video_requests"),
    },
    "transports": {
        "toolkit.transport": (
            "TRANSPORTS",
            "bytes_per_questions",
            "files_upload_bytes",
            "measure_latency",
            "monthly_bytes",
            "requests_needed",
            "wire_table",
        ),
    },
    "exploring in notebooks": {
        "toolkit.explorer": ("explore",),
        "toolkit.display": ("SweepSummary", "prose", "sweep_summary"),
        "toolkit.formatting": ("table_html",),
    },
}
ERRORS = ("ImageError", "RulesError", "SettingsError", "ToolkitError")
SUBMODULES = ("errors", "plots")  # public modules: the whole error tree, the plot helpers

_SOURCE = {
    name: module for group in API.values() for module, names in group.items() for name in names
}
__all__ = [
    *(
        name
        for group in API.values()
        for name in sorted(n for names in group.values() for n in names)
    ),
    *ERRORS,
    *SUBMODULES,
    "__version__",
]

if TYPE_CHECKING:  # what type checkers and editors see; `API` is what loads (tests compare)
    from toolkit import plots
    from toolkit.adaptive import search_image
    from toolkit.calibrate import (
        CalibrationPlan,
        CalibrationSettings,
        calibrate,
        fit_calibrations,
        plan_calibration,
        score_calibration,
    )
    from toolkit.calibration import (
        Calibration,
        calibrated_rules,
        load_calibrations,
        write_calibrations,
    )
    from toolkit.client import RetryPolicy, make_client, read_results, run_requests, send_requests
    from toolkit.compare import (
        cheapest,
        cheapest_text,
        compare_providers,
        comparison,
        size_grid,
    )
    from toolkit.crops import CropPlan, split_for_legibility
    from toolkit.dataurl import data_url_size, parse_data_url, sniff_mime, to_data_url
    from toolkit.details import detail_levels, detail_meaning
    from toolkit.display import SweepSummary, prose, sweep_summary
    from toolkit.emulator import Emulator, FaultPlan, ServerSettings, text_tokens
    from toolkit.explorer import explore
    from toolkit.formatting import table_html
    from toolkit.images import (
        DEFAULT_SETTINGS,
        EncodedImage,
        EncodeSettings,
        SourceImage,
        encode_image,
        encode_pixels,
        encode_source,
        fit_size,
        iter_image_files,
        load_image,
        read_size,
        resize_image,
    )
    from toolkit.legibility import ocr_unavailable, read_text
    from toolkit.paths import SAMPLES_DIR, input_path
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
        parse_response,
        read_batch_output,
        request_volume,
        responses_body,
        split_requests,
        write_batch_files,
    )
    from toolkit.plans import SendPlan
    from toolkit.policy import load_policy
    from toolkit.pricing import (
        TIERS,
        DatasetCost,
        ImageCost,
        PriceTable,
        cost_or_none,
        cost_usd,
        dataset_cost,
        default_price_tables,
        image_cost,
        load_prices,
        output_cost_usd,
        table_for,
        usage_cost_usd,
    )
    from toolkit.projection import assumptions, finding, monthly_projection
    from toolkit.provider_limits import ANTHROPIC_LIMITS, GEMINI_LIMITS
    from toolkit.quality import busiest_box, decode_image, psnr, seen_view, ssim
    from toolkit.reader_columns import with_readers
    from toolkit.readers import READERS, ReaderSpec
    from toolkit.recommend import (
        DecisionRules,
        adaptive_picks,
        pareto_front,
        recommend,
        search_settings,
    )
    from toolkit.report_index import monthly_html, moves_html, recommendations_html
    from toolkit.reports import build_report, notebook_images, notebook_output, save_table
    from toolkit.rulesets import (
        DEFAULT_DETAIL,
        SEED_DETAIL,
        RuleSet,
        check_detail,
        find_model,
        known_models,
        load_rules,
        rule_sets,
    )
    from toolkit.sensitivity import fidelity_curve, sensitivity
    from toolkit.sources import list_images, sample_images
    from toolkit.summary import at_plateau, summarize
    from toolkit.sweep import (
        SweepGrid,
        iter_sweep,
        progress_bar,
        run_sweep,
        sweep_executor,
        write_sweep,
    )
    from toolkit.tokens import BILLING, TokenEstimate, image_tokens, max_useful_size
    from toolkit.transcribe import TRANSCRIBE_PROMPT
    from toolkit.transport import (
        TRANSPORTS,
        bytes_per_questions,
        files_upload_bytes,
        measure_latency,
        monthly_bytes,
        requests_needed,
        wire_table,
    )
    from toolkit.video import SamplingPlan, VideoInfo, encode_frame, open_video, sample_frames
    from toolkit.video_cost import VideoCost, cost_by_fps, video_cost, video_requests

    __version__: str


def __getattr__(name: str) -> object:
    """Load a public name's module on first use (and keep the name)."""
    if name in _SOURCE:
        value = getattr(importlib.import_module(_SOURCE[name]), name)
    elif name in SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name == "__version__":
        from importlib.metadata import version

        value = version(__name__)  # one source: the project's metadata (pyproject.toml)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Every public name, loaded or not (tab completion lists the lazy ones too)."""
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """Importing a submodule binds it to the package under its own name; where that name is a
    public function (`toolkit.recommend`, the module of `recommend`), the function stays."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and name in _SOURCE:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

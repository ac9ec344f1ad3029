"""The toolkit's error tree.

Every error derives from `ToolkitError` and also from the matching built-in, so callers can
catch either `ToolkitError` or, say, `ValueError`.
"""


class ToolkitError(Exception):
    """Base of every error the toolkit raises on purpose."""


class SettingsError(ToolkitError, ValueError):
    """A setting is out of range or inconsistent with another."""


class SourceError(ToolkitError, ValueError):
    """An input file cannot be used; the message names the source and the reason."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")

    def __reduce__(self):  # picklable across process pools despite the two-argument __init__
        return type(self), (self.source, self.reason)


class ImageError(SourceError):
    """An image cannot be used; the message names the source and the reason."""


class EmptyImageError(ImageError):
    """The input holds no bytes at all."""


class NotAnImageError(ImageError):
    """The bytes are not an image format Pillow can identify."""


class CorruptImageError(ImageError):
    """The image is truncated or its data cannot be decoded."""


class DecompressionBombError(ImageError):
    """The image declares more pixels than the configured limit."""


class UnsupportedImageError(ImageError):
    """The image is valid but its mode or format is not supported."""


class DataURLError(ToolkitError, ValueError):
    """A data URL is malformed, not strict Base64, or declares the wrong type."""


class RulesError(ToolkitError, ValueError):
    """A rule or price file is malformed or does not cover the request."""


class UnknownModelError(RulesError, KeyError):
    """The model is not in the rule set; the message lists the known models."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class UnsupportedDetailError(RulesError):
    """The detail level is not supported by the model."""


class ImageRejectedError(RulesError):
    """The provider would refuse this image (for example, too many patches)."""


class NoSettingError(ToolkitError, LookupError):
    """No setting sends this image within the floors, or a policy has none for its category."""


class PayloadError(ToolkitError, ValueError):
    """A request body cannot be built within the size limits."""


class VideoError(SourceError):
    """A video file cannot be opened or decoded; the message names the file and the reason."""


class ReportError(ToolkitError, RuntimeError):
    """A report could not be produced completely."""


class OutputError(ToolkitError, OSError):
    """An output cannot be written: it would replace an input, another run holds it, or the
    disk refused it; the message names the file and the reason. Nothing partial is left."""

    def __str__(self) -> str:
        if self.filename is None or self.strerror is None:
            return super().__str__()
        return f"{self.filename}: {self.strerror}"


class WorkerDiedError(ToolkitError, RuntimeError):
    """A pool worker process died (killed, out of memory) while it held this item."""

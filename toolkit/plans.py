"""How one image is sent: whole, resized and encoded with a setting, or as crops the provider
keeps whole (`toolkit.crops`), each encoded at its own size.

Crops are cut from the normalized original (upright, opaque, sRGB) at full resolution, then
each is encoded with the plan's format and quality and no resize: the crop plan guarantees the
provider keeps every crop whole. In a request, an image's crops are consecutive image parts
that travel together (`ImagePart.piece`), the first after a text line naming the grid so that
the model knows they are pieces of one image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from toolkit.crops import CropPlan, encoding_text, split_for_legibility
from toolkit.errors import ImageError
from toolkit.images import EncodedImage, EncodeSettings, encode_image, encode_source, load_image
from toolkit.payload import ImagePart
from toolkit.rulesets import RulesSpec

Box = tuple[int, int, int, int]  # (left, top, right, bottom) in the normalized original


class Piece(NamedTuple):
    """One encoded image to send: the whole image (`box` and `label` None) or one crop."""

    encoded: EncodedImage
    box: Box | None = None
    label: str | None = None  # the crop's row and column: "r0c1"


def setting_text(max_side: int | None, fmt: str, quality: int | None, detail: str) -> str:
    """A setting in one line: "768 px jpeg 85 high" ("original px" when not resized)."""
    side = "original" if max_side is None else str(max_side)
    return f"{side} px {encoding_text(fmt, quality)} {detail}"


@dataclass(frozen=True)
class SendPlan:
    """How one image is sent: whole, encoded with `settings` at `detail`; or, with `crops`,
    cut into that plan's crops (made for this image's size), each encoded with `settings`'
    format and quality at its own size and sent at the plan's detail."""

    settings: EncodeSettings
    detail: str
    crops: CropPlan | None = None

    def describe(self) -> str:
        """The setting in one line, as the recommendations write it."""
        quality = None if self.settings.format == "png" else self.settings.quality
        if self.crops is not None:
            return self.crops.describe(self.settings.format, quality)
        return setting_text(self.settings.max_side, self.settings.format, quality, self.detail)

    def encode(self, source: str | Path | bytes) -> list[Piece]:
        """The image encoded as planned: one piece, or one per crop, row by row."""
        if self.crops is None:
            return [Piece(encode_image(source, self.settings))]
        original = load_image(source, self.settings)
        width, height = original.image.size
        if not self.crops.covers(width, height):
            raise ImageError(
                original.name,
                f"decodes to {width}x{height}: its crops were planned for another size",
            )
        pieces = []
        for index, box in enumerate(self.crops.boxes(width, height)):
            crop = original.image.crop(box)
            loaded = replace(original, image=crop, load_ms=0.0 if index else original.load_ms)
            encoded = encode_source(loaded, replace(self.settings, max_side=max(crop.size)))
            pieces.append(Piece(encoded, box, self.crops.label(index)))
        return pieces

    def image_parts(self, source: str | Path | bytes) -> list[ImagePart]:
        """The image as request parts: one, or its crops in order, travelling together, the
        first after a caption naming the grid (parts named NAME#r0c1)."""
        pieces = self.encode(source)
        if self.crops is None or len(pieces) == 1:
            return [ImagePart.from_encoded(pieces[0].encoded, self.detail)]
        first = pieces[0].encoded
        caption = (
            f"The next {len(pieces)} images are one {first.source_width}x{first.source_height} "
            f"image ({Path(first.name).name}) cut into {self.crops.columns}x{self.crops.rows} "
            "crops (columns x rows) that overlap a little, left to right, then top to bottom."
        )
        return [
            replace(
                ImagePart.from_encoded(piece.encoded, self.detail),
                name=f"{piece.encoded.name}#{piece.label}",
                caption=caption if index == 0 else None,
                piece=(index, len(pieces)),
            )
            for index, piece in enumerate(pieces)
        ]


def crop_plan(
    size: tuple[int, int],
    settings: EncodeSettings,
    model: str,
    detail: str,
    rules: RulesSpec = None,
) -> SendPlan:
    """Send a `size` image as the crops `split_for_legibility` finds for `model` at `detail`,
    each encoded with `settings`' format and quality."""
    plan = split_for_legibility(*size, model, detail, rules)
    return SendPlan(settings, detail, plan)

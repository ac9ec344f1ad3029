"""How one image is sent: whole at a setting, or as crops each kept whole at its own size."""

import io

import pytest
from helpers import quadrants
from PIL import Image

from toolkit.crops import split_for_legibility
from toolkit.errors import ImageError
from toolkit.images import EncodeSettings, encode_image, load_image
from toolkit.plans import SendPlan, crop_plan
from toolkit.tokens import image_tokens

MODEL = "gpt-4o"
SIZE = (2560, 1440)


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory):
    """A 2560x1440 picture whose every region differs (quadrants with a gradient)."""
    image = quadrants(SIZE)
    image.paste(Image.linear_gradient("L").resize((1200, 700)).convert("RGB"), (700, 400))
    path = tmp_path_factory.mktemp("plans") / "code.png"
    image.save(path)
    return path


def test_crops_are_cut_from_the_original_and_each_is_kept_whole(screenshot):
    plan = crop_plan(SIZE, EncodeSettings(format="png"), MODEL, "high")
    assert plan.crops == split_for_legibility(*SIZE, MODEL, "high")
    assert plan.describe() == "2x3 crops of 1296x502 px, png, detail high"
    pieces = plan.encode(screenshot)
    assert [p.label for p in pieces] == ["r0c0", "r0c1", "r1c0", "r1c1", "r2c0", "r2c1"]
    original = load_image(screenshot).image
    covered = set()
    for piece in pieces:
        left, top, right, bottom = piece.box
        assert (
            (piece.encoded.width, piece.encoded.height)
            == (1296, 502)
            == (right - left, bottom - top)
        )
        kept = image_tokens(piece.encoded.width, piece.encoded.height, MODEL, "high")
        assert (kept.provider_width, kept.provider_height) == (1296, 502)  # kept whole
        sent = Image.open(io.BytesIO(piece.encoded.data))
        assert sent.tobytes() == original.crop(piece.box).tobytes()  # full resolution
        covered |= {(left, top), (right, bottom)}
    assert (0, 0) in covered and SIZE in covered
    assert sum(image_tokens(1296, 502, MODEL, "high").tokens for _ in pieces) == plan.crops.tokens


def test_crops_take_the_plans_encoding_and_travel_together(screenshot):
    plan = crop_plan(SIZE, EncodeSettings(format="webp", quality=70), MODEL, "high")
    assert plan.describe() == "2x3 crops of 1296x502 px, webp 70, detail high"
    parts = plan.image_parts(screenshot)
    assert [p.piece for p in parts] == [(i, 6) for i in range(6)]
    assert [p.mime for p in parts] == ["image/webp"] * 6 and {p.detail for p in parts} == {"high"}
    assert parts[0].name == f"{screenshot}#r0c0" and parts[5].name.endswith("#r2c1")
    assert parts[0].caption.startswith("The next 6 images are one 2560x1440 image (code.png)")
    assert all(p.caption is None for p in parts[1:])


def test_a_whole_image_is_encoded_as_the_setting_says(screenshot):
    plan = SendPlan(EncodeSettings(max_side=768, quality=70), "low")
    assert plan.describe() == "768 px jpeg 70 low"
    (piece,) = plan.encode(screenshot)
    assert piece.box is None and piece.encoded.data == encode_image(screenshot, plan.settings).data
    (part,) = plan.image_parts(screenshot)
    assert (part.piece, part.caption, part.detail, part.width) == (None, None, "low", 768)


@pytest.mark.parametrize("planned", [(2000, 1440), (2560, 2000), (1000, 700)])
def test_crops_planned_for_another_size_are_refused(screenshot, planned):
    plan = crop_plan(planned, EncodeSettings(), MODEL, "high")
    assert plan.crops.covers(*planned) and not plan.crops.covers(*SIZE)
    with pytest.raises(ImageError, match="planned for another size"):
        plan.encode(screenshot)

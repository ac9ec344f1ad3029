"""toolkit.transport: bytes per transport as sent on the wire, requests under the limits,
latency over an emulated link; and the emulator's bandwidth setting and byte counts."""

import asyncio
import base64
import time

import pytest
from helpers import quadrants, run_cli, to_bytes
from openai import OpenAI
from PIL import Image

from toolkit import transport
from toolkit.emulator import Emulator, ServerSettings
from toolkit.errors import SettingsError
from toolkit.images import EncodeSettings, encode_image
from toolkit.payload import RequestLimits, RequestSpec, serialize
from toolkit.tokens import image_tokens

SPEC = RequestSpec(model="gpt-4.1-mini", prompt="What is this?", api="responses")
URL_BASE = "https://images.example.invalid/v/"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Two files: a noisy photo-like image (large when encoded) and a flat chart-like one."""
    folder = tmp_path_factory.mktemp("transport")
    (folder / "noisy.jpg").write_bytes(
        to_bytes(Image.effect_noise((1200, 900), 60).convert("RGB"), "JPEG")
    )
    (folder / "flat.png").write_bytes(to_bytes(quadrants((640, 480)), "PNG"))
    settings = EncodeSettings(quality=90)
    return [encode_image(folder / name, settings) for name in ("noisy.jpg", "flat.png")]


@pytest.mark.parametrize(
    ("name", "mime"), [("a.jpg", "image/jpeg"), ("long-name.png", "image/png")]
)
def test_upload_size_is_what_the_sdk_sends(name, mime):
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    with Emulator() as emulator:
        client = OpenAI(api_key="k", base_url=emulator.base_url, max_retries=0)
        client.files.create(file=(name, data, mime), purpose="vision")
        assert emulator.received_bytes["/v1/files"] == transport.files_upload_bytes(
            len(data), name, mime
        )


def test_wire_table_sizes_each_transport(images):
    wire = transport.wire_table(images, SPEC, "high", URL_BASE).set_index(["path", "transport"])
    first = images[0]
    inline = wire.loc[(first.name, "data_url")]
    url = wire.loc[(first.name, "url")]
    by_id = wire.loc[(first.name, "file_id")]
    data_url = f"data:image/jpeg;base64,{base64.b64encode(first.data).decode()}"
    assert inline["request_bytes"] == len(serialize(SPEC.body(())).decode()) + len(
        f',{{"type":"input_image","image_url":"{data_url}","detail":"high"}}'
    )
    assert inline["upload_bytes"] == 0 and url["upload_bytes"] == first.bytes
    assert by_id["upload_bytes"] > first.bytes
    assert url["request_bytes"] < 400 and by_id["request_bytes"] < 400
    ratio = (inline["request_bytes"] - url["request_bytes"]) / first.bytes
    assert ratio == pytest.approx(4 / 3, abs=0.005)  # Base64: 4 characters per 3 bytes


def test_questions_repeat_the_bodies_not_the_uploads(images):
    wire = transport.wire_table(images, SPEC, "high", URL_BASE)
    table = transport.bytes_per_questions(wire, [1, 10]).set_index(["questions", "transport"])
    sums = wire.groupby("transport")[["upload_bytes", "request_bytes"]].sum()
    for transport_name in transport.TRANSPORTS:
        ten = table.loc[(10, transport_name)]
        once = sums.loc[transport_name]
        assert ten["total_bytes"] == once["upload_bytes"] + 10 * once["request_bytes"]
    assert table.loc[(1, "data_url"), "vs_data_url"] == 1
    assert table.loc[(10, "url"), "vs_data_url"] < table.loc[(1, "url"), "vs_data_url"] < 1


def test_monthly_bytes_scale_the_mean_image(images):
    wire = transport.wire_table(images, SPEC, "high", URL_BASE)
    monthly = transport.monthly_bytes(wire, 1_000_000, 3).set_index("transport")
    inline = wire[wire["transport"] == "data_url"]["request_bytes"].mean()
    assert monthly.loc["data_url", "request_gb"] == pytest.approx(3 * inline * 1e6 / 1e9)
    assert monthly.loc["data_url", "upload_gb"] == 0
    assert monthly.loc["file_id", "total_gb"] < monthly.loc["data_url", "total_gb"]


def test_requests_needed_inline_is_bound_by_bytes_references_by_count(images):
    limits = RequestLimits(max_request_bytes=1_000_000, max_images=50)
    needed = transport.requests_needed(images, SPEC, "high", URL_BASE, 200, limits)
    needed = needed.set_index("transport")
    assert needed.loc["url", "requests"] == needed.loc["file_id", "requests"] == 4
    assert needed.loc["data_url", "requests"] > 4
    assert needed.loc["data_url", "body_mb_max"] <= 1.0
    mean_image = sum(i.bytes for i in images) / len(images)
    assert needed.loc["url", "image_data_mb_max"] == pytest.approx(50 * mean_image / 1e6)


def test_latency_grows_with_the_bytes_and_tokens_do_not_change(images):
    rate = 4  # Mbit/s: the noisy JPEG inline takes a measurable while
    latency = asyncio.run(
        transport.measure_latency(images, SPEC, "high", URL_BASE, [rate], repeats=1)
    )
    assert len(latency) == len(images) * 3
    assert (latency["request_bytes"] == latency["request_bytes_computed"]).all()
    rows = latency.set_index(["path", "transport"])
    first = images[0].name
    inline = rows.loc[(first, "data_url")]
    assert inline["request_ms"] >= inline["request_bytes"] * 8 / (rate * 1e6) * 1000
    assert rows.loc[(first, "url"), "request_ms"] < inline["request_ms"]
    by_id = rows.loc[(first, "file_id")]
    assert by_id["upload_bytes"] == transport.files_upload_bytes(
        images[0].bytes, transport.upload_name(images[0]), "image/jpeg"
    )
    assert by_id["upload_ms"] >= by_id["upload_bytes"] * 8 / (rate * 1e6) * 1000
    for image in images:
        billed = rows.loc[image.name, "input_tokens"]
        estimate = image_tokens(image.width, image.height, SPEC.model, "high").tokens
        assert billed.nunique() == 1 and billed.iloc[0] > estimate


def test_transports_are_compared_on_the_responses_api(images):
    chat = RequestSpec(model="gpt-4o", api="chat")
    with pytest.raises(SettingsError, match="Responses"):
        transport.requests_needed(images, chat, "high", URL_BASE, 10)


# --- the emulator's link ---------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, -1, True, float("inf"), "10"])
def test_bandwidth_must_be_a_positive_number(rate):
    with pytest.raises(SettingsError, match="bandwidth_mbit"):
        ServerSettings(bandwidth_mbit=rate)


def test_the_emulated_link_paces_bodies_and_counts_them():
    data = b"\xff\xd8\xff" + bytes(400_000)
    for rate, slowest in ((None, None), (8.0, 0.4)):
        with Emulator(settings=ServerSettings(bandwidth_mbit=rate)) as emulator:
            client = OpenAI(api_key="k", base_url=emulator.base_url, max_retries=0)
            start = time.perf_counter()
            uploaded = client.files.create(file=("a.jpg", data, "image/jpeg"), purpose="vision")
            elapsed = time.perf_counter() - start
            content = client.files.content(uploaded.id).read()
            assert content == data
            assert emulator.received_bytes["/v1/files"] > len(data)
            if slowest is not None:  # 400 kB at 8 Mbit/s: 0.4 s at least
                assert elapsed >= slowest
            else:
                assert elapsed < 0.4


def test_the_cli_refuses_a_bad_bandwidth(capsys):
    assert run_cli("emulator", "--bandwidth-mbit", "0") == 2
    assert "bandwidth_mbit" in capsys.readouterr().err

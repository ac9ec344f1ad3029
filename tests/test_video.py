import pickle

import av
import numpy as np
import pytest
from videogen import flat, ramp, shots, write_video

from toolkit.errors import SettingsError, VideoError
from toolkit.images import EncodeSettings, encode_image
from toolkit.paths import DATA_DIR
from toolkit.video import (
    DEFAULT_DEDUPE_THRESHOLD,
    DEFAULT_SCENE_THRESHOLD,
    SamplingPlan,
    encode_frame,
    frame_difference,
    open_video,
    sample_frames,
)

CLIP = DATA_DIR / "video" / "clip.mp4"
CONTAINERS = [("mp4", "libx264"), ("mov", "libx264"), ("webm", "libvpx-vp9"), ("webm", "libvpx")]


def brightness(frame) -> float:
    return float(np.asarray(frame.image.convert("L")).mean())


def all_times(path) -> list[float]:
    with av.open(str(path)) as container:
        return [f.time for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def ramp_mp4(tmp_path_factory):
    """6 s at 10 fps, a keyframe every 5 frames, frame i at gray level 4i."""
    return write_video(tmp_path_factory.mktemp("v") / "ramp.mp4", ramp(60), gop=5)


@pytest.fixture(scope="module")
def shots_mp4(tmp_path_factory):
    """Three 1 s still shots (gray 40, 200, 100) joined by hard cuts at 1 s and 2 s."""
    return write_video(
        tmp_path_factory.mktemp("v") / "shots.mp4", shots((40, 10), (200, 10), (100, 10))
    )


@pytest.mark.parametrize(("suffix", "codec"), CONTAINERS)
def test_open_video_reads_geometry_rate_duration_and_count(tmp_path, suffix, codec):
    path = write_video(tmp_path / f"v.{suffix}", ramp(20), codec=codec)
    info = open_video(path)
    assert (info.width, info.height) == (64, 48)
    assert info.fps == 10
    assert info.duration_s == pytest.approx(2.0)
    assert info.frame_count == 20
    assert info.frame_count_exact == (suffix != "webm")  # Matroska stores no frame count
    assert info.codec == {"libx264": "h264", "libvpx-vp9": "vp9", "libvpx": "vp8"}[codec]
    assert info.rotation == 0


@pytest.mark.parametrize(("suffix", "codec"), CONTAINERS)
def test_fps_sampling_takes_the_frame_on_screen_at_each_step(tmp_path, suffix, codec):
    path = write_video(tmp_path / f"v.{suffix}", ramp(30), codec=codec)
    frames = list(sample_frames(path, SamplingPlan(fps=3)))
    # targets 0, 1/3, 2/3, ... s; at 10 fps the frame on screen at k/3 s is floor(10k/3)
    expected = [int(10 * k / 3 + 1e-9) for k in range(9)]
    assert [round(f.timestamp_s * 10) for f in frames] == expected
    assert [f.index for f in frames] == list(range(9))
    for frame, i in zip(frames, expected, strict=True):
        assert brightness(frame) == pytest.approx(4 * i, abs=2)


def test_fps_above_the_frame_rate_yields_each_frame_once(ramp_mp4):
    frames = list(sample_frames(ramp_mp4, SamplingPlan(fps=25)))
    assert [f.timestamp_s for f in frames] == pytest.approx(all_times(ramp_mp4))


@pytest.mark.parametrize("count", [1, 4, 7, 60, 100])
def test_count_sampling_picks_slice_middles_with_the_right_pixels(ramp_mp4, count):
    frames = list(sample_frames(ramp_mp4, SamplingPlan(count=count)))
    times = all_times(ramp_mp4)
    expected = []
    for k in range(count):
        target = (k + 0.5) * 6.0 / count
        on_screen = max(t for t in times if t <= target + 1e-6)
        if on_screen not in expected:
            expected.append(on_screen)
    assert [f.timestamp_s for f in frames] == pytest.approx(expected)
    assert len(frames) == min(count, 60)
    for frame in frames:  # seeking landed on the right pixels, not just the right time
        assert brightness(frame) == pytest.approx(4 * round(frame.timestamp_s * 10), abs=2)


def test_scene_sampling_finds_the_hard_cuts(shots_mp4):
    frames = list(sample_frames(shots_mp4, SamplingPlan(scene_threshold=DEFAULT_SCENE_THRESHOLD)))
    assert [f.timestamp_s for f in frames] == pytest.approx([0.0, 1.0, 2.0])
    assert [round(brightness(f)) for f in frames] == pytest.approx([40, 200, 100], abs=2)


def test_scene_threshold_one_keeps_only_the_first_frame(shots_mp4):
    frames = list(sample_frames(shots_mp4, SamplingPlan(scene_threshold=1.0)))
    assert [f.timestamp_s for f in frames] == [0.0]


def test_dedupe_drops_stills_and_reports_them(shots_mp4):
    plan = SamplingPlan(fps=10, dedupe_threshold=DEFAULT_DEDUPE_THRESHOLD)
    everything = list(sample_frames(shots_mp4, plan, include_duplicates=True))
    kept = list(sample_frames(shots_mp4, plan))
    assert len(everything) == 30
    assert [f.timestamp_s for f in everything if not f.duplicate] == pytest.approx([0, 1, 2])
    assert [f.timestamp_s for f in kept] == pytest.approx([0, 1, 2])
    assert [f.index for f in kept] == [0, 10, 20]
    assert everything[0].difference is None
    assert everything[10].difference == pytest.approx(160 / 255, abs=0.02)
    assert all(f.difference < DEFAULT_DEDUPE_THRESHOLD for f in everything if f.duplicate)


def test_dedupe_compares_with_the_last_kept_frame_so_slow_drift_is_kept(ramp_mp4):
    # consecutive ramp frames differ by 4/255 = 0.016 (< 0.02), so each kept frame is
    # followed by one duplicate and then a frame 8/255 away from the last kept one
    plan = SamplingPlan(fps=10, dedupe_threshold=0.02)
    kept = list(sample_frames(ramp_mp4, plan))
    assert [round(f.timestamp_s * 10) for f in kept] == list(range(0, 60, 2))


def test_max_frames_stops_after_that_many_kept_frames(shots_mp4):
    plan = SamplingPlan(fps=10, dedupe_threshold=DEFAULT_DEDUPE_THRESHOLD, max_frames=2)
    frames = list(sample_frames(shots_mp4, plan, include_duplicates=True))
    assert [f.timestamp_s for f in frames if not f.duplicate] == pytest.approx([0, 1])
    assert frames[-1].timestamp_s == pytest.approx(1.0)


def test_sampling_is_lazy_and_frames_convert_on_demand(ramp_mp4):
    frames = sample_frames(ramp_mp4, SamplingPlan(fps=10))
    first = next(frames)
    assert "image" not in first.__dict__
    assert first.image.mode == "RGB" and first.image.size == (64, 48)
    frames.close()


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_display_rotation_is_applied(tmp_path, rotation):
    array = flat(0)
    array[:, :8] = 255  # a white band on the left edge
    path = write_video(tmp_path / "r.mp4", [array] * 3, rotation=rotation)
    info = open_video(path)
    assert info.rotation == rotation % 360
    assert (info.width, info.height) == ((48, 64) if rotation != 180 else (64, 48))
    frame = next(sample_frames(path, SamplingPlan(count=1)))
    assert frame.image.size == (info.width, info.height) == (frame.width, frame.height)
    pixels = np.asarray(frame.image.convert("L")).astype(float)
    # counter-clockwise by `rotation` degrees: left goes to the bottom (90), top (-90), right
    edge = {90: pixels[-4:, :], -90: pixels[:4, :], 180: pixels[:, -4:]}[rotation]
    assert edge.mean() > 200
    assert pixels.mean() < 80


def test_encode_frame_uses_the_image_pipeline(ramp_mp4):
    frame = next(sample_frames(ramp_mp4, SamplingPlan(count=1)))
    settings = EncodeSettings(max_side=32, format="png")
    encoded = encode_frame(frame, settings)
    assert (encoded.width, encoded.height) == (32, 24)
    assert encoded.mime == "image/png"
    assert encoded.name == f"{ramp_mp4}#t=3.000"
    assert (encoded.source_width, encoded.source_height) == (64, 48)
    assert encoded.source_format == "h264"
    # the same pixels through encode_image give the same bytes
    assert encoded.data == encode_image(_png(frame.image), settings).data


def _png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_frame_difference_is_mean_absolute_difference_over_255():
    a = np.zeros((4, 4), np.uint8)
    b = np.full((4, 4), 255, np.uint8)
    assert frame_difference(a, a) == 0
    assert frame_difference(a, b) == 1
    assert frame_difference(b, np.full((4, 4), 204, np.uint8)) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"fps": 1, "count": 2},
        {"fps": 0},
        {"fps": float("inf")},
        {"count": 0},
        {"count": 2.5},
        {"count": True},
        {"scene_threshold": 1.5},
        {"fps": 1, "dedupe_threshold": -0.1},
        {"fps": 1, "max_frames": 0},
    ],
)
def test_invalid_plans_raise_settings_error(kwargs):
    with pytest.raises(SettingsError):
        SamplingPlan(**kwargs)


def test_plan_mode():
    assert SamplingPlan(fps=1).mode == "fps"
    assert SamplingPlan(count=3).mode == "count"
    assert SamplingPlan(scene_threshold=0.2).mode == "scenes"


def _text_file(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    return path


def _empty_file(tmp_path):
    path = tmp_path / "empty.webm"
    path.write_bytes(b"")
    return path


def _truncated_head(tmp_path):
    """An MP4 whose index (moov, written last) was cut off."""
    whole = write_video(tmp_path / "whole.mp4", ramp(30))
    path = tmp_path / "cut.mp4"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return path


def _audio_only(tmp_path):
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        samples = np.zeros((1, 800), np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_text_file, "Invalid data"),
        (_empty_file, "Invalid data"),
        (_truncated_head, "Invalid data"),
        (_audio_only, "no video stream"),
        (lambda tmp_path: tmp_path / "missing.mp4", "No such file"),
    ],
)
def test_unusable_files_raise_video_error_naming_file_and_reason(tmp_path, make, reason):
    path = make(tmp_path)
    for attempt in (
        lambda: open_video(path),
        lambda: list(sample_frames(path, SamplingPlan(fps=1))),
    ):
        with pytest.raises(VideoError) as caught:
            attempt()
        assert caught.value.source == str(path)
        assert reason in caught.value.reason
        assert str(caught.value).startswith(f"{path}: ")


def test_truncated_stream_fails_while_decoding(tmp_path):
    rng = np.random.default_rng(0)
    noisy = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(40)]
    whole = write_video(tmp_path / "whole.mp4", noisy, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for plan in (SamplingPlan(fps=10), SamplingPlan(scene_threshold=0.1)):
        with pytest.raises(VideoError, match="decoding failed|truncated"):
            list(sample_frames(cut, plan))


def test_video_error_pickles():
    error = pickle.loads(pickle.dumps(VideoError("a.mp4", "broken")))
    assert (error.source, error.reason, str(error)) == ("a.mp4", "broken", "a.mp4: broken")


@pytest.mark.skipif(not CLIP.exists(), reason="data/video/clip.mp4 not generated yet")
def test_shipped_clip_has_its_cuts_found():
    info = open_video(CLIP)
    assert info.codec == "h264"
    assert CLIP.stat().st_size < 1_500_000
    cuts = list(sample_frames(CLIP, SamplingPlan(scene_threshold=DEFAULT_SCENE_THRESHOLD)))
    assert len(cuts) >= 3


class _LateSeeks:
    """A container whose seeks land 2 s after the asked time (as a bad index can)."""

    def __init__(self, container):
        self._container = container
        self.seeks = []

    def __getattr__(self, name):
        return getattr(self._container, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._container.close()

    def seek(self, offset, *, stream, backward=True):
        late = offset + int(2 / stream.time_base) if not self.seeks else offset
        self.seeks.append(offset)
        self._container.seek(late, stream=stream, backward=backward)


def test_a_seek_that_overshoots_falls_back_to_decoding_from_the_start(ramp_mp4, monkeypatch):
    opened = []
    real_open = av.open

    def late_open(path, *args, **kwargs):
        opened.append(_LateSeeks(real_open(path, *args, **kwargs)))
        return opened[-1]

    monkeypatch.setattr(av, "open", late_open)
    frames = list(sample_frames(ramp_mp4, SamplingPlan(count=4)))
    assert len(opened[-1].seeks) == 2  # the late seek, then the rewind; no seeks after that
    assert [f.timestamp_s for f in frames] == pytest.approx([0.7, 2.2, 3.7, 5.2])
    for frame in frames:
        assert brightness(frame) == pytest.approx(4 * round(frame.timestamp_s * 10), abs=2)

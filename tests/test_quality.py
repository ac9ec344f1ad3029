"""Quality metrics against known values: identical images, exact MSE, analytic SSIM."""

import math

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from toolkit import quality
from toolkit.errors import SettingsError


def textured(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth gradient with noise, kept inside 10..245 so +-10 never clips."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = 40 + 150 * (0.5 * x + 0.3 * y + 0.2 * np.sin(12 * x * y))
    pixels = base + rng.normal(0, 12, (height, width, 3))
    return np.clip(pixels, 10, 245).astype(np.uint8)


def ssim_direct(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM written out in float64 without the stride padding (the definition)."""
    ya, yb = (quality.luma(p).astype(np.float64) for p in (a, b))

    def blur(p):
        return gaussian_filter(p, 1.5, truncate=3.5)

    ma, mb = blur(ya), blur(yb)
    va, vb, cab = blur(ya * ya) - ma**2, blur(yb * yb) - mb**2, blur(ya * yb) - ma * mb
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    smap = (2 * ma * mb + c1) * (2 * cab + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(smap[5:-5, 5:-5].mean())


def test_identical_images_score_perfectly():
    pixels = textured(120, 90)
    assert quality.ssim(pixels, pixels) == 1.0
    assert quality.psnr(pixels, pixels) == math.inf


def test_psnr_of_a_known_error_is_exact():
    pixels = textured(64, 48)
    signs = np.where(np.indices(pixels.shape).sum(axis=0) % 2, 1, -1)
    shifted = (pixels.astype(int) + 10 * signs).astype(np.uint8)  # every sample off by 10
    assert quality.mse(pixels, shifted) == 100
    assert quality.psnr(pixels, shifted) == pytest.approx(10 * math.log10(255**2 / 100), abs=1e-12)


def test_ssim_of_flat_images_matches_the_formula():
    a, b = np.full((40, 50), 100, np.uint8), np.full((40, 50), 140, np.uint8)
    c1 = (0.01 * 255) ** 2  # flat: no variance, so SSIM is the luminance term alone
    assert quality.ssim(a, b) == pytest.approx((2 * 100 * 140 + c1) / (100**2 + 140**2 + c1))


@pytest.mark.parametrize("width", [300, 1024])  # 1024: the stride-padded case
def test_ssim_equals_the_unpadded_float64_definition(width):
    a = textured(width, 64, seed=1)
    b = np.clip(a.astype(int) + np.random.default_rng(2).normal(0, 20, a.shape), 0, 255)
    b = b.astype(np.uint8)
    assert quality.ssim(a, b) == pytest.approx(ssim_direct(a, b), abs=1e-5)


def test_ssim_agrees_with_scikit_image_when_installed():
    metrics = pytest.importorskip("skimage.metrics")
    a = textured(200, 150, seed=3)
    b = np.clip(a + np.random.default_rng(4).normal(0, 15, a.shape), 0, 255).astype(np.uint8)
    expected = metrics.structural_similarity(
        quality.luma(a),
        quality.luma(b),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert quality.ssim(a, b) == pytest.approx(expected, abs=1e-5)
    psnr = metrics.peak_signal_noise_ratio(a, b, data_range=255)
    assert quality.psnr(a, b) == pytest.approx(psnr, abs=1e-9)


def test_more_damage_scores_lower_and_the_reference_is_reusable():
    a = textured(160, 120, seed=5)
    rng = np.random.default_rng(6)
    noisy = [np.clip(a + rng.normal(0, s, a.shape), 0, 255).astype(np.uint8) for s in (3, 10, 30)]
    ref = quality.Reference(Image.fromarray(a))
    scores = [ref.compare(n) for n in noisy]
    assert scores[0].ssim > scores[1].ssim > scores[2].ssim
    assert scores[0].psnr_db > scores[1].psnr_db > scores[2].psnr_db
    assert scores[1].ssim == pytest.approx(quality.ssim(a, noisy[1]))
    assert ref.size == (160, 120)


def test_size_mismatch_and_tiny_images_are_refused():
    with pytest.raises(SettingsError, match="differ in size"):
        quality.ssim(textured(50, 40), textured(40, 50))
    with pytest.raises(SettingsError, match="differ in size"):
        quality.psnr(textured(50, 40), textured(40, 50))
    with pytest.raises(SettingsError, match="at least 11"):
        quality.Reference(textured(10, 40))


def test_seen_view_loses_detail_the_provider_drops():
    photo = Image.fromarray(textured(400, 300, seed=7))
    kept_all = quality.seen_view(photo, (400, 300), (400, 300))
    assert kept_all is photo
    small = quality.seen_view(photo, (100, 75), (400, 300))
    assert small.size == (400, 300)
    assert quality.ssim(photo, small) < 0.9

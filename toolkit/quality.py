"""What the model sees versus the original: PSNR and SSIM (legibility: `toolkit.legibility`).

Choices (measured on the project's 2-core machine, see `benchmarks/bench_sweep.py` and the
module notes below):

- **SSIM on luma only.** Full-colour SSIM (mean over R, G, B) costs 3x the luma SSIM and
  ranks JPEG/WebP quality settings the same way; chroma loss is still visible in PSNR, which is
  computed over all colour channels because it costs almost nothing.
- **Gaussian window, sigma = 1.5, 11x11** (Wang et al. 2004, "Image quality assessment: from
  error visibility to structural similarity"), population covariances, K1 = 0.01, K2 = 0.03,
  data range 255, border of 5 px left out of the mean. These are the published definition's
  constants, so our numbers compare with the literature and with
  `skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)`.
- **Stride padding.** scipy's column pass hits cache-set aliasing when a row is a power of two
  bytes long (widths 1024, 2048); the luma plane is padded by 3 columns each side before
  filtering, which changes no value inside the measured region and runs 2-2.5x faster there.
- **Reuse.** `Reference` keeps the luma, local mean and variance of one image, so comparing it
  with many encodes of the same size filters 3 planes per comparison instead of 5.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from toolkit.errors import SettingsError

SIGMA = 1.5  # Wang et al. 2004
TRUNCATE = 3.5  # radius round(3.5 * 1.5) = 5 px -> the 11x11 window of Wang et al.
RADIUS = int(TRUNCATE * SIGMA + 0.5)
K1, K2 = 0.01, 0.03
DATA_RANGE = 255.0
C1 = (K1 * DATA_RANGE) ** 2
C2 = (K2 * DATA_RANGE) ** 2
STRIDE_PAD = 3  # columns added each side so no row is a power-of-two number of bytes
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as Pillow "L"


class Fidelity(NamedTuple):
    """One comparison: SSIM on luma (1 = identical) and PSNR over all channels in dB."""

    ssim: float
    psnr_db: float


def as_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """Pixels as an array (H, W) or (H, W, 3); Pillow images other than L are made RGB."""
    if isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        return np.asarray(image)
    return np.asarray(image)


def luma(pixels: np.ndarray) -> np.ndarray:
    """BT.601 luma as float32 (a grey image is returned as is)."""
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    return pixels[..., :3].astype(np.float32) @ LUMA_WEIGHTS


def _blur(plane: np.ndarray) -> np.ndarray:
    return gaussian_filter(plane, SIGMA, truncate=TRUNCATE, mode="reflect")


def _padded(plane: np.ndarray) -> np.ndarray:
    return np.pad(plane, ((0, 0), (STRIDE_PAD, STRIDE_PAD)), mode="reflect")


def _inner(plane: np.ndarray) -> np.ndarray:
    """The region SSIM averages: the image without its padding and its 5 px filter border."""
    cut = STRIDE_PAD + RADIUS
    return plane[RADIUS:-RADIUS, cut:-cut]


def _check_same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise SettingsError(f"images differ in size: {a.shape} vs {b.shape}")


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error over every sample."""
    _check_same_shape(a, b)
    diff = np.subtract(a, b, dtype=np.int16).ravel()
    return int(np.einsum("i,i->", diff, diff, dtype=np.int64)) / diff.size  # exact


def psnr_from_mse(value: float) -> float:
    """PSNR in dB for 8-bit samples; `inf` when the images are identical."""
    return float("inf") if value == 0 else float(10 * np.log10(DATA_RANGE**2 / value))


class Reference:
    """One reference image's statistics, computed once and reused for every comparison.

    Raises:
        SettingsError: the image is smaller than the 11x11 SSIM window.
    """

    def __init__(self, image: Image.Image | np.ndarray):
        self.pixels = as_array(image)
        height, width = self.pixels.shape[:2]
        if min(height, width) <= 2 * RADIUS:
            raise SettingsError(
                f"SSIM needs at least {2 * RADIUS + 1} px a side, got {width}x{height}"
            )
        self.y = _padded(luma(self.pixels))
        mu = _blur(self.y)
        self.mu = _inner(mu)
        self.mu2 = self.mu * self.mu  # the reference's terms, kept for every comparison
        self.var = _inner(_blur(self.y * self.y)) - self.mu2

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]

    def ssim(self, other: Image.Image | np.ndarray) -> float:
        """Mean SSIM of the luma planes (Wang et al. 2004)."""
        pixels = as_array(other)
        if pixels.shape[:2] != self.pixels.shape[:2]:
            raise SettingsError(f"images differ in size: {self.pixels.shape} vs {pixels.shape}")
        y = _padded(luma(pixels))
        mu = _inner(_blur(y))
        mu_xy = self.mu * mu
        mu2 = mu * mu
        var = _inner(_blur(y * y))  # E[y^2], made var_y below; all in place
        var -= mu2
        cov = _inner(_blur(self.y * y))  # E[xy], made cov below
        cov -= mu_xy
        # summed in the order that makes identical images score exactly 1
        mu2 += self.mu2
        mu2 += C1
        var += self.var
        var += C2
        mu2 *= var  # the denominator
        mu_xy *= 2
        mu_xy += C1
        cov *= 2
        cov += C2
        mu_xy *= cov  # the numerator
        mu_xy /= mu2
        return float(mu_xy.mean(dtype=np.float64))

    def psnr(self, other: Image.Image | np.ndarray) -> float:
        """PSNR over all channels in dB."""
        return psnr_from_mse(mse(self.pixels, as_array(other)))

    def compare(self, other: Image.Image | np.ndarray) -> Fidelity:
        """SSIM and PSNR of `other` against this reference."""
        pixels = as_array(other)
        return Fidelity(self.ssim(pixels), self.psnr(pixels))


def ssim(reference: Image.Image | np.ndarray, other: Image.Image | np.ndarray) -> float:
    """Mean luma SSIM of two same-size images (1.0 when identical)."""
    return Reference(reference).ssim(other)


def psnr(reference: Image.Image | np.ndarray, other: Image.Image | np.ndarray) -> float:
    """PSNR in dB over all channels of two same-size 8-bit images (`inf` when identical)."""
    return psnr_from_mse(mse(as_array(reference), as_array(other)))


def decode_image(data: bytes, mode: str | None = None) -> Image.Image:
    """Encoded bytes back to pixels: in `mode` if given, else RGB (or L for a grey encode)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        mode = mode or (image.mode if image.mode in ("L", "RGB") else "RGB")
        return image if image.mode == mode else image.convert(mode)


def to_size(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` resampled to exactly `size` (LANCZOS; the same object when already that size)."""
    size = (int(size[0]), int(size[1]))
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def seen_view(
    image: Image.Image, provider_size: tuple[int, int], reference_size: tuple[int, int]
) -> Image.Image:
    """What the provider keeps of `image` (its own resize to `provider_size`), brought back
    to `reference_size`. The provider's resampling filter is not documented; LANCZOS, the
    toolkit's own, stands in for it both ways."""
    return to_size(to_size(image, provider_size), reference_size)


def busiest_box(image: Image.Image, share: float) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) window covering `share` of each side of `image` with the
    most detail (mean absolute luma gradient), searched on a grid of 1/8 steps: where lost
    detail (small text, fine texture) shows best in a crop."""
    if not 0 < share <= 1:
        raise SettingsError(f"share must be in (0, 1], not {share}")
    y = luma(as_array(image))
    detail = np.abs(np.diff(y, axis=0))[:, :-1] + np.abs(np.diff(y, axis=1))[:-1, :]
    height, width = detail.shape
    box_w, box_h = max(1, round(width * share)), max(1, round(height * share))
    integral = np.pad(detail.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    lefts = np.linspace(0, width - box_w, 9).round().astype(int)
    tops = np.linspace(0, height - box_h, 9).round().astype(int)
    window = (
        integral[tops[:, None] + box_h, lefts[None, :] + box_w]
        - integral[tops[:, None], lefts[None, :] + box_w]
        - integral[tops[:, None] + box_h, lefts[None, :]]
        + integral[tops[:, None], lefts[None, :]]
    )
    row, column = np.unravel_index(np.argmax(window), window.shape)
    left, top = lefts[column], tops[row]
    return int(left), int(top), int(left + box_w), int(top + box_h)

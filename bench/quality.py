"""How alike two images look, and how many bytes one encoder needs for the quality of another.

Three metrics, so no change wins on one alone:

- **SSIM on luma** (Wang et al. 2004: Gaussian window sigma = 1.5, K1 = 0.01, K2 = 0.03, population
  covariance), computed by scikit-image on the BT.601 luma of each image with any alpha
  composited on white, against the encoder's input. 1.0 means identical. Luma only, as the issue
  asks: it cannot see chroma, which is why the second metric matters.
- **Butteraugli** (Google's psychovisual distance, the metric JPEG XL and jpegli are tuned on),
  from libjxl's own ``butteraugli_main`` (Debian ``libjxl-devtools``), run on the same images
  composited on white. We report its 3-norm (lower is better; about 1 is "just noticeable" at
  the default 80-nit viewing). It sees colour, ringing and blocking that luma SSIM misses.
- **SSIMULACRA2** (Cloudinary's perceptual score, the one libjxl, jpegli, Cloudinary and aom's
  ``tune=iq`` are tuned and judged by): ``bench/ssimulacra2.py``, our numpy port of libjxl's
  tool, checked within 0.1 of libjxl v0.12.0's own ``ssimulacra2`` on the pairs in
  ``tests/data/ssimulacra2`` (the PyPI ``ssimulacra2`` 0.3.0 is several points off libjxl).
  100 is identical, 90 visually lossless, 70 high quality. Measured on the images composited
  on white, as butteraugli. When ``butteraugli_main`` is missing the bench says so and reports
  SSIMULACRA2 and SSIM.

**BD-rate** (Bjøntegaard delta rate): the mean difference in log-bytes between two rate-quality
curves over the quality interval both cover, with each curve interpolated monotonically (PCHIP,
as the AV1 and JPEG XL teams compute it, instead of the original cubic polynomial fit, which can
wiggle). -10 % means the first encoder needs 10 % fewer bytes for the same measured quality.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.interpolate import PchipInterpolator
from skimage.metrics import structural_similarity

BUTTERAUGLI = "butteraugli_main"
_BUTTERAUGLI_TIMEOUT_S = 300


def on_white(image: Image.Image) -> Image.Image:
    """RGB (or L) pixels as a viewer shows them on a white page: alpha composited on white."""
    if image.mode in ("RGB", "L"):
        return image
    rgba = image.convert("RGBA")
    if rgba.getchannel("A").getextrema() == (255, 255):
        return rgba.convert("RGB")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def luma(image: Image.Image) -> np.ndarray:
    """BT.601 luma of the image on white, as float64 (Pillow's ``convert("L")``)."""
    return np.asarray(on_white(image).convert("L"), dtype=np.float64)


def ssim(reference: Image.Image | np.ndarray, distorted: Image.Image | np.ndarray) -> float:
    """Luma SSIM of ``distorted`` against ``reference`` (images, or luma arrays from ``luma``)."""
    a = reference if isinstance(reference, np.ndarray) else luma(reference)
    b = distorted if isinstance(distorted, np.ndarray) else luma(distorted)
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")
    return float(structural_similarity(a, b, data_range=255, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


@dataclass(frozen=True)
class ButteraugliScore:
    max: float  # the worst spot in the image
    pnorm3: float  # the 3-norm over the whole image: the figure we compare on


def butteraugli_path() -> str | None:
    """Where libjxl's ``butteraugli_main`` is, or None (then only SSIM is measured)."""
    return shutil.which(BUTTERAUGLI)


def butteraugli(reference_png: Path, distorted: Image.Image, *, binary: str) -> ButteraugliScore:
    """Butteraugli of ``distorted`` against the reference, given as an RGB PNG file on disk
    (written once per image by the caller with ``write_reference``)."""
    fd, name = tempfile.mkstemp(suffix=".png", prefix="ba-")
    os.close(fd)
    try:
        on_white(distorted).convert("RGB").save(name, "PNG", compress_level=0)
        proc = subprocess.run([binary, str(reference_png), name], capture_output=True, text=True,
                              timeout=_BUTTERAUGLI_TIMEOUT_S, check=False)
    finally:
        os.unlink(name)
    if proc.returncode != 0:
        raise RuntimeError(f"{BUTTERAUGLI} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return parse_butteraugli(proc.stdout)


def parse_butteraugli(text: str) -> ButteraugliScore:
    """``butteraugli_main`` prints the max distance, then ``3-norm: X``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    worst = float(lines[0])
    pnorm = next(float(line.split(":", 1)[1]) for line in lines if line.startswith("3-norm"))
    return ButteraugliScore(max=worst, pnorm3=pnorm)


def write_reference(image: Image.Image, path: Path) -> Path:
    """The reference as butteraugli reads it: RGB on white, lossless PNG."""
    on_white(image).convert("RGB").save(path, "PNG", compress_level=1)
    return path


# ── rate-quality curves ───────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Point:
    """One encoder setting over the corpus: total bytes and mean quality."""

    setting: int  # the quality number given to the encoder (or the UI)
    bytes: int
    quality: float  # mean SSIM, or minus the mean butteraugli 3-norm (higher is better)


def _monotone(points: list[Point]) -> tuple[np.ndarray, np.ndarray] | None:
    """(quality, log bytes) sorted by quality, strictly increasing in both; None if < 2."""
    pts = sorted(points, key=lambda p: p.quality)
    q: list[float] = []
    r: list[float] = []
    for p in pts:
        if p.bytes <= 0:
            continue
        lr = math.log(p.bytes)
        if q and (p.quality <= q[-1] or lr <= r[-1]):
            continue  # a setting that bought no quality (or cost none) carries no information
        q.append(p.quality)
        r.append(lr)
    return (np.array(q), np.array(r)) if len(q) >= 2 else None


def bytes_at(points: list[Point], quality: float) -> float | None:
    """Bytes the curve needs for ``quality`` (monotone interpolation), None outside its range."""
    curve = _monotone(points)
    if curve is None:
        return None
    q, r = curve
    if quality < q[0] - 1e-12 or quality > q[-1] + 1e-12:
        return None
    return float(math.exp(PchipInterpolator(q, r)(min(max(quality, q[0]), q[-1]))))


def bd_rate(test: list[Point], anchor: list[Point]) -> float | None:
    """Bjøntegaard delta rate of ``test`` against ``anchor`` in per cent (negative: fewer bytes
    at the same quality), over the quality interval both curves cover; None if they do not
    overlap."""
    a, b = _monotone(test), _monotone(anchor)
    if a is None or b is None:
        return None
    low, high = max(a[0][0], b[0][0]), min(a[0][-1], b[0][-1])
    if high <= low:
        return None
    fa, fb = PchipInterpolator(*a), PchipInterpolator(*b)
    grid = np.linspace(low, high, 201)
    diff = float(np.trapezoid(fa(grid) - fb(grid), grid) / (high - low))
    return 100.0 * (math.exp(diff) - 1.0)

"""SSIMULACRA2: Cloudinary's perceptual metric, a port of libjxl's ``tools/ssimulacra2.cc``.

The score runs from 100 (identical) down through 90 (visually lossless), 70 (high quality), 50
(medium), 30 (low) to negative values for extreme distortion. It is the metric libjxl, jpegli,
Cloudinary and aom's ``tune=iq`` are tuned and judged by. Auto quality (``quality_search.py``)
runs it in the workers; the bench and ``python -m bench.ssimulacra2`` import it from here.

The steps follow libjxl v0.12.0 and are checked against that tool's output on the pairs in
``tests/data/ssimulacra2/`` (within 0.1; see its README):

1. sRGB floats in 0..1 (an ICC profile is ignored: input is taken as sRGB, as libjxl does for an
   untagged PNG); with alpha, composite on a grey background in gamma-encoded space, at 0.1 and
   at 0.9, and keep the worse score;
2. sRGB to linear RGB, then libjxl's XYB (opsin absorbance matrix and bias, cube root), then
   "MakePositiveXYB" so every channel lies in about 0..1;
3. at 6 scales (each a 2x2 box downsampling of the previous one, in linear RGB): blur with a
   Gaussian of sigma 1.5, compute the SSIM map without its luminance denominator, the "ringing"
   and "blurring" edge maps, and their 1- and 4-norms per channel;
4. a weighted sum of those 108 norms, then libjxl's polynomial and power mapping.

Decisions, for speed (the issue's budget is 0.3 s per megapixel on one core; the op-for-op port
this replaced took ~1.8 s):

- The per-pixel work (XYB, the 2x2 downsampling, the blurs, the maps and their sums) runs in C
  (``ssimulacra2_kernels.c``, compiled once into the app's cache: ``ssimulacra2_native.py``);
  the same steps in numpy (``_NumpyKernels``) score wherever no C compiler is found, within
  0.002 of it (tested). ``_kernels()`` picks one set once; a ``Reference`` keeps it.
  Measured by ``python -m bench.metric_speed``.
- The blur is libjxl's recursive Gaussian (Charalampidis 2016) taken as the 9-tap FIR it equals
  in exact arithmetic (its impulse response, zero outside the image, no renormalisation at the
  borders), run by ``scipy.ndimage.correlate1d`` in float32. libjxl runs the recursion itself
  in float32, and its poles sit on the unit circle, so its rounding never dies out and grows
  with row length; the port this replaced copied that arithmetic op for op (~4x slower). Both
  are within 0.07 of libjxl on the validation pairs (all at most 256 px wide); at 1000x1000 px
  this one reads higher than that port by 0.03-0.13 at JPEG quality 50, 0.1-0.4 at 80 and
  0.6-1.0 at 95 (astronaut, coffee, chelsea). Which of the two libjxl agrees with at that size
  is not pinned yet: the validation set needs megapixel pairs. Auto quality and the bench score
  every engine with this one, so their comparisons are like for like.
- Everything is float32, norms are accumulated in float64. 8-bit input goes to linear light
  through a 256-entry table.
- The numpy path scores in row strips of ``STRIP_PIXELS``, each blurred with the 4 rows on
  either side it reads, and the norms are summed over strips (float64): the same values as the
  whole plane at once, with the working set in the cache (at 4.1 MP a score went from 0.57 to
  0.26-0.29 s/MP of CPU).
- ``Reference`` keeps the reference's side of every scale (its XYB planes, their blurs and
  edge map), so a search that scores many candidates against one original blurs only the
  candidate's three planes per channel.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image
from scipy import ndimage

from backend.core import ssimulacra2_native

ImageLike = np.ndarray | Image.Image

MIN_SIDE = 8  # libjxl's tool refuses smaller images, and stops downscaling below it
_NUM_SCALES = 6
_C2 = np.float32(0.0009)
_SIGMA = 1.5
# Scoring works on strips of about this many pixels: a whole 4 MP image's nine float planes
# (~150 MB) stream through memory at each step; a strip's stay in the cache.
STRIP_PIXELS = 32_768
_HALO = 4  # rows a blurred row reads on each side (the 9-tap kernel's radius)
_F32 = np.float32

# Opsin absorbance matrix and bias of libjxl's lib/jxl/cms/opsin_params.h (float constants).
_M02, _M00, _M12, _M10 = _F32(0.078), _F32(0.30), _F32(0.078), _F32(0.23)
_M20, _M21 = _F32(0.24342268924547819), _F32(0.20476744424496821)
_OPSIN = np.array([[_M00, _F32(1.0) - _M02 - _M00, _M02],
                   [_M10, _F32(1.0) - _M12 - _M10, _M12],
                   [_M20, _M21, _F32(1.0) - _M20 - _M21]], dtype=np.float32)
_BIAS = _F32(0.0037930732552754493)
_NEG_BIAS_CBRT = _F32(-np.cbrt(_BIAS))

# The 108 weights of Msssim::Score(), ordered channel (X, Y, B), scale, norm (1, 4), then map
# (SSIM, ringing, blurring).
_WEIGHTS = (
    0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0,
    0.0, 0.0004371155730107379, 0.0, 1.1041726426657346, 0.00066284834129271,
    0.00015231632783718752, 0.0, 0.0016406437456599754, 0.0, 1.8422455520539298,
    11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653, 0.0,
    1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833,
    0.0, 0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053,
    0.0004550992113792063, 0.0, 0.0, 0.0013648766163243398, 0.0, 0.0,
    0.0, 0.0, 0.0, 7.466890328078848, 0.0, 17.445833984131262,
    0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296,
    1.027889937768264, 225.20515300849274, 0.0, 0.0, 19.213238186143016,
    0.0011401524586618361, 0.001237755635509985, 176.39317598450694, 0.0, 0.0,
    24.43300999870476, 0.28520802612117757, 0.0004485436923833408, 0.0, 0.0,
    0.0, 34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0008680556573291698,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0005313191874358747,
    0.0, 0.00016533814161379112, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0004179171803251336, 0.0017290828234722833, 0.0, 0.0020827005846636437, 0.0,
    0.0, 8.826982764996862, 23.19243343998926, 0.0, 95.1080498811086, 0.9863978034400682,
    0.9834382792465353, 0.0012286405048278493, 171.2667255897307, 0.9807858872435379, 0.0, 0.0,
    0.0, 0.0005130064588990679, 0.0, 0.00010854057858411537,
)


@cache
def _kernel() -> np.ndarray:
    """The impulse response of libjxl's ``CreateRecursiveGaussian(1.5)`` in exact arithmetic:
    three second-order resonators ``y[n] = n2 * (x[n-N-1] + x[n+N-1]) - d1 * y[n-1] - y[n-2]``
    whose truncated cosines sum to a 9-tap symmetric filter (radius N = 5)."""
    radius = round(3.2795 * _SIGMA + 0.2546)  # (57) "N" of the paper
    pi_div_2r = np.pi / (2.0 * radius)
    omega = np.array([pi_div_2r, 3.0 * pi_div_2r, 5.0 * pi_div_2r])
    p = np.array([1.0, -1.0, 1.0]) / np.tan(0.5 * omega)
    r = np.array([1.0, -1.0, 1.0]) * p * p / np.sin(omega)
    rho = np.exp(-0.5 * _SIGMA * _SIGMA * omega * omega) / radius
    d_13 = p[0] * r[1] - r[0] * p[1]
    zeta_15 = (p[1] * r[2] - r[1] * p[2]) / d_13
    zeta_35 = (p[2] * r[0] - r[2] * p[0]) / d_13
    a = np.array([p, r, [zeta_15, zeta_35, 1.0]])
    gamma = np.array([1.0, radius * radius - _SIGMA * _SIGMA,
                      zeta_15 * rho[0] + zeta_35 * rho[1] + rho[2]])
    beta = np.linalg.inv(a) @ gamma  # (53)
    n2 = -beta * np.cos(omega * (radius + 1.0))  # (33)
    d1 = -2.0 * np.cos(omega)
    # The recursion run on an impulse (centre ``length // 2``), in float64.
    length = 4 * radius + 1
    impulse = np.zeros(length)
    impulse[length // 2] = 1.0
    out = np.zeros(length)
    y1 = y2 = np.zeros(3)
    for n in range(1 - radius, length):
        top, bottom = n - radius - 1, n + radius - 1
        total = (impulse[top] if top >= 0 else 0.0) + (impulse[bottom] if bottom < length else 0.0)
        y1, y2 = n2 * total - d1 * y1 - y2, y1
        if n >= 0:
            out[n] = y1.sum()
    centre = length // 2
    taps = out[centre - radius + 1: centre + radius]
    return ((taps + taps[::-1]) / 2).astype(np.float32)


def _blur(planes: np.ndarray) -> np.ndarray:
    """The blur of each (H, W) plane of a (P, H, W) float32 array (zero outside the image)."""
    kernel = _kernel()
    rows = ndimage.correlate1d(planes, kernel, axis=2, mode="constant", output=np.float32)
    return ndimage.correlate1d(rows, kernel, axis=1, mode="constant", output=np.float32)


@cache
def _linear_table() -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    return _srgb_to_linear(v.astype(np.float32))


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """The sRGB EOTF (IEC 61966-2-1), which libjxl approximates to ~1e-6."""
    return np.where(v <= 0.04045, v / _F32(12.92),
                    ((v + _F32(0.055)) / _F32(1.055)) ** _F32(2.4)).astype(np.float32)


def _sums(error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel of a (3, H, W) float32 error map: the sum of its values and of their fourth
    powers (float64)."""
    flat = error.reshape(3, -1)
    squared = flat * flat
    squared *= squared
    return flat.sum(axis=1, dtype=np.float64), squared.sum(axis=1, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _ScaleReference:
    """The reference's side of one scale: its XYB and their blur and blur of squares."""

    xyb: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray  # blur(img1^2) - mu1^2


def _strips(height: int, width: int) -> list[tuple[slice, slice, slice]]:
    """Strips of about ``STRIP_PIXELS``: (its rows, the rows its blur reads: ``_HALO`` more on
    each side within the image, its rows within those)."""
    rows = max(16, STRIP_PIXELS // max(width, 1))
    out = []
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        start, stop = max(top - _HALO, 0), min(bottom + _HALO, height)
        out.append((slice(top, bottom), slice(start, stop),
                    slice(top - start, bottom - start)))
    return out


class _NumpyKernels:
    """The per-pixel steps in numpy: what scores where the C kernels cannot be built (within
    0.002 of them, tested). ``_NativeKernels`` replaces each step by its C counterpart."""

    def linear_of_bytes(self, pixels: np.ndarray, background: float | None) -> np.ndarray | None:
        """Linear RGB of (H, W, 3|4) uint8 pixels in one pass, or None when these kernels
        cannot (the caller then goes through ``_as_float``)."""
        return None

    def downsample(self, linear: np.ndarray) -> np.ndarray:
        """2x2 box average of a (3, H, W) image, repeating the last row/column of an odd side."""
        _, h, w = linear.shape
        if h % 2 or w % 2:
            linear = np.pad(linear, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
        c, ph, pw = linear.shape
        pairs = linear.reshape(c, ph // 2, 2, pw).sum(axis=2, dtype=np.float32)
        return pairs.reshape(c, ph // 2, pw // 2, 2).sum(axis=3, dtype=np.float32) * _F32(0.25)

    def positive_xyb(self, linear: np.ndarray) -> np.ndarray:
        """libjxl's XYB of linear sRGB (3, H, W), shifted and scaled into about 0..1
        ("MakePositiveXYB") so pixel differences stay below 1, as the SSIM formula needs."""
        mixed = np.tensordot(_OPSIN, linear, axes=1)
        mixed += _BIAS
        # Mixed values are non-negative for in-gamut input; libjxl clamps for wide gamut.
        np.maximum(mixed, _F32(0.0), out=mixed)
        cube = np.cbrt(mixed, out=mixed)
        cube += _NEG_BIAS_CBRT
        out = np.empty_like(cube)
        np.subtract(cube[0], cube[1], out=out[0])
        out[0] *= _F32(0.5 * 14.0)
        out[0] += _F32(0.42)
        np.add(cube[0], cube[1], out=out[1])
        out[1] *= _F32(0.5)
        np.subtract(cube[2], out[1], out=out[2])
        out[2] += _F32(0.55)
        out[1] += _F32(0.01)
        return out

    def reference(self, xyb: np.ndarray) -> _ScaleReference:
        """The reference's side of one scale."""
        height, width = xyb.shape[1:]
        mu, sigma = np.empty_like(xyb), np.empty_like(xyb)
        for rows, window, inner in _strips(height, width):
            part = xyb[:, window]
            blurred = _blur(np.concatenate([part, part * part]))
            strip_mu = blurred[:3, inner]
            mu[:, rows] = strip_mu
            sigma[:, rows] = blurred[3:, inner] - strip_mu * strip_mu
        return _ScaleReference(xyb, mu, sigma)

    def sums(self, ref: _ScaleReference, img2: np.ndarray) -> np.ndarray:
        """The (channel, norm, map) sums of one scale's maps (norm 0: values, 1: fourth
        powers), worked out strip by strip (see the module docstring): each strip is blurred
        with ``_HALO`` rows of its neighbours, so its rows come out as they would from the
        whole plane."""
        height, width = img2.shape[1:]
        sums = np.zeros((3, 2, 3))
        for rows, window, inner in _strips(height, width):
            img1 = ref.xyb[:, window]
            distorted = img2[:, window]
            blurred = _blur(np.concatenate([distorted, distorted * distorted, img1 * distorted]))
            mu2, blur22, blur12 = (blurred[:3, inner], blurred[3:6, inner], blurred[6:, inner])
            mu1 = ref.mu[:, rows]
            sigma22 = blur22 - mu2 * mu2
            sigma12 = blur12 - mu1 * mu2
            # SSIM without the luminance denominator (mu1^2 + mu2^2): the values are already
            # perceptually uniform, so darks should not weigh more than brights.
            diff = mu1 - mu2
            num_m = _F32(1.0) - diff * diff
            num_s = sigma12 * _F32(2.0) + _C2
            denom_s = ref.sigma[:, rows] + sigma22 + _C2
            ssim_error = _F32(1.0) - num_m * num_s / denom_s
            np.maximum(ssim_error, _F32(0.0), out=ssim_error)

            # > 0: the distorted image has an edge where the original is smooth (ringing,
            # banding, blocking); < 0: the original's edge is gone (blurring, smearing).
            d1 = np.abs(distorted[:, inner] - mu2)
            d1 += _F32(1.0)
            edge = np.abs(img1[:, inner] - mu1)
            edge += _F32(1.0)
            d1 /= edge
            d1 -= _F32(1.0)
            for index, error in enumerate((ssim_error, np.maximum(d1, _F32(0.0)),
                                           np.maximum(-d1, _F32(0.0)))):
                total, fourth = _sums(error)
                sums[:, 0, index] += total
                sums[:, 1, index] += fourth
        return sums

class _NativeKernels(_NumpyKernels):
    """The same steps in C (``ssimulacra2_native``)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib

    def linear_of_bytes(self, pixels: np.ndarray, background: float | None) -> np.ndarray:
        return ssimulacra2_native.linear(self._lib, pixels, _linear_table(), _fine_table(),
                                         background)

    def downsample(self, linear: np.ndarray) -> np.ndarray:
        return ssimulacra2_native.downsample(self._lib, linear)

    def positive_xyb(self, linear: np.ndarray) -> np.ndarray:
        return ssimulacra2_native.xyb(self._lib, linear, _OPSIN, float(_BIAS),
                                      float(_NEG_BIAS_CBRT))

    def reference(self, xyb: np.ndarray) -> _ScaleReference:
        return _ScaleReference(xyb, *ssimulacra2_native.reference(self._lib, xyb, _kernel()))

    def sums(self, ref: _ScaleReference, img2: np.ndarray) -> np.ndarray:
        return ssimulacra2_native.sums(self._lib, ref.xyb, ref.mu, ref.sigma, img2, _kernel())


@cache
def _kernels() -> _NumpyKernels:
    """The C kernels when they could be built here, else the numpy ones."""
    lib = ssimulacra2_native.kernels()
    return _NumpyKernels() if lib is None else _NativeKernels(lib)


def _scale_norms(kernels: _NumpyKernels, ref: _ScaleReference, img2: np.ndarray) -> np.ndarray:
    """The 18 norms of one scale as (channel, norm, map): map 0 is 1 - SSIM', 1 ringing,
    2 blurring."""
    sums = kernels.sums(ref, img2)
    pixels = img2.shape[1] * img2.shape[2]
    out = np.empty((3, 2, 3))
    out[:, 0] = sums[:, 0] / pixels
    out[:, 1] = np.sqrt(np.sqrt(sums[:, 1] / pixels))
    return out


def _score(scales: list[np.ndarray]) -> float:
    """Msssim::Score(): the weighted sum and the mapping to 0..100.

    The weight index runs on over however many scales the image had, as in libjxl: an image
    too small for all 6 scales uses the next channel's weights for its later terms."""
    weights = iter(_WEIGHTS)
    total = 0.0
    for channel in range(3):
        for norms in scales:
            for norm in range(2):
                for term in range(3):
                    total += next(weights) * abs(norms[channel, norm, term])
    total *= 0.9562382616834844
    total = (2.326765642916932 * total - 0.020884521182843837 * total * total
             + 6.248496625763138e-05 * total * total * total)
    if total <= 0:
        return 100.0
    return 100.0 - 10.0 * total**0.6276336467831387


def _pyramid(kernels: _NumpyKernels, linear: np.ndarray) -> list[np.ndarray]:
    """Linear RGB at each scale libjxl scores (it checks the size of the previous scale, so the
    last one may be under 8 px)."""
    levels = []
    for scale in range(_NUM_SCALES):
        if min(linear.shape[1:]) < MIN_SIDE:
            break
        if scale:
            linear = kernels.downsample(linear)
        levels.append(linear)
    return levels


def _as_float(image: ImageLike) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(sRGB as (3, H, W) in 0..1, alpha as (H, W) or None, whether the colour is uint8) of an
    image or array. Arrays are (H, W) grey, (H, W, 2) grey + alpha, (H, W, 3) RGB or (H, W, 4)
    RGBA; uint8 and uint16 are scaled to 0..1, floats are taken as 0..1 already. uint8 colour
    stays uint8 (its linear values come from a table)."""
    if isinstance(image, Image.Image):
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            array: np.ndarray = np.asarray(image, dtype=np.float64) / 65535.0
        else:
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            array = np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
    else:
        array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected a (H, W[, 1-4 channels]) image, got shape {array.shape}")
    if array.dtype == np.uint8:
        values = array
    elif array.dtype == np.uint16:
        values = array.astype(np.float32) / _F32(65535.0)
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float32)
    else:
        raise ValueError(f"unsupported pixel type {array.dtype}")
    alpha = None
    if values.shape[2] in (2, 4):
        alpha = values[:, :, -1]
        alpha = alpha.astype(np.float32) / _F32(255.0) if alpha.dtype == np.uint8 else alpha
        values = values[:, :, :-1]
    colour = values.transpose(2, 0, 1)
    if colour.shape[0] == 1:
        colour = np.repeat(colour, 3, axis=0)
    return np.ascontiguousarray(colour), alpha, colour.dtype == np.uint8


def _linear(srgb: np.ndarray, alpha: np.ndarray | None, background: float | None) -> np.ndarray:
    """Linear RGB of sRGB (3, H, W), composited first (libjxl's AlphaBlend: in gamma-encoded
    values, on a uniform grey) when there is alpha and a background."""
    if alpha is not None and background is not None:
        values = srgb.astype(np.float32) / _F32(255.0) if srgb.dtype == np.uint8 else srgb
        return _srgb_to_linear(alpha * values + (_F32(1.0) - alpha) * _F32(background))
    if srgb.dtype == np.uint8:
        return _linear_table()[srgb]
    return _srgb_to_linear(srgb)


_FINE_STEPS = 4096  # the composited sRGB curve's table: interpolation error below 3e-8


@cache
def _fine_table() -> np.ndarray:
    return _srgb_to_linear(np.linspace(0.0, 1.0, _FINE_STEPS + 1, dtype=np.float32))


class _Source:
    """An image's pixels, turned into linear RGB on demand: 8-bit RGB and RGBA (what Auto
    quality scores) in one pass where the kernels can, else through ``_as_float``."""

    def __init__(self, image: ImageLike, kernels: _NumpyKernels) -> None:
        if isinstance(image, Image.Image) and image.mode in ("RGB", "RGBA"):
            image = np.asarray(image)
        self._kernels = kernels
        self._packed: np.ndarray | None = None
        self._srgb: np.ndarray | None = None
        self._alpha: np.ndarray | None = None
        if (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
                and image.shape[2] in (3, 4)):
            self._packed = image
            self.shape: tuple[int, ...] = (3, *image.shape[:2])
            self.has_alpha = image.shape[2] == 4
        else:
            self._srgb, self._alpha, _ = _as_float(image)
            self.shape = self._srgb.shape
            self.has_alpha = self._alpha is not None

    def linear(self, background: float | None) -> np.ndarray:
        """Linear RGB (3, H, W), composited on ``background`` first if it has alpha."""
        if self._packed is not None:
            done = self._kernels.linear_of_bytes(self._packed, background)
            if done is not None:
                return done
            self._srgb, self._alpha, _ = _as_float(self._packed)
            self._packed = None
        assert self._srgb is not None  # set above or at construction
        return _linear(self._srgb, self._alpha, background)


def _same_size(first: _Source, second: _Source) -> None:
    if first.shape != second.shape:
        raise ValueError(f"images differ in size: {first.shape[2]}x{first.shape[1]} vs "
                         f"{second.shape[2]}x{second.shape[1]}")


class Reference:
    """An original, prepared once to score any number of distorted versions of it."""

    def __init__(self, image: ImageLike | _Source) -> None:
        self._kernels = _kernels()
        source = image if isinstance(image, _Source) else _Source(image, self._kernels)
        if min(source.shape[1:]) < MIN_SIDE:
            raise ValueError(f"SSIMULACRA2 needs at least {MIN_SIDE}x{MIN_SIDE} pixels, got "
                             f"{source.shape[2]}x{source.shape[1]}")
        self._source = source
        # With alpha, transparent pixels must look alike on a dark and on a bright page; libjxl's
        # tool only looks at the original's alpha (a distorted alpha without it goes on grey).
        self._backgrounds: tuple[float | None, ...] = (0.1, 0.9) if source.has_alpha else (None,)
        kernels = self._kernels
        self._scales = [[kernels.reference(kernels.positive_xyb(level))
                         for level in _pyramid(kernels, source.linear(bg))]
                        for bg in self._backgrounds]

    def score(self, distorted: ImageLike | _Source) -> float:
        """SSIMULACRA2 of ``distorted`` (the same size) against this original."""
        kernels = self._kernels
        source = distorted if isinstance(distorted, _Source) else _Source(distorted, kernels)
        _same_size(self._source, source)
        scores = []
        for bg, prepared in zip(self._backgrounds, self._scales, strict=True):
            levels = _pyramid(kernels, source.linear(0.5 if bg is None else bg))
            scores.append(_score([_scale_norms(kernels, ref, kernels.positive_xyb(level))
                                  for ref, level in zip(prepared, levels, strict=True)]))
        return float(min(scores))


def ssimulacra2(reference: ImageLike, distorted: ImageLike) -> float:
    """SSIMULACRA2 score of ``distorted`` against ``reference`` (100 = identical), as libjxl's
    ``ssimulacra2`` tool computes it. Both must be the same size, at least 8x8 pixels."""
    kernels = _kernels()
    first, second = _Source(reference, kernels), _Source(distorted, kernels)
    _same_size(first, second)
    return Reference(first).score(second)

"""SSIMULACRA2: Cloudinary's perceptual metric, a port of libjxl's ``tools/ssimulacra2.cc``.

    python -m bench.ssimulacra2 original.png distorted.png    # prints the score, like libjxl's tool

The score runs from 100 (identical) down through 90 (visually lossless), 70 (high quality), 50
(medium), 30 (low) to negative values for extreme distortion. It is the metric libjxl, jpegli,
Cloudinary and aom's ``tune=iq`` are tuned and judged by.

Why our own port: the only PyPI package (``ssimulacra2`` 0.3.0) scores libjxl's reference pair
several points off the C++ tool. This module follows libjxl v0.12.0 step by step and is checked
against that tool's output on the pairs in ``tests/data/ssimulacra2/`` (see its README):

1. decode to sRGB floats in 0..1 (an ICC profile is ignored: input is taken as sRGB, which is
   what libjxl assumes for an untagged PNG); with alpha, composite on a grey background in
   gamma-encoded space, at 0.1 and at 0.9, and keep the worse score;
2. sRGB to linear RGB, then libjxl's XYB (opsin absorbance matrix and bias, cube root), then
   "MakePositiveXYB" so every channel lies in about 0..1;
3. at 6 scales (each a 2x2 box downsampling of the previous one, in linear RGB): blur with
   libjxl's recursive Gaussian (sigma 1.5), compute the SSIM map without its luminance
   denominator, the "ringing" and "blurring" edge maps, and their 1- and 4-norms per channel;
4. a weighted sum of those 108 norms, then libjxl's polynomial and power mapping.
"""

from __future__ import annotations

import argparse
import math
import sys
from functools import cache

import numpy as np
from PIL import Image

ImageLike = np.ndarray | Image.Image

_NUM_SCALES = 6
_MIN_SIDE = 8  # libjxl's tool refuses smaller images, and stops downscaling below it
_C2 = np.float32(0.0009)
_SIGMA = 1.5

# Opsin absorbance matrix and bias of libjxl's lib/jxl/cms/opsin_params.h (float constants).
_M02 = np.float32(0.078)
_M00 = np.float32(0.30)
_M12 = np.float32(0.078)
_M10 = np.float32(0.23)
_M20 = np.float32(0.24342268924547819)
_M21 = np.float32(0.20476744424496821)
_OPSIN = np.array(
    [
        [_M00, np.float32(1.0) - _M02 - _M00, _M02],
        [_M10, np.float32(1.0) - _M12 - _M10, _M12],
        [_M20, _M21, np.float32(1.0) - _M20 - _M21],
    ],
    dtype=np.float32,
)
_BIAS = np.float32(0.0037930732552754493)
_NEG_BIAS_CBRT = np.float32(-np.cbrt(_BIAS))

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


class _RecursiveGaussian:
    """libjxl's ``CreateRecursiveGaussian(1.5)`` and ``FastGaussian``, float32 op for op.

    Charalampidis' (2016) truncated-cosine recursion: three second-order resonators
    ``y[n] = n2 * (x[n-N-1] + x[n+N-1]) - d1 * y[n-1] - y[n-2]``, summed, zero outside the
    image, no renormalisation at the borders. In exact arithmetic this is a 9-tap FIR, but the
    resonators' poles sit on the unit circle, so libjxl's float32 rounding never dies out and
    moves its score by up to ~0.1 on a megapixel pair. We therefore repeat its arithmetic: the
    same float32 coefficients, its fused multiply-adds (a float32 product is exact in float64,
    so one float64 multiply-add rounded to float32 is the FMA) and, along rows, its 4-lane
    unrolled form.
    """

    radius = round(3.2795 * _SIGMA + 0.2546)  # (57) "N" of the paper; 5 for sigma 1.5

    def __init__(self) -> None:
        radius = self.radius
        pi_div_2r = math.pi / (2.0 * radius)
        omega = [pi_div_2r, 3.0 * pi_div_2r, 5.0 * pi_div_2r]
        p = [1.0 / math.tan(0.5 * omega[0]), -1.0 / math.tan(0.5 * omega[1]),
             1.0 / math.tan(0.5 * omega[2])]
        r = [p[0] * p[0] / math.sin(omega[0]), -p[1] * p[1] / math.sin(omega[1]),
             p[2] * p[2] / math.sin(omega[2])]
        rho = [math.exp(-0.5 * _SIGMA * _SIGMA * w * w) / radius for w in omega]
        d_13 = p[0] * r[1] - r[0] * p[1]
        d_35 = p[1] * r[2] - r[1] * p[2]
        d_51 = p[2] * r[0] - r[2] * p[0]
        zeta_15 = d_35 / d_13
        zeta_35 = d_51 / d_13
        a = np.array([p, r, [zeta_15, zeta_35, 1.0]])
        gamma = np.array([1.0, radius * radius - _SIGMA * _SIGMA,
                          zeta_15 * rho[0] + zeta_35 * rho[1] + rho[2]])
        beta = np.linalg.inv(a) @ gamma  # (53)
        n2 = [-beta[i] * math.cos(omega[i] * (radius + 1.0)) for i in range(3)]  # (33)
        d1 = [-2.0 * math.cos(w) for w in omega]
        # Per resonator: the vertical pass's n2 and d1, and the row pass's lane multipliers
        # (lane j gives y[n+j] from the 4 input sums and y[n-1], y[n-2]).
        self.n2 = np.array(n2, dtype=np.float32).astype(np.float64)
        self.neg_d1 = -np.array(d1, dtype=np.float32).astype(np.float64)
        self.mul_prev = _lanes([[-d, d * d - 1.0, -d * d * d + 2.0 * d,
                                 d**4 - 3.0 * d * d + 1.0] for d in d1])
        self.mul_prev2 = _lanes([[-1.0, d, -d * d + 1.0, d * d * d - 2.0 * d] for d in d1])
        mul_in = [[n, -d * n, d * d * n - n, -d * d * d * n + 2.0 * d * n]
                  for n, d in zip(n2, d1, strict=True)]
        # mul_in shifted by k lanes (zeros shifted in): the weight of input sum k in lane j.
        self.mul_in = np.zeros((3, 4, 4, 1))
        for i in range(3):
            for k in range(4):
                self.mul_in[i, k, k:, 0] = np.float32(mul_in[i][: 4 - k])

    def rows(self, x: np.ndarray) -> np.ndarray:
        """``FastGaussian1D`` along axis 0 of (length, many) float32: scalar steps up to the
        first 4-aligned position past the radius, 4 lanes at a time, scalar steps again."""
        size = x.shape[0]
        out = np.empty_like(x)
        zero = np.zeros(x.shape[1:], dtype=np.float32)
        prev = [zero] * 3
        prev2 = [zero] * 3
        n_rad = self.radius

        def scalar(n: int) -> None:
            left = x[n - n_rad - 1] if n - n_rad - 1 >= 0 else zero
            right = x[n + n_rad - 1] if n + n_rad - 1 < size else zero
            total = left + right
            ys = []
            for i in range(3):
                y = total * np.float32(self.mul_in[i, 0, 0, 0])
                y = _fma(self.mul_prev2[i, 0, 0], prev2[i], y)
                prev2[i] = prev[i]
                y = _fma(self.mul_prev[i, 0, 0], prev[i], y)
                prev[i] = y
                ys.append(y)
            if n >= 0:
                out[n] = ys[0] + (ys[1] + ys[2])

        first_aligned = -(-(n_rad + 1) // 4) * 4
        for m in range(1 - n_rad, min(first_aligned, size)):
            scalar(m)
        n = min(first_aligned, size)
        while n < size - n_rad - 2:
            sums = x[n - n_rad - 1 : n - n_rad + 3] + x[n + n_rad - 1 : n + n_rad + 3]
            ys = []
            for i in range(3):
                y = sums[0] * self.mul_in[i, 0].astype(np.float32)
                for k in range(1, 4):
                    y = _fma(self.mul_in[i, k], sums[k], y)
                y = _fma(self.mul_prev2[i], prev2[i], y)
                y = _fma(self.mul_prev[i], prev[i], y)
                prev2[i] = y[2]
                prev[i] = y[3]
                ys.append(y)
            out[n : n + 4] = ys[0] + (ys[1] + ys[2])
            n += 4
        for m in range(n, size):
            scalar(m)
        return out

    def columns(self, x: np.ndarray) -> np.ndarray:
        """``FastGaussianVertical`` along axis 0 of (length, many) float32:
        ``y = n2 * sum + (-d1 * y[n-1] - y[n-2])``, both fused."""
        size = x.shape[0]
        out = np.empty_like(x)
        zero = np.zeros(x.shape[1:], dtype=np.float32)
        y1 = [zero] * 3
        y2 = [zero] * 3
        for n in range(1 - self.radius, size):
            top = n - self.radius - 1
            bottom = n + self.radius - 1
            total = (x[top] if top >= 0 else zero) + (x[bottom] if bottom < size else zero)
            ys = []
            for i in range(3):
                t = (self.neg_d1[i] * y1[i] - y2[i]).astype(np.float32)
                y = (self.n2[i] * total + t).astype(np.float32)
                y2[i] = y1[i]
                y1[i] = y
                ys.append(y)
            if n >= 0:
                out[n] = ys[0] + (ys[1] + ys[2])
        return out


def _lanes(values: list[list[float]]) -> np.ndarray:
    """Float32-rounded multipliers, as (resonator, lane, 1) float64 for broadcasting."""
    return np.array(values, dtype=np.float32).astype(np.float64)[:, :, None]


def _fma(a: np.ndarray | np.float64, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """float32 fused multiply-add ``a * b + c`` (a, b, c float32 values)."""
    return (a * b.astype(np.float64) + c).astype(np.float32)


@cache
def _gaussian() -> _RecursiveGaussian:
    return _RecursiveGaussian()


def _blur(planes: np.ndarray) -> np.ndarray:
    """libjxl's blur of each (H, W) plane of a (P, H, W) float32 array: rows, then columns."""
    count, height, width = planes.shape
    gauss = _gaussian()
    rows = gauss.rows(np.ascontiguousarray(planes.reshape(count * height, width).T))
    by_row = rows.T.reshape(count, height, width).transpose(1, 0, 2)
    columns = gauss.columns(np.ascontiguousarray(by_row).reshape(height, count * width))
    return columns.reshape(height, count, width).transpose(1, 0, 2)


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """The sRGB EOTF (IEC 61966-2-1), which libjxl approximates to ~1e-6."""
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _downsample(linear: np.ndarray) -> np.ndarray:
    """2x2 box average of a (3, H, W) image, repeating the last row/column of an odd side."""
    _, h, w = linear.shape
    padded = np.pad(linear, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
    c, ph, pw = padded.shape
    return padded.reshape(c, ph // 2, 2, pw // 2, 2).sum(axis=(2, 4), dtype=np.float32) * (
        np.float32(0.25))


def _positive_xyb(linear: np.ndarray) -> np.ndarray:
    """libjxl's XYB of linear sRGB (3, H, W), shifted and scaled into about 0..1
    ("MakePositiveXYB") so pixel differences stay below 1, as the SSIM formula needs."""
    mixed = np.tensordot(_OPSIN, linear, axes=1) + _BIAS
    # Mixed values are non-negative for in-gamut input; libjxl clamps for wide gamut.
    cube = np.cbrt(np.maximum(mixed, np.float32(0.0))) + _NEG_BIAS_CBRT
    x = np.float32(0.5) * (cube[0] - cube[1])
    y = np.float32(0.5) * (cube[0] + cube[1])
    b = cube[2]
    return np.stack([x * np.float32(14.0) + np.float32(0.42), y + np.float32(0.01),
                     (b - y) + np.float32(0.55)]).astype(np.float32)


def _norms(error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel of a (3, H, W) error map: its mean and its 4-norm (mean of 4th powers)."""
    e = error.reshape(3, -1).astype(np.float64)
    return e.mean(axis=1), np.sqrt(np.sqrt((e**4).mean(axis=1)))


def _scale_norms(img1: np.ndarray, img2: np.ndarray) -> np.ndarray:
    """The 18 norms of one scale as (channel, norm, map): map 0 is 1 - SSIM', 1 ringing,
    2 blurring."""
    # One call for the five blurs: the recursion's Python loop then runs once per scale.
    blurred = _blur(np.concatenate([img1, img2, img1 * img1, img2 * img2, img1 * img2]))
    mu1, mu2, blur11, blur22, blur12 = np.split(blurred, 5)
    sigma11 = blur11 - mu1 * mu1
    sigma22 = blur22 - mu2 * mu2
    sigma12 = blur12 - mu1 * mu2
    # SSIM without the luminance denominator (mu1^2 + mu2^2): the values are already
    # perceptually uniform, so darks should not weigh more than brights.
    num_m = np.float32(1.0) - (mu1 - mu2) ** 2
    num_s = np.float32(2.0) * sigma12 + _C2
    denom_s = sigma11 + sigma22 + _C2
    ssim_error = np.maximum(1.0 - (num_m * num_s / denom_s).astype(np.float64), 0.0)

    # > 0: the distorted image has an edge where the original is smooth (ringing, banding,
    # blocking); < 0: the original's edge is gone (blurring, smearing).
    d1 = (1.0 + np.abs(img2 - mu2).astype(np.float64)) / (
        1.0 + np.abs(img1 - mu1).astype(np.float64)) - 1.0
    out = np.empty((3, 2, 3))
    for index, error in enumerate((ssim_error, np.maximum(d1, 0.0), np.maximum(-d1, 0.0))):
        out[:, 0, index], out[:, 1, index] = _norms(error)
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


def _msssim(srgb1: np.ndarray, srgb2: np.ndarray) -> float:
    """Score of two sRGB (3, H, W) float images without alpha."""
    linear1 = _srgb_to_linear(srgb1)
    linear2 = _srgb_to_linear(srgb2)
    scales: list[np.ndarray] = []
    for scale in range(_NUM_SCALES):
        # libjxl checks the size of the previous scale, so the last scale may be under 8 px.
        if min(linear1.shape[1:]) < _MIN_SIDE:
            break
        if scale:
            linear1 = _downsample(linear1)
            linear2 = _downsample(linear2)
        scales.append(_scale_norms(_positive_xyb(linear1), _positive_xyb(linear2)))
    return _score(scales)


def _as_float(image: ImageLike) -> tuple[np.ndarray, np.ndarray | None]:
    """(sRGB as (3, H, W) float32 in 0..1, alpha as (H, W) or None) of an image or array.

    Arrays are (H, W) grey, (H, W, 2) grey + alpha, (H, W, 3) RGB or (H, W, 4) RGBA; uint8 and
    uint16 are scaled to 0..1, floats are taken as 0..1 already."""
    if isinstance(image, Image.Image):
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            array: np.ndarray = np.asarray(image, dtype=np.float64) / 65535.0
        else:
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            array = np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
    else:
        array = np.asarray(image)
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / np.float32(255.0)
    elif array.dtype == np.uint16:
        values = array.astype(np.float32) / np.float32(65535.0)
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float32)
    else:
        raise ValueError(f"unsupported pixel type {array.dtype}")
    if values.ndim == 2:
        values = values[:, :, None]
    if values.ndim != 3 or values.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected a (H, W[, 1-4 channels]) image, got shape {array.shape}")
    alpha = values[:, :, -1] if values.shape[2] in (2, 4) else None
    colour = values[:, :, :-1] if alpha is not None else values
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.ascontiguousarray(colour.transpose(2, 0, 1)), alpha


def _on_background(srgb: np.ndarray, alpha: np.ndarray | None, background: float) -> np.ndarray:
    """libjxl's AlphaBlend: in gamma-encoded values, on a uniform grey."""
    if alpha is None:
        return srgb
    return alpha * srgb + (np.float32(1.0) - alpha) * np.float32(background)


def ssimulacra2(reference: ImageLike, distorted: ImageLike) -> float:
    """SSIMULACRA2 score of ``distorted`` against ``reference`` (100 = identical), as libjxl's
    ``ssimulacra2`` tool computes it. Both must be the same size, at least 8x8 pixels."""
    srgb1, alpha1 = _as_float(reference)
    srgb2, alpha2 = _as_float(distorted)
    if srgb1.shape != srgb2.shape:
        raise ValueError(f"images differ in size: {srgb1.shape[2]}x{srgb1.shape[1]} vs "
                         f"{srgb2.shape[2]}x{srgb2.shape[1]}")
    if min(srgb1.shape[1:]) < _MIN_SIDE:
        raise ValueError(f"SSIMULACRA2 needs at least {_MIN_SIDE}x{_MIN_SIDE} pixels, got "
                         f"{srgb1.shape[2]}x{srgb1.shape[1]}")
    if alpha1 is None:
        # libjxl's tool only looks at the original's alpha; a distorted alpha goes on mid-grey.
        return _msssim(srgb1, _on_background(srgb2, alpha2, 0.5))
    # Transparent pixels must look alike on a dark and on a bright page: the worse of both.
    return min(_msssim(_on_background(srgb1, alpha1, bg), _on_background(srgb2, alpha2, bg))
               for bg in (0.1, 0.9))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ssimulacra2",
                                     description="SSIMULACRA2 score of a distorted image "
                                                 "against its original (100 = identical).")
    parser.add_argument("original")
    parser.add_argument("distorted")
    args = parser.parse_args(argv)
    with Image.open(args.original) as a, Image.open(args.distorted) as b:
        try:
            score = ssimulacra2(a, b)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
    print(f"{score:.8f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

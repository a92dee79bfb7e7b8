"""SSIMULACRA2's blurs and per-pixel maps in C (``ssimulacra2_kernels.c``), for Auto quality.

Auto quality scores every image it encodes on all its pixels at least once, against a reference
it prepares first; in numpy (scipy's ``correlate1d`` for the 9-tap blur, then a dozen
elementwise passes) those two cost ~0.5 s per megapixel of one core, more than the issue's
whole budget for Auto quality. The same arithmetic in one C pass per row (blur ring, maps and
their sums fused) takes a fraction of that (``python -m bench.ssimulacra2 --speed``).

The kernels are compiled once into the app's cache by the system C compiler (``native_build``)
with ``-O3 -ffast-math``: float32 sums may be reassociated, which moves scores by ~1e-5 (tested
against the numpy path). Without a compiler the numpy path in ``ssimulacra2.py`` scores instead,
and the reason is logged once.
"""

from __future__ import annotations

import ctypes
import logging
from functools import cache
from pathlib import Path

import numpy as np

from backend.app_dirs import cache_dir
from backend.core.native_build import BuildFailed, cached_library

SOURCE = Path(__file__).with_name("ssimulacra2_kernels.c")
FLAGS = ("-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd")
_log = logging.getLogger(__name__)
_PLANES = np.ctypeslib.ndpointer(dtype=np.float32, flags="C_CONTIGUOUS")
_KERNEL = np.ctypeslib.ndpointer(dtype=np.float32, ndim=1, flags="C_CONTIGUOUS")
_OPSIN = np.ctypeslib.ndpointer(dtype=np.float32, shape=(3, 3), flags="C_CONTIGUOUS")
_BYTES = np.ctypeslib.ndpointer(dtype=np.uint8, ndim=3, flags="C_CONTIGUOUS")
_TABLE = np.ctypeslib.ndpointer(dtype=np.float32, ndim=1, flags="C_CONTIGUOUS")
_SUMS = np.ctypeslib.ndpointer(dtype=np.float64, shape=(18,), flags="C_CONTIGUOUS")


@cache
def kernels() -> ctypes.CDLL | None:
    """The compiled kernels, or None (logged) when they cannot be built here."""
    try:
        path = cached_library(SOURCE, cache_dir() / "ssimulacra2", "io-ssimulacra2", "",
                              flags=FLAGS, what="the SSIMULACRA2 kernels")
        lib = ctypes.CDLL(str(path))
    except (BuildFailed, OSError) as exc:
        _log.warning("SSIMULACRA2 in numpy (slower): %s", exc)
        return None
    size = ctypes.c_int
    lib.io_ssim2_reference.argtypes = [_PLANES, _PLANES, _PLANES, size, size, _KERNEL]
    lib.io_ssim2_sums.argtypes = [_PLANES, _PLANES, _PLANES, _PLANES, size, size, _KERNEL, _SUMS]
    lib.io_ssim2_reference.restype = lib.io_ssim2_sums.restype = ctypes.c_int
    lib.io_ssim2_xyb.argtypes = [_PLANES, _PLANES, ctypes.c_long, _OPSIN, ctypes.c_float,
                                 ctypes.c_float]
    lib.io_ssim2_downsample.argtypes = [_PLANES, _PLANES, size, size]
    lib.io_ssim2_linear.argtypes = [_BYTES, ctypes.c_int, ctypes.c_long, _PLANES, _TABLE, _TABLE,
                                    ctypes.c_int, ctypes.c_float]
    lib.io_ssim2_xyb.restype = lib.io_ssim2_downsample.restype = None
    lib.io_ssim2_linear.restype = None
    return lib


def linear(lib: ctypes.CDLL, pixels: np.ndarray, table: np.ndarray, fine: np.ndarray,
           background: float | None) -> np.ndarray:
    """Linear RGB (3, H, W) of (H, W, 3|4) uint8 sRGB pixels; with alpha and a ``background``,
    composited on it first. ``table``: the 256 values' linear light; ``fine``: the sRGB curve at
    ``len(fine) - 1`` even steps, interpolated for composited values."""
    height, width, channels = pixels.shape
    out = np.empty((3, height, width), dtype=np.float32)
    lib.io_ssim2_linear(np.ascontiguousarray(pixels), channels, height * width, out, table, fine,
                        len(fine) - 1, -1.0 if background is None else background)
    return out


def xyb(lib: ctypes.CDLL, linear: np.ndarray, opsin: np.ndarray, bias: float,
        neg_bias_cbrt: float) -> np.ndarray:
    """libjxl's positive XYB of a (3, H, W) float32 linear sRGB image."""
    linear = np.ascontiguousarray(linear, dtype=np.float32)
    out = np.empty_like(linear)
    lib.io_ssim2_xyb(linear, out, linear.shape[1] * linear.shape[2], opsin, bias, neg_bias_cbrt)
    return out


def downsample(lib: ctypes.CDLL, linear: np.ndarray) -> np.ndarray:
    """The 2x2 box average of a (3, H, W) float32 image (an odd side's last row/column
    repeated)."""
    linear = np.ascontiguousarray(linear, dtype=np.float32)
    height, width = linear.shape[1:]
    out = np.empty((3, (height + 1) // 2, (width + 1) // 2), dtype=np.float32)
    lib.io_ssim2_downsample(linear, out, height, width)
    return out


def reference(lib: ctypes.CDLL, xyb: np.ndarray, kernel: np.ndarray,
              ) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of a (3, H, W) float32 XYB image: its blur, and the blur of its square
    less mu²."""
    xyb = np.ascontiguousarray(xyb, dtype=np.float32)
    mu, sigma = np.empty_like(xyb), np.empty_like(xyb)
    height, width = xyb.shape[1:]
    if lib.io_ssim2_reference(xyb, mu, sigma, height, width, kernel):
        raise MemoryError("SSIMULACRA2: out of memory preparing a reference")
    return mu, sigma


def sums(lib: ctypes.CDLL, img1: np.ndarray, mu1: np.ndarray, sigma11: np.ndarray,
         img2: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """(channel, norm, map) sums of one scale: norm 0 of the maps' values, 1 of their fourth
    powers; map 0 is 1 - SSIM', 1 ringing, 2 blurring."""
    out = np.empty(18)
    height, width = img2.shape[1:]
    if lib.io_ssim2_sums(img1, mu1, sigma11, np.ascontiguousarray(img2, np.float32),
                         height, width, kernel, out):
        raise MemoryError("SSIMULACRA2: out of memory scoring an image")
    return out.reshape(3, 2, 3)

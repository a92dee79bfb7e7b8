"""jpegli's encoder through the compiled shim (``jpegli_build.py``), called with cffi.

``encode`` takes 8-bit grey or RGB pixels and jpegli's own settings (butteraugli distance,
chroma, progressive level, adaptive quantization) and returns a JPEG file; ``JpegliError``
carries jpegli's own message when it refuses (the shim's error handler returns instead of
calling ``exit()``). ``load`` raises ``ShimUnavailable`` when the shim cannot be built or
loaded; it is tried once per process, so a failure costs one attempt, not one per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cffi
import numpy as np

from backend.core.formats.jpegli_build import ShimUnavailable, library_path

_CDEF = """
void io_jpegli_free(unsigned char *buffer);
int io_jpegli_encode(const unsigned char *pixels, unsigned int width, unsigned int height,
                     int components, float distance, int quality, int subsample,
                     int progressive_level, int adaptive, const unsigned char *icc,
                     unsigned int icc_size, const int *markers, const unsigned int *lengths,
                     const unsigned char *const *payloads, int count, unsigned char **out,
                     unsigned long *out_size, char *message, size_t message_size);
"""
_MESSAGE_SIZE = 400
_MAX_SEGMENT = 0xFFFF - 2  # an APPn segment's payload


class JpegliError(Exception):
    """jpegli refused the image; the message is jpegli's."""


@dataclass(frozen=True, slots=True)
class JpegliSettings:
    quality: int  # jpegli's quality number (1-100), turned into a distance by jpegli itself
    subsample: bool  # chroma at half resolution both ways (4:2:0), else 4:4:4
    progressive_level: int = 2  # 0 sequential; 1 and 2 are jpegli's progressive scan scripts
    adaptive: bool = True  # adaptive quantization (per-block quantization field)
    distance: float | None = None  # a butteraugli distance instead of ``quality`` (the bench)


@dataclass(frozen=True, slots=True)
class _Shim:
    ffi: cffi.FFI
    lib: Any


@cache
def load(folder: Path | None = None) -> _Shim:
    """The shim, built on first use; ShimUnavailable (remembered) if that cannot be done."""
    return _open(folder)


def _open(folder: Path | None) -> _Shim:
    path = library_path(folder)
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    try:
        lib = ffi.dlopen(str(path))
    except OSError as exc:
        raise ShimUnavailable(f"loading the jpegli shim failed: {exc}") from None
    return _Shim(ffi, lib)


def encode(pixels: np.ndarray, settings: JpegliSettings, *, icc: bytes | None = None,
           segments: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    """A JPEG file of ``pixels`` (uint8, HxW grey or HxWx3 RGB). ``segments``: (marker, payload)
    APPn segments written after the header in that order; ``icc`` as APP2 chunks."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (
            pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"jpegli takes uint8 grey or RGB pixels, not {pixels.dtype} "
                         f"{pixels.shape}")
    shim = load()
    ffi, lib = shim.ffi, shim.lib
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    kept = [(marker, payload) for marker, payload in segments if len(payload) <= _MAX_SEGMENT]
    buffers = [ffi.from_buffer(payload) for _, payload in kept]  # alive until the call returns
    payloads = [ffi.cast("unsigned char *", buffer) for buffer in buffers]
    out = ffi.new("unsigned char **")
    size = ffi.new("unsigned long *")
    message = ffi.new(f"char[{_MESSAGE_SIZE}]")
    icc_buffer = ffi.from_buffer(icc) if icc else ffi.NULL
    status = lib.io_jpegli_encode(
        ffi.from_buffer(pixels), width, height, 1 if pixels.ndim == 2 else 3,
        settings.distance or 0.0, settings.quality, int(settings.subsample),
        settings.progressive_level, int(settings.adaptive), icc_buffer, len(icc or b""),
        ffi.new("int[]", [m for m, _ in kept]) if kept else ffi.NULL,
        ffi.new("unsigned int[]", [len(p) for _, p in kept]) if kept else ffi.NULL,
        ffi.new("unsigned char *[]", payloads) if kept else ffi.NULL, len(kept),
        out, size, message, _MESSAGE_SIZE)
    if status != 0:
        raise JpegliError(ffi.string(message).decode("utf-8", "replace"))
    try:
        return bytes(ffi.buffer(out[0], size[0]))
    finally:
        lib.io_jpegli_free(out[0])

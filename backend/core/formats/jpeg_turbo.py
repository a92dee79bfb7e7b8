"""libjpeg-turbo through Pillow with flattened quantization tables: the JPEG encoder before
jpegli (issue 13), kept for quality 100 and as the fallback when the jpegli shim cannot be
built or loaded (``jpegli_build.py``).

- Quantization tables: the standard (Annex K) tables flattened, each entry raised to the power
  ``TABLE_FLATNESS`` (0.65) and rescaled to the same mean, then scaled by libjpeg's quality
  formula. Chosen on luma SSIM (``bench/QUALITY.md``); on SSIMULACRA2 and butteraugli this
  encoder needs 11 % and 7 % more bytes than sharp's mozjpeg (tune split), which is why jpegli
  replaced it.
- ``QUALITY_SCALE`` maps the UI number onto libjpeg's (SSIM-calibrated; only used in fallback).
- Progressive with optimized Huffman tables; 4:2:0 unless 4:4:4 is asked for; quality 100 is
  libjpeg's all-ones tables at 4:4:4 (4:2:0 only when asked).
"""

from __future__ import annotations

import io

from backend.core.formats.jpeg_source import APP13, insert_segment
from backend.core.formats.scale import Scale
from backend.core.picture import EncodeRequest, Picture

QUALITY_SCALE: Scale = ((1, 1), (10, 12), (30, 32), (50, 50), (70, 63), (80, 77), (90, 88),
                        (95, 93), (100, 100))
TABLE_FLATNESS = 0.65
# The IJG (Annex K) tables, in natural (row-major) order, as Pillow's ``qtables`` takes them.
_STANDARD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
    56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81,
    104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
_STANDARD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99,
    99, 47, 66, *[99] * 38)


def _flattened(table: tuple[int, ...], power: float) -> tuple[float, ...]:
    raised = [v**power for v in table]
    mean, raised_mean = sum(table) / len(table), sum(raised) / len(raised)
    return tuple(v * mean / raised_mean for v in raised)


_BASE_TABLES = (_flattened(_STANDARD_LUMA, TABLE_FLATNESS),
                _flattened(_STANDARD_CHROMA, TABLE_FLATNESS))


def quantization_tables(quality: int) -> list[list[int]]:
    """Our luminance and chrominance tables at libjpeg's ``quality`` (its scaling formula)."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return [[min(255, max(1, round(v * scale / 100))) for v in base] for base in _BASE_TABLES]


def encode_native(picture: Picture, req: EncodeRequest, quality: int) -> bytes:
    """``picture`` (already without alpha) at libjpeg-turbo's own ``quality``."""
    image = picture.image
    options: dict[str, object] = {"optimize": True, "progressive": True}
    if quality >= 100:
        options.update(quality=100, subsampling="4:2:0" if req.chroma == "4:2:0" else "4:4:4")
    else:  # exact tables: Pillow scales ``qtables`` only when a quality is given too
        options.update(qtables=quantization_tables(quality),
                       subsampling="4:4:4" if req.chroma == "4:4:4" else "4:2:0")
    if picture.icc:
        options["icc_profile"] = picture.icc
    if picture.exif:
        options["exif"] = picture.exif
    if picture.xmp:
        options["xmp"] = picture.xmp
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return insert_segment(out.getvalue(), APP13, picture.iptc) if picture.iptc else out.getvalue()

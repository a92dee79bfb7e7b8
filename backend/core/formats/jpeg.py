"""JPEG: libjpeg-turbo through Pillow, progressive with optimized Huffman tables.

Decisions (measured with ``python -m bench.rd``; figures in ``bench/QUALITY.md``):

- Encoder: libjpeg-turbo, ~5x faster than the original's mozjpeg with trellis quantization.
  jpegli (PyPI ``pyjpegli``, + a lossless progressive rewrite) and mozjpeg without trellis with
  each of its nine table presets were measured too; none beat this on both metrics at this speed
  (see ``bench/QUALITY.md``).
- Quantization tables: the standard (Annex K) tables flattened, each entry raised to the power
  ``TABLE_FLATNESS`` (0.65) and rescaled to the same mean, then scaled by libjpeg's quality
  formula. Less steep tables keep more fine detail per byte: on the bench's JPEG crops they need
  ~14 % fewer bytes than mozjpeg+trellis at equal SSIM (the standard tables: ~7 %), with
  butteraugli unchanged against the standard tables (exponents 0.5-1.4 were measured; flatter
  still wins SSIM but starts to lose butteraugli).
- Quality number: the UI's number is mapped (``QUALITY_SCALE``) so that each label gives the
  mean SSIM the original gave at that number (the default 90 is libjpeg quality 88 with our
  tables).
- Chroma subsampling (``chroma: auto``) 4:2:0 below 100, as the original: 4:4:4 needed more
  bytes for the same butteraugli on 17 of the 18 corpus JPEGs (+15 % overall) and for the same
  SSIM on all, so there was no content to choose it for. ``chroma`` "4:4:4"/"4:2:0" forces
  either, at any quality.
- Progressive with optimized Huffman tables, as the original's files: ~2 % fewer bytes than
  sequential at equal SSIM (3-5 % on whole photos) for ~6 ms/MP more encode time.
- Transparency is composited onto white.
- JPEG input kept at its size (no resize) below quality 100, when its own quality (estimated
  from its quantization table on IJG's scale) is at or below the quality we would encode at and
  its chroma is not finer than ours: a re-encode could not look better and is rarely smaller
  (on the corpus it made all five such files larger). If the file uses libjpeg's standard Huffman
  tables (not optimized: ~8-12 % to gain) it is rewritten losslessly (same DCT coefficients,
  identical pixels; mozjpeg's progressive rewrite); otherwise it is kept as it is, without
  decoding it. The lossless rewrite costs 30-50 ms/MP, 2-3x this whole pipeline, so it is not
  tried on files that are already optimized (~3-5 % to gain) or on files we re-encode anyway.
- Quality 100 with a JPEG input and no resize is always the lossless re-optimization (never a
  re-encode). Only the ICC profile is kept (other APPn markers go), plus a minimal EXIF block
  holding just the orientation when it is not 1, so the image still displays upright (the
  pixels are not rotated: a lossless rotation is not always possible). With metadata "keep"
  all markers are kept; with "keep-no-location" the ICC profile plus the filtered EXIF (its
  orientation as stored), XMP and IPTC segments (``backend/core/metadata.py``).
- Quality 100 with a resize (or a non-JPEG input) has new pixels, so it is a re-encode at
  quality 100, 4:4:4.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import NamedTuple

import mozjpeg_lossless_optimization as mozjpeg
from PIL import Image

from backend.core.error_map import decoding
from backend.core.formats.scale import Scale, native_quality
from backend.core.picture import EncodeRequest, Picture
from backend.errors import DecodeError

# Measured by ``python -m bench.rd --calibrate`` (full corpus, 640-px crops; SSIM of the
# original's mozjpeg at each UI number reached by libjpeg-turbo with our tables at the second).
QUALITY_SCALE: Scale = ((1, 1), (10, 12), (30, 32), (50, 50), (70, 63), (80, 77), (90, 88),
                        (95, 93), (100, 100))
TABLE_FLATNESS = 0.65
_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
_APP0 = 0xE0
_APP1 = 0xE1
_APP13 = 0xED
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_DQT = 0xDB
_SOS = 0xDA
_DHT = 0xC4
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SEQUENTIAL_SOF = frozenset({0xC0, 0xC1})
# Code counts per length of libjpeg's standard (Annex K) luminance AC Huffman table: a file that
# carries it was written without optimized Huffman coding.
_STANDARD_AC_COUNTS = bytes((0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D))
# The IJG (Annex K) tables, in natural (row-major) order, as Pillow's ``qtables`` takes them.
_STANDARD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
    56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81,
    104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
_STANDARD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99,
    99, 47, 66, *[99] * 38)
_STANDARD_LUMA_SUM = sum(_STANDARD_LUMA)  # a file's quality is estimated against it


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


class SourceFacts(NamedTuple):
    """What a JPEG file's header tells about how it was encoded."""

    quality: float  # IJG quality estimated from the luminance quantization table
    full_chroma: bool  # chroma stored at full resolution (4:4:4)
    standard_huffman: bool  # sequential, with libjpeg's default (unoptimized) Huffman tables


def flatten(image: Image.Image) -> Image.Image:
    """The image without alpha: composited onto white."""
    if image.mode not in ("LA", "RGBA"):
        return image
    base_mode = image.mode[:-1]
    white = Image.new(base_mode, image.size, 255 if base_mode == "L" else (255, 255, 255))
    white.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return white


def target_quality(quality: int) -> int:
    """libjpeg-turbo's quality for the UI's ``quality``."""
    return 100 if quality >= 100 else native_quality(QUALITY_SCALE, quality)


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    return encode_native(picture, req, target_quality(req.quality))


def from_source(source: bytes, req: EncodeRequest) -> bytes | None:
    """The output made from a JPEG input alone (see the module docstring), or None to encode.

    A file that ends before its image does is left to the decoder, which names the problem
    (mozjpeg would pad the missing part silently)."""
    if not _complete(source):
        return None
    if req.quality >= 100:
        return optimize_source(source, req)
    facts = source_facts(source)
    finer = facts is not None and facts.full_chroma and req.chroma != "4:4:4"
    if facts is None or facts.quality > target_quality(req.quality) or finer:
        return None
    return optimize_source(source, req) if facts.standard_huffman or req.scrub else source


def encode_native(picture: Picture, req: EncodeRequest, quality: int) -> bytes:
    """Encode at libjpeg-turbo's own ``quality`` (the bench calibrates the UI scale with it)."""
    image = flatten(picture.image)
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
    return insert_segment(out.getvalue(), _APP13, picture.iptc) if picture.iptc else out.getvalue()


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # the encoder already wrote optimized Huffman tables


def source_facts(jpeg: bytes) -> SourceFacts | None:
    """How a JPEG file was encoded, from its header; None when the header cannot tell."""
    luma: list[int] | None = None
    full_chroma = sequential = standard_huffman = False
    for marker, _, body in _header_segments(jpeg):
        if marker == _DQT:
            luma = _luma_table(body) or luma
        elif marker == _DHT:
            standard_huffman = standard_huffman or _STANDARD_AC_COUNTS in _ac_counts(body)
        elif marker in _SOF and len(body) >= 9:
            components = body[5]
            factors = {body[6 + 3 * i + 1] for i in range(components) if 8 + 3 * i < len(body)}
            full_chroma = components > 1 and len(factors) == 1
            sequential = marker in _SEQUENTIAL_SOF
    if not luma:
        return None
    scale = 100 * sum(luma) / _STANDARD_LUMA_SUM
    quality = 100 - scale / 2 if scale <= 100 else 5000 / scale
    return SourceFacts(max(1.0, min(100.0, quality)), full_chroma,
                       sequential and standard_huffman)


def _header_segments(jpeg: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(marker, position, body) of each segment up to and including the first scan header.
    Segments are skipped by their length, so a thumbnail inside EXIF is never entered."""
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        yield marker, pos, jpeg[pos + 4 : pos + 2 + length]
        if marker == _SOS:
            return
        pos += 2 + length


def _complete(jpeg: bytes) -> bool:
    """An end-of-image marker after the first scan starts (it cannot occur inside scan data)."""
    scan = next((pos for marker, pos, _ in _header_segments(jpeg) if marker == _SOS), None)
    return scan is not None and jpeg.find(_EOI, scan) != -1


def _ac_counts(body: bytes) -> list[bytes]:
    """The code counts of each AC table in a DHT segment (which may hold several tables)."""
    found, pos = [], 0
    while pos + 17 <= len(body):
        counts = body[pos + 1 : pos + 17]
        if body[pos] >> 4 == 1:
            found.append(counts)
        pos += 17 + sum(counts)
    return found


def _luma_table(body: bytes) -> list[int] | None:
    """Table 0 of a DQT segment (which may hold several tables of 8 or 16 bits)."""
    pos = 0
    while pos < len(body):
        precision, table_id = body[pos] >> 4, body[pos] & 0x0F
        size = 128 if precision else 64
        values = body[pos + 1 : pos + 1 + size]
        if precision:
            values = bytes(values[1::2])  # 16-bit tables: low bytes suffice for a sum estimate
        if table_id == 0:
            return list(values)
        pos += 1 + size
    return None


def optimize_source(source: bytes, req: EncodeRequest) -> bytes:
    """Lossless rewrite of a JPEG file: same coefficients, smaller entropy coding."""
    keep_all = req.metadata == "keep"
    markers = mozjpeg.COPY_MARKERS.ALL if keep_all else mozjpeg.COPY_MARKERS.ICC
    with decoding("JPEG"):  # mozjpeg raises ValueError for data it cannot parse
        out = mozjpeg.optimize(source, copy=markers)
    if keep_all:
        return out
    carried = req.carried
    if carried is None:  # strip: only what keeps the image upright
        if req.source_orientation != 1:
            exif = Image.Exif()
            exif[0x0112] = req.source_orientation
            out = insert_segment(out, _APP1, exif.tobytes())
        return out
    # Inserted in reverse, each right after SOI/APP0: EXIF, XMP, IPTC in the usual order.
    if carried.iptc:
        out = insert_segment(out, _APP13, carried.iptc)
    if carried.xmp:
        out = insert_segment(out, _APP1, _XMP_HEADER + carried.xmp)
    if carried.exif:
        out = insert_segment(out, _APP1, carried.exif)
    return out


def insert_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with an APPn segment holding ``payload``, after SOI and any APP0 (JFIF)."""
    if not jpeg.startswith(_SOI):
        raise DecodeError("corrupt JPEG data: no start-of-image marker")
    if len(payload) + 2 > 0xFFFF:
        return jpeg  # a segment cannot hold it; metadata is a courtesy, the image is not
    pos = 2
    if jpeg[pos : pos + 2] == bytes((0xFF, _APP0)):
        pos += 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
    segment = bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:pos] + segment + jpeg[pos:]

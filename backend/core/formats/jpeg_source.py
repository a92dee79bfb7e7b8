"""A JPEG file read and rewritten without decoding it: what its header says about how it was
encoded, the lossless rewrite (same DCT coefficients, smaller entropy coding: mozjpeg's
progressive rewrite), and APPn segments added. ``jpeg.py`` decides when to use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import mozjpeg_lossless_optimization as mozjpeg
from PIL import Image

from backend.core.error_map import decoding
from backend.core.picture import EncodeRequest
from backend.errors import DecodeError

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
APP0 = 0xE0
APP1 = 0xE1
APP13 = 0xED
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_DQT = 0xDB
_SOS = 0xDA
_DHT = 0xC4
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SEQUENTIAL_SOF = frozenset({0xC0, 0xC1})
# Code counts per length of libjpeg's standard (Annex K) luminance AC Huffman table: a file that
# carries it was written without optimized Huffman coding.
_STANDARD_AC_COUNTS = bytes((0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D))
# libjpeg's standard (Annex K) luminance table: a file's quality is estimated against its sum.
_STANDARD_LUMA_SUM = 3688


class SourceFacts(NamedTuple):
    """What a JPEG file's header tells about how it was encoded."""

    quality: float  # IJG quality estimated from the luminance quantization table
    full_chroma: bool  # chroma stored at full resolution (4:4:4)
    standard_huffman: bool  # sequential, with libjpeg's default (unoptimized) Huffman tables


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


def complete(jpeg: bytes) -> bool:
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
            out = insert_segment(out, APP1, exif.tobytes())
        return out
    # Inserted in reverse, each right after SOI/APP0: EXIF, XMP, IPTC in the usual order.
    if carried.iptc:
        out = insert_segment(out, APP13, carried.iptc)
    if carried.xmp:
        out = insert_segment(out, APP1, XMP_HEADER + carried.xmp)
    if carried.exif:
        out = insert_segment(out, APP1, carried.exif)
    return out


def insert_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with an APPn segment holding ``payload``, after SOI and any APP0 (JFIF)."""
    if not jpeg.startswith(_SOI):
        raise DecodeError("corrupt JPEG data: no start-of-image marker")
    if len(payload) + 2 > 0xFFFF:
        return jpeg  # a segment cannot hold it; metadata is a courtesy, the image is not
    pos = 2
    if jpeg[pos : pos + 2] == bytes((0xFF, APP0)):
        pos += 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
    segment = bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:pos] + segment + jpeg[pos:]

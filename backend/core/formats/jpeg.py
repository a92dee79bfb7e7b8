"""JPEG: libjpeg-turbo through Pillow, progressive with optimized Huffman tables.

Decisions:

- Chroma subsampling 4:2:0 below quality 95 (the original's sharp/mozjpeg default at its default
  quality 90), 4:4:4 from 95 up, where the person asks for colour detail.
- Transparency is composited onto white.
- Quality 100 with a JPEG input and no resize is a lossless re-optimization of the input file
  (mozjpeg's jpegtran-style Huffman/progressive rewrite): the DCT coefficients are untouched, so
  the decoded pixels are identical. Only the ICC profile is kept (other APPn markers go), plus a
  minimal EXIF block holding just the orientation when it is not 1, so the image still displays
  upright (the pixels are not rotated: a lossless rotation is not always possible). With
  keepMetadata all markers are kept.
- Quality 100 with a resize (or a non-JPEG input) has new pixels, so it is a re-encode at
  quality 100, 4:4:4.
"""

from __future__ import annotations

import io

import mozjpeg_lossless_optimization as mozjpeg
from PIL import Image

from backend.core.picture import EncodeRequest, Picture
from backend.errors import DecodeError

FULL_CHROMA_FROM = 95
_SOI = b"\xff\xd8"
_APP0 = 0xE0


def flatten(image: Image.Image) -> Image.Image:
    """The image without alpha: composited onto white."""
    if image.mode not in ("LA", "RGBA"):
        return image
    base_mode = image.mode[:-1]
    white = Image.new(base_mode, image.size, 255 if base_mode == "L" else (255, 255, 255))
    white.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return white


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    image = flatten(picture.image)
    options: dict[str, object] = {
        "quality": req.quality,
        "optimize": True,
        "progressive": True,
        "subsampling": "4:4:4" if req.quality >= FULL_CHROMA_FROM else "4:2:0",
    }
    if picture.icc:
        options["icc_profile"] = picture.icc
    if picture.exif:
        options["exif"] = picture.exif
    if picture.xmp:
        options["xmp"] = picture.xmp
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # the encoder already wrote optimized Huffman tables


def optimize_source(source: bytes, req: EncodeRequest) -> bytes:
    """Lossless rewrite of a JPEG file: same coefficients, smaller entropy coding."""
    markers = mozjpeg.COPY_MARKERS.ALL if req.keep_metadata else mozjpeg.COPY_MARKERS.ICC
    try:
        out = mozjpeg.optimize(source, copy=markers)
    except ValueError as exc:
        raise DecodeError(f"corrupt JPEG data: {exc}") from None
    if not req.keep_metadata and req.source_orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = req.source_orientation
        out = insert_app1(out, exif.tobytes())
    return out


def insert_app1(jpeg: bytes, payload: bytes) -> bytes:
    """``jpeg`` with an APP1 segment holding ``payload``, after SOI and any APP0 (JFIF)."""
    if not jpeg.startswith(_SOI):
        raise DecodeError("corrupt JPEG data: no start-of-image marker")
    pos = 2
    if jpeg[pos : pos + 2] == bytes((0xFF, _APP0)):
        pos += 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:pos] + segment + jpeg[pos:]

"""JPEG: jpegli (Google's libjpeg-compatible encoder) at 4:2:0, progressive, adaptive
quantization; libjpeg-turbo for quality 100 and as the fallback.

Decisions (issue 13; judged on SSIMULACRA2 and butteraugli together, ``bench/QUALITY.md``):

- Encoder: jpegli through its C API (``jpegli_lib.py``, a small C shim compiled against the
  pyjpegli wheel, ``jpegli_build.py``). Measured by ``python -m bench.jpeg_contenders`` on the
  tune split, BD-rate vs sharp's mozjpeg (q 70-95) on SSIMULACRA2 / butteraugli: this
  encoder -2.7 % / -4.6 %; the libjpeg-turbo tables it replaces +10.8 % / +6.6 %; pyjpegli's
  Python API (baseline, standard Huffman tables, the only thing it offers) +7.4 % / +9.0 %, and
  -3.1 % / -1.5 % after mozjpeg's lossless rewrite at 3-4x the time.
- Chroma 4:2:0 for ``chroma: auto`` (as the original): jpegli at 4:4:4 needed +10 % / +24 %
  (corpus JPEGs already carry halved chroma; only 2 of 9 tune images were better at 4:4:4, and
  a cheap per-image rule that caught one of them lost on the whole split). "4:4:4" and "4:2:0"
  force either.
- Progressive level 2 (jpegli's default script): level 1 -1.4 % / -3.3 %, sequential -0.4 % /
  -2.4 %, at about half and a third of the encode time; within the 50 ms/MP budget either way.
- Adaptive quantization on: off won 3 points of SSIMULACRA2 and lost 2.6 of butteraugli; on
  wins the worse of the two metrics by more.
- Quality number: the UI's number is mapped (``QUALITY_SCALE``, measured by ``python -m bench.rd
  --calibrate --format jpeg``) onto jpegli's own, so each label gives the mean SSIMULACRA2 the
  original (sharp's mozjpeg) gave at that number.
- Baseline (8-bit) quantization tables, as libjpeg's and mozjpeg's defaults: every decoder
  reads them; below jpegli's quality ~40 some entries are capped at 255.
- Transparency is composited onto white; grey images stay one channel.
- JPEG input below quality 100, no resize: kept as it is (or rewritten losslessly when it still
  has libjpeg's unoptimized Huffman tables) when its own quality is at or below what we would
  write and its chroma is no finer than ours: a re-encode could not look better. "What we would
  write" is read from the quantization table jpegli itself writes at that number (a tiny encode,
  once per number), on IJG's scale like the input's (``jpeg_source.py``).
- Quality 100 with a JPEG input and no resize is always the lossless re-optimization (never a
  re-encode; ``jpeg_source.optimize_source``). Quality 100 with new pixels is libjpeg-turbo's
  all-ones tables at 4:4:4 (``jpeg_turbo.py``), the closest a JPEG comes to lossless.
- When the shim cannot be built or loaded (no C compiler or ``jpeglib.h``, another pyjpegli),
  the worker logs why once and encodes with libjpeg-turbo on its own scale, as before issue 13.
  jpegli refusing an image (``JpegliError``) is an error for that image, in jpegli's words.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import cache

import numpy as np
from PIL import Image

from backend.core.formats import jpeg_turbo, jpegli_lib
from backend.core.formats.jpeg_source import (
    APP1,
    APP13,
    XMP_HEADER,
    complete,
    optimize_source,
    source_facts,
)
from backend.core.formats.jpegli_build import ShimUnavailable
from backend.core.formats.jpegli_lib import JpegliError, JpegliSettings
from backend.core.formats.scale import Scale, native_between, native_quality
from backend.core.picture import EncodeRequest, Picture
from backend.errors import ProcessingError
from backend.types import ChromaMode

log = logging.getLogger(__name__)

# Measured by ``python -m bench.rd --calibrate --format jpeg`` (tune split, 640-px crops,
# 2026-12-03): at each UI number, jpegli's quality whose mean SSIMULACRA2 equals sharp's there.
# UI 1 goes below jpegli's own quality 1 (the smallest file there is twice libjpeg's smallest,
# and target sizes need the room): see ``_settings``.
QUALITY_SCALE: Scale = ((1, -20), (10, 5), (30, 17), (50, 33), (70, 63), (80, 79), (90, 90),
                        (95, 95), (100, 100))
PROGRESSIVE_LEVEL = 2
ADAPTIVE_QUANTIZATION = True
# Auto quality with chroma left to "auto" encodes both and keeps the smaller file that reaches
# its target: at SSIMULACRA2 86 on the tune split's photos 4:4:4 took 0.64-1.44x the bytes of
# 4:2:0 per image (fine colour detail: Hubble's stars; smooth colour: flowers), the choice per
# image 0.86x of 4:2:0 everywhere. Fixed qualities keep 4:2:0 (chosen on BD-rate, see above).
AUTO_CHROMA: tuple[ChromaMode, ...] = ("4:2:0", "4:4:4")
# Auto quality's first guess per target: the medians of its answers on the bench corpus
# (``python -m bench.auto_quality``, both splits: a guess changes the time, not the answer).
AUTO_GUESS = ((90.0, 92), (85.0, 86), (80.0, 80), (70.0, 70))
_PROBE = np.full((16, 16, 3), 128, dtype=np.uint8)


def flatten(image: Image.Image) -> Image.Image:
    """The image without alpha: composited onto white."""
    if image.mode not in ("LA", "RGBA"):
        return image
    base_mode = image.mode[:-1]
    white = Image.new(base_mode, image.size, 255 if base_mode == "L" else (255, 255, 255))
    white.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return white


@cache
def jpegli_available() -> bool:
    """Whether this process encodes with jpegli (False: libjpeg-turbo, the reason logged)."""
    try:
        jpegli_lib.load()
    except ShimUnavailable as exc:
        log.warning("JPEG: jpegli unavailable, encoding with libjpeg-turbo instead: %s", exc)
        return False
    return True


def encoder_name() -> str:
    return "jpegli" if jpegli_available() else "libjpeg-turbo"


def target_quality(quality: int) -> int:
    """The active encoder's own quality number for the UI's ``quality``."""
    if quality >= 100:
        return 100
    scale = QUALITY_SCALE if jpegli_available() else jpeg_turbo.QUALITY_SCALE
    return native_quality(scale, quality)


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    return encode_native(picture, req, target_quality(req.quality))


def encode_between(picture: Picture, req: EncodeRequest, quality: float) -> bytes:
    """Encode at a UI quality between two whole numbers (a size search's last steps): jpegli's
    butteraugli distance at that point of its quality formula. jpegli's own quality numbers are
    a slightly different encode (about 3 % larger than the distance they name), so a search
    only compares these with each other. libjpeg-turbo has whole numbers only."""
    whole = replace(req, quality=max(1, min(100, round(quality))))
    if quality >= 99 or not jpegli_available():
        return encode(picture, whole)
    native = native_between(QUALITY_SCALE, quality)
    return encode_native(picture, whole, native, by_distance=True)


def encode_native(picture: Picture, req: EncodeRequest, quality: float, *,
                  by_distance: bool = False) -> bytes:
    """Encode at the active encoder's own ``quality`` (the bench calibrates the UI scale with
    it): jpegli's below 100, libjpeg-turbo's at 100 or without jpegli. ``by_distance``: jpegli
    gets the distance its quality formula gives ``quality`` rather than the number itself."""
    flat = Picture(frames=[flatten(picture.image)], icc=picture.icc, exif=picture.exif,
                   xmp=picture.xmp, iptc=picture.iptc)
    if quality >= 100 or not jpegli_available():
        return jpeg_turbo.encode_native(flat, req, round(quality))
    image = flat.image
    pixels = np.asarray(image if image.mode == "L" else image.convert("RGB"))
    settings = _settings(quality, subsample=req.chroma != "4:4:4", by_distance=by_distance)
    segments = tuple((marker, payload) for marker, payload in (
        (APP1, picture.exif), (APP1, XMP_HEADER + picture.xmp if picture.xmp else None),
        (APP13, picture.iptc)) if payload)
    try:
        return jpegli_lib.encode(pixels, settings, icc=picture.icc, segments=segments)
    except JpegliError as exc:
        raise ProcessingError(f"the JPEG encoder (jpegli) refused this image: {exc}") from None


def _settings(native: float, *, subsample: bool, by_distance: bool = False) -> JpegliSettings:
    """jpegli's settings at our native number: jpegli's own quality from 1 up; below 1, the
    butteraugli distance its quality formula (``jpegli_quality_to_distance``: 53/3000 q² -
    23/20 q + 25 under 30) gives when carried on past 1 (-20: distance 55, about libjpeg's
    quality 1 in bytes), since jpegli's numbers stop at 1 (distance 23.9)."""
    distance = None if native >= 1 and not by_distance else _distance(native)
    return JpegliSettings(max(round(native), 1), subsample=subsample,
                          progressive_level=PROGRESSIVE_LEVEL, adaptive=ADAPTIVE_QUANTIZATION,
                          distance=distance)


def _distance(native: float) -> float:
    """jpegli's ``jpegli_quality_to_distance``, on any real number."""
    if native >= 30:
        return 0.1 + (100 - native) * 0.09
    return 53 / 3000 * native**2 - 23 / 20 * native + 25


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # the encoder already wrote optimized Huffman tables


@cache
def written_quality(native: int) -> float:
    """The IJG-scale quality of the luminance table we write at ``native`` (the scale a JPEG
    input's own quality is estimated on)."""
    if native >= 100 or not jpegli_available():
        return float(native)  # libjpeg-turbo's tables keep the standard mean: same scale
    facts = source_facts(jpegli_lib.encode(_PROBE, _settings(native, subsample=True)))
    assert facts is not None  # our own header always carries its tables
    return facts.quality


def from_source(source: bytes, req: EncodeRequest) -> bytes | None:
    """The output made from a JPEG input alone (see the module docstring), or None to encode.

    A file that ends before its image does is left to the decoder, which names the problem
    (mozjpeg would pad the missing part silently)."""
    if not complete(source):
        return None
    if req.quality >= 100:
        return optimize_source(source, req)
    facts = source_facts(source)
    finer = facts is not None and facts.full_chroma and req.chroma != "4:4:4"
    if facts is None or finer or facts.quality > written_quality(target_quality(req.quality)):
        return None
    return optimize_source(source, req) if facts.standard_huffman or req.scrub else source


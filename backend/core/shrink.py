"""Decode and downscale in one pass with libvips, for JPEG and PNG inputs that are resized.

Why: on the resize-to-1920 + WebP workload (issue 13) Pillow's PNG decode and its scalar Lanczos
were where we lost to sharp. libvips (the library sharp runs on, here through pyvips) decodes the
same files to the same pixels (libjpeg-turbo for JPEG, bit-identical to Pillow's decode; libspng
for PNG) and runs the same Lanczos-3 kernel with SIMD.

Decisions:

- Only what both libraries read alike takes this path: a single-frame 8-bit JPEG or PNG whose
  Pillow mode is L, LA, RGB or RGBA, without a tRNS colour key. Everything else (CMYK, 16-bit,
  palette with transparency, APNG) and any libvips failure (a truncated file included) goes the
  Pillow way, which also gives the error message the user sees.
- Same filter as ``resize.resize``: Lanczos-3, a box pre-shrink only beyond ``REDUCING_GAP`` x
  the target, and a JPEG decoded at 1/2, 1/4 or 1/8 exactly where Pillow's ``draft`` would
  (``DRAFT_GAP``), so both paths start from the same pixels.
- Alpha: filtered as a plain channel (not premultiplied), then looked at: when every output
  pixel is opaque it is dropped (the loader drops an opaque alpha anyway; filtering the colour
  without premultiplying is only exact there, and off by at most a level or two where the input
  was within a few levels of opaque). Any output pixel below 255 sends the image to Pillow's
  premultiplied Lanczos, as before: that costs a second decode, for resized transparent PNGs
  only. For kay (15 MP, opaque RGBA) this takes 0.125 s of CPU instead of 0.195 s with the
  alpha checked at full size first.
- Quality against an exact (float) Lanczos of the full-resolution decode, measured on the tune
  split at 1920/1280/640 px (``python -m bench.resize_quality``): libvips scores as Pillow's own
  8-bit Lanczos does. Both sit at the metrics' floor for rounding differences (SSIMULACRA2
  ~97-98, butteraugli max < 0.5), below which two correct Lanczos implementations cannot go.
- One libvips thread per worker and no operation cache: the pool already runs one worker per
  core, and a cache would hold decoded inputs nobody asks for again.
"""

from __future__ import annotations

import pyvips
from PIL import Image

from backend.core.resize import DRAFT_GAP, REDUCING_GAP

pyvips.concurrency_set(1)
pyvips.cache_set_max(0)

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def takes(fmt: str, image: Image.Image, frame_count: int) -> bool:
    """Whether an input opened by Pillow as ``image`` can be decoded and shrunk here."""
    return (fmt in ("jpeg", "png") and frame_count == 1 and image.mode in _MODES.values()
            and "transparency" not in image.info)


def jpeg_shrink(stored: tuple[int, int], size: tuple[int, int]) -> int:
    """The 1/N scale Pillow's ``draft`` takes for a JPEG of ``stored`` size resized to ``size``."""
    scale = min(stored[0] // (size[0] * DRAFT_GAP), stored[1] // (size[1] * DRAFT_GAP))
    return next((n for n in (8, 4, 2) if scale >= n), 1)


def decode_shrunk(data: bytes, fmt: str, mode: str, stored: tuple[int, int],
                  size: tuple[int, int]) -> Image.Image | None:
    """``data`` decoded and brought to ``size`` (stored orientation); None: use Pillow's path."""
    try:
        options = {"shrink": jpeg_shrink(stored, size)} if fmt == "jpeg" else {}
        image = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated",
                                             **options)
        if image.format != "uchar" or _MODES.get(image.bands) != mode:
            return None
        if (image.width, image.height) != size:
            image = image.resize(size[0] / image.width, vscale=size[1] / image.height,
                                 kernel="lanczos3", gap=REDUCING_GAP)
        if (image.width, image.height) != size:
            return None
        if image.hasalpha():
            image = image.copy_memory()  # read twice below: filter once
            if image[image.bands - 1].min() < 255:
                return None  # real transparency: Pillow's premultiplied Lanczos, as before
            image = image.extract_band(0, n=image.bands - 1)
        return _pillow(image)
    except pyvips.Error:
        return None


def _pillow(image: pyvips.Image) -> Image.Image:
    return Image.frombytes(_MODES[image.bands], (image.width, image.height),
                           image.write_to_memory())

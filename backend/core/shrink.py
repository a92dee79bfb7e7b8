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
- Quality against an exact Lanczos (floating point, full-resolution decode), tune split at 1920
  and 960 px (``python -m bench.resize_quality``): JPEG within 0.0-0.3 SSIMULACRA2 of Pillow's
  own 8-bit Lanczos (which itself scores 96.9-98.1: rounding alone); opaque artwork PNGs at
  large ratios up to 0.9 below it at 1920 px (kay 96.93 vs 97.78) and 2.1 at 960 px (95.64 vs
  97.75), since libvips's 8-bit filter uses 12-bit coefficients. Butteraugli max <= 0.73
  (Pillow <= 0.56), far under the 1.0 of a just-noticeable difference; against Pillow's pixels
  the mean difference is under 0.4 levels (single pixels at hard edges up to 11). libvips in
  float scores 98.6-98.8, better than Pillow, but at 3-4x the CPU of its 8-bit filter, which
  would give the speed back.
- Speed (resize-to-1920 + WebP at 2 workers, ``bench/results/resize_webp.md``): CPU 1.16x
  sharp's (JPEG 1.13x, PNG 1.21x), before 0.91x; in process, one core, the JPEG half took
  4.4 s instead of 6.0 and the PNG half 2.85 instead of 3.55 (before the PNG chunk-list check
  in ``loader.png_may_hold_exif``, which saves one more decode per PNG).
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

"""Which of oxipng's row filters compresses a PNG best, judged on bands of its rows.

oxipng's default preset picks its filter by compressing each candidate at libdeflate level 7
and gives only the winner the final level; the ranking at 7 is not the final level's (altai:
Entropy wins at 7, Sub is 2.4 % smaller at 11). Its ``-o4`` compresses every candidate at the
final level, 4x the work. Here each candidate is compressed with near-optimal parsing
(libdeflate 10 or more, ``PROBE_DEFLATE`` in ``formats/png.py``) on a sample of the image,
evenly spaced bands of whole rows (the filters work row by row, and deflate's window is 32 KB,
a few rows), so the ranking is close to the final level's at a fraction of the cost. The
numbers behind these choices are in ``formats/png.py``'s docstring.
"""

from __future__ import annotations

import io

import msgspec
import numpy as np
import oxipng
from PIL import Image

BAND_ROWS = 32
SAMPLE_SHARE = 1 / 16  # of the rows; at 1/32 calla's winner (Brute, 5 % smaller) was missed
MIN_BANDS = 4  # a small image's few bands missed its winner: up to 4 bands, the whole image
MAX_COLOURS = 256
_BIT_DEPTH_OFFSET = 24  # in the file: signature (8), IHDR length + type (8), width, height
_MODES = ("RGB", "RGBA", "LA", "L", "P")
_NO_REDUCTIONS: dict[str, object] = {
    "bit_depth_reduction": False, "color_type_reduction": False,
    "palette_reduction": False, "grayscale_reduction": False,
}


def _reduced(pixels: np.ndarray) -> np.ndarray:
    """The channels oxipng would keep (h x w x c): opaque alpha dropped, equal channels to grey.
    Done here because oxipng's own reductions on a sample could make a palette of a few bands'
    colours that the whole image does not have."""
    if pixels.shape[2] in (2, 4) and (pixels[..., -1] == 255).all():
        pixels = pixels[..., :-1]
    if pixels.shape[2] >= 3 and (pixels[..., 0] == pixels[..., 1]).all() and (
            pixels[..., 1] == pixels[..., 2]).all():
        pixels = np.delete(pixels, [1, 2], axis=2)
    return pixels


class Sample(msgspec.Struct, frozen=True):
    png: bytes  # uncompressed
    few_colours: bool  # palette, grey or at most 256 colours: 1 byte per pixel or less in oxipng


def _bands(pixels: np.ndarray) -> np.ndarray:
    height = pixels.shape[0]
    bands = max(MIN_BANDS, round(height * SAMPLE_SHARE / BAND_ROWS))
    if height <= bands * BAND_ROWS:
        return pixels
    starts = np.linspace(0, height - BAND_ROWS, bands).astype(int)
    return np.concatenate([pixels[s : s + BAND_ROWS] for s in starts])


def sample_png(data: bytes) -> Sample | None:
    """Bands of the PNG ``data``'s rows as an uncompressed PNG, or None when it is not an
    8-bit single-frame image (16-bit, 1-bit, animation) or Pillow cannot read it (oxipng
    reports what is wrong with the file). Pillow reads 16-bit colour as 8-bit: ranking filters
    on those bytes would not rank oxipng's. A truecolour sample is in the form oxipng would
    write the whole image in; a few-colour one is left to oxipng's reductions, as its whole
    image is."""
    if len(data) <= _BIT_DEPTH_OFFSET or data[_BIT_DEPTH_OFFSET] > 8:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if getattr(image, "n_frames", 1) > 1 or image.mode not in _MODES:
                return None
            few = image.mode in ("P", "L") or image.getcolors(MAX_COLOURS) is not None
            pixels = _bands(np.asarray(image))
            palette = image.getpalette() if image.mode == "P" else None
            transparency = image.info.get("transparency")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    out = io.BytesIO()
    if palette is not None:
        sample = Image.fromarray(pixels, "P")
        sample.putpalette(palette)
        options = {} if transparency is None else {"transparency": transparency}
        sample.save(out, "PNG", compress_level=0, **options)
        return Sample(out.getvalue(), few)
    channels = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)
    if not few:
        channels = _reduced(channels)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels.shape[2]]
    Image.fromarray(channels[..., 0] if mode == "L" else channels, mode).save(
        out, "PNG", compress_level=0)
    return Sample(out.getvalue(), few)


def sample_size(sample: Sample, row_filter: oxipng.RowFilter, deflate: oxipng.Deflaters) -> int:
    """Bytes of the sample compressed with one filter; a truecolour sample without reductions
    (it already has its form)."""
    reductions = {} if sample.few_colours else _NO_REDUCTIONS
    return len(oxipng.optimize_from_memory(sample.png, level=2, filter=[row_filter],
                                           deflate=deflate, **reductions))


def best_filter(data: bytes, truecolour: list[oxipng.RowFilter],
                few_colours: list[oxipng.RowFilter],
                deflate: oxipng.Deflaters) -> oxipng.RowFilter | None:
    """The candidate (of ``truecolour`` or ``few_colours``, by the image) that makes a sample
    of the PNG ``data`` smallest at ``deflate`` (the first of equals), or None when no sample
    can be cut (``sample_png``)."""
    sample = sample_png(data)
    if sample is None:
        return None
    candidates = few_colours if sample.few_colours else truecolour
    sizes = [sample_size(sample, f, deflate) for f in candidates]
    return candidates[sizes.index(min(sizes))]

"""Palette quantization with libimagequant, through the ``imagequant`` package's C bindings.

The package's own ``quantize_pil_image`` cannot set libimagequant's speed or quality limits, and
copies pixels with a Python loop; this calls the same library directly, pixels in and out as one
buffer.

Decisions (measured on the bench corpus, see ``bench/QUALITY.md``):

- The palette is chosen from a histogram of every other pixel of every other row when the image
  has more than ``SAMPLE_FROM_PIXELS`` pixels, then every pixel is remapped to it. The colours
  of a large image are all still there in a quarter of its pixels; the palette search takes
  ~0.017 s/MP instead of ~0.045 s/MP and the result is indistinguishable (same SSIM and
  butteraugli to two decimals on the corpus).
- No quality floor here: whether a palette may be kept is judged on the remapped image by
  SSIMULACRA2 (``png.py``), not by libimagequant's own quality (from the mean square error in
  its colour space), which was the gate before.
"""

from __future__ import annotations

from contextlib import ExitStack

from imagequant import ffi, lib
from PIL import Image

SAMPLE_FROM_PIXELS = 1 << 20


def quantize(
    image: Image.Image, *, max_colors: int, dithering: float, speed: int, max_quality: int = 100,
    remap: Image.Image | None = None,
) -> Image.Image | None:
    """``image`` (RGBA) as a palette image (an RGB palette when every colour is opaque, else
    RGBA), or None when libimagequant fails.

    ``speed``: libimagequant's 1 (slowest, best) to 10 (fastest); its default is 4.
    ``max_quality``: stop adding colours once this quality is reached (fewer colours, smaller
    file).
    ``remap``: another RGBA image (a sample of ``image``) to map to the palette chosen for
    ``image`` and return instead: remapping is most of the cost on a large image.
    """
    width, height = image.size
    pixels = ffi.from_buffer(image.tobytes())  # liq reads this buffer until the image is freed
    with ExitStack() as free:
        attr = lib.liq_attr_create()
        free.callback(lib.liq_attr_destroy, attr)
        lib.liq_set_max_colors(attr, max_colors)
        lib.liq_set_speed(attr, speed)
        if lib.liq_set_quality(attr, 0, max_quality) != lib.LIQ_OK:
            return None
        liq_image = lib.liq_image_create_rgba(attr, pixels, width, height, 0)
        if liq_image == ffi.NULL:
            return None
        free.callback(lib.liq_image_destroy, liq_image)
        result_p = ffi.new("liq_result**")
        if width * height > SAMPLE_FROM_PIXELS:
            status = _quantize_sample(image, attr, result_p, free)
        else:
            status = lib.liq_image_quantize(liq_image, attr, result_p)
        if status != lib.LIQ_OK:
            return None
        result = result_p[0]
        free.callback(lib.liq_result_destroy, result)
        lib.liq_set_dithering_level(result, dithering)
        if remap is not None:
            width, height = remap.size
            remap_pixels = ffi.from_buffer(remap.tobytes())
            free.callback(lambda: remap_pixels)  # alive until its liq image is freed
            liq_image = lib.liq_image_create_rgba(attr, remap_pixels, width, height, 0)
            if liq_image == ffi.NULL:
                return None
            free.callback(lib.liq_image_destroy, liq_image)
        count = width * height
        out = ffi.new("char[]", count)
        if lib.liq_write_remapped_image(result, liq_image, out, count) != lib.LIQ_OK:
            return None
        palette = lib.liq_get_palette(result)
        entries = [palette.entries[i] for i in range(palette.count)]
        opaque = all(e.a == 255 for e in entries)
        channels = (lambda e: (e.r, e.g, e.b)) if opaque else (lambda e: (e.r, e.g, e.b, e.a))
        colours = bytes(c for e in entries for c in channels(e))
        indexed = ffi.buffer(out, count)[:]
    quantized = Image.frombytes("P", (width, height), indexed)
    # An opaque palette is written without a tRNS chunk, so the file says it has no alpha.
    quantized.putpalette(colours, "RGB" if opaque else "RGBA")
    return quantized


def _quantize_sample(image: Image.Image, attr: object, result_p: object, free: ExitStack) -> int:
    """Choose the palette from every other pixel of every other row (nearest-neighbour: the
    sampled colours are real colours of the image, never blends)."""
    width, height = image.size
    sample = image.resize(((width + 1) // 2, (height + 1) // 2), Image.Resampling.NEAREST)
    sample_pixels = ffi.from_buffer(sample.tobytes())
    free.callback(lambda: sample_pixels)  # keep the buffer alive until the histogram is freed
    sample_image = lib.liq_image_create_rgba(attr, sample_pixels, *sample.size, 0)
    if sample_image == ffi.NULL:
        return lib.LIQ_OUT_OF_MEMORY
    free.callback(lib.liq_image_destroy, sample_image)
    histogram = lib.liq_histogram_create(attr)
    free.callback(lib.liq_histogram_destroy, histogram)
    status = lib.liq_histogram_add_image(histogram, attr, sample_image)
    if status != lib.LIQ_OK:
        return status
    return lib.liq_histogram_quantize(histogram, attr, result_p)

"""Palette quantization with libimagequant, through the ``imagequant`` package's C bindings.

The package's own ``quantize_pil_image`` cannot set libimagequant's speed, and copies pixels
with a Python loop; this calls the same library directly, pixels in and out as one buffer.
"""

from __future__ import annotations

from contextlib import ExitStack

from imagequant import ffi, lib
from PIL import Image


def quantize(
    image: Image.Image, *, max_colors: int, dithering: float, speed: int
) -> Image.Image | None:
    """``image`` (RGBA) as a palette image with an RGBA palette, or None if liq gave up.

    ``speed``: libimagequant's 1 (slowest, best) to 10 (fastest); its default is 4.
    """
    width, height = image.size
    count = width * height
    pixels = ffi.from_buffer(image.tobytes())  # liq reads this buffer until the image is freed
    with ExitStack() as free:
        attr = lib.liq_attr_create()
        free.callback(lib.liq_attr_destroy, attr)
        lib.liq_set_max_colors(attr, max_colors)
        lib.liq_set_speed(attr, speed)
        liq_image = lib.liq_image_create_rgba(attr, pixels, width, height, 0)
        if liq_image == ffi.NULL:
            return None
        free.callback(lib.liq_image_destroy, liq_image)
        result_p = ffi.new("liq_result**")
        if lib.liq_image_quantize(liq_image, attr, result_p) != lib.LIQ_OK:
            return None
        result = result_p[0]
        free.callback(lib.liq_result_destroy, result)
        lib.liq_set_dithering_level(result, dithering)
        out = ffi.new("char[]", count)
        if lib.liq_write_remapped_image(result, liq_image, out, count) != lib.LIQ_OK:
            return None
        palette = lib.liq_get_palette(result)
        entries = [palette.entries[i] for i in range(palette.count)]
        rgba = bytes(c for e in entries for c in (e.r, e.g, e.b, e.a))
        indexed = ffi.buffer(out, count)[:]
    quantized = Image.frombytes("P", (width, height), indexed)
    quantized.putpalette(rgba, "RGBA")
    return quantized

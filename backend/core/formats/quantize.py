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

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from imagequant import ffi, lib
from PIL import Image

SAMPLE_FROM_PIXELS = 1 << 20


def quantize(
    image: Image.Image, *, max_colors: int, dithering: float, speed: int, max_quality: int = 100,
) -> Image.Image | None:
    """``image`` (RGBA) as a palette image (an RGB palette when every colour is opaque, else
    RGBA), or None when libimagequant fails. The arguments are ``palette_for``'s."""
    with palette_for(image, max_colors=max_colors, speed=speed,
                     max_quality=max_quality) as palette:
        return None if palette is None else palette.remap(image, dithering)


class Quantizer:
    """libimagequant's palette for one image, kept to remap that image and samples of it
    (remapping is most of the cost on a large image); valid inside ``palette_for``'s block."""

    def __init__(self, image: Image.Image, attr: object, liq_image: object,
                 result: object) -> None:
        self._image, self._attr, self._liq_image, self._result = image, attr, liq_image, result

    def remap(self, image: Image.Image, dithering: float) -> Image.Image | None:
        """``image`` (RGBA: the one the palette was chosen for, or a sample of it) mapped to
        the palette, or None when libimagequant fails."""
        width, height = image.size
        count = width * height
        with ExitStack() as free:
            liq_image = self._liq_image
            if image is not self._image:
                pixels = ffi.from_buffer(image.tobytes())
                free.callback(lambda: pixels)  # alive until its liq image is freed
                liq_image = lib.liq_image_create_rgba(self._attr, pixels, width, height, 0)
                if liq_image == ffi.NULL:
                    return None
                free.callback(lib.liq_image_destroy, liq_image)
            lib.liq_set_dithering_level(self._result, dithering)
            out = ffi.new("char[]", count)
            if lib.liq_write_remapped_image(self._result, liq_image, out, count) != lib.LIQ_OK:
                return None
            palette = lib.liq_get_palette(self._result)
            entries = [palette.entries[i] for i in range(palette.count)]
            indexed = ffi.buffer(out, count)[:]
        opaque = all(e.a == 255 for e in entries)
        channels = (lambda e: (e.r, e.g, e.b)) if opaque else (lambda e: (e.r, e.g, e.b, e.a))
        colours = bytes(c for e in entries for c in channels(e))
        quantized = Image.frombytes("P", (width, height), indexed)
        # An opaque palette is written without a tRNS chunk, so the file says it has no alpha.
        quantized.putpalette(colours, "RGB" if opaque else "RGBA")
        return quantized


@contextmanager
def palette_for(image: Image.Image, *, max_colors: int, speed: int,
                max_quality: int = 100) -> Iterator[Quantizer | None]:
    """libimagequant's palette for ``image`` (RGBA), or None when it fails.

    ``speed``: libimagequant's 1 (slowest, best) to 10 (fastest); its default is 4.
    ``max_quality``: stop adding colours once this quality is reached (fewer colours, smaller
    file).
    """
    width, height = image.size
    pixels = ffi.from_buffer(image.tobytes())  # liq reads this buffer until the image is freed
    with ExitStack() as free:
        free.callback(lambda: pixels)
        attr = lib.liq_attr_create()
        free.callback(lib.liq_attr_destroy, attr)
        lib.liq_set_max_colors(attr, max_colors)
        lib.liq_set_speed(attr, speed)
        if lib.liq_set_quality(attr, 0, max_quality) != lib.LIQ_OK:
            yield None
            return
        liq_image = lib.liq_image_create_rgba(attr, pixels, width, height, 0)
        if liq_image == ffi.NULL:
            yield None
            return
        free.callback(lib.liq_image_destroy, liq_image)
        result_p = ffi.new("liq_result**")
        if width * height > SAMPLE_FROM_PIXELS:
            status = _quantize_sample(image, attr, result_p, free)
        else:
            status = lib.liq_image_quantize(liq_image, attr, result_p)
        if status != lib.LIQ_OK:
            yield None
            return
        free.callback(lib.liq_result_destroy, result_p[0])
        yield Quantizer(image, attr, liq_image, result_p[0])


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

"""libimagequant through ``formats/quantize.py``: a palette chosen for one image, mapped onto
another (the PNG gate's look at a sample before remapping a whole image)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from backend.core.formats.quantize import quantize
from tests.conftest import load_real


def test_a_remapped_sample_gets_the_whole_images_palette_and_its_indices() -> None:
    """Without dithering each pixel maps to its nearest palette entry, so the sample's indices
    are the whole image's at the same places, and the palette is the whole image's."""
    image = load_real("coffee").convert("RGBA").resize((1200, 900))  # above the sampled histogram
    tiles = image.crop((128, 256, 640, 512))
    whole = quantize(image, max_colors=64, dithering=0.0, speed=4)
    part = quantize(image, max_colors=64, dithering=0.0, speed=4, remap=tiles)
    assert whole is not None and part is not None
    assert part.size == tiles.size and part.mode == "P"
    assert part.getpalette() == whole.getpalette()
    assert np.array_equal(np.asarray(part), np.asarray(whole.crop((128, 256, 640, 512))))


def test_a_remap_of_another_image_uses_the_first_ones_colours() -> None:
    """A palette chosen on a red image and mapped onto a blue one stays red: the colours come
    from the image given first, only the pixels from ``remap``."""
    red = Image.new("RGBA", (64, 64), (200, 10, 10, 255))
    blue = Image.new("RGBA", (32, 16), (10, 10, 200, 255))
    out = quantize(red, max_colors=8, dithering=0.0, speed=4, remap=blue)
    assert out is not None and out.size == (32, 16)
    colours = np.unique(np.asarray(out.convert("RGB")).reshape(-1, 3), axis=0)
    assert colours.tolist() == [[200, 10, 10]]

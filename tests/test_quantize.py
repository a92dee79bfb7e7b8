"""libimagequant through ``formats/quantize.py``: one palette, remapped onto its image and onto
samples of it (the PNG gate looks at a sample before remapping a whole image)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from backend.core.formats.quantize import palette_for, quantize
from tests.conftest import load_real

BOX = (128, 256, 640, 512)


def _coffee() -> Image.Image:
    return load_real("coffee").convert("RGBA").resize((1200, 900))  # a sampled histogram


def test_a_remapped_sample_gets_the_whole_images_palette_and_its_indices() -> None:
    """Without dithering each pixel maps to its nearest palette entry, so the sample's indices
    are the whole image's at the same places, and the palette is the whole image's."""
    image = _coffee()
    with palette_for(image, max_colors=64, speed=4) as palette:
        assert palette is not None
        part = palette.remap(image.crop(BOX), 0.0)
    whole = quantize(image, max_colors=64, dithering=0.0, speed=4)
    assert whole is not None and part is not None
    assert part.size == (BOX[2] - BOX[0], BOX[3] - BOX[1]) and part.mode == "P"
    assert part.getpalette() == whole.getpalette()
    assert np.array_equal(np.asarray(part), np.asarray(whole.crop(BOX)))


def test_remapping_a_sample_first_leaves_the_whole_images_remap_as_it_would_be() -> None:
    """The gate remaps the sample, then (if it passes) the whole image with the same palette:
    that file must be the one a fresh palette gives, dithering included."""
    image = _coffee()
    with palette_for(image, max_colors=128, speed=4, max_quality=80) as palette:
        assert palette is not None
        palette.remap(image.crop(BOX), 0.25)
        after = palette.remap(image, 0.25)
    fresh = quantize(image, max_colors=128, dithering=0.25, speed=4, max_quality=80)
    assert after is not None and fresh is not None
    assert after.getpalette() == fresh.getpalette()
    assert np.array_equal(np.asarray(after), np.asarray(fresh))


def test_a_remap_of_another_image_uses_the_first_ones_colours() -> None:
    """A palette chosen on a red image and mapped onto a blue one stays red: the colours come
    from the image the palette was chosen for, only the pixels from the one remapped."""
    red = Image.new("RGBA", (64, 64), (200, 10, 10, 255))
    blue = Image.new("RGBA", (32, 16), (10, 10, 200, 255))
    with palette_for(red, max_colors=8, speed=4) as palette:
        assert palette is not None
        out = palette.remap(blue, 0.0)
    assert out is not None and out.size == (32, 16)
    colours = np.unique(np.asarray(out.convert("RGB")).reshape(-1, 3), axis=0)
    assert colours.tolist() == [[200, 10, 10]]


def test_an_impossible_quality_range_gives_no_palette() -> None:
    """libimagequant refuses a stopping quality above 100: no palette, no exception."""
    with palette_for(_coffee(), max_colors=64, speed=4, max_quality=101) as palette:
        assert palette is None

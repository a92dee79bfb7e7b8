"""Resized JPEG/PNG inputs are decoded and shrunk by libvips (backend/core/shrink.py): the exact
size, pixels as close to an exact Lanczos as Pillow's own, and Pillow's way (with its errors) for
everything libvips must not take."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from backend.core import shrink
from backend.core.loader import decode, open_source, png_may_hold_exif
from backend.core.paths import assign_output_paths
from backend.core.pipeline import optimize_file
from backend.core.ssimulacra2 import ssimulacra2
from backend.types import OptimizationResult, Task
from backend.validation import decode_settings

TARGET = (200, 200)  # astronaut is 512x512: a 2.56x downscale, as 5120 px -> 1920


def exact_lanczos(path: Path, size: tuple[int, int]) -> Image.Image:
    """Lanczos-3 in floating point on the full-resolution decode, rounded once."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    planes = [np.asarray(band.convert("F").resize(size, Image.Resampling.LANCZOS))
              for band in rgb.split()]
    return Image.fromarray(np.clip(np.rint(np.stack(planes, -1)), 0, 255).astype(np.uint8))


def decoded(path: Path, target: tuple[int, int] | None) -> Image.Image:
    source = open_source(str(path), path.read_bytes())
    try:
        return decode(source, target=target, animation=False).image
    finally:
        source.close()


def run(src: Path, fmt: str, resize: dict) -> OptimizationResult:
    cfg = decode_settings({"outputFormat": fmt, "resize": resize})
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    return optimize_file(str(src), out, cfg)[0]


@pytest.mark.parametrize("name", ["astronaut.jpg", "astronaut.png"])
def test_a_resized_photo_is_decoded_at_the_target_size(
    tmp_images: Callable[..., Path], name: str
) -> None:
    src = tmp_images(name, source="astronaut", quality=92)
    # Pillow alone decodes all 512x512 pixels here (its JPEG draft needs a 4x downscale).
    assert decoded(src, TARGET).size == TARGET
    assert decoded(src, None).size == (512, 512)


@pytest.mark.parametrize("name", ["astronaut.jpg", "astronaut.png"])
def test_shrunk_pixels_are_as_close_to_an_exact_lanczos_as_pillows_own(
    tmp_images: Callable[..., Path], name: str
) -> None:
    src = tmp_images(name, source="astronaut", quality=92)
    exact = exact_lanczos(src, TARGET)
    with Image.open(src) as im:
        pillow = im.convert("RGB").resize(TARGET, Image.Resampling.LANCZOS)
    fast = decoded(src, TARGET)
    assert fast.mode == "RGB" and fast.size == TARGET
    ours, theirs = ssimulacra2(exact, fast), ssimulacra2(exact, pillow)
    # Pillow's 8-bit Lanczos scores ~97-98 here: the floor of rounding differences.
    assert ours >= 96.0 and ours >= theirs - 1.0, (ours, theirs)
    diff = np.abs(np.asarray(fast, np.int16) - np.asarray(exact, np.int16))
    assert diff.mean() < 0.5


def test_an_opaque_alpha_channel_is_dropped(tmp_images: Callable[..., Path]) -> None:
    src = tmp_images("opaque.png", source="astronaut", mode="RGBA")
    with Image.open(src) as im:
        assert im.mode == "RGBA"
        shrunk = shrink.decode_shrunk(src.read_bytes(), "png", "RGBA", im.size, TARGET)
    assert shrunk is not None and shrunk.mode == "RGB" and shrunk.size == TARGET


def test_real_transparency_is_filtered_by_pillow(real_png: Path) -> None:
    with Image.open(real_png) as im:
        size = im.size
        assert shrink.decode_shrunk(real_png.read_bytes(), "png", "RGBA", size, (100, 100)) is None
    result = run(real_png, "png", {"mode": "width", "size": 100})
    with Image.open(result.optimized_path) as out:
        alpha = np.asarray(out.convert("RGBA"))[..., 3]
    assert alpha[0, 0] == 0 and alpha[50, 50] == 255


@pytest.mark.parametrize(("case", "message"), [("truncated_jpeg", "truncated JPEG data"),
                                               ("truncated_png", "truncated PNG")])
def test_a_truncated_input_that_is_resized_reports_the_decoders_error(
    edge_cases: Any, case: str, message: str
) -> None:
    result = run(getattr(edge_cases, case)(), "webp", {"mode": "width", "size": 100})
    assert not result.success and result.errorKind == "decode"
    assert message in (result.error or "")


def test_a_png_with_exif_is_seen_without_decoding_it(tmp_images: Callable[..., Path]) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = tmp_images("tagged.png", source="astronaut", size=(60, 40), exif=exif.tobytes())
    plain = tmp_images("plain.png", source="astronaut", size=(60, 40))
    assert png_may_hold_exif(tagged.read_bytes())
    assert not png_may_hold_exif(plain.read_bytes())
    # The rotation still applies to a resized PNG: stored 60x40, shown 40x60.
    result = run(tagged, "png", {"mode": "height", "size": 30})
    with Image.open(result.optimized_path) as out:
        assert out.size == (20, 30)

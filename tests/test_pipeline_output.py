"""Resize modes, kept originals, and what a run leaves on disk (inputs intact, no temp files)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from backend.core.paths import PARTIAL_SUFFIX, assign_output_paths
from backend.core.pipeline import optimize_file
from backend.types import OptimizationResult, Task
from backend.validation import decode_settings


def run(src: Path, fmt: str = "original", quality: int = 90,
        resize: dict | None = None) -> OptimizationResult:
    cfg = decode_settings({"outputFormat": fmt, "quality": {"global": quality},
                           "resize": resize or {}})
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    return optimize_file(str(src), out, cfg)[0]


def size_of(path: str) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


# ---- resize ----------------------------------------------------------------------------------

# chelsea is 451x300 (landscape); the portrait case uses it rotated by EXIF orientation 6.
@pytest.mark.parametrize(("resize", "expected"), [
    ({"mode": "none", "size": 100}, (451, 300)),
    ({"mode": "width"}, (451, 300)),  # no size: nothing to do
    ({"mode": "width", "size": 200}, (200, 133)),
    ({"mode": "height", "size": 150}, (226, 150)),
    ({"mode": "longest", "size": 300}, (300, 200)),
    ({"mode": "shortest", "size": 100}, (150, 100)),
    ({"mode": "width", "size": None, "width": 120}, (120, 80)),  # the original's payload form
    ({"mode": "height", "size": None, "height": 60}, (90, 60)),
    ({"mode": "width", "size": 451}, (451, 300)),  # equal: untouched
    ({"mode": "width", "size": 2000}, (451, 300)),  # never enlarge
    ({"mode": "shortest", "size": 900}, (451, 300)),
    ({"mode": "longest", "size": 1}, (1, 1)),  # the short edge never drops to 0
])
def test_resize_modes_keep_aspect_and_never_enlarge(
    real_photo: Path, resize: dict, expected: tuple[int, int]
) -> None:
    result = run(real_photo, "webp", resize=resize)
    assert result.success, result.error
    assert (result.width, result.height) == expected == size_of(result.optimized_path)


@pytest.mark.parametrize(("resize", "expected"), [
    ({"mode": "width", "size": 40}, (40, 60)),
    ({"mode": "longest", "size": 60}, (40, 60)),
    ({"mode": "shortest", "size": 40}, (40, 60)),
])
def test_resize_applies_to_the_image_as_displayed(
    edge_cases: Any, resize: dict, expected: tuple[int, int], similarity: Callable
) -> None:
    src = edge_cases.oriented_jpeg(6)  # stored 120x80, displayed 80x120
    result = run(src, "png", resize=resize)
    assert size_of(result.optimized_path) == expected
    with Image.open(src) as im:
        reference = ImageOps.exif_transpose(im).resize(expected, Image.Resampling.LANCZOS)
    assert similarity(result.optimized_path, reference) > 0.95


def test_big_jpeg_downscale_matches_a_full_lanczos_resize(
    tmp_images: Callable[..., Path], similarity: Callable
) -> None:
    # 1600x1064 → 200 wide: the decoder's 1/4 draft scale is used, then Lanczos.
    src = tmp_images("large.jpg", source="chelsea", size=(1600, 1064), quality=92)
    result = run(src, "png", 100, resize={"mode": "width", "size": 200})
    with Image.open(src) as im:
        reference = im.convert("RGB").resize((200, 133), Image.Resampling.LANCZOS)
    assert size_of(result.optimized_path) == (200, 133)
    assert similarity(result.optimized_path, reference) > 0.97


def test_resize_keeps_transparency(real_png: Path, pixels: Callable) -> None:
    result = run(real_png, "png", 100, resize={"mode": "width", "size": 100})
    alpha = pixels(result.optimized_path, "RGBA")[..., 3]
    assert alpha[0, 0] == 0 and alpha[50, 50] == 255


# ---- kept original ---------------------------------------------------------------------------


def test_result_not_smaller_keeps_a_copy_of_the_original(real_png: Path) -> None:
    first = run(real_png, "png", 100)
    again_input = Path(first.optimized_path)
    second = run(again_input, "png", 100)  # already optimal: oxipng cannot do better
    assert second.success and second.keptOriginal
    assert Path(second.optimized_path).read_bytes() == again_input.read_bytes()
    assert second.savedBytes == 0 and second.compressionRatio == 0
    assert second.optimized_size == second.original_size


def test_low_quality_jpeg_is_kept_rather_than_grown(tmp_images: Callable[..., Path]) -> None:
    # Already Huffman-optimized: nothing a lossless rewrite could shave, so it is kept as is.
    src = tmp_images("small.jpg", source="coffee", size=(200, 133), quality=25, optimize=True)
    result = run(src, "original", 90)
    assert result.keptOriginal and result.format == "jpeg"
    assert Path(result.optimized_path).read_bytes() == src.read_bytes()


def test_format_change_never_keeps_the_original(tmp_images: Callable[..., Path]) -> None:
    src = tmp_images("small.jpg", source="coffee", size=(200, 133), quality=25)
    result = run(src, "png", 100)  # much larger than the JPEG, but the person asked for PNG
    assert not result.keptOriginal and result.optimized_size > result.original_size
    assert result.savedBytes < 0
    with Image.open(result.optimized_path) as out:
        assert out.format == "PNG"


def test_resized_output_is_written_even_when_larger(tmp_images: Callable[..., Path]) -> None:
    src = tmp_images("tiny.jpg", source="coffee", size=(200, 133), quality=20)
    result = run(src, "jpeg", 100, resize={"mode": "width", "size": 190})
    assert not result.keptOriginal and (result.width, result.height) == (190, 126)
    assert result.optimized_size > result.original_size


# ---- what a batch leaves behind ---------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_mixed_batch_leaves_inputs_byte_identical_and_no_temp_files(
    tmp_images: Callable[..., Path], edge_cases: Any, real_png: Path
) -> None:
    inputs = [tmp_images(f"photo.{ext}", source="coffee", size=(120, 80))
              for ext in ("jpg", "png", "webp", "avif", "gif", "tif", "bmp")]
    inputs += [real_png, edge_cases.truncated_jpeg(), edge_cases.empty(),
               edge_cases.text_named_jpg(), edge_cases.oriented_jpeg(8)]
    before = {p: digest(p) for p in inputs}
    for fmt in ("original", "webp"):
        for quality in (90, 100):
            cfg = decode_settings({"outputFormat": fmt, "quality": {"global": quality}})
            tasks = [Task(input_path=str(p), settings=cfg) for p in inputs]
            outs = assign_output_paths(tasks)
            assert len(set(outs)) == len(outs)
            results = [optimize_file(str(p), o, cfg)[0] for p, o in zip(inputs, outs, strict=True)]
            assert [r.success for r in results] == [True] * 8 + [False] * 3 + [True]
    assert {p: digest(p) for p in inputs} == before
    root = inputs[0].parent
    assert [p for p in root.rglob("*") if p.name.endswith(PARTIAL_SUFFIX)] == []


def test_rerun_overwrites_its_previous_output(real_photo: Path, pixels: Callable) -> None:
    first = run(real_photo, "webp", 50)
    second = run(real_photo, "webp", 90)
    assert first.optimized_path == second.optimized_path
    assert Path(second.optimized_path).stat().st_size == second.optimized_size
    assert second.optimized_size > first.optimized_size
    assert np.asarray(pixels(second.optimized_path)).shape == (300, 451, 3)

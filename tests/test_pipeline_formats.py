"""The per-image pipeline on real images: every format pair, lossless paths, quality, metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from backend.core.paths import assign_output_paths
from backend.core.pipeline import optimize_file, warm_up
from backend.core.ssimulacra2 import ssimulacra2
from backend.types import ImageSettings, QualitySettings, Task
from backend.validation import decode_settings

INPUTS = ["jpeg", "png", "webp", "avif", "gif", "tiff", "bmp"]
OUTPUTS = ["original", "jpeg", "png", "webp", "avif"]
EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif", "tiff": "tif",
       "bmp": "bmp"}
PIL_NAME = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
# SSIMULACRA2 at the default quality 90 (the scale every encoder's quality number is based on),
# measured on scikit-image's chelsea, coffee and astronaut: JPEG 82.1-86.4, PNG (palette)
# 78.4-83.6, WebP 82.5-86.6, AVIF 87.0-88.6. The floors sit about one point under the lowest.
SCORE_FLOOR_Q90 = {"jpeg": 81.0, "png": 77.0, "webp": 81.5, "avif": 86.0}


def settings(fmt: str = "original", quality: int = 90, resize: dict | None = None,
             metadata: str = "strip") -> ImageSettings:
    return decode_settings({"outputFormat": fmt, "quality": {"global": quality},
                            "resize": resize or {}, "metadata": metadata})


def run(input_path: Path, fmt: str = "original", quality: int = 90, output: Path | None = None,
        resize: dict | None = None, metadata: str = "strip"):
    cfg = settings(fmt, quality, resize, metadata)
    task = Task(input_path=str(input_path), output_path=None if output is None else str(output),
                settings=cfg)
    [out_path] = assign_output_paths([task])
    result, times = optimize_file(str(input_path), out_path, cfg)
    return result, times


def expected_format(input_format: str, output: str) -> str:
    if output != "original":
        return output
    return input_format if input_format in PIL_NAME else "png"


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("input_format", INPUTS)
def test_every_input_output_pair_decodes_to_the_right_format_and_size(
    tmp_images: Callable[..., Path], input_format: str, output: str
) -> None:
    src = tmp_images(f"photo.{EXT[input_format]}", source="chelsea", size=(90, 60))
    result, _ = run(src, output)
    want = expected_format(input_format, output)
    assert result.success, result.error
    assert (result.format, result.inputFormat) == (want, input_format)
    assert (result.width, result.height) == (90, 60)
    out = Path(result.optimized_path)
    assert out.parent == src.parent / "optimized"
    assert out.suffix == ".jpg" if want == "jpeg" else out.suffix == f".{want}"
    assert out.stat().st_size == result.optimized_size > 0
    with Image.open(out) as decoded:
        assert decoded.format == PIL_NAME[want]
        assert decoded.size == (90, 60)


def test_stage_times_are_recorded_for_each_stage(real_photo: Path) -> None:
    result, times = run(real_photo, "webp", resize={"mode": "width", "size": 200})
    assert result.success
    assert times.load > 0 and times.resize > 0 and times.encode > 0 and times.write > 0
    assert result.durationMs is not None and result.durationMs > 0


def test_warm_up_exercises_every_codec_without_touching_disk(tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    warm_up()
    assert sorted(tmp_path.iterdir()) == before
    # After warm-up the codecs are loaded: a real image still optimizes correctly.
    src = tmp_path / "x.png"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(src)
    assert run(src, "avif")[0].success


# ---- lossless paths -----------------------------------------------------------------------


def test_png_at_quality_100_keeps_every_pixel(real_png: Path, pixels: Callable) -> None:
    result, _ = run(real_png, "png", 100)
    assert result.success and result.optimized_size < result.original_size
    assert np.array_equal(pixels(result.optimized_path, "RGBA"), pixels(real_png, "RGBA"))


def test_photo_to_png_at_quality_100_keeps_every_pixel(real_photo: Path, pixels: Callable) -> None:
    result, _ = run(real_photo, "png", 100)
    assert result.success
    assert np.array_equal(pixels(result.optimized_path, "RGB"), pixels(real_photo, "RGB"))


@pytest.mark.parametrize("source_fixture", ["real_png", "real_photo"])
def test_webp_at_quality_100_is_lossless_including_alpha(
    request: pytest.FixtureRequest, source_fixture: str, pixels: Callable
) -> None:
    src: Path = request.getfixturevalue(source_fixture)
    result, _ = run(src, "webp", 100)
    assert result.success
    assert np.array_equal(pixels(result.optimized_path, "RGBA"), pixels(src, "RGBA"))


def test_jpeg_to_jpeg_at_quality_100_is_a_lossless_reoptimization(
    tmp_images: Callable[..., Path], pixels: Callable
) -> None:
    # Baseline (non-progressive, non-optimized) JPEG: what cameras and most tools write.
    src = tmp_images("camera.jpg", source="coffee", quality=93, optimize=False)
    result, times = run(src, "original", 100)
    assert result.success and not result.keptOriginal
    assert result.optimized_size < result.original_size
    assert np.array_equal(pixels(result.optimized_path), pixels(src))
    assert times.encode == 0 and times.optimize > 0  # no re-encode happened


def test_jpeg_at_quality_100_with_resize_is_a_reencode_at_full_quality(
    real_photo: Path, similarity: Callable
) -> None:
    result, _ = run(real_photo, "jpeg", 100, resize={"mode": "width", "size": 300})
    assert result.success and (result.width, result.height) == (300, 200)
    with Image.open(real_photo) as im:
        reference = im.resize((300, 200), Image.Resampling.LANCZOS)
    assert similarity(result.optimized_path, reference) > 0.99


def test_avif_at_quality_100_is_near_lossless(real_photo: Path, pixels: Callable) -> None:
    result, _ = run(real_photo, "avif", 100)
    diff = np.abs(pixels(result.optimized_path, "RGB").astype(int) - pixels(real_photo, "RGB"))
    assert result.success
    assert diff.max() <= 4 and diff.mean() < 1.0  # measured: max 2, mean ~0.5


def test_sixteen_bit_png_stays_sixteen_bit_at_quality_100(
    edge_cases: Any, pixels: Callable
) -> None:
    src = edge_cases.png16_grey()
    result, _ = run(src, "png", 100)
    with Image.open(result.optimized_path) as out:
        assert out.mode == "I;16"
    assert np.array_equal(pixels(result.optimized_path), pixels(src))


# ---- quality ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
@pytest.mark.parametrize("source", ["chelsea", "coffee"])
def test_quality_90_output_stays_close_to_the_input_and_is_smaller(
    tmp_images: Callable[..., Path], fmt: str, source: str
) -> None:
    src = tmp_images(f"{source}.png", source=source)
    result, _ = run(src, fmt, 90)
    assert result.success
    assert result.optimized_size < result.original_size
    with Image.open(src) as before, Image.open(result.optimized_path) as after:
        score = ssimulacra2(before.convert("RGB"), after.convert("RGB"))
    assert score >= SCORE_FLOOR_Q90[fmt]


def test_per_format_quality_overrides_the_global_one(real_photo: Path) -> None:
    low = ImageSettings(outputFormat="webp", quality=QualitySettings(global_=95, webp=40))
    high = ImageSettings(outputFormat="webp", quality=QualitySettings(global_=40, webp=95))
    out = real_photo.parent
    small, _ = optimize_file(str(real_photo), str(out / "low.webp"), low)
    big, _ = optimize_file(str(real_photo), str(out / "high.webp"), high)
    assert small.optimized_size < big.optimized_size


def test_png_palette_is_refused_when_it_would_show(tmp_path: Path, pixels: Callable) -> None:
    # A smooth two-axis gradient: 65 536 colours that a 256-colour palette would band visibly.
    x, y = np.meshgrid(np.arange(256), np.arange(256))
    gradient = np.dstack([x, y, (x + y) // 2]).astype(np.uint8)
    src = tmp_path / "gradient.png"
    Image.fromarray(gradient).save(src)
    result, _ = run(src, "png", 90)
    assert result.success
    assert np.array_equal(pixels(result.optimized_path, "RGB"), gradient)


def test_png_palette_is_used_for_artwork_at_default_quality(real_png: Path) -> None:
    result, _ = run(real_png, "png", 90)
    with Image.open(result.optimized_path) as out:
        assert out.mode == "P"
    assert result.optimized_size < 0.6 * result.original_size


def test_png_input_palette_keeps_oxipngs_palette_reductions(tmp_path: Path,
                                                             pixels: Callable) -> None:
    # Palette sorting is skipped only for palettes libimagequant made; a palette that came with
    # the file (here 256 entries, two used) must still shrink to 1 bit per pixel.
    src = tmp_path / "two-of-256.png"
    image = Image.new("P", (64, 64), 3)
    image.putpalette([c for i in range(256) for c in (i, 255 - i, (7 * i) % 256)])
    for x in range(64):
        for y in range(0, 64, 2):
            image.putpixel((x, y + (x // 8) % 2), 200)
    image.save(src)
    result, _ = run(src, "png", 90)
    data = Path(result.optimized_path).read_bytes()
    assert data[24] == 1  # IHDR bit depth
    with Image.open(result.optimized_path) as out:
        assert out.mode == "P" and len(out.getpalette() or []) == 2 * 3
    assert np.array_equal(pixels(result.optimized_path, "RGB"), pixels(src, "RGB"))


# ---- orientation, ICC, alpha, metadata -------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_to_the_pixels(
    edge_cases: Any, pixels: Callable, orientation: int
) -> None:
    src = edge_cases.oriented_jpeg(orientation)
    result, _ = run(src, "png", 100)
    with Image.open(src) as im:
        upright = ImageOps.exif_transpose(im)
    assert (result.width, result.height) == upright.size
    assert np.array_equal(pixels(result.optimized_path, "RGB"), pixels(upright, "RGB"))
    with Image.open(result.optimized_path) as out:
        assert out.getexif().get(0x0112) is None  # metadata dropped, pixels upright


def test_rotated_jpeg_to_jpeg_is_upright_and_drops_other_exif(
    edge_cases: Any, similarity: Callable
) -> None:
    src = edge_cases.oriented_jpeg(6)
    result, _ = run(src, "jpeg", 90)
    with Image.open(src) as im:
        upright = ImageOps.exif_transpose(im)
    with Image.open(result.optimized_path) as out:
        assert out.size == (80, 120)
        assert dict(out.getexif()) == {}
    assert similarity(result.optimized_path, upright) > 0.95


def test_lossless_jpeg_of_rotated_photo_keeps_only_the_orientation_tag(
    edge_cases: Any, pixels: Callable
) -> None:
    src = edge_cases.oriented_jpeg(6)
    result, _ = run(src, "jpeg", 100)
    with Image.open(result.optimized_path) as out:
        assert dict(out.getexif()) == {0x0112: 6}
        shown = ImageOps.exif_transpose(out)
        assert shown.size == (80, 120) == (result.width, result.height)
    assert np.array_equal(pixels(result.optimized_path), pixels(src))


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
@pytest.mark.parametrize("quality", [90, 100])
def test_icc_profile_is_kept_byte_for_byte(edge_cases: Any, fmt: str, quality: int) -> None:
    icc = edge_cases.custom_icc()
    src = edge_cases.with_icc("tagged.jpg", icc, quality=95)
    result, _ = run(src, fmt, quality)
    assert result.success
    with Image.open(result.optimized_path) as out:
        assert out.info.get("icc_profile") == icc


def test_icc_profile_survives_png_lossless_reoptimization(edge_cases: Any) -> None:
    icc = edge_cases.custom_icc()
    src = edge_cases.with_icc("tagged.png", icc)
    result, _ = run(src, "png", 100)
    with Image.open(result.optimized_path) as out:
        assert out.info.get("icc_profile") == icc


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_transparency_is_kept(real_png: Path, pixels: Callable, fmt: str) -> None:
    result, _ = run(real_png, fmt, 90)
    alpha_in = pixels(real_png, "RGBA")[..., 3].astype(int)
    alpha_out = pixels(result.optimized_path, "RGBA")[..., 3].astype(int)
    assert alpha_in.min() == 0  # the logo really has transparent areas
    assert np.abs(alpha_out - alpha_in).mean() < 2


def test_transparency_is_flattened_on_white_for_jpeg(real_png: Path, pixels: Callable) -> None:
    result, _ = run(real_png, "jpeg", 90)
    alpha = pixels(real_png, "RGBA")[..., 3]
    out = pixels(result.optimized_path, "RGB").astype(int)
    assert out[alpha == 0].mean() > 250  # the fully transparent areas are now white


def test_keep_metadata_keeps_exif_with_orientation_reset_and_xmp(
    tmp_path: Path, real_photo: Path
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><tiff:Orientation>6</tiff:Orientation></x:xmpmeta>'
    src = tmp_path / "meta.jpg"
    with Image.open(real_photo) as im:
        im.save(src, quality=95, exif=exif.tobytes(), xmp=xmp)
    for fmt in ("jpeg", "webp"):
        result, _ = run(src, fmt, 90, metadata="keep")
        with Image.open(result.optimized_path) as out:
            kept = out.getexif()
            assert kept.get(0x010F) == "TestCam" and kept.get(0x0112) == 1
            assert b"<tiff:Orientation>1<" in out.info["xmp"]
            assert out.size == (300, 451)

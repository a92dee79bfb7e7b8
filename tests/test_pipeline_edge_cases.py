"""Awkward and broken inputs, unwritable outputs: each gets a result a person can act on."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageSequence

from backend.core.paths import PARTIAL_SUFFIX, assign_output_paths
from backend.core.pipeline import optimize_file
from backend.types import ImageSettings, OptimizationResult, Task
from backend.validation import decode_settings


def settings(fmt: str = "original", quality: int = 90) -> ImageSettings:
    return decode_settings({"outputFormat": fmt, "quality": {"global": quality}})


def run(src: Path, fmt: str = "original", quality: int = 90) -> OptimizationResult:
    cfg = settings(fmt, quality)
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    return optimize_file(str(src), out, cfg)[0]


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(PARTIAL_SUFFIX)]


def assert_failed(result: OptimizationResult, kind: str, *fragments: str) -> None:
    assert not result.success and result.status == "error"
    assert result.errorKind == kind, result.error
    for fragment in fragments:
        assert fragment in (result.error or ""), result.error
    assert result.optimized_size == 0
    assert not Path(result.optimized_path).exists()


# ---- broken inputs ---------------------------------------------------------------------------


def test_empty_file_reports_empty_file(edge_cases: Any) -> None:
    result = run(edge_cases.empty())
    assert_failed(result, "unsupported_format", "empty file")
    assert result.original_size == 0


def test_truncated_jpeg_reports_truncated_jpeg_data(edge_cases: Any) -> None:
    src = edge_cases.truncated_jpeg()
    result = run(src)
    assert_failed(result, "decode", "truncated JPEG data")
    assert result.original_size == src.stat().st_size and result.inputFormat == "jpeg"


def test_truncated_png_reports_truncated_png(edge_cases: Any) -> None:
    assert_failed(run(edge_cases.truncated_png(), "webp"), "decode", "truncated PNG")


def test_file_cut_inside_its_header_reports_a_damaged_header(real_png: Path) -> None:
    real_png.write_bytes(real_png.read_bytes()[:30])
    assert_failed(run(real_png), "decode", "cannot read this PNG file", "header is damaged")


def test_text_named_jpg_reports_not_an_image(edge_cases: Any) -> None:
    assert_failed(run(edge_cases.text_named_jpg()), "unsupported_format", "not an image")


def test_psd_reports_its_unsupported_format(tmp_path: Path) -> None:
    src = tmp_path / "layers.png"
    src.write_bytes(b"8BPS\x00\x01" + bytes(64))
    assert_failed(run(src), "unsupported_format", "unsupported format: PSD")


def test_png_named_jpg_is_optimized_as_the_png_it_is(edge_cases: Any, pixels: Callable) -> None:
    src = edge_cases.png_named_jpg()
    result = run(src, "original", 100)
    assert result.success and (result.inputFormat, result.format) == ("png", "png")
    assert result.optimized_path.endswith("really-a-png.png")
    assert np.array_equal(pixels(result.optimized_path, "RGBA"), pixels(src, "RGBA"))


@pytest.mark.parametrize("fmt", ["original", "jpeg", "webp", "avif"])
def test_one_pixel_image_is_optimized(edge_cases: Any, pixels: Callable, fmt: str) -> None:
    result = run(edge_cases.one_pixel(), fmt)
    assert result.success and (result.width, result.height) == (1, 1)
    colour = pixels(result.optimized_path, "RGB")[0, 0].astype(int)
    assert np.abs(colour - (200, 30, 60)).max() <= 12


def test_pixel_bomb_is_refused_as_too_large_before_decoding(edge_cases: Any) -> None:
    src = edge_cases.pixel_bomb()
    assert src.stat().st_size < 10_000
    result = run(src)
    assert_failed(result, "too_large", "image too large (900 megapixels, limit 268 megapixels)")


def test_image_just_above_the_limit_is_refused_not_warned(edge_cases: Any) -> None:
    # 16384 x 16400 is only slightly above the limit: Pillow would merely warn here.
    src = edge_cases.pixel_bomb("near.png", side=16400)
    assert_failed(run(src), "too_large", "image too large (269 megapixels")


def test_missing_file_reports_not_found(tmp_path: Path) -> None:
    assert_failed(run(tmp_path / "gone.jpg"), "io", "file not found")


def test_folder_given_as_image_reports_it_cannot_be_read(tmp_path: Path) -> None:
    # Root-proof "unreadable input": a directory where a file is expected.
    folder = tmp_path / "album.jpg"
    folder.mkdir()
    out = tmp_path / "out.jpg"
    result = optimize_file(str(folder), str(out), settings())[0]
    assert_failed(result, "io", "cannot read", "folder")


def test_unreadable_file_reports_permission_denied_reading(unprivileged: Any) -> None:
    # Tests run as root, which ignores file modes: read as user "nobody" in a forked child.
    src = unprivileged.folder / "secret.png"
    Image.new("RGB", (8, 8)).save(src)
    src.chmod(0o000)
    out = unprivileged.folder / "out" / "secret.png"
    result = unprivileged(lambda: optimize_file(str(src), str(out), settings())[0])
    assert_failed(result, "io", f"permission denied reading {src}")


def test_unwritable_output_folder_reports_permission_denied_writing(
    real_photo: Path, unprivileged: Any
) -> None:
    # As "nobody", a folder owned by root with mode 755 cannot be written into.
    locked = unprivileged.folder / "locked"
    locked.mkdir(mode=0o755)
    src = unprivileged.folder / "photo.jpg"
    src.write_bytes(real_photo.read_bytes())
    src.chmod(0o644)
    out = locked / "photo.jpg"
    result = unprivileged(lambda: optimize_file(str(src), str(out), settings())[0])
    assert_failed(result, "io", f"permission denied writing {out}")
    assert leftovers(unprivileged.folder) == []


def test_read_only_system_folder_reports_permission_denied_writing(real_photo: Path) -> None:
    # /sys refuses new entries even to root (EPERM), so this holds in CI as root.
    out = "/sys/io-optimizer-test/photo.jpg"
    result = optimize_file(str(real_photo), out, settings())[0]
    assert_failed(result, "io", f"permission denied writing {out}")


def test_output_folder_below_a_regular_file_is_reported(real_photo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    out = blocker / "optimized" / "photo.jpg"
    result = optimize_file(str(real_photo), str(out), settings())[0]
    assert_failed(result, "io", "is a file, not a folder")
    assert blocker.read_text() == "x"


def test_output_that_is_an_existing_folder_fails_without_leftovers(
    real_photo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "taken.jpg"
    out.mkdir()
    result = optimize_file(str(real_photo), str(out), settings())[0]
    assert not result.success and result.errorKind == "io" and "folder" in (result.error or "")
    assert out.is_dir() and leftovers(tmp_path) == []


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "hardlink"])
def test_output_equal_to_input_is_refused_and_input_untouched(
    real_photo: Path, tmp_path: Path, spelling: str
) -> None:
    before = real_photo.read_bytes()
    if spelling == "same":
        out = str(real_photo)
    elif spelling == "dotdot":
        (tmp_path / "sub").mkdir()
        out = str(tmp_path / "sub" / ".." / real_photo.name)
    elif spelling == "symlink":
        os.symlink(real_photo, tmp_path / "link.jpg")
        out = str(tmp_path / "link.jpg")
    else:
        os.link(real_photo, tmp_path / "hard.jpg")
        out = str(tmp_path / "hard.jpg")
    result = optimize_file(str(real_photo), out, settings())[0]
    assert not result.success and result.errorKind == "validation"
    assert "refusing to overwrite" in (result.error or "")
    assert real_photo.read_bytes() == before
    assert leftovers(tmp_path) == []


# ---- unusual but valid inputs ----------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours(
    edge_cases: Any, pixels: Callable, similarity: Callable
) -> None:
    src = edge_cases.cmyk_jpeg()
    for fmt in ("jpeg", "png", "webp"):
        result = run(src, fmt)
        with Image.open(result.optimized_path) as out:
            assert out.mode in ("RGB", "P")
        with Image.open(src) as im:
            reference = im.convert("RGB")
        mean_error = np.abs(pixels(result.optimized_path, "RGB").astype(int)
                            - pixels(reference)).mean()
        assert mean_error < 4, fmt
        assert similarity(result.optimized_path, reference) > 0.95


# Ghostscript's CMYK profile (Debian package libgs-common, pulled in by imagemagick).
CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")


@pytest.mark.skipif(not CMYK_PROFILE.exists(), reason="needs libgs-common's default_cmyk.icc")
def test_cmyk_jpeg_with_profile_is_converted_through_it_to_srgb(
    tmp_images: Callable[..., Path], pixels: Callable, tmp_path: Path
) -> None:
    icc = CMYK_PROFILE.read_bytes()
    rgb = Image.open(tmp_images("coffee.png", source="coffee", size=(150, 100))).convert("RGB")
    cmyk = ImageCms.profileToProfile(rgb, ImageCms.createProfile("sRGB"),
                                     ImageCms.ImageCmsProfile(io.BytesIO(icc)), outputMode="CMYK")
    src = tmp_path / "print.jpg"
    cmyk.save(src, quality=95, icc_profile=icc)
    result = run(src, "png", 100)
    error = np.abs(pixels(result.optimized_path, "RGB").astype(int) - np.asarray(rgb)).mean()
    naive_error = np.abs(pixels(src, "RGB").astype(int) - np.asarray(rgb)).mean()
    assert error < 10 and error < naive_error / 2  # measured: 7.9 through the profile, 20.8 naive
    with Image.open(result.optimized_path) as out:
        assert out.mode in ("RGB", "P") and "icc_profile" not in out.info  # untagged = sRGB


GREY_PROFILE = CMYK_PROFILE.with_name("default_gray.icc")


@pytest.mark.skipif(not GREY_PROFILE.exists(), reason="needs libgs-common's default_gray.icc")
def test_grey_profile_is_kept_for_grey_outputs_and_applied_for_webp(
    tmp_images: Callable[..., Path], pixels: Callable
) -> None:
    icc = GREY_PROFILE.read_bytes()
    src = tmp_images("scan.jpg", source="camera", size=(100, 100), quality=95, icc_profile=icc)
    for fmt in ("jpeg", "png", "avif"):
        with Image.open(run(src, fmt).optimized_path) as out:
            assert out.mode in ("L", "P") and out.info.get("icc_profile") == icc, fmt
    result = run(src, "webp")  # WebP has no grey: converted to sRGB through the profile
    with Image.open(result.optimized_path) as out:
        assert out.mode == "RGB" and "icc_profile" not in out.info
    error = np.abs(pixels(result.optimized_path, "L").astype(int) - pixels(src, "L")).mean()
    assert error < 4


def test_sixteen_bit_grey_png_is_scaled_not_clipped(edge_cases: Any, pixels: Callable) -> None:
    src = edge_cases.png16_grey()
    result = run(src, "webp", 100)
    out = pixels(result.optimized_path, "L").astype(float)
    expected = pixels(src).astype(float) / 257
    assert np.abs(out - expected).max() <= 1.0


def test_palette_png_with_transparency_keeps_it(edge_cases: Any, pixels: Callable) -> None:
    src = edge_cases.palette_with_transparency()
    for fmt in ("png", "webp"):
        result = run(src, fmt, 100)
        assert np.array_equal(pixels(result.optimized_path, "RGBA")[..., 3],
                              pixels(src, "RGBA")[..., 3]), fmt


def test_grey_image_stays_grey_in_jpeg_and_png(edge_cases: Any, pixels: Callable) -> None:
    src = edge_cases.grey()
    for fmt, modes in (("jpeg", {"L"}), ("png", {"L", "P"}), ("avif", {"L", "RGB"})):
        result = run(src, fmt)
        with Image.open(result.optimized_path) as out:
            assert out.mode in modes, fmt
    lossless = run(src, "webp", 100)
    assert np.array_equal(pixels(lossless.optimized_path, "L"), pixels(src))


def gif_frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.asarray(frame.convert("RGBA")) for frame in ImageSequence.Iterator(im)]


def test_animated_gif_keeps_every_frame_as_apng_by_default(edge_cases: Any) -> None:
    src = edge_cases.animated_gif()
    result = run(src)
    assert result.success and result.format == "png"
    with Image.open(result.optimized_path) as out:
        assert out.format == "PNG" and out.n_frames == 24 and out.info.get("loop") == 0
    assert all(np.array_equal(a, b) for a, b in zip(gif_frames(result.optimized_path),
                                                    gif_frames(src), strict=True))


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_animated_gif_stays_animated_in_webp_and_avif(edge_cases: Any, fmt: str) -> None:
    result = run(edge_cases.animated_gif(), fmt)
    with Image.open(result.optimized_path) as out:
        assert out.n_frames == 24 and out.size == (14, 25)


def test_animated_gif_to_jpeg_takes_the_first_frame(edge_cases: Any, similarity: Callable) -> None:
    src = edge_cases.animated_gif()
    result = run(src, "jpeg", 95)
    with Image.open(src) as im:
        first = im.convert("RGB")
    assert (result.width, result.height) == (14, 25)
    assert similarity(result.optimized_path, first) > 0.9


def test_multi_page_tiff_uses_its_first_page(tmp_path: Path, pixels: Callable) -> None:
    pages = [Image.new("RGB", (40, 30), colour) for colour in ("red", "blue", "green")]
    src = tmp_path / "document.tif"
    pages[0].save(src, save_all=True, append_images=pages[1:])
    result = run(src, "original", 100)
    with Image.open(result.optimized_path) as out:
        assert getattr(out, "n_frames", 1) == 1 and out.format == "PNG"
    assert (pixels(result.optimized_path, "RGB") == (255, 0, 0)).all()


def test_tiff_and_bmp_become_png_by_default_with_identical_pixels(
    tmp_images: Callable[..., Path], pixels: Callable
) -> None:
    for name in ("scan.tif", "paint.bmp"):
        src = tmp_images(name, source="coffee", size=(120, 80))
        result = run(src, "original", 100)
        assert result.format == "png" and result.optimized_path.endswith(".png")
        assert np.array_equal(pixels(result.optimized_path, "RGB"), pixels(src, "RGB"))

"""HEIC/HEIF input on real files made with libheif's encoder (x265): orientation, ICC, alpha,
10-bit, multi-image files, the camera-like sample in tests/data, and broken files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms

import backend.core.formats.heic  # noqa: F401  (registers the HEIF opener for the fixtures)
from backend.core.discovery import expand_paths, sniff_format
from backend.core.paths import assign_output_paths
from backend.core.pipeline import optimize_file
from backend.types import Task
from backend.validation import decode_settings
from tests.conftest import load_real

DATA = Path(__file__).parent / "data" / "heic"


def optimize(src: Path, fmt: str = "original", **extra: object):
    cfg = decode_settings({"outputFormat": fmt, **extra})
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    result, _ = optimize_file(str(src), out, cfg)
    return result


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


def save_heic(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, "HEIF", quality=90, **options)
    return path


@pytest.fixture
def photo() -> Image.Image:
    return load_real("chelsea").convert("RGB").resize((160, 120))


def test_heic_original_output_is_a_jpeg_that_looks_like_the_photo(
    tmp_path: Path, photo: Image.Image
) -> None:
    src = save_heic(photo, tmp_path / "IMG_0001.HEIC")
    result = optimize(src)
    assert result.success, result.error
    assert (result.inputFormat, result.format) == ("heic", "jpeg")
    assert result.optimized_path.endswith("IMG_0001.jpg")
    with Image.open(result.optimized_path) as out:
        assert out.format == "JPEG" and out.size == (160, 120)
        assert mean_difference(out.convert("RGB"), photo) < 6


def test_exif_orientation_is_applied_once(tmp_path: Path, photo: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # pillow-heif writes it as an irot transform, as phones do
    exif[0x010F] = "Apple"
    src = save_heic(photo, tmp_path / "rotated.heic", exif=exif.tobytes())
    result = optimize(src, "png", metadata="keep")
    assert result.success, result.error
    upright = photo.transpose(Image.Transpose.ROTATE_270)
    with Image.open(result.optimized_path) as out:
        assert out.size == (120, 160) == (result.width, result.height)
        assert mean_difference(out.convert("RGB"), upright) < 6
        kept = out.getexif()
        assert kept.get(0x0112, 1) == 1 and kept[0x010F] == "Apple"


def test_icc_profile_is_carried_byte_for_byte(tmp_path: Path, photo: Image.Image) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = save_heic(photo, tmp_path / "tagged.heic", icc_profile=icc)
    result = optimize(src, "jpeg")
    assert result.success, result.error
    with Image.open(result.optimized_path) as out:
        assert out.info["icc_profile"] == icc


def test_alpha_is_kept_for_outputs_that_hold_it(tmp_path: Path) -> None:
    logo = load_real("logo").convert("RGBA").resize((100, 100))
    alpha = np.zeros((100, 100), np.uint8)
    alpha[20:80, 20:80] = 255
    logo.putalpha(Image.fromarray(alpha))
    src = save_heic(logo, tmp_path / "cutout.heif")
    result = optimize(src, "png")
    assert result.success, result.error
    with Image.open(result.optimized_path) as opened:
        out = opened.convert("RGBA")  # the PNG may be a palette with transparency
    assert out.getpixel((5, 5))[3] == 0 and out.getpixel((50, 50))[3] == 255


def test_10_bit_heic_is_decoded_to_8_bits_rounded(tmp_path: Path) -> None:
    # A 10-bit grey ramp 0..1023 across 256 columns: each 8-bit level should come out once.
    ramp = np.repeat(np.linspace(0, 1023, 256).round().astype(np.uint16)[None, :], 64, axis=0)
    rgb = np.stack([ramp] * 3, axis=-1) << 6  # pillow-heif takes 10-bit data in 16-bit words
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(256, 64), data=rgb.tobytes())
    src = tmp_path / "hdr.heic"
    heif.save(src, quality=-1)  # libheif's lossless-as-possible setting: only the codec's error
    assert pillow_heif.open_heif(src).info["bit_depth"] == 10
    result = optimize(src, "png")
    assert result.success, result.error
    with Image.open(result.optimized_path) as out:
        row = np.asarray(out.convert("L"), np.float64)[32]
    assert np.abs(row - np.arange(256)).mean() < 2.5


def test_multi_image_heic_uses_its_primary_image(tmp_path: Path, photo: Image.Image) -> None:
    other = Image.new("RGB", (64, 64), (20, 200, 40))
    src = tmp_path / "burst.heic"
    photo.save(src, "HEIF", save_all=True, append_images=[other], primary_index=1)
    result = optimize(src, "png")
    assert result.success, result.error
    assert (result.width, result.height) == (64, 64)
    with Image.open(result.optimized_path) as out:
        assert out.convert("RGB").getpixel((32, 32)) == pytest.approx((20, 200, 40), abs=6)


def test_camera_sample_in_tests_data_reads_upright_with_its_exif() -> None:
    src = DATA / "camera-rotated.heic"
    assert sniff_format(str(src)) == "heic"
    with Image.open(src) as im:
        assert im.size == (96, 128)  # stored 128 x 96, turned by its irot transform
        exif = im.getexif()
        assert exif[0x010F] == "Apple" and exif[0x0110] == "iPhone 15"
        assert im.info["icc_profile"][16:20] == b"RGB "


def test_camera_sample_converts_to_jpeg(tmp_path: Path) -> None:
    src = tmp_path / "camera.HIF"
    src.write_bytes((DATA / "camera-rotated.heic").read_bytes())
    result = optimize(src)
    assert result.success, result.error
    assert (result.format, result.width, result.height) == ("jpeg", 96, 128)


def test_heic_files_are_accepted_when_folders_are_expanded(
    tmp_path: Path, photo: Image.Image
) -> None:
    for name in ("a.heic", "b.HEIF", "c.hif"):
        save_heic(photo, tmp_path / name)
    found = expand_paths([str(tmp_path)])
    images, skipped = found.paths, found.skipped
    assert [Path(p).name for p in images] == ["a.heic", "b.HEIF", "c.hif"] and skipped == []


@pytest.mark.parametrize(("cut", "message"), [
    (0.5, "truncated HEIC data"), (0.9, "truncated HEIC data"),
    (None, "cannot read this HEIC file")])
def test_truncated_or_corrupt_heic_gives_a_clear_per_file_error(
    tmp_path: Path, photo: Image.Image, cut: float | None, message: str
) -> None:
    buffer = io.BytesIO()
    photo.save(buffer, "HEIF", quality=90)
    data = buffer.getvalue()
    # cut None: the brand survives, the boxes after it are noise.
    data = data[:32] + bytes(range(256)) * 8 if cut is None else data[: int(len(data) * cut)]
    src = tmp_path / "broken.heic"
    src.write_bytes(data)
    result = optimize(src)
    assert not result.success
    assert result.errorKind == "decode" and message in (result.error or "")
    assert "Traceback" not in (result.error or "")


def test_a_heic_cut_near_its_end_is_refused_when_opened_from_a_path(
    tmp_path: Path, photo: Image.Image
) -> None:
    """libheif 1.21 decodes a file missing its last tenth without an error (a picture with its
    end lost); the reader refuses it before libheif sees it, read from a file as from memory."""
    buffer = io.BytesIO()
    photo.save(buffer, "HEIF", quality=90)
    src = tmp_path / "cut.heic"
    src.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) * 9 // 10])
    with (pytest.raises(OSError, match="truncated: the file ends inside its 'mdat' box"),
          Image.open(src) as opened):
        opened.load()


def test_truncation_is_still_told_after_another_library_re_registers_pillow_heif(
    tmp_path: Path, photo: Image.Image
) -> None:
    # imageio (used by skimage in these tests) calls this on every file it opens.
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    photo.save(buffer, "HEIF", quality=90)
    src = tmp_path / "cut.heic"
    src.write_bytes(buffer.getvalue()[:4000])
    result = optimize(src)
    assert result.errorKind == "decode" and "truncated HEIC data" in (result.error or "")

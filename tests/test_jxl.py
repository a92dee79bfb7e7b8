"""JPEG XL on real files: lossy with alpha, lossless at 100, the lossless JPEG transcode (exact
JPEG bytes back, SHA-256), metadata boxes, JXL as an input, refusals and broken files, the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pillow_jxl
import pytest
from PIL import Image

import backend.core.formats.jxl  # noqa: F401  (registers the JXL reader for the checks below)
from backend.core.discovery import expand_paths, sniff_format
from backend.core.paths import assign_output_paths
from backend.core.pipeline import optimize_file
from backend.types import Task
from backend.validation import decode_settings
from tests.conftest import load_real, transparent_logo

GPS_IFD = 0x8825


def optimize(src: Path, fmt: str = "jxl", quality: int = 90, **extra: object):
    cfg = decode_settings({"outputFormat": fmt, "quality": {"global": quality}, **extra})
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    result, _ = optimize_file(str(src), out, cfg)
    return result


def reconstructed_jpeg(jxl_file: str) -> bytes:
    is_jpeg, _, data, _, _ = pillow_jxl.Decoder(num_threads=0)(Path(jxl_file).read_bytes())
    assert is_jpeg, "the JXL file carries no JPEG reconstruction data"
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, np.int16)


@pytest.fixture
def camera_jpeg(tmp_path: Path) -> Path:
    """A photo as a camera leaves it: EXIF with a make and a GPS position, quality 92."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0)}
    path = tmp_path / "IMG_1234.JPG"
    load_real("chelsea").convert("RGB").save(path, "JPEG", quality=92, exif=exif.tobytes())
    return path


def test_lossy_jxl_with_alpha_keeps_the_transparency_and_looks_right(tmp_path: Path) -> None:
    logo = transparent_logo()
    src = tmp_path / "logo.png"
    logo.save(src)
    result = optimize(src, quality=80)
    assert result.success, result.error
    assert (result.format, result.optimized_path[-4:]) == ("jxl", ".jxl")
    assert sniff_format(result.optimized_path) == "jxl"
    with Image.open(result.optimized_path) as out:
        assert out.format == "JXL" and out.mode == "RGBA" and out.size == logo.size
        difference = np.abs(pixels(out) - pixels(logo))
    visible = pixels(logo)[..., 3] > 0
    assert difference[..., 3].mean() < 2 and difference[..., :3][visible].mean() < 6
    assert result.optimized_size < os.path.getsize(src)


def test_lower_quality_gives_a_smaller_file(tmp_images) -> None:
    src = tmp_images("coffee.png", source="coffee")
    sizes = [optimize(src, quality=q).optimized_size for q in (50, 80, 95)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[2] * 0.6


def test_quality_100_from_pixels_is_lossless(tmp_path: Path) -> None:
    logo = transparent_logo()
    src = tmp_path / "logo.png"
    logo.save(src)
    result = optimize(src, quality=100)
    assert result.success, result.error
    with Image.open(result.optimized_path) as out:
        assert np.array_equal(pixels(out), pixels(logo))


def test_jpeg_at_100_is_a_lossless_transcode_with_the_exact_jpeg_reconstructable(
    camera_jpeg: Path
) -> None:
    original = camera_jpeg.read_bytes()
    result = optimize(camera_jpeg, quality=100, metadata="keep")
    assert result.success, result.error
    assert result.optimized_size < 0.9 * len(original)
    assert sha256(reconstructed_jpeg(result.optimized_path)) == sha256(original)


def test_transcode_of_a_jpeg_with_no_metadata_is_exact_by_default(tmp_path: Path) -> None:
    src = tmp_path / "plain.jpg"
    load_real("coffee").convert("RGB").save(src, "JPEG", quality=90)
    result = optimize(src, quality=100)  # metadata: strip, but there is nothing to strip
    assert result.success, result.error
    assert sha256(reconstructed_jpeg(result.optimized_path)) == sha256(src.read_bytes())


def test_transcode_drops_what_the_metadata_mode_drops_with_identical_pixels(
    camera_jpeg: Path
) -> None:
    for mode, make in (("strip", None), ("keep-no-location", "Canon")):
        result = optimize(camera_jpeg, quality=100, metadata=mode)
        assert result.success, result.error
        rebuilt = reconstructed_jpeg(result.optimized_path)
        with Image.open(io.BytesIO(rebuilt)) as back, Image.open(camera_jpeg) as source:
            assert np.array_equal(pixels(back), pixels(source))
            exif = back.getexif()
        assert GPS_IFD not in exif and exif.get(0x010F) == make


def test_rotated_jpeg_transcode_still_displays_upright(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    src = tmp_path / "portrait.jpg"
    load_real("chelsea").convert("RGB").save(src, "JPEG", quality=90, exif=exif.tobytes())
    result = optimize(src, quality=100)
    assert result.success, result.error
    assert (result.width, result.height) == (300, 451)  # chelsea is 451 x 300, turned
    with Image.open(result.optimized_path) as out:
        assert out.getexif()[0x0112] == 6  # pixels as stored, the orientation kept with them


def test_jpeg_below_100_is_encoded_from_pixels(camera_jpeg: Path) -> None:
    result = optimize(camera_jpeg, quality=70)
    assert result.success, result.error
    assert not pillow_jxl.Decoder(num_threads=0)(Path(result.optimized_path).read_bytes())[0]


def test_kept_metadata_travels_in_exif_and_xmp_boxes(camera_jpeg: Path) -> None:
    result = optimize(camera_jpeg, quality=80, metadata="keep-no-location")
    assert result.success, result.error
    data = Path(result.optimized_path).read_bytes()
    assert data.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n") and b"Exif" in data[:200]
    with Image.open(result.optimized_path) as out:
        exif = out.getexif()
    assert exif[0x010F] == "Canon" and GPS_IFD not in exif
    stripped = optimize(camera_jpeg, quality=80)
    assert Path(stripped.optimized_path).read_bytes().startswith(b"\xff\x0a")  # bare codestream


def test_jxl_input_is_read_and_original_writes_jxl(tmp_path: Path) -> None:
    photo = load_real("astronaut").convert("RGB").resize((256, 256))
    src = tmp_path / "astronaut.jxl"
    photo.save(src, "JXL", lossless=True)
    found = expand_paths([str(tmp_path)])
    images, skipped = found.paths, found.skipped
    assert images == [str(src)] and skipped == []
    kept = optimize(src, "original", quality=100)
    assert kept.success, kept.error
    assert (kept.inputFormat, kept.format) == ("jxl", "jxl")
    as_png = optimize(src, "png", quality=100)
    assert as_png.success, as_png.error
    with Image.open(as_png.optimized_path) as out:
        assert np.array_equal(pixels(out.convert("RGB")), pixels(photo))


def test_animation_to_jxl_is_refused_for_that_file(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "green", "blue")]
    src = tmp_path / "spinner.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=80, loop=0)
    result = optimize(src)
    assert not result.success
    assert result.errorKind == "unsupported_format"
    assert "cannot hold this animation (3 frames)" in (result.error or "")


@pytest.mark.parametrize(("container", "cut", "message"), [
    (True, 0.6, "truncated JPEG XL data"),
    (False, 0.6, "corrupt JPEG XL data: libjxl cannot decode it"),
    (False, None, "corrupt JPEG XL data: libjxl cannot decode it"),
])
def test_truncated_or_corrupt_jxl_gives_a_clear_per_file_error(
    tmp_path: Path, container: bool, cut: float | None, message: str
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    buffer = io.BytesIO()
    load_real("coffee").convert("RGB").save(buffer, "JXL", quality=80,
                                            exif=exif.tobytes() if container else None,
                                            use_container=container)
    data = buffer.getvalue()
    data = data[:2] + bytes(range(256)) * 4 if cut is None else data[: int(len(data) * cut)]
    src = tmp_path / "broken.jxl"
    src.write_bytes(data)
    result = optimize(src, "png")
    assert not result.success
    assert result.errorKind == "decode" and message in (result.error or "")
    assert "Please build" not in (result.error or "")


def test_cli_format_jxl_writes_jxl_files(tmp_path: Path, camera_jpeg: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "optimize", str(camera_jpeg), "--format", "jxl",
         "--quality", "100", "--json", "--workers", "1"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr
    [result] = json.loads(proc.stdout)
    assert result["success"] and result["format"] == "jxl"
    out = Path(result["optimized_path"])
    assert out == camera_jpeg.parent / "optimized" / "IMG_1234.jxl"
    with Image.open(io.BytesIO(reconstructed_jpeg(str(out)))) as back, Image.open(
            camera_jpeg) as source:  # a transcode: the same JPEG pixels are in there
        assert np.array_equal(pixels(back), pixels(source))
    assert result["optimized_size"] < camera_jpeg.stat().st_size

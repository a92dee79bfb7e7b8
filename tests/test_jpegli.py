"""The jpegli JPEG encoder: the compiled shim on real images, its failure paths, the fallback.

Everything here runs the real shim (built once into a temporary cache by the first test that
needs it, as a worker builds it into the user's cache) against pyjpegli's real wheel. The one
stand-in: the no-compiler machine, made by running a child process with an empty PATH.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from backend.core.formats import jpeg, jpeg_source, jpegli_build, jpegli_lib
from backend.core.formats.jpegli_build import ShimUnavailable
from backend.core.formats.jpegli_lib import JpegliError, JpegliSettings
from backend.core.picture import EncodeRequest, Picture
from backend.core.pipeline import optimize_file
from backend.core.ssimulacra2 import ssimulacra2
from backend.errors import ProcessingError
from backend.types import ImageSettings, QualitySettings
from tests.conftest import load_real

REPO = Path(__file__).resolve().parent.parent


def _photo(size: tuple[int, int] = (240, 160)) -> np.ndarray:
    return np.asarray(load_real("coffee").convert("RGB").resize(size, Image.Resampling.LANCZOS))


def test_jpegli_output_is_progressive_420_and_close_to_the_input() -> None:
    rgb = _photo()
    data = jpegli_lib.encode(rgb, JpegliSettings(90, subsample=True))
    with Image.open(io.BytesIO(data)) as out:
        assert out.info.get("progressive") and JpegImagePlugin.get_sampling(out) == 2
        assert ssimulacra2(rgb, out.convert("RGB")) > 80
    assert not jpeg_source.source_facts(data).standard_huffman  # type: ignore[union-attr]


def test_jpegli_444_keeps_full_chroma_and_grey_stays_one_channel() -> None:
    full = jpegli_lib.encode(_photo(), JpegliSettings(90, subsample=False))
    grey = jpegli_lib.encode(np.asarray(load_real("camera").convert("L")),
                             JpegliSettings(90, subsample=True))
    with Image.open(io.BytesIO(full)) as a, Image.open(io.BytesIO(grey)) as b:
        assert JpegImagePlugin.get_sampling(a) == 0 and a.mode == "RGB"
        assert b.mode == "L"


def test_jpegli_writes_icc_exif_xmp_and_iptc_segments() -> None:
    icc = bytes(range(256)) * 300  # 76.8 KB: more than one APP2 chunk
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    picture = Picture(frames=[Image.fromarray(_photo())], icc=icc,
                      exif=exif.tobytes(), xmp=b"<x:xmpmeta/>", iptc=b"8BIM-iptc")
    data = jpeg.encode(picture, EncodeRequest(quality=90))
    with Image.open(io.BytesIO(data)) as out:
        assert out.info["icc_profile"] == icc
        assert out.getexif()[0x010F] == "Maker"
        assert out.info["xmp"] == b"<x:xmpmeta/>"
    assert b"8BIM-iptc" in data


def test_jpegli_refusal_is_an_error_with_jpeglis_message_and_the_process_lives_on() -> None:
    with pytest.raises(JpegliError, match="too big"):
        jpegli_lib.encode(np.zeros((8, 70000, 3), np.uint8), JpegliSettings(90, True))
    with pytest.raises(JpegliError, match="Empty input image"):
        jpegli_lib.encode(np.zeros((0, 0, 3), np.uint8), JpegliSettings(90, True))
    assert len(jpegli_lib.encode(np.zeros((8, 8, 3), np.uint8), JpegliSettings(90, True))) > 100


def test_the_jpeg_encoder_turns_a_jpegli_refusal_into_a_processing_error() -> None:
    wide = Picture(frames=[Image.new("RGB", (70000, 8))])
    with pytest.raises(ProcessingError, match=r"jpegli\) refused this image: .*too big"):
        jpeg.encode(wide, EncodeRequest(quality=90))


def test_jpegli_takes_only_8_bit_grey_or_rgb_pixels() -> None:
    with pytest.raises(ValueError, match="uint8 grey or RGB"):
        jpegli_lib.encode(np.zeros((8, 8, 4), np.uint8), JpegliSettings(90, True))
    with pytest.raises(ValueError, match="uint8 grey or RGB"):
        jpegli_lib.encode(np.zeros((8, 8, 3), np.uint16), JpegliSettings(90, True))


def test_shim_is_pinned_to_the_wheel_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyjpegli
    monkeypatch.setattr(pyjpegli, "__version__", "9.9.9")
    with pytest.raises(ShimUnavailable, match=r"pyjpegli 9\.9\.9 installed; .*pinned to 0\.3\.2"):
        jpegli_build.wheel_module()


def test_a_shim_that_does_not_compile_is_reported_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "shim.c"
    broken.write_text("#include <no_such_header.h>\n")
    monkeypatch.setattr(jpegli_build, "SOURCE", broken)
    with pytest.raises(ShimUnavailable, match=r"shim failed: .*no_such_header\.h"):
        jpegli_build.library_path(tmp_path / "cache")
    assert not list((tmp_path / "cache").iterdir())  # no half-written library left behind


def test_shim_builds_into_an_empty_cache_and_is_reused(tmp_path: Path) -> None:
    first = jpegli_build.library_path(tmp_path)
    stamp = first.stat().st_mtime_ns
    assert jpegli_build.library_path(tmp_path) == first and first.stat().st_mtime_ns == stamp


def test_without_a_compiler_the_pipeline_falls_back_to_libjpeg_turbo(
    tmp_path: Path
) -> None:
    src = tmp_path / "in.png"
    Image.fromarray(_photo()).save(src)
    code = ("import logging, sys; logging.basicConfig(level=logging.WARNING)\n"
            "from backend.core.pipeline import optimize_file\n"
            "from backend.core.formats import jpeg\n"
            "from backend.types import ImageSettings\n"
            "r, _ = optimize_file(sys.argv[1], sys.argv[2], ImageSettings(outputFormat='jpeg'))\n"
            "print(r.success, jpeg.encoder_name())\n")
    env = {"PATH": "", "IMAGE_OPTIMIZER_CACHE_DIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code, str(src), str(tmp_path / "out.jpg")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
                          check=False)
    assert proc.stdout.split() == ["True", "libjpeg-turbo"], proc.stderr
    assert "jpegli unavailable, encoding with libjpeg-turbo instead: no C compiler" in proc.stderr
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.info.get("progressive") and out.size == (240, 160)


def test_written_quality_rises_with_the_quality_number() -> None:
    values = [jpeg.written_quality(q) for q in (30, 50, 70, 85, 90, 95)]
    assert values == sorted(values) and values[0] < values[-1]


def test_higher_quality_never_scores_lower_on_ssimulacra2_through_the_pipeline(
    tmp_path: Path
) -> None:
    src = tmp_path / "in.png"
    rgb = _photo()
    Image.fromarray(rgb).save(src)
    scores = []
    for q in (30, 50, 70, 80, 90, 95):
        settings = ImageSettings(quality=QualitySettings(global_=q), outputFormat="jpeg")
        result, _ = optimize_file(str(src), str(tmp_path / f"q{q}.jpg"), settings)
        assert result.success, result.error
        with Image.open(result.optimized_path) as out:
            scores.append(ssimulacra2(rgb, out.convert("RGB")))
    assert scores == sorted(scores), scores
    assert os.path.getsize(tmp_path / "q95.jpg") > os.path.getsize(tmp_path / "q30.jpg")

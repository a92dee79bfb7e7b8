"""backend/core/ssimulacra2.py (and bench.ssimulacra2, its command line) against libjxl's own
ssimulacra2 tool (scores in tests/data/ssimulacra2)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from backend.core import ssimulacra2 as metric
from bench.ssimulacra2 import main, ssimulacra2

DATA = Path(__file__).parent / "data" / "ssimulacra2"
EXPECTED = json.loads((DATA / "expected.json").read_text())["pairs"]
TOLERANCE = 0.1  # the bound; libjxl's own float32 SIMD rounding is a few hundredths


@pytest.fixture
def numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Score with the numpy path, as where the C kernels cannot be built."""
    monkeypatch.setattr(metric, "_kernels", metric._NumpyKernels)


@pytest.fixture(params=["native", "numpy"])
def either_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native":
        assert isinstance(metric._kernels(), metric._NativeKernels), "the C kernels did not build"
    else:
        monkeypatch.setattr(metric, "_kernels", metric._NumpyKernels)
    return str(request.param)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_matches_libjxl(name: str, either_path: str) -> None:
    pair = EXPECTED[name]
    with Image.open(DATA / pair["reference"]) as reference, \
            Image.open(DATA / pair["distorted"]) as distorted:
        score = ssimulacra2(reference, distorted)
    assert score == pytest.approx(pair["score"], abs=TOLERANCE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scoring_in_row_strips_gives_the_whole_plane_s_score(
        name: str, monkeypatch: pytest.MonkeyPatch, numpy_path: None) -> None:
    # The pairs fit in one strip at the default size; 1-pixel strips force the smallest
    # strips (16 rows), so every scale above 16 rows is cut, with the halo between them.
    pair = EXPECTED[name]
    with Image.open(DATA / pair["reference"]) as reference, \
            Image.open(DATA / pair["distorted"]) as distorted:
        monkeypatch.setattr(metric, "STRIP_PIXELS", 10**9)
        whole = ssimulacra2(reference, distorted)
        monkeypatch.setattr(metric, "STRIP_PIXELS", 1)
        strips = ssimulacra2(reference, distorted)
    assert strips == pytest.approx(whole, abs=1e-6)
    assert strips == pytest.approx(pair["score"], abs=TOLERANCE)


def test_a_megapixel_photo_scores_the_same_in_strips(monkeypatch: pytest.MonkeyPatch,
                                                      numpy_path: None) -> None:
    photo = Image.fromarray(skimage.data.astronaut()).resize((1024, 1024))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=70)
    distorted = np.asarray(Image.open(buffer).convert("RGB"))
    reference = np.asarray(photo)
    assert len(metric._strips(1024, 1024)) > 1  # the default size cuts it
    strips = ssimulacra2(reference, distorted)
    monkeypatch.setattr(metric, "STRIP_PIXELS", 10**9)
    assert ssimulacra2(reference, distorted) == pytest.approx(strips, abs=1e-6)


def test_pairs_cover_the_scale() -> None:
    scores = [pair["score"] for pair in EXPECTED.values()]
    assert len(scores) >= 20
    assert min(scores) < 0 and max(scores) == 100.0


def test_identical_images_score_100(either_path: str) -> None:
    image = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    assert ssimulacra2(image, image.copy()) == 100.0


def test_arrays_and_images_agree() -> None:
    pair = EXPECTED["chelsea_jpeg_q60"]
    with Image.open(DATA / pair["reference"]) as a, Image.open(DATA / pair["distorted"]) as b:
        from_images = ssimulacra2(a, b)
        from_arrays = ssimulacra2(np.asarray(a), np.asarray(b).astype(np.float32) / 255)
    assert from_arrays == pytest.approx(from_images, abs=1e-5)


def test_size_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="differ in size: 40x30 vs 41x30"):
        ssimulacra2(np.zeros((30, 40, 3), np.uint8), np.zeros((30, 41, 3), np.uint8))


def test_too_small_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 8x8"):
        ssimulacra2(np.zeros((7, 20, 3), np.uint8), np.zeros((7, 20, 3), np.uint8))


def test_cli_prints_the_score(capsys: pytest.CaptureFixture[str]) -> None:
    pair = EXPECTED["coffee_webp_q20"]
    assert main([str(DATA / pair["reference"]), str(DATA / pair["distorted"])]) == 0
    assert float(capsys.readouterr().out) == pytest.approx(pair["score"], abs=TOLERANCE)


@pytest.mark.parametrize(("quality", "size"), [(30, (1203, 797)), (80, (2048, 1365)),
                                               (95, (777, 1031))])
def test_the_c_kernels_score_as_the_numpy_path(quality: int, size: tuple[int, int],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Odd and even sides (the downsampling's repeated edge), several strips, every scale.
    photo = Image.fromarray(skimage.data.astronaut()).resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality)
    distorted = np.asarray(Image.open(buffer).convert("RGB"))
    reference = metric.Reference(np.asarray(photo))
    assert isinstance(metric._kernels(), metric._NativeKernels)
    native = reference.score(distorted)
    monkeypatch.setattr(metric, "_kernels", metric._NumpyKernels)
    numpy_reference = metric.Reference(np.asarray(photo))
    assert native == pytest.approx(numpy_reference.score(distorted), abs=2e-3)
    assert native < 100.0


def test_with_alpha_the_c_kernels_score_as_the_numpy_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rgba = np.dstack([skimage.data.astronaut(), np.tile(np.linspace(0, 255, 512, dtype=np.uint8),
                                                        (512, 1))])
    distorted = rgba.copy()
    distorted[::7, ::5, :3] //= 2
    native = ssimulacra2(rgba, distorted)
    monkeypatch.setattr(metric, "_kernels", metric._NumpyKernels)
    assert native == pytest.approx(ssimulacra2(rgba, distorted), abs=2e-3)


def test_without_a_compiler_the_numpy_path_scores(tmp_path: Path) -> None:
    code = ("import logging; logging.basicConfig(level=logging.WARNING)\n"
            "import numpy as np\n"
            "from backend.core import ssimulacra2 as m\n"
            "a = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)\n"
            "b = a.copy(); b[::3] //= 2\n"
            "print(type(m._kernels()).__name__, round(m.ssimulacra2(a, b), 6))\n")
    env = {"PATH": "", "IMAGE_OPTIMIZER_CACHE_DIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    native_path, score = proc.stdout.split()
    assert native_path == "_NumpyKernels", proc.stderr
    assert "SSIMULACRA2 in numpy (slower): no C compiler" in proc.stderr
    a = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    b = a.copy()
    b[::3] //= 2
    assert float(score) == pytest.approx(ssimulacra2(a, b), abs=2e-3)
    assert not (tmp_path / "cache" / "ssimulacra2").exists() or not list(
        (tmp_path / "cache" / "ssimulacra2").glob("*.so"))

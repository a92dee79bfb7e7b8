"""WebP and AVIF on real images, judged by SSIMULACRA2 (the project's own port, the metric the
settings in ``bench/QUALITY.md`` were chosen by): a higher quality number never scores lower, and
the encoder options the bench compares do what they say.
"""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.core.formats import avif, webp
from backend.core.picture import EncodeRequest, Picture
from backend.core.pipeline import optimize_file
from backend.core.ssimulacra2 import ssimulacra2
from backend.types import ImageSettings, QualitySettings

EXT = {"webp": "webp", "avif": "avif"}
QUALITIES = (20, 50, 70, 80, 90, 95)


def _encoded(src: Path, fmt: str, quality: int) -> Path:
    out = src.parent / "out" / f"{src.stem}-q{quality}.{EXT[fmt]}"
    settings = ImageSettings(quality=QualitySettings(global_=quality), outputFormat=fmt)
    result, _ = optimize_file(str(src), str(out), settings)
    assert result.success, result.error
    return out


def _score(reference: Path, distorted: Path) -> float:
    with Image.open(reference) as a, Image.open(distorted) as b:
        return ssimulacra2(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


@pytest.mark.parametrize("fmt", ["webp", "avif"])
@pytest.mark.parametrize("source", ["coffee", "astronaut"])
def test_higher_quality_never_scores_lower_on_ssimulacra2(
    tmp_images: Callable[..., Path], fmt: str, source: str
) -> None:
    src = tmp_images(f"{source}.png", source=source, size=(256, 192), mode="RGB")
    outputs = [_encoded(src, fmt, q) for q in QUALITIES]
    scores = [_score(src, out) for out in outputs]
    sizes = [out.stat().st_size for out in outputs]
    assert scores == sorted(scores), scores
    assert sizes == sorted(sizes), sizes
    assert scores[-1] > 80, scores  # quality 95 is near-transparent on these photos


def _picture(source: Path) -> Picture:
    with Image.open(source) as im:
        return Picture(frames=[im.convert("RGB")])


def _decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()


def test_avif_takes_libavifs_exact_colour_conversion_and_stores_no_alpha(
    tmp_images: Callable[..., Path],
) -> None:
    src = tmp_images("chelsea.png", source="chelsea", size=(256, 192), mode="RGB")
    picture = _picture(src)
    reference = np.asarray(picture.image, dtype=np.int16)
    request = EncodeRequest(quality=100)
    exact = _decoded(avif.encode_native(picture, request, 100))
    coarse = _decoded(avif.encode_native(picture, request, 100, rgba=False))
    assert exact.mode == "RGB"  # the opaque alpha handed to libavif is not written
    error = np.abs(np.asarray(exact, dtype=np.int16) - reference).mean()
    coarse_error = np.abs(np.asarray(coarse, dtype=np.int16) - reference).mean()
    # Measured on this crop: 0.31 levels through RGBA, 0.57 through libavif's 3-channel fast
    # path (0.37 and 0.91 on flat artwork, where butteraugli saw the difference most).
    assert error < 0.45 and coarse_error > 1.5 * error, (error, coarse_error)


def test_avif_bench_options_reach_the_encoder(tmp_images: Callable[..., Path]) -> None:
    picture = _picture(tmp_images("coffee.png", source="coffee", size=(192, 128), mode="RGB"))
    request = EncodeRequest(quality=70)
    default = avif.encode_native(picture, request, 70)
    variants = {
        "speed 8": avif.encode_native(picture, request, 70, speed=8),
        "4:2:0": avif.encode_native(picture, request, 70, subsampling="4:2:0"),
        "tune ssim": avif.encode_native(picture, request, 70, aom={"tune": "ssim"}),
    }
    for name, data in variants.items():
        assert data != default, name
        assert _decoded(data).size == (192, 128), name
    # 4:2:0 carries a quarter of the chroma samples: fewer bytes at the same quality.
    assert len(variants["4:2:0"]) < len(default)


def test_webp_method_option_changes_the_coding_not_the_picture(
    tmp_images: Callable[..., Path],
) -> None:
    picture = _picture(tmp_images("coffee.png", source="coffee", size=(192, 128), mode="RGB"))
    request = EncodeRequest(quality=80)
    four = webp.encode_native(picture, request, 80)
    six = webp.encode_native(picture, request, 80, method=6)
    assert four != six
    reference = np.asarray(picture.image)
    assert ssimulacra2(reference, np.asarray(_decoded(six).convert("RGB"))) > 70
    assert ssimulacra2(reference, np.asarray(_decoded(four).convert("RGB"))) > 70


def test_avif_quality_scale_is_the_recorded_ssimulacra2_calibration() -> None:
    """The anchors in ``avif.QUALITY_SCALE`` (UI 1 aside) are the ones the last calibration run
    measured on SSIMULACRA2; the SSIM-based scale before it (90 -> 88, 95 -> 95) fails here."""
    path = Path(__file__).parent.parent / "bench/results/quality_calibration-avif.json"
    tables = json.loads(path.read_text())["tables"]
    table = next(t for t in tables if t["title"].startswith("Calibration"))
    row = next(r for r in table["rows"] if r[0] == "AVIF" and r[1] == "scale")
    assert tuple(ast.literal_eval(row[4])) == avif.QUALITY_SCALE[1:]


def test_avif_default_aom_options_reach_the_encoder(tmp_images: Callable[..., Path]) -> None:
    """``AOM_OPTIONS`` (no intra block copy, no trellis quantization: the encode-time decision in
    ``avif.py``) is what a plain encode hands aom: its file differs from one with aom's own
    defaults, and still decodes to the picture's size."""
    assert avif.AOM_OPTIONS == {"enable-intrabc": "0", "disable-trellis-quant": "1"}
    picture = _picture(tmp_images("coffee.png", source="coffee", size=(192, 128), mode="RGB"))
    request = EncodeRequest(quality=90)
    quality = avif.target_quality(90)
    chosen = avif.encode(picture, request)
    assert chosen == avif.encode_native(picture, request, quality, aom=avif.AOM_OPTIONS)
    aom_defaults = avif.encode_native(picture, request, quality, aom={})
    assert chosen != aom_defaults
    decoded = _decoded(chosen)
    assert decoded.size == (192, 128)
    reference = np.asarray(picture.image)
    assert ssimulacra2(reference, np.asarray(decoded.convert("RGB"))) > 70

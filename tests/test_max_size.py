"""Target file size (``maxSize``) through the real pool: outputs fit, the search lands just
under the target (the next quality up would not fit), the input is kept when it already fits,
downscaling happens only with ``allowResize``, and an unreachable target is reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from backend.core.formats.encoders import encoder_for
from backend.core.optimizer import ImageOptimizer
from backend.core.picture import EncodeRequest, Picture
from backend.core.quality_targets import LEVELS
from backend.types import ImageSettings, OptimizationResult, Task
from tests.conftest import load_real


def run(optimizer: ImageOptimizer, paths: list[Path], **settings: object,
        ) -> list[OptimizationResult]:
    config = ImageSettings(**settings)  # type: ignore[arg-type]
    results = optimizer.optimize_images([Task(input_path=str(p), settings=config)
                                         for p in paths])
    for result in results:
        assert result.success, result.error
    return results


def size_at(path: Path, fmt: str, quality: int) -> int:
    """The bytes of the input encoded as the pipeline encodes it (its ICC profile kept)."""
    encoder = encoder_for(fmt)
    with Image.open(path) as im:
        picture = Picture(frames=[im.convert("RGB")], icc=im.info.get("icc_profile"))
    request = EncodeRequest(quality=quality)
    return len(encoder.optimize(encoder.encode(picture, request), request))


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_outputs_fit_and_the_next_quality_up_would_not(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path], fmt: str,
) -> None:
    photos = [tmp_images(f"{name}.png", source=name) for name in ("coffee", "chelsea",
                                                                  "astronaut")]
    under = []
    for target in (12_000, 25_000):
        for photo, result in zip(photos, run(optimizer, photos, outputFormat=fmt,
                                             maxSize=target), strict=True):
            assert result.targetMet is True and result.targetMessage is None
            assert result.optimized_size == Path(result.optimized_path).stat().st_size
            assert result.optimized_size <= target
            quality = result.chosenQuality
            assert quality is not None and 1 <= quality < 90  # the slider's 90 did not fit
            assert size_at(photo, fmt, quality + 1) > target
            under.append((target - result.optimized_size) / target)
    # jpegli's distance and libwebp's quality are continuous, and AVIF's steps are crossed by
    # aom's delta-q strength: the search refines between the whole numbers and lands within
    # 3 % of every target (AVIF's whole numbers alone: a median 3.4 % under).
    assert max(under) <= 0.03, under


def test_an_avif_target_inside_a_quality_step_lands_within_3_percent(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    """libavif's whole qualities step the file by ~6-8 %: a target 70 % of the way across the
    widest step between UI 40 and 80 is out of reach of whole numbers within 3 %, and met
    within 3 % through aom's delta-q strength between them."""
    photo = tmp_images("coffee.png", source="coffee")
    sizes = {q: size_at(photo, "avif", q) for q in range(40, 81)}
    low = max(range(40, 80), key=lambda q: sizes[q + 1] / sizes[q])
    target = round(sizes[low] + 0.7 * (sizes[low + 1] - sizes[low]))
    assert sizes[low] < 0.97 * target
    [result] = run(optimizer, [photo], outputFormat="avif", maxSize=target)
    assert result.targetMet is True and result.chosenQuality == low
    assert 0.97 * target <= result.optimized_size <= target


def test_a_translucent_webp_between_two_alpha_steps_lands_within_3_percent(
    optimizer: ImageOptimizer, tmp_path: Path,
) -> None:
    """coffee with its own grey as alpha: libwebp codes alpha in steps, 16,092 bytes at quality
    9 and 23,476 at 10, so no whole number (nor a fraction, alpha's quality being whole) comes
    within 3 % of 21,000; alpha held at 9 and the colour raised alone does."""
    colour = load_real("coffee").convert("RGB").resize((600, 400))
    translucent = colour.convert("RGBA")
    translucent.putalpha(colour.convert("L"))
    src = tmp_path / "translucent.png"
    translucent.save(src)
    target = 21_000
    picture = Picture(frames=[translucent])
    encoder = encoder_for("webp")
    whole = {q: len(encoder.encode(picture, EncodeRequest(quality=q))) for q in (9, 10)}
    assert whole[9] < 0.8 * target < target < whole[10]
    [result] = run(optimizer, [src], outputFormat="webp", maxSize=target)
    assert result.targetMet is True and result.chosenQuality == 9
    assert 0.97 * target <= result.optimized_size <= target
    with Image.open(result.optimized_path) as out:
        assert out.mode == "RGBA" and out.size == (600, 400)


def test_an_input_that_already_fits_is_kept_as_it_is(
    optimizer: ImageOptimizer, real_photo: Path,
) -> None:
    [result] = run(optimizer, [real_photo], maxSize=real_photo.stat().st_size + 1)
    assert result.keptOriginal and result.targetMet is True
    assert Path(result.optimized_path).read_bytes() == real_photo.read_bytes()


def test_the_slider_quality_stands_when_its_file_fits(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    photo = tmp_images("coffee.png", source="coffee")
    [result] = run(optimizer, [photo], outputFormat="webp", maxSize=10_000_000)
    assert result.targetMet is True and result.chosenQuality == 90
    assert result.optimized_size == size_at(photo, "webp", 90)


def test_an_unreachable_target_is_reported_with_the_smallest_file(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    photo = tmp_images("astronaut.png", source="astronaut")
    [result] = run(optimizer, [photo], outputFormat="jpeg", maxSize=2_000)
    assert result.targetMet is False
    assert result.optimized_size > 2_000 and result.chosenQuality == 1
    assert result.optimized_size == size_at(photo, "jpeg", 1)
    assert result.targetMessage == (
        f"cannot fit in 2,000 bytes: the smallest file is {result.optimized_size:,} bytes "
        "(at quality 1); allow resizing to go smaller")
    with Image.open(result.optimized_path) as out:
        assert out.size == (512, 512)


def test_allow_resize_downscales_keeping_the_aspect_ratio_until_it_fits(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    photo = tmp_images("coffee.png", source="coffee")  # 600x400, no ICC profile to carry
    [result] = run(optimizer, [photo], outputFormat="jpeg", maxSize=2_500, allowResize=True)
    assert result.targetMet is True and result.optimized_size <= 2_500
    assert result.width is not None and result.height is not None
    assert result.width < 600 and result.height < 400
    assert result.width / result.height == pytest.approx(1.5, abs=0.02)
    with Image.open(result.optimized_path) as out:
        assert out.size == (result.width, result.height)
    assert result.chosenQuality is not None and result.chosenQuality >= 50


def test_a_target_too_small_even_downscaled_is_reported(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    photo = tmp_images("coffee.png", source="coffee")
    [result] = run(optimizer, [photo], outputFormat="webp", maxSize=10, allowResize=True)
    assert result.targetMet is False and result.optimized_size > 10
    assert result.targetMessage is not None
    assert result.targetMessage.startswith("cannot fit in 10 bytes: the smallest file is ")
    assert "px)" in result.targetMessage and "allow resizing" not in result.targetMessage


def test_with_auto_quality_the_size_limit_wins(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    photo = tmp_images("coffee.png", source="coffee")
    [auto] = run(optimizer, [photo], outputFormat="jpeg", autoQuality="high")
    limit = auto.optimized_size // 2
    [both] = run(optimizer, [photo], outputFormat="jpeg", autoQuality="high", maxSize=limit)
    assert both.targetMet is True and both.optimized_size <= limit
    assert both.chosenQuality is not None and auto.chosenQuality is not None
    assert both.chosenQuality < auto.chosenQuality
    assert both.score is not None and both.score < LEVELS["high"]
    [roomy] = run(optimizer, [photo], outputFormat="jpeg", autoQuality="high",
                  maxSize=auto.optimized_size)
    assert (roomy.chosenQuality, roomy.optimized_size, roomy.targetMet) == (
        auto.chosenQuality, auto.optimized_size, True)

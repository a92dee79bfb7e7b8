"""The quality bench's corpus split (deterministic, disjoint, stratified) and the maths that turn
its samples into BD-rates and quality-number anchors, on synthetic curves whose answer is known.
"""

from __future__ import annotations

import math
from collections import Counter

import msgspec
import pytest

from bench.corpus import PICKS, picks_for
from bench.quality import Point, bd_rate, bytes_at
from bench.rd_report import Sample, Stat, build_result, native_for
from bench.schema import CorpusImage, MachineInfo, RunOptions, ScenarioResult
from bench.split import CORPUS_SPLIT, SPLITS, assign, in_split, split_of

TUNE_JPEG = ["rocket.jpg", "retina.jpg"]
HELD_OUT_JPEG = ["dune.jpg", "forest-path.jpg"]


def _fmt(name: str) -> str:
    return "jpeg" if name.endswith(".jpg") else "png"


def test_split_is_deterministic_and_independent_of_order() -> None:
    assert assign(PICKS) == CORPUS_SPLIT
    assert assign(tuple(reversed(PICKS))) == CORPUS_SPLIT
    assert CORPUS_SPLIT["rocket.jpg"] == "tune"
    assert CORPUS_SPLIT["dune.jpg"] == "held-out"


def test_split_is_disjoint_and_covers_the_corpus() -> None:
    names = [p.name for p in PICKS]
    assert sorted(CORPUS_SPLIT) == sorted(names)
    tune = {n for n in names if split_of(n) == "tune"}
    held = {n for n in names if split_of(n) == "held-out"}
    assert tune and held and not tune & held and tune | held == set(names)
    assert in_split("rocket.jpg", "all") and in_split("rocket.jpg", "tune")
    assert not in_split("rocket.jpg", "held-out")
    with pytest.raises(ValueError, match="not a corpus image"):
        split_of("holiday.jpg")


def test_split_is_stratified_by_format_and_kind() -> None:
    count = Counter((_fmt(p.name), p.kind, CORPUS_SPLIT[p.name]) for p in PICKS)
    strata = {(_fmt(p.name), p.kind) for p in PICKS}
    assert strata == {("jpeg", "photo"), ("jpeg", "artwork"), ("png", "photo"), ("png", "artwork")}
    for fmt, kind in strata:
        tune, held = count[(fmt, kind, "tune")], count[(fmt, kind, "held-out")]
        assert tune >= 1 and held >= 1 and abs(tune - held) <= 1, (fmt, kind, tune, held)
    # The quick corpus still has both formats in both splits.
    quick = Counter((_fmt(p.name), CORPUS_SPLIT[p.name]) for p in picks_for("quick"))
    assert all(quick[(fmt, split)] >= 1 for fmt in ("jpeg", "png") for split in SPLITS)


def test_bd_rate_of_a_curve_shifted_in_quality_is_known() -> None:
    # log(bytes) linear in the metric: needing 4 points more of metric per byte is exp(-0.2) bytes.
    anchor = [Point(q, round(math.exp(10 + 0.05 * s)), s) for q, s in
              ((70, 60.0), (80, 70.0), (90, 80.0), (95, 90.0))]
    better = [Point(q, round(math.exp(10 + 0.05 * (s - 4))), s) for q, s in
              ((70, 58.0), (80, 67.0), (90, 79.0), (95, 93.0))]
    assert bd_rate(better, anchor) == pytest.approx(100 * (math.exp(-0.2) - 1), abs=0.01)
    assert bd_rate(anchor, better) == pytest.approx(100 * (math.exp(0.2) - 1), abs=0.01)
    assert bytes_at(anchor, 75.0) == pytest.approx(math.exp(10 + 0.05 * 75), rel=1e-4)
    assert bd_rate(anchor, [Point(q, p.bytes, p.quality + 100) for q, p in zip(
        (1, 2, 3, 4), anchor, strict=True)]) is None  # no common quality range


def _stat(setting: int, score: float) -> Stat:
    return Stat(setting=setting, images=1, bytes=1000, input_bytes=2000, ssim=0.9,
                butteraugli=None, ssimulacra2=score, kept=0)


def test_native_for_finds_the_setting_with_the_target_score() -> None:
    native = [_stat(q, 2 * q - 100) for q in (50, 60, 70, 80, 90)]  # score 0, 20, 40, 60, 80
    assert native_for(native, 50.0, "ssimulacra2") == 75
    assert native_for(native, 20.0, "ssimulacra2") == 60
    assert native_for(native, -10.0, "ssimulacra2") == 50  # below every setting: the lowest
    assert native_for(native, 95.0, "ssimulacra2") is None  # out of reach
    assert native_for(native, None, "ssimulacra2") is None
    # A setting that bought no score is stepped over, not interpolated through.
    flat = [_stat(50, 10.0), _stat(60, 10.0), _stat(70, 30.0)]
    assert native_for(flat, 20.0, "ssimulacra2") == 65


def _sample(image: str, engine: str, setting: int, bytes_: int) -> Sample:
    return Sample(image=image, kind="photo", input_format=_fmt(image), format="jpeg",
                  engine=engine, setting=setting, bytes=bytes_, input_bytes=100_000,
                  megapixels=0.4, ssim=0.9 + setting / 1000, butteraugli=3 - setting / 50,
                  ssimulacra2=40 + setting / 2)


def _crop(name: str) -> CorpusImage:
    return CorpusImage(name=name, path=f"/nowhere/{name}", format="jpeg", kind="photo",
                       width=640, height=640, bytes=100_000, source="test", origin="test",
                       licence="test")


def _result(samples: list[Sample], *, calibrate: bool = False) -> ScenarioResult:
    names = sorted({s.image for s in samples})
    machine = MachineInfo(cpu_count=2, cpu_model="test", memory_gb=1.0, platform="test",
                          python="3", versions={}, load_average_start=(0.0, 0.0, 0.0))
    return build_result(
        samples=samples, lossless=[], crops=[_crop(n) for n in names], corpus=[],
        calibrate=calibrate, options=RunOptions(mode="full", repeat=1, workers=[2],
                                                small_images=0),
        machine=machine, notes=[], started=0.0, crop_side=640)


def test_report_gives_each_split_its_own_bd_rates_and_judges_the_held_out_one() -> None:
    # Same quality at every setting on both engines; ours 20 % fewer bytes on the tune images,
    # 10 % fewer on the held-out ones: every metric's BD-rate and q90 figure says exactly that.
    settings = [70, 75, 80, 85, 90, 95]
    samples = []
    for factor, images in ((0.8, TUNE_JPEG), (0.9, HELD_OUT_JPEG)):
        for image in images:
            for q in settings:
                theirs = round(1000 * math.exp(q / 20))
                samples += [_sample(image, "sharp", q, theirs),
                            _sample(image, "ours", q, round(theirs * factor))]
    result = _result(samples)
    figures = result.data["figures"]["jpeg"]
    assert set(figures) == {"tune", "held-out", "all"}
    for split, expected in (("tune", -20.0), ("held-out", -10.0)):
        for key in ("bd_ssimulacra2", "bd_butteraugli", "bd_ssim", "default_ssimulacra2",
                    "default_butteraugli", "default_ssim"):
            assert figures[split][key] == pytest.approx(expected, abs=0.01), (split, key)
    assert -20.0 < figures["all"]["bd_ssimulacra2"] < -10.0
    jpeg_targets = {t.name: t for t in result.targets if t.name.startswith("JPEG")}
    assert set(jpeg_targets) == {
        "JPEG BD-rate vs sharp (q 70-95), SSIMULACRA2, held-out split",
        "JPEG BD-rate vs sharp (q 70-95), butteraugli, held-out split"}
    assert all(t.measured == "-10.0 %" and t.met is False for t in jpeg_targets.values())
    splits = next(t for t in result.tables if t.title.startswith("Corpus splits"))
    assert splits.rows == [["tune", "retina.jpg, rocket.jpg"],
                           ["held-out", "dune.jpg, forest-path.jpg"]]


def test_calibration_anchors_match_sharp_on_ssimulacra2() -> None:
    # sharp's UI number q scores 40 + q/2; our native setting n scores n - 10, so the native
    # setting matching sharp at q is q/2 + 50 (SSIM, a different curve, would pick others).
    samples = []
    for image in TUNE_JPEG:
        for q in (50, 70, 90):
            samples.append(_sample(image, "sharp", q, 1000 * q))
        for n in range(40, 101, 10):
            native = _sample(image, "ours-native", n, 900 * n)
            samples.append(msgspec.structs.replace(native, ssimulacra2=float(n - 10)))
    table = next(t for t in _result(samples, calibrate=True).tables
                 if t.title.startswith("Calibration"))
    assert [row[4] for row in table.rows] == [
        "75", "85", "95", "((50, 75), (70, 85), (90, 95), (100, 100))"]


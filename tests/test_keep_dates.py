"""Outputs carry their source's file dates (``keepDates``, on by default), for every output
format, format changes and kept-original copies; off, they get the time of writing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.core.formats.registry import OUTPUT_IDS
from backend.core.pipeline import optimize_file
from backend.types import ImageSettings, QualitySettings

# 2001-09-09 01:46:40 UTC plus a fraction, so whole-second truncation would show.
MTIME_NS = 1_000_000_000_123_456_789
ATIME_NS = 1_100_000_000_987_654_321


def dated(path: Path) -> Path:
    os.utime(path, ns=(ATIME_NS, MTIME_NS))
    return path


@pytest.mark.parametrize("fmt", ["original", *OUTPUT_IDS])
def test_every_output_format_gets_the_source_dates(
    tmp_images: Callable[..., Path], tmp_path: Path, fmt: str
) -> None:
    source = dated(tmp_images("cat.png", size=(96, 64)))
    out = tmp_path / "out" / f"cat.{fmt}"
    result, _ = optimize_file(str(source), str(out), ImageSettings(outputFormat=fmt))
    assert result.success, result.error
    stat = out.stat()
    assert (stat.st_mtime_ns, stat.st_atime_ns) == (MTIME_NS, ATIME_NS)


def test_a_kept_original_copy_gets_the_source_dates_too(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    # A PNG that went through us once cannot get smaller: the second run copies its bytes.
    first = tmp_path / "first.png"
    lossless = ImageSettings(quality=QualitySettings(global_=100))
    assert optimize_file(str(tmp_images("cat.png", size=(96, 64))), str(first), lossless)[0].success
    source = dated(first)
    out = tmp_path / "out" / "first.png"
    result, _ = optimize_file(str(source), str(out), lossless)
    assert result.keptOriginal and out.read_bytes() == source.read_bytes()
    assert out.stat().st_mtime_ns == MTIME_NS


def test_keep_dates_off_gives_the_time_of_writing(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    source = dated(tmp_images("cat.png", size=(96, 64)))
    out = tmp_path / "out" / "cat.webp"
    settings = ImageSettings(outputFormat="webp", keepDates=False,
                             quality=QualitySettings(global_=80))
    result, _ = optimize_file(str(source), str(out), settings)
    assert result.success
    assert abs(out.stat().st_mtime_ns - time.time_ns()) < 60 * 10**9  # written now, not in 2001


def test_cli_keeps_dates_by_default_and_not_with_no_keep_dates(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    source = dated(tmp_images("cat.png", size=(96, 64)))
    for flags, keeps in (([], True), (["--no-keep-dates"], False)):
        out_dir = tmp_path / ("kept" if keeps else "now")
        run = subprocess.run(
            [sys.executable, "-m", "backend", "optimize", str(source), "--format", "webp",
             "--out", str(out_dir), "--workers", "1", *flags],
            capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stderr
        assert ((out_dir / "cat.webp").stat().st_mtime_ns == MTIME_NS) is keeps

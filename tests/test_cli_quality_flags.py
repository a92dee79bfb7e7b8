"""``--auto-quality``, ``--max-size`` and ``--allow-resize``: what they set, what a run writes and
says, and the errors for bad values (on the command line and in settings from the UI)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import skimage.data
from PIL import Image

from backend.cli import UsageError, _build_parser, parse_byte_size, settings_from_args
from backend.errors import ValidationError
from backend.types import MAX_SIZE_LIMIT
from backend.validation import decode_settings

ENV = {**os.environ, "PYTHONWARNINGS": "error"}


def parsed(*flags: str) -> argparse.Namespace:
    return _build_parser().parse_args(["optimize", "in.png", *flags])


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backend", *map(str, args)],
                          capture_output=True, text=True, timeout=180, env=ENV)


@pytest.mark.parametrize(("text", "expected"), [
    ("200KB", 200_000), ("200kb", 200_000), ("1.5MB", 1_500_000), ("500KiB", 512_000),
    ("2MiB", 2 * 1024**2), ("1GB", 10**9), ("1234", 1234), ("64B", 64), (" 10 KB ", 10_000),
])
def test_max_size_reads_bytes_and_units(text: str, expected: int) -> None:
    assert parse_byte_size(text) == expected
    assert settings_from_args(parsed("--max-size", text)).maxSize == expected


@pytest.mark.parametrize("text", ["200 kilobytes", "2TB", "KB", "-5KB", "1e3", "12,5KB", ""])
def test_max_size_with_a_bad_unit_or_number_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="expected bytes or a number with a unit"):
        parse_byte_size(text)


@pytest.mark.parametrize(("text", "message"), [
    ("0", "maxSize = 0: Expected `int` >= 1"),
    ("0.0001KB", "maxSize = 0: Expected `int` >= 1"),
    ("2000GiB", f"Expected `int` <= {MAX_SIZE_LIMIT}"),
])
def test_max_size_of_zero_or_absurd_size_is_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        settings_from_args(parsed("--max-size", text))


def test_auto_quality_without_a_level_is_high_and_levels_are_checked() -> None:
    assert settings_from_args(parsed("--auto-quality")).autoQuality == "high"
    assert settings_from_args(parsed("--auto-quality", "compact")).autoQuality == "compact"
    assert settings_from_args(parsed("--auto-quality=off")).autoQuality == "off"
    assert settings_from_args(parsed()).autoQuality == "off"
    with pytest.raises(UsageError, match=re.escape(
            "--auto-quality takes one of off, high, balanced, compact, not 'photo.jpg'")):
        settings_from_args(parsed("--auto-quality", "photo.jpg"))


def test_allow_resize_flag_sets_the_setting() -> None:
    assert settings_from_args(parsed("--max-size", "10KB", "--allow-resize")).allowResize
    assert not settings_from_args(parsed("--max-size", "10KB")).allowResize


@pytest.mark.parametrize(("settings", "message"), [
    ({"maxSize": -1}, "Invalid settings: maxSize = -1: Expected `int` >= 1"),
    ({"maxSize": 0}, "Invalid settings: maxSize = 0: Expected `int` >= 1"),
    ({"maxSize": 10**15}, f"maxSize = 1000000000000000: Expected `int` <= {MAX_SIZE_LIMIT}"),
    ({"maxSize": "200KB"}, 'maxSize = "200KB": Expected `int | null`, got `str`'),
    ({"autoQuality": "best"}, 'autoQuality = "best": Invalid enum value \'best\''),
    ({"allowResize": "yes"}, 'allowResize = "yes": Expected `bool`, got `str`'),
])
def test_bad_values_from_the_ui_are_validation_errors_naming_field_and_value(
    settings: dict[str, object], message: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_settings(settings)
    assert message in caught.value.message


def test_a_run_reports_chosen_quality_score_and_target(tmp_path: Path) -> None:
    photo = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(photo)
    proc = run_cli("optimize", photo, "--format", "jpeg", "--auto-quality", "balanced",
                   "--max-size", "1MB", "--json", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    [result] = json.loads(proc.stdout)
    assert result["targetMet"] is True and result["score"] >= 80.0
    assert 1 <= result["chosenQuality"] <= 100


def test_an_unmet_target_is_listed_and_exits_1(tmp_path: Path) -> None:
    photo = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(photo)
    proc = run_cli("optimize", photo, "--format", "webp", "--max-size", "100B", "--workers", "1")
    assert proc.returncode == 1
    assert f"TARGET NOT MET {photo}: cannot fit in 100 bytes: the smallest file is " in (
        proc.stdout)
    assert (tmp_path / "optimized" / "coffee.webp").is_file()

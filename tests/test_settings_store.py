"""The saved settings: round trip, defaults on a missing or corrupt file, atomic writes."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from backend.app_dirs import CONFIG_DIR_ENV
from backend.errors import OutputError
from backend.settings_store import (
    PREFERENCES_FILE,
    SETTINGS_FILE,
    JsonStore,
    PreferencesStore,
    SettingsStore,
)
from backend.types import AppPreferences, ImageSettings, QualitySettings, ResizeSettings

CUSTOM = ImageSettings(
    quality=QualitySettings(global_=72, webp=60),
    resize=ResizeSettings(mode="longest", size=1600),
    outputFormat="webp",
)


def test_saved_settings_are_loaded_by_a_new_store(tmp_path: Path) -> None:
    SettingsStore(tmp_path).save(CUSTOM)
    assert SettingsStore(tmp_path).load() == CUSTOM
    on_disk = json.loads((tmp_path / SETTINGS_FILE).read_text())
    assert on_disk["quality"]["global"] == 72
    assert on_disk["outputFormat"] == "webp"


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert SettingsStore(tmp_path / "never-created").load() == ImageSettings()


def test_save_creates_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    SettingsStore(folder).save(CUSTOM)
    assert (folder / SETTINGS_FILE).is_file()


def test_environment_variable_chooses_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    store = SettingsStore()
    assert store.path == tmp_path / SETTINGS_FILE
    store.save(CUSTOM)
    assert (tmp_path / SETTINGS_FILE).is_file()


# Each store: its class, its default, and a value to save.
SETTINGS = (SettingsStore, ImageSettings(), CUSTOM)
PREFERENCES = (PreferencesStore, AppPreferences(), AppPreferences(workers=3))


@pytest.mark.parametrize(
    ("store", "content", "logged"),
    [
        (SETTINGS, b"\x00\xff{not json", "settings corrupt"),
        (SETTINGS, b'{"quality": {"global": 500}}', "quality.global = 500"),
        (SETTINGS, b'{"outputFormat": "gif"}', 'outputFormat = "gif"'),
        (SETTINGS, b"", "settings corrupt"),
        (PREFERENCES, b'{"workers": 0}', "workers = 0"),
        (PREFERENCES, b'{"workers": "all"}', 'workers = "all"'),
        (PREFERENCES, b"[1, 2", "preferences corrupt"),
    ],
)
def test_corrupt_file_gives_defaults_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, store: tuple[type[JsonStore[Any]], Any, Any],
    content: bytes, logged: str,
) -> None:
    kind, default, value = store
    path = kind(tmp_path).path
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="backend.settings_store"):
        assert kind(tmp_path).load() == default
    assert logged in caplog.text
    # Left for the person to inspect; the next save replaces it.
    assert path.read_bytes() == content
    kind(tmp_path).save(value)
    assert kind(tmp_path).load() == value


def test_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    for quality in (10, 20, 30):
        store.save(ImageSettings(quality=QualitySettings(global_=quality)))
    assert sorted(p.name for p in tmp_path.iterdir()) == [SETTINGS_FILE]
    assert store.load().quality.global_ == 30


def test_failed_save_keeps_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(tmp_path)
    store.save(CUSTOM)
    before = (tmp_path / SETTINGS_FILE).read_bytes()

    def crash(src: str, dst: str) -> None:  # the moment between writing and renaming
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OutputError, match="No space left on device"):
        store.save(ImageSettings())
    monkeypatch.undo()
    assert (tmp_path / SETTINGS_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [SETTINGS_FILE]
    assert msgspec.json.decode(before, type=ImageSettings) == CUSTOM


def test_preferences_sit_beside_the_settings_and_survive_a_new_store(tmp_path: Path) -> None:
    assert PreferencesStore(tmp_path).load() == AppPreferences()
    PreferencesStore(tmp_path).save(AppPreferences(workers=3))
    SettingsStore(tmp_path).save(CUSTOM)
    assert PreferencesStore(tmp_path).load() == AppPreferences(workers=3)
    assert json.loads((tmp_path / PREFERENCES_FILE).read_text()) == {
        "workers": 3, "recursiveDrops": True, "language": None}
    assert SettingsStore(tmp_path).load() == CUSTOM


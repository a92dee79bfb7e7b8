"""What the user chose, kept between launches: ImageSettings and AppPreferences.

Decisions:
- One JSON file each, ``settings.json`` and ``preferences.json``, in the user config dir
  (platformdirs: ``~/.config/image-optimizer`` on Linux). ``IMAGE_OPTIMIZER_CONFIG_DIR``
  overrides the folder so tests and portable setups never touch the real one.
- Written atomically and synced (``core/atomic_write.py``, the writer outputs use), so a crash
  mid-save leaves the previous settings, never half a file.
- A file that cannot be read or no longer validates (hand-edited, truncated, from a future
  version) gives the defaults and a logged warning; it is left in place for the person to inspect
  and is replaced by the next save. Settings are a convenience: they must never stop the app.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgspec

from backend.app_dirs import config_dir
from backend.core.atomic_write import write_atomically
from backend.errors import OutputError, ValidationError
from backend.types import AppPreferences, ImageSettings
from backend.validation import decode_preferences, decode_settings

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
PREFERENCES_FILE = "preferences.json"
T = TypeVar("T")


class JsonStore(Generic[T]):
    """Load and save one validated value in one JSON file; safe to call from several threads."""

    def __init__(self, filename: str, decode: Callable[[Any], T], default: Callable[[], T],
                 what: str, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / filename
        self._decode = decode
        self._default = default
        self._what = what
        self._lock = threading.Lock()

    def load(self) -> T:
        with self._lock:
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return self._default()
            except OSError as exc:
                log.warning("%s unreadable, using defaults: path=%s error=%s", self._what,
                            self.path, exc)
                return self._default()
            try:
                return self._decode(msgspec.json.decode(raw))
            except (msgspec.DecodeError, ValidationError) as exc:
                log.warning("%s corrupt, using defaults: path=%s error=%s", self._what,
                            self.path, exc)
                return self._default()

    def save(self, value: T) -> T:
        data = msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(str(self.path), data, sync=True)
            except OSError as exc:
                raise OutputError(f"cannot save {self._what} to {self.path}: {exc}") from exc
        return value


class SettingsStore(JsonStore[ImageSettings]):
    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(SETTINGS_FILE, decode_settings, ImageSettings, "settings", directory)


class PreferencesStore(JsonStore[AppPreferences]):
    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(PREFERENCES_FILE, decode_preferences, AppPreferences, "preferences",
                         directory)

"""The user's saved ImageSettings, kept between launches.

Decisions:
- One JSON file, ``settings.json``, in the user config dir (platformdirs:
  ``~/.config/image-optimizer`` on Linux). ``IMAGE_OPTIMIZER_CONFIG_DIR`` overrides the folder so
  tests and portable setups never touch the real one.
- Written atomically: a temporary file in the same folder, fsync, then ``os.replace``, so a crash
  mid-save leaves the previous settings, never half a file.
- A file that cannot be read or no longer validates (hand-edited, truncated, from a future
  version) gives the defaults and a logged warning; it is left in place for the person to inspect
  and is replaced by the next save. Settings are a convenience: they must never stop the app.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import msgspec
import platformdirs

from backend.errors import OutputError, ValidationError
from backend.types import ImageSettings
from backend.validation import decode_settings

log = logging.getLogger(__name__)

APP_DIR_NAME = "image-optimizer"
CONFIG_DIR_ENV = "IMAGE_OPTIMIZER_CONFIG_DIR"
SETTINGS_FILE = "settings.json"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))


class SettingsStore:
    """Load and save one ImageSettings; safe to call from several threads."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / SETTINGS_FILE
        self._lock = threading.Lock()

    def load(self) -> ImageSettings:
        with self._lock:
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return ImageSettings()
            except OSError as exc:
                log.warning("settings unreadable, using defaults: path=%s error=%s", self.path, exc)
                return ImageSettings()
            try:
                return decode_settings(msgspec.json.decode(raw))
            except (msgspec.DecodeError, ValidationError) as exc:
                log.warning("settings corrupt, using defaults: path=%s error=%s", self.path, exc)
                return ImageSettings()

    def save(self, settings: ImageSettings) -> ImageSettings:
        data = msgspec.json.format(msgspec.json.encode(settings), indent=2) + b"\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(
                    dir=self.path.parent, prefix=f".{SETTINGS_FILE}.", suffix=".tmp"
                )
            except OSError as exc:
                raise OutputError(f"cannot save settings in {self.path.parent}: {exc}") from exc
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise OutputError(f"cannot save settings to {self.path}: {exc}") from exc
        return settings

"""The app's folders in the user's home: settings (config), replace backups (data), cache.

platformdirs gives the platform's places (``~/.config/image-optimizer`` and
``~/.local/share/image-optimizer`` on Linux); an environment variable overrides each, so tests
and portable setups never touch the real ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_DIR_NAME = "image-optimizer"
CONFIG_DIR_ENV = "IMAGE_OPTIMIZER_CONFIG_DIR"
DATA_DIR_ENV = "IMAGE_OPTIMIZER_DATA_DIR"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(
        platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(
        platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


CACHE_DIR_ENV = "IMAGE_OPTIMIZER_CACHE_DIR"


def cache_dir() -> Path:
    """Things the app can rebuild (the compiled jpegli shim): ``~/.cache/image-optimizer``."""
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override) if override else Path(
        platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False))

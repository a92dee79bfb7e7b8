"""The watched folders, kept between launches in ``watch-folders.json`` beside the settings
(``backend/settings_store.py``'s JsonStore: atomic, a corrupt file gives an empty list)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.settings_store import JsonStore
from backend.validation import convert
from backend.watch.model import WatchFolders

WATCH_FILE = "watch-folders.json"


def _decode(raw: Any) -> WatchFolders:
    return convert(raw, WatchFolders, what="watch folders")


class WatchStore(JsonStore[WatchFolders]):
    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(WATCH_FILE, _decode, WatchFolders, "watch folders", directory)

"""The watch service's payloads: a watched folder as saved, and the status the page and the CLI
read. msgspec Structs, as every payload that crosses a boundary (``backend/types.py`` holds the
image contract; these are the watch commands' own shapes, as ``commands.py`` keeps its own)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from backend.types import ImageSettings

# watching: armed; missing: the folder is gone; unreadable: it is there but cannot be listed;
# stopped: another process owns the ledger, so this one does not watch.
FolderState = Literal["watching", "missing", "unreadable", "stopped"]
ItemStatus = Literal["optimized", "failed"]


class WatchFolder(Struct, forbid_unknown_fields=True, kw_only=True):
    """One watched folder with the options its images get (copied when it was added)."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    path: Annotated[str, Meta(min_length=1)]
    recursive: bool = False
    settings: ImageSettings = field(default_factory=ImageSettings)


class WatchFolders(Struct, forbid_unknown_fields=True, kw_only=True):
    """What ``watch-folders.json`` holds."""

    folders: list[WatchFolder] = field(default_factory=list)


class ActivityItem(Struct, kw_only=True):
    """One file the watch handled, newest first in :class:`WatchStatus`."""

    seq: int  # increases by one per item: the page tells new items by it
    at: float  # seconds since the epoch
    folderId: str
    path: str
    fileName: str
    status: ItemStatus
    originalSize: int = 0
    optimizedSize: int = 0
    savedBytes: int = 0
    compressionRatio: float = 0.0
    optimizedPath: str | None = None
    error: str | None = None
    errorKind: str | None = None  # the error's kind, which the page has a sentence for


class FolderStatus(Struct, kw_only=True):
    id: str
    path: str
    recursive: bool
    settings: ImageSettings
    state: FolderState
    message: str | None  # why it is not watching, for the person
    optimized: int  # since the service started
    failed: int
    savedBytes: int
    waiting: int  # files seen and not yet complete (size or date still changing)
    working: int  # files in the pool now


class WatchStatus(Struct, kw_only=True):
    # False when another Image Optimizer process holds the ledger (then nothing is watched here).
    running: bool
    message: str | None
    folders: list[FolderStatus]
    recent: list[ActivityItem]

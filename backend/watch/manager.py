"""The app's watch folders: the saved list around one running WatchService.

Decisions:
- The list is the user's (``watch-folders.json`` in the config folder) and is watched while the
  window (or ``image-optimizer serve``) runs. Each folder keeps the options it was added with
  (the page sends the Options menu's settings at that moment); changing the Options menu later
  does not change what a watched folder does: remove and add it again for that.
- One process watches: the ledger's lock (``ledger.py``). A second window, or the app while
  ``image-optimizer watch`` runs on the same ledger, shows the list with every folder
  ``stopped`` and the reason, and refuses to add or remove (the running one would not know).
- Checked at the door: the path is made absolute (``~`` expanded) and resolved through
  symlinks; it must be an existing folder; a folder already watched, a filesystem root with
  sub-folders, and a folder inside a watched recursive folder's ``optimized/`` output are
  refused with a message naming the path.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from backend.core.discovery import is_own_output
from backend.errors import ValidationError
from backend.types import ImageSettings
from backend.watch.activity import Activity
from backend.watch.ledger import Ledger, LedgerBusyError
from backend.watch.model import FolderStatus, WatchFolder, WatchFolders, WatchStatus
from backend.watch.service import WatchService
from backend.watch.store import WatchStore

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer


class WatchManager:
    def __init__(self, optimizer: ImageOptimizer, *, store: WatchStore | None = None,
                 ledger_path: Path | None = None, settle: float | None = None) -> None:
        self._optimizer = optimizer
        self._store = store or WatchStore()
        self._ledger_path = ledger_path
        self._settle = settle
        self._service: WatchService | None = None
        self._why_not: str | None = None

    def start(self) -> None:
        try:
            ledger = Ledger(self._ledger_path)
        except LedgerBusyError as exc:
            self._why_not = exc.message
            return
        extra = {} if self._settle is None else {"settle": self._settle}
        self._service = WatchService(self._optimizer, ledger, activity=Activity(), **extra)
        self._service.start()
        for folder in self._store.load().folders:
            self._service.add(folder)

    def stop(self) -> None:
        if self._service is not None:
            self._service.stop()
            self._service.ledger.close()
            self._service = None

    def status(self) -> WatchStatus:
        if self._service is not None:
            return self._service.status()
        folders = [FolderStatus(id=f.id, path=f.path, recursive=f.recursive, settings=f.settings,
                                state="stopped", message=self._why_not, optimized=0, failed=0,
                                savedBytes=0, waiting=0, working=0)
                   for f in self._store.load().folders]
        return WatchStatus(running=False, message=self._why_not, folders=folders, recent=[])

    def add(self, path: str, recursive: bool, settings: ImageSettings) -> WatchStatus:
        service = self._running()
        folder = WatchFolder(id=secrets.token_hex(6), path=self._checked(path, recursive),
                             recursive=recursive, settings=settings)
        saved = self._store.load()
        self._store.save(WatchFolders(folders=[*saved.folders, folder]))
        service.add(folder)
        return service.status()

    def remove(self, folder_id: str) -> WatchStatus:
        service = self._running()
        saved = self._store.load()
        kept = [f for f in saved.folders if f.id != folder_id]
        if len(kept) == len(saved.folders):
            raise ValidationError(f"Invalid id = {folder_id!r}: no watched folder has it")
        self._store.save(WatchFolders(folders=kept))
        service.remove(folder_id)
        return service.status()

    def _running(self) -> WatchService:
        if self._service is None:
            raise LedgerBusyError(self._why_not or "watching is not running")
        return self._service

    def _checked(self, path: str, recursive: bool) -> str:
        real = os.path.realpath(os.path.expanduser(path))
        if not os.path.isdir(real):
            raise ValidationError(f"Invalid path = {path!r}: not an existing folder")
        if recursive and os.path.dirname(real) == real:
            raise ValidationError(f"Invalid path = {path!r}: a whole drive cannot be watched "
                                  "with its sub-folders; choose a folder inside it")
        for folder in self._running().folders():
            if folder.path == real:
                raise ValidationError(f"Invalid path = {path!r}: already watched")
            if real.startswith(folder.path + os.sep) and is_own_output(
                    os.path.join(real, "_"), folder.path, folder.settings):
                raise ValidationError(f"Invalid path = {path!r}: it holds the results of the "
                                      f"watched folder {folder.path}")
        return real

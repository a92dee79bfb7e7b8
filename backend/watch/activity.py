"""What the watch did lately, for the window's activity list and the CLI's lines.

Decisions: the last ``RECENT_KEPT`` files (newest first) and per-folder counts since the
service started; the ledger keeps the lasting record. Each item has a sequence number so a page
that polls shows only what is new, and a listener (the CLI) gets every item as it happens.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from msgspec import Struct

from backend.types import OptimizationResult
from backend.watch.model import ActivityItem, ItemStatus

log = logging.getLogger(__name__)

RECENT_KEPT = 100


class Counts(Struct):
    optimized: int = 0
    failed: int = 0
    savedBytes: int = 0


class Activity:
    def __init__(self, listener: Callable[[ActivityItem], None] | None = None) -> None:
        self._recent: deque[ActivityItem] = deque(maxlen=RECENT_KEPT)
        self._counts: dict[str, Counts] = {}
        self._seq = 0
        self._lock = threading.Lock()
        self._listener = listener

    def result(self, folder_id: str, result: OptimizationResult) -> None:
        status: ItemStatus = "optimized" if result.success else "failed"
        self._add(folder_id, result.original_path, status, result=result, error=result.error,
                  error_kind=result.errorKind)

    def _add(self, folder_id: str, path: str, status: ItemStatus, *,
             result: OptimizationResult | None = None, error: str | None = None,
             error_kind: str | None = None) -> None:
        with self._lock:
            self._seq += 1
            item = ActivityItem(seq=self._seq, at=time.time(), folderId=folder_id, path=path,
                                fileName=os.path.basename(path), status=status, error=error,
                                errorKind=error_kind)
            if result is not None and result.success:
                item.originalSize = result.original_size
                item.optimizedSize = result.optimized_size
                item.savedBytes = result.savedBytes
                item.compressionRatio = result.compressionRatio
                item.optimizedPath = result.optimized_path
            self._recent.appendleft(item)
            counts = self._counts.setdefault(folder_id, Counts())
            if status == "optimized":
                counts.optimized += 1
                counts.savedBytes += item.savedBytes
            else:
                counts.failed += 1
        if status == "failed":
            log.warning("watch: %s %s: %s", status, path, error)
        if self._listener is not None:
            self._listener(item)

    def counts(self, folder_id: str) -> Counts:
        with self._lock:
            found = self._counts.get(folder_id)
            return Counts() if found is None else Counts(
                found.optimized, found.failed, found.savedBytes)

    def recent(self) -> list[ActivityItem]:
        with self._lock:
            return list(self._recent)

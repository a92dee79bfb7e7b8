"""Filesystem events from ``watchdog``, reduced to "look at this path" for the service.

Decisions:
- Created, modified, closed and moved-in files all say the same thing: this path may hold a
  new version; the stability check and the ledger decide the rest. A move names its
  destination, so a renamed or moved-in file counts as new (its path is new to the ledger).
- A folder created or moved in is scanned whole: files moved in with it send no events of
  their own.
- Events are queued (thread-safe) and handled on the service's loop thread; the observer's own
  thread does no I/O beyond the put.
- Deleting a watched folder makes inotify drop its watch; :meth:`Events.unarm` /
  :meth:`Events.arm` let the service re-arm it when the folder comes back.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from typing import Literal

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

log = logging.getLogger(__name__)

Kind = Literal["file", "folder"]


class _Handler(FileSystemEventHandler):
    def __init__(self, out: queue.SimpleQueue[tuple[Kind, str]]) -> None:
        self._out = out

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            path = event.dest_path
        elif isinstance(event, FileCreatedEvent | FileModifiedEvent | FileClosedEvent
                        | DirCreatedEvent):
            path = event.src_path
        else:
            return  # deletions, opens, folder modifications: nothing new to optimize
        path = path.decode() if isinstance(path, bytes) else path
        self._out.put(("folder" if event.is_directory else "file", path))


class Events:
    """One observer thread for every watched folder."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Kind, str]] = queue.SimpleQueue()
        self._handler = _Handler(self.queue)
        self._observer = Observer()
        self._observer.daemon = True
        self._watches: dict[str, ObservedWatch] = {}
        self._started = False

    def start(self) -> None:
        self._observer.start()
        self._started = True

    def arm(self, folder: str, recursive: bool) -> None:
        """Watch ``folder``; raises OSError when it cannot be watched (gone, unreadable)."""
        self.unarm(folder)
        self._watches[folder] = self._observer.schedule(self._handler, folder,
                                                        recursive=recursive)

    def unarm(self, folder: str) -> None:
        watch = self._watches.pop(folder, None)
        if watch is not None:
            # The kernel may have dropped the watch already (the folder was deleted).
            with contextlib.suppress(KeyError, OSError):
                self._observer.unschedule(watch)

    def stop(self) -> None:
        if self._started:
            self._observer.stop()
            self._observer.join(5.0)
            self._started = False

    def drain(self) -> list[tuple[Kind, str]]:
        items = []
        with contextlib.suppress(queue.Empty):
            while True:
                items.append(self.queue.get_nowait())
        return items

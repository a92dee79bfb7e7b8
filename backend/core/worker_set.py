"""The pool's worker processes by slot: which are alive, which died and wait to be closed, and
what the dispatcher's selector must watch.

Slots are numbered 0..size-1; a replacement takes its predecessor's slot, so per-slot figures
(the benchmark report) follow a seat, not a process. After the pool shrinks, workers in slots at
or above the new size are surplus (``PoolState`` retires them).

Not thread-safe on its own: the pool calls it under its lock. Only the dispatcher thread passes
its selector to ``watch``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import selectors
import tempfile
from collections.abc import Iterator
from typing import Any

from backend.core.worker_handle import WorkerHandle

log = logging.getLogger(__name__)

# The forkserver listens on an AF_UNIX socket under the temp dir; socket paths are limited to 107
# bytes and multiprocessing adds ~40, so a long TMPDIR would make every worker fail to start.
_MAX_FORKSERVER_TMPDIR = 60


def start_method() -> str:
    """forkserver where it exists and its socket path fits, else spawn (see pool.py)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    if len(tempfile.gettempdir().encode()) > _MAX_FORKSERVER_TMPDIR:
        log.info("temp dir path too long for a forkserver socket; using spawn")
        return "spawn"
    return "forkserver"


class WorkerSet:
    def __init__(self) -> None:
        self._live: dict[int, WorkerHandle] = {}
        self._dead: list[WorkerHandle] = []  # exited or killed; closed once reaped
        self._changed = True  # the selector must be brought up to date

    def __iter__(self) -> Iterator[WorkerHandle]:
        return iter(self._live.values())

    def __len__(self) -> int:
        return len(self._live)

    def is_current(self, handle: WorkerHandle) -> bool:
        """False for a handle that was removed (killed by a cancel) while the selector waited."""
        return self._live.get(handle.slot) is handle

    def missing(self, size: int) -> list[int]:
        return [slot for slot in range(size) if slot not in self._live]

    def add(self, handle: WorkerHandle) -> None:
        self._live[handle.slot] = handle
        self._changed = True

    def remove(self, handle: WorkerHandle) -> None:
        """A worker that exited or was killed: out of service, closed once reaped."""
        del self._live[handle.slot]
        self._dead.append(handle)
        self._changed = True

    def stopped_reading(self) -> None:
        """A worker's result pipe hit EOF: stop watching it (its sentinel still reports)."""
        self._changed = True

    def ready_count(self) -> int:
        return sum(w.ready and not w.retiring for w in self._live.values())

    def watch(self, selector: selectors.BaseSelector) -> None:
        """Register each live worker's results pipe and sentinel (data: (handle, is_sentinel));
        entries of removed workers go, before ``bury`` closes their pipes."""
        if not self._changed:
            return
        self._changed = False
        wanted: dict[Any, tuple[WorkerHandle, bool]] = {}
        for handle in self._live.values():
            if not handle.eof:
                wanted[handle.results] = (handle, False)
            wanted[handle.process.sentinel] = (handle, True)
        for key in list(selector.get_map().values()):
            if key.data is not None and wanted.get(key.fileobj) != key.data:
                selector.unregister(key.fileobj)
        for obj, data in wanted.items():
            with contextlib.suppress(KeyError):
                if selector.get_key(obj).data == data:
                    continue
            selector.register(obj, selectors.EVENT_READ, data)

    def bury(self) -> None:
        """Close the pipes and process objects of dead workers the kernel has reaped."""
        still_running = []
        for handle in self._dead:
            if handle.process.exitcode is None:  # a kill not reaped yet (stuck in I/O)
                still_running.append(handle)
                continue
            handle.close()
            handle.process.close()
        self._dead = still_running

    def take_all(self) -> list[WorkerHandle]:
        """Every handle, live and dead, for shutdown; the set is empty afterwards."""
        handles = [*self._live.values(), *self._dead]
        self._live.clear()
        self._dead.clear()
        return handles

"""When a file is complete: its size, mtime and inode unchanged for ``settle`` seconds.

Decisions:
- Stability, not the writer's close: a copy tool, a browser download or a camera app may close
  and reopen the file between chunks (or write through a temporary name and rename it in), so
  "closed" does not mean "complete"; bytes that stopped changing for a while do. The default
  settle time is 1 s, far above the gap between writes of any copy that is still running, and
  short enough to feel immediate; ``image-optimizer watch --settle S`` changes it.
- An event for a waiting file (written again) restarts its clock; a file that disappears
  while waiting (deleted, moved away) is dropped.
- An empty file waits ``EMPTY_SETTLE_FACTOR`` times longer: a placeholder a program created and
  will fill is common, an empty image that stays empty is a mistake reported after that wait.
- No threads and no clock of its own: the service (or a test) says what time it is.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.watch.ledger import Stat

DEFAULT_SETTLE = 1.0
EMPTY_SETTLE_FACTOR = 5


class _Waiting:
    __slots__ = ("folder", "since", "stat")

    def __init__(self, folder: str, stat: Stat | None, since: float) -> None:
        self.folder = folder
        self.stat = stat
        self.since = since


class StabilityTracker:
    def __init__(self, settle: float = DEFAULT_SETTLE,
                 stat: Callable[[str], Stat] = Stat.of) -> None:
        self.settle = settle
        self._stat = stat
        self._waiting: dict[str, _Waiting] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, path: str) -> bool:
        return path in self._waiting

    def waiting_in(self, folder: str) -> int:
        return sum(1 for w in self._waiting.values() if w.folder == folder)

    def seen(self, path: str, folder: str, now: float) -> None:
        """An event (or a scan) saw ``path``, a file of watched folder ``folder``."""
        waiting = self._waiting.get(path)
        if waiting is None:
            self._waiting[path] = _Waiting(folder, None, now)
        else:
            waiting.since = now

    def forget(self, path: str) -> None:
        self._waiting.pop(path, None)

    def forget_folder(self, folder: str) -> None:
        for path in [p for p, w in self._waiting.items() if w.folder == folder]:
            del self._waiting[path]

    def complete(self, now: float, busy: Callable[[str], bool]) -> list[tuple[str, str, Stat]]:
        """Files complete by ``now``: (path, folder, stat), taken off the list. ``busy(path)``:
        a version of it is in the pool right now, so this one waits its turn."""
        ready = []
        for path, waiting in list(self._waiting.items()):
            try:
                stat = self._stat(path)
            except OSError:
                del self._waiting[path]  # gone, or no longer a file we can see
                continue
            if stat != waiting.stat:
                waiting.stat, waiting.since = stat, now
                continue
            settle = self.settle * (EMPTY_SETTLE_FACTOR if stat.size == 0 else 1)
            if now - waiting.since >= settle and not busy(path):
                del self._waiting[path]
                ready.append((path, waiting.folder, stat))
        return ready

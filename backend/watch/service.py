"""WatchService: watched folders in, optimized images out, through the app's ImageOptimizer.

One loop thread does the bookkeeping every ``TICK`` seconds: it takes the filesystem events,
checks each folder's health, rescans now and then, asks the stability tracker which files are
complete, and hands those to the optimizer, one batch per folder per tick, each on its own
thread (``optimize_images`` blocks; batches from several threads share the pool, see
``core/scheduler.py``). When a batch returns, the ledger and the activity learn its results.

Decisions:
- Which files: those named as a supported image (``.jpg``, ``.png``, …, any case), directly in
  the folder or, with ``recursive``, below it. Anything else is left alone silently: a watched
  Downloads or Screenshots folder holds documents and half-downloaded ``.part`` or
  ``.crdownload`` files, and listing each as skipped would bury what matters. A file named as
  an image whose content is not one gets the batch's per-file error ("not an image").
- Never our own outputs: the batch rules of ``core/discovery.py`` (hidden files, ``optimized/``
  and hidden folders, the output folder inside the tree, the beside suffix) plus the ledger's
  output rows (``ledger.py``), which cover ``replace`` writing over or next to its input.
- A nested watched folder's own options win for its files (the deepest watched folder).
- Several watched folders writing into one output folder (``watch A B --out OUT``) mirror
  their trees from their common folder, as ``optimize A B --out OUT`` does: ``OUT/A/x.jpg`` and
  ``OUT/B/x.jpg``, never one over the other.
- Rescan: at start and when a folder is (re-)armed, then every ``DEFAULT_RESCAN`` seconds, as a
  safety net for missed events (an inotify queue overflow, a network filesystem that sends
  none). It only stats: a file is read (hashed) once it is complete and unknown to the ledger.
- Health: every ``HEALTH_INTERVAL`` seconds each folder is checked; one that disappears or can
  no longer be listed is reported (state ``missing`` / ``unreadable`` with a message, a logged
  warning) and unwatched; when it is back it is re-armed and rescanned.
- Progress: a watch batch's events are the optimizer's usual ``image_optimization_progress``
  events marked ``source: "watch"``, so the page's drop-zone progress ignores them (a burst
  arriving while the person runs a batch must not take over its progress arc) and the watch
  panel refreshes on them.
- Stopping (``stop``) cancels what is in the pool: the pool leaves no partial file, and the
  cancelled images have no ledger row, so the next start does them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.core.discovery import SUPPORTED_EXTENSIONS, is_own_output
from backend.errors import OptimizerError
from backend.types import OptimizationResult, ProgressEvent, Task
from backend.watch.activity import Activity
from backend.watch.events import Events
from backend.watch.ledger import Ledger, Stat, content_hash
from backend.watch.model import FolderState, FolderStatus, WatchFolder, WatchStatus
from backend.watch.stability import DEFAULT_SETTLE, StabilityTracker

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer

log = logging.getLogger(__name__)

TICK = 0.1
HEALTH_INTERVAL = 1.0
DEFAULT_RESCAN = 30.0
STOP_TIMEOUT = 30.0


@dataclass
class _Armed:
    folder: WatchFolder
    state: FolderState = "missing"
    message: str | None = None


@dataclass(frozen=True)
class _Item:
    path: str
    stat: Stat
    sha256: str


def _health(path: str) -> tuple[FolderState, str | None]:
    if not os.path.isdir(path):
        return "missing", f"folder not found: {path} (watching resumes when it is back)"
    try:
        with os.scandir(path) as entries:
            next(entries, None)
    except PermissionError:
        return "unreadable", f"permission denied reading {path}"
    except OSError as exc:
        return "unreadable", f"cannot read {path}: {exc.strerror or exc}"
    return "watching", None


class WatchService:
    def __init__(
        self, optimizer: ImageOptimizer, ledger: Ledger, *, settle: float = DEFAULT_SETTLE,
        rescan: float = DEFAULT_RESCAN, activity: Activity | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> None:
        self.optimizer = optimizer
        self.ledger = ledger
        self.activity = activity or Activity()
        self.rescan_interval = rescan
        self._on_progress = on_progress
        self._tracker = StabilityTracker(settle)
        self._events = Events()
        self._folders: dict[str, _Armed] = {}
        self._working: dict[str, str] = {}  # input path -> folder id
        self._batches: set[threading.Thread] = set()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._loop: threading.Thread | None = None

    # ---- the public surface --------------------------------------------------------------

    def start(self) -> None:
        self._events.start()
        self._loop = threading.Thread(target=self._run, name="watch-loop", daemon=True)
        self._loop.start()

    def add(self, folder: WatchFolder) -> None:
        with self._lock:
            self._folders[folder.id] = _Armed(folder)
            self._check_health(self._folders[folder.id], time.monotonic())

    def remove(self, folder_id: str) -> None:
        """Stop watching; images of it already in the pool finish."""
        with self._lock:
            armed = self._folders.pop(folder_id, None)
            if armed is not None:
                self._events.unarm(armed.folder.path)
                self._tracker.forget_folder(folder_id)

    def folders(self) -> list[WatchFolder]:
        with self._lock:
            return [a.folder for a in self._folders.values()]

    def status(self) -> WatchStatus:
        with self._lock:
            folders = []
            for armed in self._folders.values():
                f = armed.folder
                counts = self.activity.counts(f.id)
                folders.append(FolderStatus(
                    id=f.id, path=f.path, recursive=f.recursive, settings=f.settings,
                    state=armed.state, message=armed.message, optimized=counts.optimized,
                    failed=counts.failed, savedBytes=counts.savedBytes,
                    waiting=self._tracker.waiting_in(f.id),
                    working=sum(1 for fid in self._working.values() if fid == f.id)))
        return WatchStatus(running=True, message=None, folders=folders,
                           recent=self.activity.recent())

    def idle(self) -> bool:
        """Nothing waiting to settle, nothing in the pool, no event unhandled."""
        with self._lock:
            return not self._tracker and not self._working and self._events.queue.empty()

    def stop(self) -> None:
        """Stop watching and cancel the watch's images in the pool (no partial files)."""
        self._stopping.set()
        if self._loop is not None:
            self._loop.join(STOP_TIMEOUT)
        self._events.stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            with self._lock:
                batches = list(self._batches)
            if not batches:
                break
            self.optimizer.cancel()  # also catches a batch thread that had not submitted yet
            for thread in batches:
                thread.join(0.2)

    # ---- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        next_health = time.monotonic() + HEALTH_INTERVAL
        next_rescan = time.monotonic() + self.rescan_interval
        while not self._stopping.is_set():
            now = time.monotonic()
            try:
                with self._lock:
                    self._take_events(now)
                    if now >= next_health:
                        next_health = now + HEALTH_INTERVAL
                        for armed in list(self._folders.values()):
                            self._check_health(armed, now)
                    if now >= next_rescan:
                        next_rescan = now + self.rescan_interval
                        for armed in self._folders.values():
                            if armed.state == "watching":
                                self._scan(armed.folder, now)
                    ready = self._tracker.complete(now, self._working.__contains__)
                    self._dispatch(ready)
            except Exception:
                log.exception("watch loop step failed; going on")
            self._stopping.wait(TICK)

    def _check_health(self, armed: _Armed, now: float) -> None:
        state, message = _health(armed.folder.path)
        if state == "watching" and armed.state != "watching":
            try:
                self._events.arm(armed.folder.path, armed.folder.recursive)
            except OSError as exc:
                state, message = "unreadable", f"cannot watch {armed.folder.path}: {exc}"
            else:
                log.info("watching %s (recursive=%s)", armed.folder.path,
                         armed.folder.recursive)
                armed.state, armed.message = state, message
                self._scan(armed.folder, now)
                return
        if state != "watching" and armed.state == "watching":
            log.warning("watch folder lost: %s", message)
            self._events.unarm(armed.folder.path)
            self._tracker.forget_folder(armed.folder.id)
        armed.state, armed.message = state, message

    def _take_events(self, now: float) -> None:
        for kind, path in self._events.drain():
            folder = self._folder_for(path, is_dir=kind == "folder")
            if folder is None:
                continue
            if kind == "folder":
                self._scan(folder, now, path)
            else:
                self._consider(path, folder, now)

    def _folder_for(self, path: str, is_dir: bool = False) -> WatchFolder | None:
        """The deepest watched folder ``path`` belongs to, unless it is one of our outputs."""
        best: WatchFolder | None = None
        for armed in self._folders.values():
            f = armed.folder
            if armed.state != "watching" or not path.startswith(f.path + os.sep):
                continue
            if not f.recursive and os.path.dirname(path) != f.path:
                continue
            if best is None or len(f.path) > len(best.path):
                best = f
        if best is None:
            return None
        probe = os.path.join(path, "_") if is_dir else path
        return None if is_own_output(probe, best.path, best.settings) else best

    def _consider(self, path: str, folder: WatchFolder, now: float) -> None:
        if os.path.splitext(path)[1].lower() not in SUPPORTED_EXTENSIONS:
            return
        try:
            stat = Stat.of(path)
        except OSError:
            return  # gone again (a temporary file renamed away)
        if path in self._tracker or not self.ledger.is_finished(path, stat):
            self._tracker.seen(path, folder.id, now)

    def _scan(self, folder: WatchFolder, now: float, below: str | None = None) -> None:
        """Every candidate file of ``folder`` (or of its sub-folder ``below``) not done yet."""
        for top, dirs, files in os.walk(below or folder.path):
            if not folder.recursive:
                dirs.clear()
            dirs[:] = [d for d in dirs
                       if not is_own_output(os.path.join(top, d, "_"), folder.path,
                                            folder.settings)]
            for name in files:
                path = os.path.join(top, name)
                if self._folder_for(path) is folder and path not in self._working:
                    self._consider(path, folder, now)

    def _dispatch(self, ready: list[tuple[str, str, Stat]]) -> None:
        groups: dict[str, list[_Item]] = {}
        for path, folder_id, stat in ready:
            if folder_id not in self._folders or self.ledger.is_finished(path, stat):
                continue
            try:
                sha256 = content_hash(path)
                still = Stat.of(path)
            except OSError:
                continue  # gone, or unreadable: a new event brings it back
            if still != stat:
                self._tracker.seen(path, folder_id, time.monotonic())  # written again
                continue
            if self.ledger.same_content(path, stat, sha256):
                continue  # touched or copied back with the same bytes
            groups.setdefault(folder_id, []).append(_Item(path, stat, sha256))
        for folder_id, items in groups.items():
            folder = self._folders[folder_id].folder
            for item in items:
                self._working[item.path] = folder_id
            thread = threading.Thread(target=self._run_batch, args=(folder, items),
                                      name="watch-batch", daemon=True)
            self._batches.add(thread)
            thread.start()

    def _run_batch(self, folder: WatchFolder, items: list[_Item]) -> None:
        try:
            if self._stopping.is_set():
                return
            tasks = [Task(input_path=i.path, output_path=None, settings=folder.settings)
                     for i in items]
            try:
                results = self.optimizer.optimize_images(
                    tasks, roots=self._roots(folder), on_progress=self._on_progress,
                    source="watch")
            except OptimizerError as exc:  # the pool is shutting down or broken
                log.warning("watch batch not run: %s", exc.message)
                return
            for item, result in zip(items, results, strict=True):
                if result.status != "cancelled":
                    self._settled(folder, item, result)
        finally:
            with self._lock:
                for item in items:
                    self._working.pop(item.path, None)
                self._batches.discard(threading.current_thread())

    def _roots(self, folder: WatchFolder) -> list[str]:
        """What ``output: folder`` mirrors below the output folder: every watched folder that
        writes into the same one, as ``optimize DIR1 DIR2 --out OUT`` mirrors from their common
        folder (so ``a/x.jpg`` and ``b/x.jpg`` do not land on one ``OUT/x.jpg``)."""
        if folder.settings.output != "folder":
            return [folder.path]
        with self._lock:
            return [a.folder.path for a in self._folders.values()
                    if a.folder.settings.output == "folder"
                    and a.folder.settings.outputFolder == folder.settings.outputFolder
                    ] or [folder.path]

    def _settled(self, folder: WatchFolder, item: _Item, result: OptimizationResult) -> None:
        if not result.success:
            self.ledger.record(item.path, item.stat, item.sha256, "input", "failed",
                               error=result.error)
        elif result.optimized_path == item.path:
            # Replaced in place: remember the bytes now there, so their write is not news.
            self.ledger.record_output(item.path)
        else:
            self.ledger.record(item.path, item.stat, item.sha256, "input", "optimized",
                               output_path=result.optimized_path)
            self.ledger.record_output(result.optimized_path)
        self.activity.result(folder.id, result)

"""``image_optimization_progress`` events: per image, coalesced, delivered from one thread.

Decisions (the SPEC asks for one event per finished image, coalesced when images finish faster
than a UI can draw, the last one always sent):
- At most ``MAX_EVENTS_PER_SECOND`` events per batch. The first image to finish after a quiet
  interval is sent at once; images finishing within the interval after it are folded into one
  event sent when the interval ends (the latest image names it). Two concurrent batches each get
  their own events and counts.
- Counts are exact: ``completedTasks`` = images of the batch settled so far (done, failed or
  cancelled); ``progressPercentage`` = completed * 100 // total, rounded down (the original's).
- Size fields of an event (originalSize, optimizedSize, savedBytes) are sums over the successful
  images it covers, compressionRatio that group's saving. A UI that adds them up, as the
  original's did, gets the batch totals exactly whatever the coalescing.
- formattedMessage as the original's: "photo.jpg optimized (12.34 KB saved / 35% compression)";
  "photo.jpg failed: <error>"; a group: "photo.jpg and 11 more optimized (…)" (+ "; 2 failed").
- The final event comes after every other event of its batch: status "complete", or "error"
  when no image succeeded (every image failed or was cancelled), so a batch of failures never
  looks like success; ``metadata.totalDuration`` in seconds; its formattedMessage summarises the
  batch; ``metadata.error`` is "cancelled" when the batch was cancelled.
- A batch opened with a ``source`` (the watch service's: ``"watch"``) marks its events with it,
  so a page can tell them from the batch it started itself.
- An empty batch sends no event. Listeners run on the hub's thread; one that raises is logged and
  the others still get the event.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable

from backend.human_bytes import format_bytes
from backend.types import (
    EventSource,
    OptimizationResult,
    ProgressEvent,
    ProgressMetadata,
    savings,
)

log = logging.getLogger(__name__)

MAX_EVENTS_PER_SECOND = 30
# The interval is set where events are taken, but a listener stamps them when its call runs,
# a few ms later when another thread holds the GIL. 1 ms per interval is 30 ms of slack over
# a second, so no one-second window a listener sees holds a 31st event (bench: 31 without it).
_JITTER_MARGIN = 0.001
MIN_INTERVAL = 1 / MAX_EVENTS_PER_SECOND + _JITTER_MARGIN
Listener = Callable[[ProgressEvent], None]


def _plural(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


class _Window:
    """The images settled since the last event."""

    __slots__ = ("count", "error", "failed", "name", "ok", "optimized", "original")

    def __init__(self) -> None:
        self.count = self.ok = self.failed = 0
        self.original = self.optimized = 0
        self.name = ""
        self.error: str | None = None

    def message(self) -> str:
        saved, ratio = savings(self.original, self.optimized)
        # Always in KB, as the original's formattedMessage was (its frontend may parse it).
        gains = f"({saved / 1024:.2f} KB saved / {ratio:.0f}% compression)"
        if self.count == 1:
            return f"{self.name} failed: {self.error}" if self.failed else (
                f"{self.name} optimized {gains}")
        head = f"{self.name} and {self.count - 1} more"
        if not self.ok:
            return f"{head} failed (last error: {self.error})"
        return f"{head} optimized {gains}" + (f"; {self.failed} failed" if self.failed else "")


class BatchProgress:
    """The coalescing state of one batch. No threads and no clock of its own: the hub (or a
    test) says what time it is."""

    def __init__(
        self, total: int, started: float, listener: Listener | None = None,
        min_interval: float = MIN_INTERVAL, source: EventSource | None = None,
    ) -> None:
        self.total = total
        self.source = source
        self.started = started
        self.listener = listener
        self.min_interval = min_interval
        self.completed = self.succeeded = self.failed = self.cancelled = 0
        self.original_total = self.optimized_total = 0
        self.last_name = ""
        self.last_error: str | None = None
        self.last_sent = -math.inf
        self.finished_at: float | None = None
        self.final_sent = False
        self.delivered = threading.Event()
        self._window = _Window()

    def record(self, result: OptimizationResult, now: float) -> None:
        self.completed += 1
        if self.completed == self.total:
            self.finished_at = now
        if result.status == "cancelled":
            self.cancelled += 1
            return
        w = self._window
        w.count += 1
        w.name = self.last_name = os.path.basename(result.original_path)
        if result.success:
            self.succeeded += 1
            w.ok += 1
            w.original += result.original_size
            w.optimized += result.optimized_size
            self.original_total += result.original_size
            self.optimized_total += result.optimized_size
        else:
            self.failed += 1
            w.failed += 1
            w.error = self.last_error = result.error or "failed"

    def due(self) -> float | None:
        """When the next event should go out (-inf: now); None when there is nothing to send."""
        if self.final_sent:
            return None
        if self.finished_at is not None:
            return -math.inf
        if self._window.count:
            return self.last_sent + self.min_interval
        return None

    def take(self, now: float) -> ProgressEvent:
        """The event covering everything settled since the previous one."""
        w, self._window = self._window, _Window()
        self.last_sent = now
        saved, ratio = savings(w.original, w.optimized)
        duration = None if self.finished_at is None else round(self.finished_at - self.started, 3)
        final = duration is not None
        message = self._summary() if final else w.message()
        error = w.error
        if final:
            self.final_sent = True
            if self.cancelled:
                error = "cancelled"
            elif not self.succeeded:
                error = self.last_error
        metadata = ProgressMetadata(
            fileName=w.name or self.last_name, originalSize=w.original,
            optimizedSize=w.optimized, savedBytes=saved, compressionRatio=ratio,
            formattedMessage=message, error=error,
            totalDuration=duration,
        )
        status = "processing"
        if final:
            status = "complete" if self.succeeded else "error"
        return ProgressEvent(
            completedTasks=self.completed, totalTasks=self.total,
            progressPercentage=self.completed * 100 // self.total, status=status,
            metadata=metadata, source=self.source,
        )

    def _summary(self) -> str:
        seconds = (self.finished_at or self.started) - self.started
        saved, ratio = savings(self.original_total, self.optimized_total)
        done = (_plural(self.total) if self.succeeded == self.total
                else f"{self.succeeded} of {_plural(self.total)}")
        text = (f"{done} optimized in {seconds:.2f} s "
                f"({format_bytes(saved)} saved / {ratio:.0f}% compression)")
        if self.failed:
            text += f"; {self.failed} failed"
        if self.cancelled:
            text += f"; {self.cancelled} cancelled"
        return text


class ProgressHub:
    """Subscribers, open batches, and the one thread that sends their events."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._listeners: list[Listener] = []
        self._batches: list[BatchProgress] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def open(self, total: int, started: float, listener: Listener | None = None,
             source: EventSource | None = None) -> BatchProgress:
        progress = BatchProgress(total, started, listener, source=source)
        with self._cond:
            self._batches.append(progress)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="image-optimizer-progress", daemon=True
                )
                self._thread.start()
        return progress

    def discard(self, progress: BatchProgress) -> None:
        """Forget a batch that never started (its submission failed)."""
        with self._cond:
            if progress in self._batches:
                self._batches.remove(progress)
            self._cond.notify()

    def record(self, progress: BatchProgress, result: OptimizationResult) -> None:
        with self._cond:
            quiet = progress.due() is None
            progress.record(result, time.monotonic())
            if quiet or progress.finished_at is not None:
                self._cond.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread once every open batch has sent its final event."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed and not self._batches:
                        return
                    now = time.monotonic()
                    dues = [(b, d) for b in self._batches if (d := b.due()) is not None]
                    if any(d <= now for _, d in dues):
                        break
                    self._cond.wait(min(d for _, d in dues) - now if dues else None)
                events = [(b, b.take(now)) for b, d in dues if d <= now]
                self._batches = [b for b in self._batches if not b.final_sent]
                listeners = list(self._listeners)
            for progress, event in events:
                targets = listeners + ([progress.listener] if progress.listener else [])
                for listener in targets:
                    try:
                        listener(event)
                    except Exception:
                        log.exception("progress listener failed",
                                      extra={"listener": getattr(listener, "__name__", "?")})
                if progress.final_sent:
                    progress.delivered.set()

"""The task queue: batches of jobs, the order they go out in, and how they are chunked.

Why dispatch is shaped like this (the pool's cores must stay busy both with a few huge images
and with thousands of tiny ones, and progress must stay smooth):
- Each batch is ordered largest file first (longest-processing-time-first scheduling): big images
  start early, so the last images to finish are small ones and no core idles at the end behind
  one late giant. File size is the cost estimate because a stat is cheap; decoding headers in
  the main process for thousands of files is not.
- A big image (>= ``SMALL_IMAGE_BYTES``) goes out alone. Small images go out in chunks (at most
  ``CHUNK_BYTES`` of files and ``MAX_CHUNK`` images, and never more than a 1/(2·workers) share of
  what is queued, so the tail still spreads over every worker). Each image still reports its own
  result the moment it is done, so chunking never makes progress jumpy.
- A busy worker is fed one assignment ahead (:func:`wants_work`), so it never waits for the
  dispatcher between images: that round trip is only ~0.2 ms, but on a loaded machine waking the
  dispatcher can take a millisecond, which adds up over thousands of images. This happens only
  while at least 2 x workers images are queued: near the end of a batch, work held ahead by one
  busy worker would leave another worker idle (a measured 40 ms tail on a 0.85 s batch). And only
  when the next job is a small image: a big one held ahead is locked to a worker that may still
  be busy for a long time while another goes idle (measured on 18 photos of 3-20 MP: one worker
  idle 18 % of the batch), and the round trip it saves is nothing beside its own encode time.
- Concurrent batches are interleaved: each chunk is taken round-robin from the batches that have
  queued work, so an image submitted while a long batch runs is served within one chunk instead
  of after the whole batch. Each batch keeps its own results and counts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from backend.core.protocol import Done
from backend.types import ImageSettings, OptimizationResult

SMALL_IMAGE_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024
MAX_CHUNK = 32
MAX_OPEN_ASSIGNMENTS = 2  # the one being worked on and one waiting in the worker's pipe


@dataclass(slots=True, eq=False)
class Job:
    index: int  # position in its batch's task list
    input_path: str
    output_path: str
    settings: ImageSettings
    size: int  # input bytes: the cost estimate
    key: int = 0  # pool-wide number, echoed by the worker
    attempts: int = 0  # crashes so far
    enqueued: float = 0.0  # time.monotonic() at submission
    batch: Batch | None = None
    backup: str | None = None  # output "replace": the backup prefix (replace.backup_prefix)
    preview: bool = False  # encode in memory only (core/preview.py); ``original``: its copy too
    original: bool = False

    @property
    def task_id(self) -> str:
        return f"{self.batch.id if self.batch else 0}.{self.index}"


class BatchObserver(Protocol):
    """Told about a batch as it goes. Called under the pool lock: be quick, never call back."""

    def settled(
        self, job: Job, result: OptimizationResult, done: Done | None, slot: int | None,
        pid: int | None,
    ) -> None: ...

    def queue_changed(self, queued: int, now: float) -> None: ...


class Batch:
    def __init__(self, batch_id: int, jobs: list[Job], observer: BatchObserver) -> None:
        self.id = batch_id
        # sorted() is stable: images of equal size keep task order.
        self.queue: deque[Job] = deque(sorted(jobs, key=lambda job: -job.size))
        self.results: list[OptimizationResult | None] = [None] * len(jobs)
        self.pending = len(jobs)
        self.observer = observer
        self.cancelled = False
        self.done = threading.Event()

    def wait(self) -> list[OptimizationResult]:
        self.done.wait()
        return [r for r in self.results if r is not None]


def wants_work(
    open_assignments: int, prefetch: bool, queued: int, workers: int, next_small: bool = True
) -> bool:
    """Whether a ready worker with ``open_assignments`` should get another one now."""
    if not open_assignments:
        return True
    return (prefetch and next_small and open_assignments < MAX_OPEN_ASSIGNMENTS
            and queued >= 2 * workers)


class TaskQueue:
    """Queued jobs of every unfinished batch (not thread-safe: the pool lock guards it)."""

    def __init__(self) -> None:
        self._rotation: deque[Batch] = deque()  # batches with queued jobs, served round-robin
        self.queued = 0

    def add(self, batch: Batch) -> None:
        if batch.queue:
            self._rotation.append(batch)
            self.queued += len(batch.queue)
            batch.observer.queue_changed(len(batch.queue), time.monotonic())

    def next_is_small(self) -> bool:
        return self._rotation[0].queue[0].size < SMALL_IMAGE_BYTES

    def next_chunk(self, workers: int) -> list[Job]:
        batch = self._rotation[0]
        chunk = [batch.queue.popleft()]
        if chunk[0].size < SMALL_IMAGE_BYTES:
            limit = max(1, min(MAX_CHUNK, self.queued // (2 * workers)))
            budget = CHUNK_BYTES - chunk[0].size
            queue = batch.queue
            while queue and len(chunk) < limit and queue[0].size <= budget:
                budget -= queue[0].size
                chunk.append(queue.popleft())
        self.queued -= len(chunk)
        if batch.queue:
            self._rotation.rotate(-1)
        else:
            self._rotation.popleft()
        batch.observer.queue_changed(len(batch.queue), time.monotonic())
        return chunk

    def requeue_front(self, jobs: list[Job]) -> None:
        """Put jobs back at the head of their batches, in the order given."""
        touched: dict[int, Batch] = {}
        for job in reversed(jobs):
            assert job.batch is not None
            job.batch.queue.appendleft(job)
            self.queued += 1
            touched[job.batch.id] = job.batch
        now = time.monotonic()
        for batch in touched.values():
            if batch not in self._rotation:
                self._rotation.appendleft(batch)
            batch.observer.queue_changed(len(batch.queue), now)

    def take_all(self, batch: Batch | None = None) -> list[Job]:
        """Remove and return the queued jobs of ``batch`` (default: of every batch)."""
        batches = list(self._rotation) if batch is None else [batch]
        taken: list[Job] = []
        now = time.monotonic()
        for b in batches:
            taken.extend(b.queue)
            b.queue.clear()
            if b in self._rotation:
                self._rotation.remove(b)
            b.observer.queue_changed(0, now)
        self.queued -= len(taken)
        return taken

    def inputs(self) -> list[str]:
        return [job.input_path for batch in self._rotation for job in batch.queue]

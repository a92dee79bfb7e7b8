"""What ImageOptimizer needs from whatever runs its images: the ``Executor`` contract.

Two implementations: :class:`~backend.core.pool.ProcessPool` (the app and the CLI: warm worker
processes) and :class:`~backend.core.in_process.InProcessExecutor` (fast tests of commands and
progress: the pipeline on one thread of the calling process). Both keep the same promises:
results settle one by one through the batch's observer, ``Batch.wait`` returns them in task
order, cancel settles every cancelled image before it returns, and ``info`` describes the
executor in the same shape.
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct

from backend.core.scheduler import Batch, BatchObserver, Job


class WorkerState(Struct, kw_only=True):
    slot: int
    pid: int
    ready: bool
    current: str | None  # input path of the image in flight
    held: int  # images sent and not reported yet (in flight + fed ahead)


class PoolInfo(Struct, kw_only=True):
    workers: int  # configured size
    alive: int  # worker processes running (warming up or ready)
    ready: int  # warmed up and accepting images
    started: bool
    busy: int  # workers holding at least one image
    queued: int  # images waiting for a worker
    inFlight: int  # images sent to workers and not reported yet
    batches: int  # unfinished batches
    restarts: int  # workers replaced after dying
    startMethod: str
    cpuCount: int
    pids: list[int]
    processes: list[WorkerState]
    broken: str | None = None


class Executor(Protocol):
    start_method: str

    @property
    def size(self) -> int:
        """Workers configured."""

    def start(self, wait: bool = False, timeout: float = 120.0) -> None:
        """Start (idempotent) and, with ``wait``, block until every worker is warm."""

    def submit(self, jobs: list[Job], observer: BatchObserver) -> Batch: ...

    def cancel(self, batch: Batch | None = None) -> int:
        """Cancel ``batch`` (default: every unfinished batch); returns the images cancelled."""

    def resize(self, workers: int) -> None:
        """Run ``workers`` workers from now on (a valid count: checked where it entered)."""

    def active_inputs(self) -> list[str]: ...

    def info(self) -> PoolInfo: ...

    def shutdown(self) -> None:
        """Cancel everything and stop every worker. Idempotent."""

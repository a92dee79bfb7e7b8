"""InProcessExecutor: the pipeline on one thread of the calling process, with the pool's contract.

For fast tests of commands and progress: no process to start or warm, so a test's batch costs
only its images. It runs the same :class:`~backend.core.pool_state.PoolState` as the
:class:`~backend.core.pool.ProcessPool`, with one seat that is this executor's thread, so
ordering, settling, results in task order, progress and cancel follow the same rules.

Decisions:
- One thread, whatever ``size`` says: ``size`` is only reported (and shapes chunking), so a
  test can resize it as the app does.
- ``run`` is the per-image function (default: the real pipeline), so a test can slow it down or
  make it fail without images that do so.
- Cancel cannot stop an encode already running in this process: the image is settled as
  cancelled at once, like the pool's killed ones, and when the encode ends its output is removed,
  so a cancelled image leaves no file here either.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable

from backend.core.executor import PoolInfo, WorkerState
from backend.core.paths import remove_partial_files
from backend.core.pool_state import PoolState, Seat
from backend.core.protocol import Done
from backend.core.scheduler import Batch, BatchObserver, Job
from backend.core.sizing import cpu_count
from backend.core.stage_times import StageTimes
from backend.types import ImageSettings, OptimizationResult

log = logging.getLogger(__name__)

RunImage = Callable[[str, str, ImageSettings, str | None], tuple[OptimizationResult, StageTimes]]


def _pipeline(
    input_path: str, output_path: str, settings: ImageSettings, backup: str | None
) -> tuple[OptimizationResult, StageTimes]:
    from backend.core.pipeline import optimize_file  # loads the codecs on first use only

    return optimize_file(input_path, output_path, settings, backup=backup)


class InProcessExecutor:
    """An :class:`~backend.core.executor.Executor` without processes."""

    start_method = "in-process"

    def __init__(self, workers: int = 1, run: RunImage = _pipeline) -> None:
        self._run_image = run
        self._cond = threading.Condition()
        self._state = PoolState(workers, remove_partials=remove_partial_files)
        self._seat = Seat(0, os.getpid())
        self._seat.ready = True
        self._thread: threading.Thread | None = None

    @property
    def size(self) -> int:
        return self._state.size

    def start(self, wait: bool = False, timeout: float = 120.0) -> None:
        """Start the thread (idempotent); there is nothing to warm, so nothing to wait for."""
        with self._cond:
            self._state.refuse_if_closed()
            if not self._state.started:
                self._state.started = True
                self._thread = threading.Thread(
                    target=self._loop, name="image-optimizer-in-process", daemon=True)
                self._thread.start()

    def submit(self, jobs: list[Job], observer: BatchObserver) -> Batch:
        self.start()
        with self._cond:
            batch = self._state.submit(jobs, observer, time.monotonic())
            self._cond.notify()
        return batch

    def cancel(self, batch: Batch | None = None) -> int:
        with self._cond:
            count, victims = self._state.cancel(batch, [self._seat])
            for victim in victims:
                count += self._state.killed(victim)
            self._cond.notify()
            return count

    def resize(self, workers: int) -> None:
        with self._cond:
            self._state.resize(workers, [])

    def active_inputs(self) -> list[str]:
        with self._cond:
            return self._state.active_inputs([self._seat])

    def info(self) -> PoolInfo:
        with self._cond:
            state, seat = self._state, self._seat
            current = seat.jobs[0].input_path if seat.jobs else None
            return PoolInfo(
                workers=state.size, alive=1, ready=1, started=state.started,
                busy=int(bool(seat.jobs)), queued=state.queue.queued, inFlight=len(seat.jobs),
                batches=len(state.batches), restarts=0, startMethod=self.start_method,
                cpuCount=cpu_count(), pids=[seat.pid],
                processes=[WorkerState(slot=0, pid=seat.pid, ready=True, current=current,
                                       held=len(seat.jobs))],
            )

    def shutdown(self) -> None:
        with self._cond:
            if self._state.closing:
                return
            self._state.closing = True
        self.cancel()
        with self._cond:
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        seat = self._seat
        while True:
            with self._cond:
                while not seat.jobs:
                    if self._state.closing:
                        return
                    if not self._state.dispatch([seat]):
                        self._cond.wait()
                job = seat.jobs[0]
            started = time.monotonic()
            preview = None
            if job.preview:
                from backend.core.preview import preview_file  # loads the codecs on first use

                result, times, preview = preview_file(job.input_path, job.output_path,
                                                      job.settings, original=job.original)
            else:
                result, times = self._run_image(job.input_path, job.output_path, job.settings,
                                                job.backup)
            done = Done(job.key, result, times, started, time.monotonic(), preview)
            with self._cond:
                if not self._state.reported(seat, done) and result.success and not job.preview:
                    # Cancelled while it ran: settled already, so its output must not stay.
                    with contextlib.suppress(OSError):
                        os.remove(job.output_path)

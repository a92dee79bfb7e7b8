"""ImageOptimizer: tasks in, results in task order and progress events out, on an executor.

As the seeds design it, ImageOptimizer drives the pool directly, with no worker-pool layer
between them. It is the engine's one public class; the CLI, the app's commands and the benchmark
all go through it. The executor is a parameter (``backend.core.executor.Executor``): the app and
the CLI pass a :class:`~backend.core.pool.ProcessPool`, fast tests an
:class:`~backend.core.in_process.InProcessExecutor` with the same contract.

Decisions:
- ``optimize_images`` blocks its calling thread and is thread-safe. Batches from several threads
  run at the same time, interleaved chunk by chunk (see scheduler.py); each call gets only its own
  results, and its own events (its counts and totals) — events carry no batch id, so a UI that
  runs two batches at once should pass ``on_progress`` to tell them apart.
- Output paths are resolved in the main process before dispatch (``assign_output_paths``), so
  two images of one batch never race for the same file.
- ``optimize_images`` returns after its final progress event has been delivered, so a caller
  never sees its results before its listeners saw the batch end.
- A ``KeyboardInterrupt`` (or any exception) while waiting cancels that batch — no orphaned work,
  no partial files — and propagates.
- ``cancel()`` cancels every running batch: the UI has one Cancel button.
- Benchmark mode costs nothing when off; when on, ``last_benchmark()`` holds the report of the
  latest benchmarked batch.
- Workers start with forkserver/spawn, which import the main module in each worker: a script
  that creates a ProcessPool must do so under ``if __name__ == "__main__":`` (the
  ``image-optimizer`` entry point and ``python -m backend`` do).
- The worker count is a plain int here: which count (a flag, the environment, a saved setting)
  and whether it is valid is settled where it enters (``backend/worker_count.py``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from backend.core.executor import Executor, PoolInfo
from backend.core.metrics import BenchmarkRecorder, BenchmarkReport
from backend.core.paths import assign_output_paths
from backend.core.previewing import run_preview
from backend.core.progress import BatchProgress, Listener, ProgressHub
from backend.core.protocol import Done
from backend.core.replace import backup_prefix, new_batch
from backend.core.scheduler import Job
from backend.errors import ValidationError
from backend.types import EventSource, ImageSettings, OptimizationResult, PreviewResult, Task

log = logging.getLogger(__name__)

DELIVERY_WAIT = 10.0  # seconds a batch waits for slow listeners to receive its final event


class _BatchObserver:
    """Fans one batch's settled images out to its progress and (optionally) its recorder."""

    def __init__(
        self, hub: ProgressHub, progress: BatchProgress, recorder: BenchmarkRecorder | None
    ) -> None:
        self._hub = hub
        self._progress = progress
        self._recorder = recorder

    def settled(
        self, job: Job, result: OptimizationResult, done: Done | None, slot: int | None,
        pid: int | None,
    ) -> None:
        if self._recorder is not None:
            self._recorder.settled(job, result, done, slot, pid, time.monotonic())
        self._hub.record(self._progress, result)

    def queue_changed(self, queued: int, now: float) -> None:
        if self._recorder is not None:
            self._recorder.queue_changed(queued, now)


def _check_tasks(tasks: object) -> list[Task]:
    if not isinstance(tasks, list | tuple):
        raise ValidationError(f"Invalid tasks: expected a list of Task, got {type(tasks).__name__}")
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise ValidationError(f"Invalid tasks[{i}]: expected a Task, got {type(task).__name__}")
        if not isinstance(task.input_path, str) or not task.input_path:
            raise ValidationError(f"Invalid tasks[{i}]: input_path = {task.input_path!r}: "
                                  "expected a non-empty path")
        if task.output_path is not None and not isinstance(task.output_path, str):
            raise ValidationError(f"Invalid tasks[{i}]: output_path = {task.output_path!r}: "
                                  "expected a path or null")
        if not isinstance(task.settings, ImageSettings):
            raise ValidationError(f"Invalid tasks[{i}]: settings: expected ImageSettings, "
                                  f"got {type(task.settings).__name__}")
    return list(tasks)


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # the pipeline reports the real problem for this image


class ImageOptimizer:
    def __init__(self, executor: Executor, *, backups: Path | None = None) -> None:
        """``backups``: where ``output: replace`` batches keep the originals (default: the user
        data folder, see ``replace.backups_root``)."""
        self._executor = executor
        self._backups = backups
        self._hub = ProgressHub()
        self._benchmark: BenchmarkReport | None = None
        self._benchmark_lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self._executor.size

    def __enter__(self) -> ImageOptimizer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def start(self, wait: bool = False) -> None:
        """Start and warm the workers; at once in the background, or blocking with ``wait``."""
        self._executor.start(wait=wait)

    def optimize_images(
        self, tasks: list[Task], *, roots: list[str] | None = None, benchmark: bool = False,
        on_progress: Listener | None = None, source: EventSource | None = None,
    ) -> list[OptimizationResult]:
        """Optimize every task; results in task order. ``roots``: what was dropped or named, whose
        tree ``output: folder`` mirrors (see ``paths.batch_root``). ``on_progress`` gets this
        batch's events only (on the progress thread), in addition to every subscriber.
        ``source`` marks this batch's events (``"watch"``: the watch service's)."""
        tasks = _check_tasks(tasks)
        if not tasks:
            return []
        outputs = assign_output_paths(tasks, roots)
        replacing = any(t.settings.output == "replace" for t in tasks)
        backups = new_batch(self._backups) if replacing else None
        jobs = [Job(i, t.input_path, out, t.settings, _file_size(t.input_path),
                    backup=None if backups is None or t.settings.output != "replace"
                    else backup_prefix(backups, i))
                for i, (t, out) in enumerate(zip(tasks, outputs, strict=True))]
        started = time.monotonic()
        progress = self._hub.open(len(jobs), started, on_progress, source)
        recorder = None
        if benchmark:
            warm = self._executor.info().ready == self.workers
            recorder = BenchmarkRecorder(self.workers, self._executor.start_method, started,
                                         len(jobs), warm)
        try:
            batch = self._executor.submit(jobs, _BatchObserver(self._hub, progress, recorder))
        except BaseException:
            self._hub.discard(progress)
            raise
        log.info("batch submitted", extra={"batch": batch.id, "images": len(jobs)})
        try:
            results = batch.wait()
        except BaseException:
            self._executor.cancel(batch)
            raise
        finally:
            if backups is not None:
                with contextlib.suppress(OSError):
                    backups.rmdir()  # only when empty: nothing was replaced
        if threading.current_thread() is not self._hub.thread:
            progress.delivered.wait(DELIVERY_WAIT)
        if recorder is not None:
            report = recorder.report(progress.finished_at or time.monotonic())
            with self._benchmark_lock:
                self._benchmark = report
        log.info("batch finished", extra={
            "batch": batch.id, "images": len(results), "succeeded": progress.succeeded,
            "failed": progress.failed, "cancelled": progress.cancelled,
            "seconds": round(time.monotonic() - started, 3)})
        return results

    def optimize_image(self, task: Task) -> OptimizationResult:
        return self.optimize_images([task])[0]

    def preview_image(self, input_path: str, settings: ImageSettings, *,
                      original: bool = False) -> PreviewResult:
        """Encode one image in the pool without writing it (see ``core/previewing.py``)."""
        return run_preview(self._executor, input_path, settings, original=original)

    def subscribe(self, listener: Callable[..., None]) -> Callable[[], None]:
        """Call ``listener(event)`` for every progress event; returns the unsubscribe function."""
        return self._hub.subscribe(listener)

    def active_tasks(self) -> list[str]:
        """Input paths queued or in flight, over every running batch."""
        return self._executor.active_inputs()

    def cancel(self) -> int:
        """Cancel every running batch; returns the number of images cancelled."""
        return self._executor.cancel()

    def info(self) -> PoolInfo:
        return self._executor.info()

    def set_workers(self, workers: int) -> int:
        """Resize the running pool; a batch in progress goes on, no image is dropped. Returns
        the new size."""
        self._executor.resize(workers)
        return workers

    def last_benchmark(self) -> BenchmarkReport | None:
        with self._benchmark_lock:
            return self._benchmark

    def shutdown(self) -> None:
        """Cancel what runs, stop every worker process. Idempotent; also runs at exit."""
        self._executor.shutdown()
        self._hub.close()

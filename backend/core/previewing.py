"""The parent's side of a preview: one job, marked ``preview``, through the same executor and
queue as the batches (``ImageOptimizer.preview_image``).

Decisions:
- A preview is a batch of one that reports to nobody but its caller: no progress events (the
  page's arc belongs to the batch), no benchmark record. It is queued with the running batches
  and served round-robin with them (``scheduler``), so re-tuning stays responsive while a batch
  runs; the window's Cancel cancels it too.
- The would-be output path is resolved by the batch's rules (``assign_output_paths``) and
  reported, so the page can say where Save would write; nothing is written there.
- A failed preview raises the worker's error again in this process, with its kind and message,
  so a command answers it with the usual ``{"kind", "message"}``.
"""

from __future__ import annotations

import os

from backend.core.executor import Executor
from backend.core.paths import assign_output_paths
from backend.core.protocol import Done
from backend.core.scheduler import Job
from backend.errors import PoolError, error_of_kind
from backend.types import ImageSettings, OptimizationResult, PreviewResult, Task


class _PreviewObserver:
    """Keeps the one job's preview; called under the executor's lock."""

    def __init__(self) -> None:
        self.preview: PreviewResult | None = None

    def settled(self, job: Job, result: OptimizationResult, done: Done | None, slot: int | None,
                pid: int | None) -> None:
        if done is not None:
            self.preview = done.preview

    def queue_changed(self, queued: int, now: float) -> None:
        pass


def run_preview(executor: Executor, input_path: str, settings: ImageSettings, *,
                original: bool) -> PreviewResult:
    output_path = assign_output_paths([Task(input_path=input_path, settings=settings)])[0]
    try:
        size = os.stat(input_path).st_size
    except OSError:
        size = 0  # the worker reports the real problem
    job = Job(0, input_path, output_path, settings, size, preview=True, original=original)
    observer = _PreviewObserver()
    batch = executor.submit([job], observer)
    try:
        result = batch.wait()[0]
    except BaseException:
        executor.cancel(batch)
        raise
    if not result.success:
        raise error_of_kind(result.errorKind or "internal", result.error or "preview failed",
                            path=input_path)
    if observer.preview is None:  # success without a payload would be a protocol bug
        raise PoolError(f"the worker sent no preview for {input_path}")
    return observer.preview

"""The pool's state rules, apart from its processes and pipes: unit-tested without either.

:class:`PoolState` decides; :class:`~backend.core.pool.ProcessPool` does the I/O (starting,
killing and joining processes, reading and writing pipes) and holds the lock this state runs
under. The in-process executor runs the same rules with one seat, so both executors settle,
retry, cancel and break the same way.

The rules (from the SPEC and the seeds):
- A batch is numbered, its jobs get pool-wide keys, and it is queued; an empty batch is done at
  once. A shut-down or broken pool refuses new batches.
- Idle seats are fed first, then busy ones one assignment ahead (see ``scheduler.wants_work``);
  surplus seats after a shrink get nothing and are retired as soon as they hold nothing.
- A seat reports its jobs strictly in order; a report for anything but its head job is a
  protocol error (the pool kills that worker).
- A worker that dies while starting counts towards ``STARTUP_FAILURES_BEFORE_BROKEN``; then the
  pool is broken: queued and requeued images fail with a ``pool`` error. A ready worker that
  dies is a restart; the image in flight is retried once (``MAX_ATTEMPTS``), then fails; the
  images it held but had not started go back to the front of the queue untouched. Partial files
  of the image in flight are removed before anything is reported.
- Cancel settles every queued image of the cancelled batches, names the seats holding any of
  their images (to be killed), and, once they are, settles what they held: cancelled images as
  cancelled, the others back to the queue.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

from backend.core.protocol import Done
from backend.core.scheduler import Batch, BatchObserver, Job, TaskQueue, wants_work
from backend.errors import CancelledError, OptimizerError, PoolError, ProcessingError
from backend.types import OptimizationResult

# The pool's log, whichever of its modules keeps the books: one name to filter on.
log = logging.getLogger("backend.core.pool")

MAX_ATTEMPTS = 2  # the first try and one retry after a crash
STARTUP_FAILURES_BEFORE_BROKEN = 3


class Seat:
    """What the pool knows about one worker, without the process: its slot, whether it is warm,
    and the jobs it holds.

    ``jobs`` holds what was sent and not yet reported, in order (its head is in flight);
    ``assignments`` the number of those jobs per assignment still open, so the pool can limit
    how far ahead a worker is fed.
    """

    def __init__(self, slot: int, pid: int) -> None:
        self.slot = slot
        self.pid = pid
        self.ready = False
        self.retiring = False  # surplus after a resize: gets no new work, exits once idle
        self.jobs: deque[Job] = deque()
        self.assignments: deque[int] = deque()

    def job_done(self) -> Job:
        """Pop the job in flight (it was just reported) and close its assignment if complete."""
        self.assignments[0] -= 1
        if self.assignments[0] == 0:
            self.assignments.popleft()
        return self.jobs.popleft()

    def retire(self) -> None:
        self.retiring = True


S = TypeVar("S", bound=Seat)


def _failed(job: Job, error: OptimizerError) -> OptimizationResult:
    """A result for an image no worker produced one for (cancel, crash, broken pool)."""
    return OptimizationResult.failed(job.input_path, job.output_path, error,
                                     original_size=job.size)


class PoolState:
    """Not thread-safe: the executor calls it under its lock."""

    def __init__(
        self, size: int, *, remove_partials: Callable[[str], None],
        on_broken: Callable[[], None] = lambda: None,
    ) -> None:
        self.size = size
        self.started = self.closing = False
        self.broken: str | None = None
        self.restarts = self.startup_failures = 0
        self.queue = TaskQueue()
        self.batches: dict[int, Batch] = {}  # unfinished
        self._keys = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._remove_partials = remove_partials
        self._on_broken = on_broken

    # ── batches ─────────────────────────────────────────────────────────────────────────────

    def refuse_if_closed(self) -> None:
        if self.closing:
            raise PoolError("the worker pool is shut down")

    def submit(self, jobs: list[Job], observer: BatchObserver, now: float) -> Batch:
        self.refuse_if_closed()
        if self.broken:
            raise PoolError(self.broken)
        batch = Batch(next(self._batch_ids), jobs, observer)
        for job in jobs:
            job.key, job.batch, job.enqueued = next(self._keys), batch, now
        if not jobs:
            batch.done.set()
            return batch
        self.batches[batch.id] = batch
        self.queue.add(batch)
        return batch

    def settle(
        self, job: Job, result: OptimizationResult, done: Done | None = None,
        seat: Seat | None = None,
    ) -> None:
        batch = job.batch
        assert batch is not None
        if batch.done.is_set() or batch.results[job.index] is not None:
            return
        batch.results[job.index] = result
        batch.pending -= 1
        try:
            slot, pid = (None, None) if seat is None else (seat.slot, seat.pid)
            batch.observer.settled(job, result, done, slot, pid)
        except Exception:
            log.exception("batch observer failed", extra={"task_id": job.task_id})
        if batch.pending == 0:
            del self.batches[batch.id]
            batch.done.set()

    def active_inputs(self, seats: Iterable[Seat]) -> list[str]:
        flying = [job.input_path for seat in seats for job in seat.jobs]
        return flying + self.queue.inputs()

    # ── feeding seats ───────────────────────────────────────────────────────────────────────

    def accepts_work(self, seat: Seat) -> bool:
        return seat.ready and not seat.retiring and seat.slot < self.size

    def dispatch(self, seats: Iterable[S]) -> list[tuple[S, list[Job]]]:
        """Hand queued jobs to seats: idle ones first, then one assignment ahead for busy ones.
        Returns what each seat got, for the caller to send."""
        seats = list(seats)
        plan: list[tuple[S, list[Job]]] = []
        for prefetch in (False, True):
            for seat in seats:
                if (self.queue.queued and self.accepts_work(seat)
                        and wants_work(len(seat.assignments), prefetch, self.queue.queued,
                                       self.size, self.queue.next_is_small())):
                    chunk = self.queue.next_chunk(self.size)
                    seat.jobs.extend(chunk)
                    seat.assignments.append(len(chunk))
                    plan.append((seat, chunk))
        return plan

    def resize(self, workers: int, seats: Iterable[Seat]) -> bool:
        """Run ``workers`` seats from now on; False when that is the size already."""
        self.refuse_if_closed()
        if workers == self.size:
            return False
        log.info("pool resized", extra={"from": self.size, "to": workers})
        self.size = workers
        for seat in seats:
            self.retire_if_surplus(seat)
        return True

    def retire_if_surplus(self, seat: Seat) -> None:
        """A surplus seat is retired as soon as it holds nothing (it gets no new work)."""
        if seat.slot >= self.size and not seat.jobs and not seat.retiring:
            seat.retire()

    # ── what workers say and do ─────────────────────────────────────────────────────────────

    def worker_ready(self, seat: Seat) -> None:
        seat.ready = True
        self.startup_failures = 0

    def reported(self, seat: Seat, done: Done) -> bool:
        """A seat's result for its job in flight; False when it is not that job."""
        if not seat.jobs or seat.jobs[0].key != done.key:
            return False
        self.settle(seat.job_done(), done.result, done, seat)
        self.retire_if_surplus(seat)
        return True

    def worker_exited(self, seat: Seat, how: str) -> None:
        """A worker died or exited (after what it sent before dying was read)."""
        if seat.retiring and not seat.jobs:
            log.info("surplus worker exited", extra={"pid": seat.pid, "exit": how})
            return
        if not seat.ready:
            self.startup_failed(f"a worker died while starting ({how})")
            return
        self.restarts += 1
        if not seat.jobs:
            log.warning("idle worker died", extra={"pid": seat.pid, "exit": how})
            return
        crashed = seat.jobs.popleft()
        self._remove_partials(crashed.output_path)
        crashed.attempts += 1
        fields = {"pid": seat.pid, "exit": how, "task_id": crashed.task_id,
                  "path": crashed.input_path, "attempt": crashed.attempts}
        leftovers = list(seat.jobs)
        seat.jobs.clear()
        if crashed.attempts < MAX_ATTEMPTS:
            log.warning("worker crashed; retrying the image once", extra=fields)
            leftovers.insert(0, crashed)
        else:
            log.error("worker crashed again; the image failed", extra=fields)
            error = (f"worker crashed while processing {crashed.input_path} ({how}), also on the "
                     "retry: the image may need more memory than is available or trip a codec bug")
            self.settle(crashed, _failed(crashed, ProcessingError(error)))
        self._requeue(leftovers)

    def startup_failed(self, reason: str) -> None:
        self.startup_failures += 1
        log.error("worker failed to start",
                  extra={"reason": reason, "failures": self.startup_failures})
        if self.startup_failures >= STARTUP_FAILURES_BEFORE_BROKEN:
            self.break_(f"worker processes keep failing to start ({reason}); a script that "
                        "starts the pool must do so under `if __name__ == \"__main__\":`")

    def break_(self, reason: str) -> None:
        self.broken = reason
        self._on_broken()
        for job in self.queue.take_all():
            self.settle(job, _failed(job, PoolError(reason)))

    # ── cancel ──────────────────────────────────────────────────────────────────────────────

    def cancel(self, batch: Batch | None, seats: Iterable[S]) -> tuple[int, list[S]]:
        """Cancel ``batch`` (None: every unfinished one): settle its queued images; return how
        many, and the seats holding any of its images (the caller kills them, then calls
        :meth:`killed` for each)."""
        targets = [batch] if batch is not None else list(self.batches.values())
        count = 0
        for target in targets:
            if target.done.is_set():
                continue
            target.cancelled = True
            for job in self.queue.take_all(target):
                count += self._cancel_job(job)
        victims = [seat for seat in seats
                   if any(job.batch is not None and job.batch.cancelled for job in seat.jobs)]
        return count, victims

    def killed(self, seat: Seat) -> int:
        """A seat whose worker was killed by a cancel (and whose last words were read): cancel
        what it held of cancelled batches, requeue the rest. Returns the images cancelled."""
        if seat.jobs:
            self._remove_partials(seat.jobs[0].output_path)
        count = 0
        leftovers = []
        for job in seat.jobs:
            if job.batch is not None and job.batch.cancelled:
                count += self._cancel_job(job)
            else:
                leftovers.append(job)
        seat.jobs.clear()
        seat.assignments.clear()
        self._requeue(leftovers)
        return count

    def _cancel_job(self, job: Job) -> int:
        self.settle(job, _failed(job, CancelledError("cancelled")))
        return 1

    def _requeue(self, jobs: list[Job]) -> None:
        if self.broken:
            for job in jobs:
                self.settle(job, _failed(job, PoolError(self.broken)))
        elif jobs:
            self.queue.requeue_front(jobs)

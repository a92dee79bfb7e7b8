"""The Dask futures in flight: which jobs each holds, and how often Dask started it.

Why starts are counted here and not left to Dask: the scheduler reruns a task whose worker died
up to ``distributed.scheduler.allowed-failures`` times (3 by default, a scheduler setting the
client cannot change). The contract is the local pool's: the work in flight is retried once
elsewhere, then reported failed. Each task logs a "started" event when it begins
(worker_side.py); a running task is never moved by Dask's work stealing, so a second start means
its first worker was lost (the retry). At that second start the client pins the retry to the
worker process running it (``worker_side.RetryGuard``), so when Dask starts it a third time,
elsewhere, the task reports ``lost_twice`` without touching an image and its images fail. Should
a third start still run (the guard had not reached the workers yet), its start event fails the
images and the workers are told to skip it. A start event a dying worker had no time to send
leaves that loss uncounted, and Dask's own limit (a ``KilledWorker`` error) is the backstop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.pool_state import MAX_ATTEMPTS
from backend.core.scheduler import Job


@dataclass(slots=True, eq=False)
class Flight:
    key: str  # the Dask task key
    future: Any  # distributed.Future (typed loosely: distributed is an optional import)
    jobs: list[Job]  # one batch's, in the order the task runs them
    batch_token: str
    worker: str  # the address it was placed on, then the one that started it
    starts: int = 0
    given_up: bool = False

    def unsettled(self) -> list[Job]:
        return [job for job in self.jobs if not settled(job)]

    def started(self) -> bool:
        """Count a start; True when this start exceeds the allowed attempts (give it up)."""
        self.starts += 1
        return self.starts > MAX_ATTEMPTS and not self.given_up


def settled(job: Job) -> bool:
    batch = job.batch
    return batch is None or batch.done.is_set() or batch.results[job.index] is not None

"""DaskExecutor: the engine's :class:`~backend.core.executor.Executor` contract on a Dask cluster.

The batches, their order, chunking, settling and cancel rules are the local pool's
(:class:`~backend.core.pool_state.PoolState` and the scheduler's chunks); only the transport
differs: a chunk of images is one Dask task (``worker_side.run_chunk``), its result one
``ChunkReport`` whose per-image ``Done`` settle in order, so results, progress events and the
benchmark are computed by the same code as for the local pool.

Decisions:
- Bounded submission, placed by the client: each task is pinned to a worker with room
  (``placement.py``: one task per worker thread, one more waiting while plenty is queued); the
  next chunk is submitted as one completes. So the scheduler holds a few dozen tasks and the
  client a few dozen futures whatever the batch size (measured flat over 100,000 images,
  bench/cluster.py). Chunks are the local pool's: big images alone, small ones up to 32
  together, never more than a 1/(2·threads) share of what is queued. A worker that leaves has
  its tasks unpinned (``_on_cluster_event``: Dask's "all" topic, which also carries one small
  event per fetched result).
- ``size`` is the cluster's worker threads (each runs one image at a time, as a pool process
  does), looked at again every second while batches run, so workers that join or leave change
  the placement and the chunking; ``resize`` is refused: the cluster's size is its own business.
- Cancel settles queued and in-flight images of the batch as cancelled at once, tells the
  workers to stop those tasks after their current image, and removes any output that a task
  finished after the cancel (the worker does, and the client does again when a late report
  arrives: the filesystem is shared).
- A lost worker: see ``flights.py`` (retried once elsewhere, then reported failed; the retry is
  pinned to the worker process that started it, ``worker_side.RetryGuard``). A lost task's
  first images may have been written already: its retry rewrites them (atomically, same bytes).
- Shutdown cancels, waits (at most ``SHUTDOWN_WAIT``) for the stopped tasks to end, and closes
  the client; the cluster itself lives on (it is not ours).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
import uuid
from collections import Counter
from typing import Any

from backend.cluster import worker_side
from backend.cluster.connect import open_client, wait_for_workers
from backend.cluster.flights import Flight
from backend.cluster.placement import pick_worker
from backend.cluster.protocol import (
    ChunkReport,
    clock_offset,
    decode_report,
    encode_items,
    to_client_clock,
)
from backend.core.executor import PoolInfo, WorkerState
from backend.core.paths import remove_partial_files
from backend.core.pool_state import PoolState
from backend.core.protocol import WorkItem
from backend.core.scheduler import Batch, BatchObserver, Job
from backend.core.sizing import cpu_count
from backend.errors import CancelledError, ClusterError, OptimizerError, ProcessingError
from backend.types import OptimizationResult

log = logging.getLogger(__name__)

# Shutdown waits this long for stopped tasks to end after their current image (a lost scheduler
# never reports them); the cluster goes on without this client either way.
SHUTDOWN_WAIT = 30.0
SIZE_REFRESH = 1.0  # seconds between looks at the cluster's worker threads


def _failed(job: Job, error: OptimizerError) -> OptimizationResult:
    return OptimizationResult.failed(job.input_path, job.output_path, error,
                                     original_size=job.size)


def _item(job: Job) -> WorkItem:
    return WorkItem(job.key, job.input_path, job.output_path, job.settings, job.backup)


class DaskExecutor:
    start_method = "dask"

    def __init__(self, address: str, timeout: float) -> None:
        self.address = address
        self._timeout = timeout
        self._client: Any = None
        self._cond = threading.Condition()
        self._state = PoolState(1, remove_partials=remove_partial_files)
        self._flights: dict[str, Flight] = {}
        self._completed: list[str] = []
        self._to_stop: list[str] = []  # task keys to stop, sent by the dispatcher thread
        self._retries: dict[str, tuple[str, int]] = {}  # retried key -> its (address, pid)
        self._guard_due = False  # the retries changed: the dispatcher re-registers the guard
        self._guarded = False  # a guard was registered (shutdown removes it)
        self._tokens: dict[int, str] = {}  # batch id -> its token (the workers' stop flag)
        self._slots: dict[str, int] = {}  # worker name -> benchmark slot (kept over restarts)
        self._pids: dict[str, int] = {}  # worker address -> pid (the scheduler does not say)
        self._seats: dict[str, int] = {}  # worker address -> its threads
        self._thread: threading.Thread | None = None
        self._topic = f"image-optimizer-{uuid.uuid4().hex}"
        self._guard_name = f"{self._topic}-retries"
        self._names = itertools.count(1)
        self._own_offset = clock_offset()
        self._closed_by = float("inf")

    @property
    def size(self) -> int:
        return self._state.size

    def start(self, wait: bool = False, timeout: float = 120.0) -> None:
        """Connect (idempotent), wait for a worker, and warm every worker's pipeline."""
        with self._cond:
            self._state.refuse_if_closed()
            if self._state.started:
                return
            self._state.started = True
        try:
            client = open_client(self.address, self._timeout)
        except BaseException:
            with self._cond:
                self._state.started = False
            raise
        try:
            wait_for_workers(client, self.address, self._timeout)
            client.subscribe_topic(self._topic, self._on_start_event)
            client.subscribe_topic("all", self._on_cluster_event)
            self._pids.update(client.run(worker_side.warm))
        except BaseException:
            client.close()
            with self._cond:
                self._state.started = False
            raise
        with self._cond:
            self._client = client
            self._seats = self._threads()
            self._state.size = max(1, sum(self._seats.values()))
            self._thread = threading.Thread(target=self._loop, name="image-optimizer-dask",
                                            daemon=True)
            self._thread.start()

    def submit(self, jobs: list[Job], observer: BatchObserver) -> Batch:
        self.start()
        with self._cond:
            batch = self._state.submit(jobs, observer, time.monotonic())
            self._tokens[batch.id] = uuid.uuid4().hex
            self._cond.notify()
        return batch

    def cancel(self, batch: Batch | None = None) -> int:
        with self._cond:
            count, _ = self._state.cancel(batch, [])
            stopped: list[str] = []
            for flight in self._flights.values():
                jobs = flight.unsettled()
                if not any(job.batch is not None and job.batch.cancelled for job in jobs):
                    continue
                stopped.append(flight.key)
                for job in jobs:
                    if job.batch is not None and job.batch.cancelled:
                        self._state.settle(job, _failed(job, CancelledError("cancelled")))
                        count += 1
        self._stop(stopped)
        return count

    def resize(self, workers: int) -> None:
        raise ClusterError("the worker count of a Dask cluster is set by the cluster "
                           "(`dask worker --nworkers N --nthreads 1`), not by this app")

    def active_inputs(self) -> list[str]:
        with self._cond:
            flying = [job.input_path for f in self._flights.values() for job in f.unsettled()]
            return flying + self._state.queue.inputs()

    def info(self) -> PoolInfo:
        workers = self._worker_pids()
        with self._cond:
            state = self._state
            in_flight = sum(len(f.unsettled()) for f in self._flights.values())
            return PoolInfo(
                workers=state.size, alive=len(workers), ready=len(workers),
                started=state.started, busy=min(len(self._flights), state.size),
                queued=state.queue.queued, inFlight=in_flight, batches=len(state.batches),
                restarts=state.restarts, startMethod=self.start_method, cpuCount=cpu_count(),
                pids=list(workers.values()),
                processes=[self._worker_state(i, address, pid)
                           for i, (address, pid) in enumerate(workers.items())],
            )

    def _worker_state(self, slot: int, address: str, pid: int) -> WorkerState:
        """What the worker at ``address`` holds (under the lock): its started task's image."""
        held = [f for f in self._flights.values() if f.worker == address]
        running = next((f.unsettled() for f in held if f.starts and f.unsettled()), [])
        return WorkerState(slot=slot, pid=pid, ready=True,
                           current=running[0].input_path if running else None,
                           held=sum(len(f.unsettled()) for f in held))

    def shutdown(self) -> None:
        with self._cond:
            if self._state.closing:
                return
            self._state.closing = True
            self._closed_by = time.monotonic() + SHUTDOWN_WAIT
        self.cancel()
        with self._cond:
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        if self._client is not None:
            with contextlib.suppress(Exception):
                if self._guarded:  # the scheduler would hand it to every future worker
                    self._client.unregister_worker_plugin(self._guard_name)
            with contextlib.suppress(Exception):
                self._client.close()

    # ── the cluster side ────────────────────────────────────────────────────────────────────

    def _workers(self) -> dict[str, dict[str, Any]]:
        if self._client is None:
            return {}
        try:
            return dict(self._client.scheduler_info(n_workers=-1)["workers"])
        except Exception:  # the scheduler went away: info() reports no worker, it never raises
            return {}

    def _threads(self) -> dict[str, int]:
        return {address: int(w.get("nthreads", 1)) for address, w in self._workers().items()}

    def _worker_pids(self) -> dict[str, int]:
        """Worker address -> pid, asking only workers not seen before (a restarted one)."""
        addresses = sorted(self._workers())
        new = [a for a in addresses if a not in self._pids]
        if new and self._client is not None:
            with contextlib.suppress(Exception):
                self._pids.update(self._client.run(os.getpid, workers=new, on_error="ignore"))
        return {a: self._pids[a] for a in addresses if a in self._pids}

    def _stop(self, keys: list[str]) -> None:
        if keys and self._client is not None:
            with contextlib.suppress(Exception):
                self._client.run(worker_side.stop, keys, wait=False)

    def _on_start_event(self, event: tuple[float, Any]) -> None:
        key, worker, pid = str(event[1][0]), str(event[1][1]), int(event[1][2])
        with self._cond:  # on Dask's event loop: no blocking call to the cluster here
            flight = self._flights.get(key)
            if flight is None:
                return
            flight.worker = worker  # where it runs (its first worker may be lost)
            give_up = flight.started()
            if flight.starts > 1:
                self._state.restarts += 1  # its worker was lost: it runs again elsewhere
            if not give_up:
                if flight.starts > 1:
                    self._retries[key] = (worker, pid)
                    self._guard_due = True
                    self._cond.notify()
                return
            self._give_up(flight)
            self._to_stop.append(key)
            self._cond.notify()

    async def _on_cluster_event(self, event: tuple[float, Any]) -> None:
        """A lost worker's tasks may run anywhere: unpin them (on Dask's event loop).

        Dask reruns a task with a loose restriction elsewhere, but one lost while no worker was
        left stays unrunnable for good: a worker that joins later is not offered it (Dask
        2026.8, ``bulk_schedule_unrunnable_after_adding_worker``).
        """
        message = event[1]
        if not isinstance(message, dict) or message.get("action") != "remove-worker":
            return
        with self._cond:
            lost = [*message.get("processing-tasks", ()), *message.get("lost-computed-tasks", ())]
            # Ours by batch token, not by flight: a result being fetched has left _flights,
            # and a fetch from the lost worker waits for the rerun.
            ours = {f"image-optimizer-{token}" for token in self._tokens.values()}
            keys = [key for key in lost if str(key).rsplit("-", 1)[0] in ours]
        if keys:
            with contextlib.suppress(Exception):  # a lost scheduler: nothing runs anyway
                await self._client.scheduler.set_restrictions(worker=dict.fromkeys(keys))

    def _give_up(self, flight: Flight) -> None:
        """Its task was lost twice: fail its images (under the lock)."""
        flight.given_up = True
        for job in flight.unsettled():
            remove_partial_files(job.output_path)
            self._state.settle(job, _failed(job, ProcessingError(
                f"the Dask worker processing {job.input_path} was lost, also on the retry: "
                "the image may need more memory than a worker has or trip a codec bug")))

    def _guard_retries(self) -> None:
        """Tell every worker, present and future, where each retried task may run."""
        with self._cond:
            if not self._guard_due:
                return
            self._guard_due = False
            retries = dict(self._retries)
        with contextlib.suppress(Exception):  # a lost scheduler: Dask's own limit still holds
            self._client.register_plugin(worker_side.RetryGuard(self._topic, retries),
                                         name=self._guard_name)
            self._guarded = True

    def _done(self, future: Any) -> None:  # Dask's callback thread
        with self._cond:
            self._completed.append(future.key)
            self._cond.notify()

    def _loop(self) -> None:
        sized = time.monotonic()

        def resize_due() -> bool:  # workers join and leave: look while images wait for room
            return bool(self._state.queue.queued) and time.monotonic() - sized > SIZE_REFRESH

        while True:
            if resize_due():
                sized = time.monotonic()
                seats = self._threads()
                with self._cond:
                    self._seats = seats
                    self._state.size = max(1, sum(seats.values()))
            with self._cond:
                while (not self._completed and not self._to_stop and not self._guard_due
                       and self._room() is None and not resize_due()):
                    if self._state.closing and (not self._flights
                                                or time.monotonic() > self._closed_by):
                        return
                    self._cond.wait(0.5)
                completed, self._completed = self._completed, []
                to_stop, self._to_stop = self._to_stop, []
                flights = [f for f in (self._flights.pop(k, None) for k in completed) if f]
                planned = self._plan()
            self._stop(to_stop)
            self._guard_retries()
            for flight in flights:
                self._collect(flight)
            for flight in planned:
                flight.future.add_done_callback(self._done)

    def _room(self) -> str | None:
        """The worker the next chunk goes to, or None (nothing queued, or no room)."""
        queued = self._state.queue.queued
        if not queued or self._state.closing:
            return None
        holding = Counter(flight.worker for flight in self._flights.values())
        return pick_worker(self._seats, holding, queued)

    def _plan(self) -> list[Flight]:
        """Submit chunks while a worker has room (under the lock); the new flights."""
        planned: list[Flight] = []
        while (worker := self._room()) is not None:
            chunk = self._state.queue.next_chunk(self._state.size)
            batch = chunk[0].batch
            assert batch is not None
            token = self._tokens[batch.id]
            key = f"image-optimizer-{token}-{next(self._names)}"
            future = self._client.submit(worker_side.run_chunk, token, self._topic,
                                         encode_items([_item(j) for j in chunk]), key=key,
                                         pure=False, workers=[worker],
                                         allow_other_workers=True)
            flight = Flight(key, future, chunk, token, worker)
            self._flights[key] = flight
            planned.append(flight)
        return planned

    def _collect(self, flight: Flight) -> None:
        """A finished task: settle its images from its report, or fail them with its error."""
        future = flight.future
        report: ChunkReport | None = None
        error: str | None = None
        try:
            report = decode_report(future.result())
        except Exception as exc:  # KilledWorker, a lost scheduler, a worker-side bug
            error = f"{type(exc).__name__}: {exc}"
        with self._cond:
            self._retries.pop(flight.key, None)  # the next guard registered drops it
            if report is not None and report.lost_twice:
                self._give_up(flight)
            elif report is not None:
                if flight.starts > 1:
                    # Its first worker was killed, perhaps mid-write: the retry has written
                    # every image of the task by now, so what is left is that worker's.
                    for job in flight.jobs:
                        remove_partial_files(job.output_path)
                self._settle_report(flight, report)
            for job in flight.unsettled():
                if report is not None and not flight.given_up:
                    error = "the Dask task ended before this image (it was stopped)"
                self._state.settle(job, _failed(job, ProcessingError(
                    f"the Dask cluster could not process {job.input_path}: {error}")))
            self._forget_finished_batches()

    def _settle_report(self, flight: Flight, report: ChunkReport) -> None:
        by_key = {job.key: job for job in flight.jobs}
        slot = self._slots.setdefault(report.name, len(self._slots))
        seat = _ReportSeat(slot, report.pid)
        for done in report.done:
            job = by_key.get(done.key)
            if job is None:
                continue
            batch = job.batch
            assert batch is not None
            before = batch.results[job.index]
            if before is not None or batch.done.is_set():
                if done.result.success and (before is None or not before.success):
                    with contextlib.suppress(OSError):
                        os.remove(job.output_path)  # settled cancelled or failed: no file stays
                continue
            self._state.settle(job, done.result,
                               to_client_clock(done, report.clock_offset, self._own_offset),
                               seat)  # type: ignore[arg-type]

    def _forget_finished_batches(self) -> None:
        for batch_id in [b for b in self._tokens if b not in self._state.batches]:
            del self._tokens[batch_id]


class _ReportSeat:
    """What ``PoolState.settle`` reads of a seat: the benchmark's slot and pid."""

    __slots__ = ("pid", "slot")

    def __init__(self, slot: int, pid: int) -> None:
        self.slot = slot
        self.pid = pid

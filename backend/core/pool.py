"""ProcessPool: long-lived worker processes fed from a task queue, with crash recovery and cancel.

One dispatcher thread owns the workers' lifecycle: it waits on every worker's result pipe and
process sentinel (one long-lived selector), so a result or a death is seen the moment it happens,
and it starts replacements. Submitting threads enqueue and feed idle workers under the
pool lock, so a warm pool starts an image without a thread hop. The order and chunking of work
is :mod:`backend.core.scheduler`'s; the worker side is :mod:`backend.core.worker`'s.

Decisions:
- Size: see ``worker.resolve_worker_count`` (one per CPU by default, validated).
- Start method: forkserver (workers fork from a clean single-threaded server that has the pipeline
  imported, so a replacement is ready in milliseconds; plain fork is unsafe in a process running
  Qt and threads); spawn where forkserver does not exist. multiprocessing's forkserver and resource
  tracker are process-wide helpers that live until the interpreter exits and exit with it.
- A worker that dies (segfault, SIGKILL, out of memory) is replaced at once. The image it had in
  flight is retried once, then reported failed ("worker crashed while processing … (signal 9)");
  images it held but had not started go back to the front of the queue untouched, and partial
  files of the image in flight are deleted. Workers that keep dying before they are ready mark
  the pool broken: queued images fail with a ``pool`` error instead of respawning forever.
- Cancel drops queued images and SIGKILLs the workers holding cancelled ones (nothing else stops
  a running encoder), deletes their partial files and settles every cancelled image as
  ``status="cancelled"`` before returning; replacements start in the background. An image a killed
  worker finished just before the kill keeps its real result.
- Resize (the app's worker setting) works on a running pool: new slots are filled and warmed in
  the background; surplus workers get no new images, finish what they hold and exit. No image
  is dropped or restarted, so the setting can change in the middle of a batch.
- Shutdown cancels, lets idle workers exit on EOF, kills stragglers and joins every process; it
  also runs at interpreter exit (atexit), and workers die with the app even when the app is
  SIGKILLed (their lifeline, see worker.py).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import multiprocessing
import os
import selectors
import socket
import threading
import time
import weakref
from typing import Any

from msgspec import Struct

from backend.core import worker as worker_module
from backend.core.paths import remove_partial_files
from backend.core.scheduler import Batch, BatchObserver, Job, TaskQueue, wants_work
from backend.core.worker import Done, Ready, WorkerHandle, WorkItem, cpu_count
from backend.core.worker_set import WorkerSet, start_method
from backend.errors import PoolError
from backend.types import OptimizationResult

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # the first try and one retry after a crash
STARTUP_FAILURES_BEFORE_BROKEN = 3
KILL_WAIT = 2.0  # seconds for a SIGKILLed worker to be reaped (it takes milliseconds)
EXIT_WAIT = 2.0  # seconds idle workers get to exit by themselves at shutdown


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


def _remove_partials(output_path: str) -> None:
    for path in remove_partial_files(output_path):
        log.info("removed partial file", extra={"path": path})



class ProcessPool:
    def __init__(self, workers: int) -> None:
        self.size = workers
        self.start_method = start_method()
        self._ctx: Any = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload([worker_module.__name__])
        self._lock = threading.Lock()
        self._workers = WorkerSet()
        self._queue = TaskQueue()
        self._batches: dict[int, Batch] = {}  # unfinished
        self._keys = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._started = self._closing = False
        self._broken: str | None = None
        self._restarts = self._startup_failures = 0
        self._all_ready = threading.Event()
        self._decoder = worker_module.decoder()
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._owner = os.getpid()
        _live_pools.add(self)

    # ── public API ──────────────────────────────────────────────────────────────────────────

    def start(self, wait: bool = False, timeout: float = 120.0) -> None:
        """Start (idempotent) and, with ``wait``, block until every worker is warm."""
        with self._lock:
            if self._closing:
                raise PoolError("the worker pool is shut down")
            if not self._started:
                self._started = True
                self._wake_r, self._wake_w = socket.socketpair()
                self._wake_w.setblocking(False)
                self._wake_r.setblocking(False)
                self._thread = threading.Thread(
                    target=self._run, name="image-optimizer-dispatcher", daemon=True)
                self._thread.start()
        if wait and not self._all_ready.wait(timeout):
            raise PoolError(f"worker processes were not ready after {timeout:.0f} s")
        if wait and self._broken:
            raise PoolError(self._broken)

    def submit(self, jobs: list[Job], observer: BatchObserver) -> Batch:
        self.start()
        with self._lock:
            if self._closing:
                raise PoolError("the worker pool is shut down")
            if self._broken:
                raise PoolError(self._broken)
            batch = Batch(next(self._batch_ids), jobs, observer)
            now = time.monotonic()
            for job in jobs:
                job.key, job.batch, job.enqueued = next(self._keys), batch, now
            if not jobs:
                batch.done.set()
                return batch
            self._batches[batch.id] = batch
            self._queue.add(batch)
            self._dispatch()
        return batch

    def cancel(self, batch: Batch | None = None) -> int:
        """Cancel ``batch`` (default: every unfinished batch); returns the images cancelled."""
        with self._lock:
            targets = [batch] if batch is not None else list(self._batches.values())
            count = 0
            for target in targets:
                if target.done.is_set():
                    continue
                target.cancelled = True
                for job in self._queue.take_all(target):
                    count += self._cancel_job(job)
            victims = [w for w in self._workers
                       if any(job.batch is not None and job.batch.cancelled for job in w.jobs)]
            for victim in victims:
                victim.process.kill()
                self._workers.remove(victim)
            for victim in victims:
                count += self._settle_killed(victim)
            if victims:
                self._wake()
            if count:
                log.info("cancelled", extra={"images": count, "killed": len(victims)})
            return count

    def resize(self, workers: int) -> None:
        """Run ``workers`` processes from now on (already validated, see ``resize`` above)."""
        with self._lock:
            if self._closing:
                raise PoolError("the worker pool is shut down")
            if workers == self.size:
                return
            log.info("pool resized", extra={"from": self.size, "to": workers})
            self.size = workers
            if self._started and self._workers.ready_count() < workers:
                self._all_ready.clear()
            self._workers.retire_surplus(workers)
        self._wake()  # the dispatcher fills new slots

    def active_inputs(self) -> list[str]:
        with self._lock:
            flying = [job.input_path for w in self._workers for job in w.jobs]
            return flying + self._queue.inputs()

    def info(self) -> PoolInfo:
        with self._lock:
            handles = list(self._workers)
            return PoolInfo(
                workers=self.size, alive=len(handles), ready=self._workers.ready_count(),
                started=self._started, busy=sum(bool(w.jobs) for w in handles),
                queued=self._queue.queued, inFlight=sum(len(w.jobs) for w in handles),
                batches=len(self._batches), restarts=self._restarts,
                startMethod=self.start_method, cpuCount=cpu_count(),
                pids=[w.pid for w in handles], broken=self._broken,
                processes=[WorkerState(slot=w.slot, pid=w.pid, ready=w.ready, held=len(w.jobs),
                                       current=w.jobs[0].input_path if w.jobs else None)
                           for w in handles],
            )

    def shutdown(self) -> None:
        """Cancel everything and stop every worker and the dispatcher. Idempotent."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self.cancel()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            handles = self._workers.take_all()
        for handle in handles:
            handle.tasks.close()  # EOF: an idle worker exits by itself
        deadline = time.monotonic() + EXIT_WAIT
        for handle in handles:
            handle.process.join(max(0.0, deadline - time.monotonic()))
        for handle in handles:
            if handle.process.exitcode is None:
                handle.process.kill()
                handle.process.join()
            handle.results.close()
            handle.lifeline.close()
            handle.process.close()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        _live_pools.discard(self)
        log.info("pool shut down", extra={"workers": self.size})

    # ── dispatcher thread ───────────────────────────────────────────────────────────────────

    def _run(self) -> None:
        # One epoll/poll selector for the pool's life, re-registered only when the set of
        # workers changes: building a selector per wake-up (as multiprocessing's wait() and
        # Connection.poll() do) cost more than the rest of the per-image bookkeeping together.
        wake = self._wake_r
        assert wake is not None  # created by start() before this thread
        selector = selectors.DefaultSelector()
        selector.register(wake, selectors.EVENT_READ)
        try:
            while self._replenish():
                with self._lock:
                    if self._closing:
                        return
                    self._workers.watch(selector)
                    self._workers.bury()
                ready = selector.select()
                with self._lock:
                    if self._closing:
                        return
                    for key, _ in ready:
                        if key.data is None:
                            with contextlib.suppress(BlockingIOError):
                                wake.recv(4096)
                            continue
                        handle, is_sentinel = key.data
                        if not self._workers.is_current(handle):
                            continue  # killed by cancel while we waited
                        if is_sentinel:
                            self._on_exit(handle)
                        else:  # one message; the selector is level-triggered for the rest
                            self._receive(handle)
                    self._dispatch()
        except Exception as exc:
            log.exception("dispatcher failed")
            with self._lock:
                self._break(f"the worker pool's dispatcher failed: {exc}")
        finally:
            selector.close()

    def _replenish(self) -> bool:
        """Start workers for empty slots, outside the lock (the first start also launches the
        forkserver). False when the dispatcher should stop."""
        while True:
            with self._lock:
                if self._closing:
                    return False
                missing = self._workers.missing(self.size)
                if not missing or self._broken:
                    return True
            try:
                handle = WorkerHandle(self._ctx, missing[0])
            except OSError as exc:
                with self._lock:
                    self._startup_failed(f"cannot start a worker process: {exc}")
                continue
            with self._lock:
                if not self._closing:
                    self._workers.add(handle)
                    continue
            handle.process.kill()
            handle.process.join()
            handle.close()
            return False

    def _wake(self) -> None:
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"\0")

    # ── under the lock ──────────────────────────────────────────────────────────────────────

    def _receive(self, handle: WorkerHandle) -> bool:
        """Read and handle one message; False when there is none (or the worker is gone)."""
        try:
            data = handle.results.recv_bytes()
        except (EOFError, OSError):
            handle.eof = True  # it is exiting; its sentinel reports the death
            self._workers.stopped_reading()
            return False
        message = self._decoder.decode(data)
        if isinstance(message, Ready):
            handle.ready = True
            self._startup_failures = 0
            log.debug("worker ready", extra={"pid": message.pid, "warmup": message.warmup})
            if self._workers.ready_count() >= self.size:
                self._all_ready.set()
        elif handle.jobs and handle.jobs[0].key == message.key:
            self._settle(handle.job_done(), message.result, message, handle)
            self._workers.retire_if_surplus(handle, self.size)
        else:
            log.error("worker reported an image it was not given", extra={"pid": handle.pid})
            handle.process.kill()
            return False
        return True

    def _drain(self, handle: WorkerHandle) -> None:
        """Read everything a dead worker sent before it died."""
        with contextlib.suppress(OSError):
            while not handle.eof and handle.results.poll() and self._receive(handle):
                pass

    def _dispatch(self) -> None:
        # Idle workers first, then one assignment ahead for busy ones.
        for prefetch in (False, True):
            for handle in self._workers:
                if (self._queue.queued and self._workers.accepts_work(handle, self.size)
                        and wants_work(len(handle.assignments), prefetch, self._queue.queued,
                                       self.size, self._queue.next_is_small())):
                    self._assign(handle, self._queue.next_chunk(self.size))

    def _assign(self, handle: WorkerHandle, chunk: list[Job]) -> None:
        handle.jobs.extend(chunk)
        handle.assignments.append(len(chunk))
        items = [WorkItem(j.key, j.input_path, j.output_path, j.settings) for j in chunk]
        # A send fails only if it died: its sentinel fires and these jobs are requeued.
        with contextlib.suppress(OSError):
            handle.send(items)

    def _on_exit(self, handle: WorkerHandle) -> None:
        self._drain(handle)  # results it sent before dying still count
        handle.process.join()
        self._workers.remove(handle)
        how = handle.exit_description()
        if handle.retiring and not handle.jobs:
            log.info("surplus worker exited", extra={"pid": handle.pid, "exit": how})
            return
        if not handle.ready:
            self._startup_failed(f"a worker died while starting ({how})")
            return
        self._restarts += 1
        if not handle.jobs:
            log.warning("idle worker died", extra={"pid": handle.pid, "exit": how})
            return
        crashed = handle.jobs.popleft()
        _remove_partials(crashed.output_path)
        crashed.attempts += 1
        fields = {"pid": handle.pid, "exit": how, "task_id": crashed.task_id,
                  "path": crashed.input_path, "attempt": crashed.attempts}
        leftovers = list(handle.jobs)
        handle.jobs.clear()
        if crashed.attempts < MAX_ATTEMPTS:
            log.warning("worker crashed; retrying the image once", extra=fields)
            leftovers.insert(0, crashed)
        else:
            log.error("worker crashed again; the image failed", extra=fields)
            error = (f"worker crashed while processing {crashed.input_path} ({how}), also on the "
                     "retry: the image may need more memory than is available or trip a codec bug")
            self._settle(crashed, crashed.failure("error", "processing", error))
        self._requeue(leftovers)

    def _settle_killed(self, handle: WorkerHandle) -> int:
        """A worker killed by cancel: reap it, keep what it finished, cancel what it held."""
        handle.process.join(KILL_WAIT)
        self._drain(handle)
        if handle.jobs:
            _remove_partials(handle.jobs[0].output_path)
        count = 0
        leftovers = []
        for job in handle.jobs:
            if job.batch is not None and job.batch.cancelled:
                count += self._cancel_job(job)
            else:
                leftovers.append(job)
        handle.jobs.clear()
        self._requeue(leftovers)
        return count

    def _requeue(self, jobs: list[Job]) -> None:
        if self._broken:
            for job in jobs:
                self._settle(job, job.failure("error", "pool", self._broken))
        elif jobs:
            self._queue.requeue_front(jobs)

    def _cancel_job(self, job: Job) -> int:
        self._settle(job, job.failure("cancelled", "cancelled", "cancelled"))
        return 1

    def _settle(
        self, job: Job, result: OptimizationResult, done: Done | None = None,
        handle: WorkerHandle | None = None,
    ) -> None:
        batch = job.batch
        assert batch is not None
        if batch.done.is_set():
            return
        batch.results[job.index] = result
        batch.pending -= 1
        try:
            slot, pid = (None, None) if handle is None else (handle.slot, handle.pid)
            batch.observer.settled(job, result, done, slot, pid)
        except Exception:
            log.exception("batch observer failed", extra={"task_id": job.task_id})
        if batch.pending == 0:
            del self._batches[batch.id]
            batch.done.set()

    def _startup_failed(self, reason: str) -> None:
        self._startup_failures += 1
        log.error("worker failed to start",
                  extra={"reason": reason, "failures": self._startup_failures})
        if self._startup_failures >= STARTUP_FAILURES_BEFORE_BROKEN:
            self._break(f"worker processes keep failing to start ({reason}); a script that "
                        "starts the pool must do so under `if __name__ == \"__main__\":`")

    def _break(self, reason: str) -> None:
        self._broken = reason
        self._all_ready.set()
        for job in self._queue.take_all():
            self._settle(job, job.failure("error", "pool", reason))


_live_pools: weakref.WeakSet[ProcessPool] = weakref.WeakSet()


@atexit.register
def _shutdown_live_pools() -> None:
    # Registered after multiprocessing's own exit hook, so it runs first: workers stop (and
    # partial files go) before multiprocessing tears down its helpers. A forked copy of this
    # process must not touch its parent's workers.
    for pool in list(_live_pools):
        if pool._owner == os.getpid():
            pool.shutdown()

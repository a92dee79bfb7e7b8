"""ProcessPool: long-lived worker processes fed from a task queue, with crash recovery and cancel.

One dispatcher thread owns the workers' lifecycle: it waits on every worker's result pipe and
process sentinel (one long-lived selector), so a result or a death is seen the moment it happens,
and it starts replacements. Submitting threads enqueue and feed idle workers under the
pool lock, so a warm pool starts an image without a thread hop. The order and chunking of work
is :mod:`backend.core.scheduler`'s, the rules of retry, cancel and breakage
:mod:`backend.core.pool_state`'s (this module only does their I/O); the worker side is
:mod:`backend.core.worker_process`'s.

Decisions:
- Size: a plain int, chosen and checked where it entered (``backend/worker_count.py``).
- Start method: forkserver (workers fork from a clean single-threaded server that has the pipeline
  imported, so a replacement is ready in milliseconds; plain fork is unsafe in a process running
  Qt and threads); spawn where forkserver does not exist. multiprocessing's forkserver and resource
  tracker are process-wide helpers that live until the interpreter exits and exit with it, or
  until :func:`stop_process_helpers` (the CLI, so it leaves no process behind when it returns).
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
  SIGKILLed (their lifeline, see worker_process.py).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import selectors
import socket
import threading
import time
import weakref
from multiprocessing import forkserver, resource_tracker
from typing import Any

from backend.core import worker_process
from backend.core.executor import PoolInfo, WorkerState
from backend.core.paths import remove_partial_files
from backend.core.pool_state import PoolState
from backend.core.protocol import Ready, WorkItem, decoder
from backend.core.scheduler import Batch, BatchObserver, Job
from backend.core.sizing import cpu_count
from backend.core.worker_handle import WorkerHandle
from backend.core.worker_set import WorkerSet, start_method
from backend.errors import PoolError

log = logging.getLogger(__name__)

KILL_WAIT = 2.0  # seconds for a SIGKILLed worker to be reaped (it takes milliseconds)
EXIT_WAIT = 2.0  # seconds idle workers get to exit by themselves at shutdown


def _remove_partials(output_path: str) -> None:
    for path in remove_partial_files(output_path):
        log.info("removed partial file", extra={"path": path})


class ProcessPool:
    """The :class:`~backend.core.executor.Executor` of the app and the CLI."""

    def __init__(self, workers: int) -> None:
        self.start_method = start_method()
        self._ctx: Any = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload([worker_process.__name__])
        self._lock = threading.Lock()
        self._all_ready = threading.Event()
        self._state = PoolState(workers, remove_partials=_remove_partials,
                                on_broken=self._all_ready.set)
        self._workers = WorkerSet()
        self._decoder = decoder()
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._owner = os.getpid()
        _live_pools.add(self)

    @property
    def size(self) -> int:
        return self._state.size

    # ── public API ──────────────────────────────────────────────────────────────────────────

    def start(self, wait: bool = False, timeout: float = 120.0) -> None:
        """Start (idempotent) and, with ``wait``, block until every worker is warm."""
        with self._lock:
            self._state.refuse_if_closed()
            if not self._state.started:
                self._state.started = True
                self._wake_r, self._wake_w = socket.socketpair()
                self._wake_w.setblocking(False)
                self._wake_r.setblocking(False)
                self._thread = threading.Thread(
                    target=self._run, name="image-optimizer-dispatcher", daemon=True)
                self._thread.start()
        if wait and not self._all_ready.wait(timeout):
            raise PoolError(f"worker processes were not ready after {timeout:.0f} s")
        if wait and self._state.broken:
            raise PoolError(self._state.broken)

    def submit(self, jobs: list[Job], observer: BatchObserver) -> Batch:
        self.start()
        with self._lock:
            batch = self._state.submit(jobs, observer, time.monotonic())
            self._dispatch()
        return batch

    def cancel(self, batch: Batch | None = None) -> int:
        """Cancel ``batch`` (default: every unfinished batch); returns the images cancelled."""
        with self._lock:
            count, victims = self._state.cancel(batch, self._workers)
            for victim in victims:
                victim.process.kill()  # nothing else stops a running encoder
                self._workers.remove(victim)
            for victim in victims:
                victim.process.join(KILL_WAIT)
                self._drain(victim)  # what it finished before the kill keeps its real result
                count += self._state.killed(victim)
            if victims:
                self._wake()
            if count:
                log.info("cancelled", extra={"images": count, "killed": len(victims)})
            return count

    def resize(self, workers: int) -> None:
        """Run ``workers`` processes from now on (a valid count: checked where it entered)."""
        with self._lock:
            if not self._state.resize(workers, self._workers):
                return
            if self._state.started and self._workers.ready_count() < workers:
                self._all_ready.clear()
        self._wake()  # the dispatcher fills new slots

    def active_inputs(self) -> list[str]:
        with self._lock:
            return self._state.active_inputs(self._workers)

    def info(self) -> PoolInfo:
        with self._lock:
            handles = list(self._workers)
            state = self._state
            return PoolInfo(
                workers=state.size, alive=len(handles), ready=self._workers.ready_count(),
                started=state.started, busy=sum(bool(w.jobs) for w in handles),
                queued=state.queue.queued, inFlight=sum(len(w.jobs) for w in handles),
                batches=len(state.batches), restarts=state.restarts,
                startMethod=self.start_method, cpuCount=cpu_count(),
                pids=[w.pid for w in handles], broken=state.broken,
                processes=[WorkerState(slot=w.slot, pid=w.pid, ready=w.ready, held=len(w.jobs),
                                       current=w.jobs[0].input_path if w.jobs else None)
                           for w in handles],
            )

    def shutdown(self) -> None:
        """Cancel everything and stop every worker and the dispatcher. Idempotent."""
        with self._lock:
            if self._state.closing:
                return
            self._state.closing = True
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
                    if self._state.closing:
                        return
                    self._workers.watch(selector)
                    self._workers.bury()
                ready = selector.select()
                with self._lock:
                    if self._state.closing:
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
                self._state.break_(f"the worker pool's dispatcher failed: {exc}")
        finally:
            selector.close()

    def _replenish(self) -> bool:
        """Start workers for empty slots, outside the lock (the first start also launches the
        forkserver). False when the dispatcher should stop."""
        while True:
            with self._lock:
                if self._state.closing:
                    return False
                missing = self._workers.missing(self._state.size)
                if not missing or self._state.broken:
                    return True
            try:
                handle = WorkerHandle(self._ctx, missing[0])
            except OSError as exc:
                with self._lock:
                    self._state.startup_failed(f"cannot start a worker process: {exc}")
                continue
            with self._lock:
                if not self._state.closing:
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
            self._state.worker_ready(handle)
            log.debug("worker ready", extra={"pid": message.pid, "warmup": message.warmup})
            if self._workers.ready_count() >= self._state.size:
                self._all_ready.set()
        elif not self._state.reported(handle, message):
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
        for handle, chunk in self._state.dispatch(self._workers):
            items = [WorkItem(j.key, j.input_path, j.output_path, j.settings, j.backup,
                              j.preview, j.original) for j in chunk]
            # A send fails only if it died: its sentinel fires and these jobs are requeued.
            with contextlib.suppress(OSError):
                handle.send(items)

    def _on_exit(self, handle: WorkerHandle) -> None:
        self._drain(handle)  # results it sent before dying still count
        handle.process.join()
        self._workers.remove(handle)
        self._state.worker_exited(handle, handle.exit_description())


def stop_process_helpers() -> None:
    """Stop multiprocessing's forkserver and resource tracker, which would otherwise live until
    the interpreter exits. For a command that must leave no process behind when it returns;
    call it after every pool is shut down (a later pool starts new helpers)."""
    # Both only have private stop methods (multiprocessing's tests use them); each closes the
    # helper's pipe and waits for it to exit, and is a no-op when the helper never started.
    forkserver._forkserver._stop()  # type: ignore[attr-defined]
    resource_tracker._resource_tracker._stop()  # type: ignore[attr-defined]


_live_pools: weakref.WeakSet[ProcessPool] = weakref.WeakSet()


@atexit.register
def _shutdown_live_pools() -> None:
    # Registered after multiprocessing's own exit hook, so it runs first: workers stop (and
    # partial files go) before multiprocessing tears down its helpers. A forked copy of this
    # process must not touch its parent's workers.
    for pool in list(_live_pools):
        if pool._owner == os.getpid():
            pool.shutdown()

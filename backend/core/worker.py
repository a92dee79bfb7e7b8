"""A worker process: its main loop, the messages it exchanges, and the parent's handle on it.

Protocol: msgspec msgpack frames over one-way pipes (compact, typed, ~1 µs to encode or decode,
no pickle); a third pipe is the worker's lifeline (below).

    parent → worker   list[WorkItem]   an assignment; closing the pipe asks the worker to exit
    worker → parent   Ready            once, after imports and ``warm_up()``
                      Done             one per item, strictly in the order the items were given

Because a worker reports every item in order, the parent always knows which image was in flight
when a worker died: the first item it has not reported yet. That is all crash recovery needs.

Decisions:
- Codecs run single-threaded in a worker (oxipng's rayon pool, AVIF, OpenMP). The pool is the
  parallelism: one worker per core by default. Threads inside codecs on top of that would
  oversubscribe the cores; a smaller pool deliberately leaves cores free for other work.
- Workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process group, and only the main
  process decides what a Ctrl-C means (cancel the batch, delete partial files, exit).
- Size: one worker per CPU this process may use (its affinity mask), overridable (argument,
  then ``$IMAGE_OPTIMIZER_WORKERS``, then the app's saved setting), from 1 to min(64, 8 per
  CPU); a non-integer is a ValidationError, an out-of-range count a PoolError.
- A worker never outlives the app, even one that is SIGKILLed: each worker gets a lifeline, a
  pipe whose only write end the main process holds and never writes. A watchdog thread in the
  worker blocks on it; EOF means the main process is gone, and the worker removes the temp file
  of the image in flight and exits at once, even in the middle of an encode. (The kernel's
  parent-death signal cannot do this: a worker's parent is the forkserver, and the forkserver
  only exits after its children.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING

import msgspec
from msgspec import Struct

from backend.core.paths import remove_partial_files
from backend.core.pipeline import StageTimes, optimize_file, warm_up
from backend.errors import PoolError, ValidationError
from backend.types import ImageSettings, OptimizationResult

if TYPE_CHECKING:
    from backend.core.scheduler import Job

log = logging.getLogger(__name__)

WORKERS_ENV = "IMAGE_OPTIMIZER_WORKERS"
MAX_WORKERS = 64
_THREAD_ENV = ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), not merely those installed."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return counter() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def max_workers() -> int:
    # Beyond 8 processes per core a pool only adds memory and context switches.
    return min(MAX_WORKERS, 8 * cpu_count())


def resolve_worker_count(workers: object = None, saved: int | None = None) -> int:
    """The pool size: ``workers``, else $IMAGE_OPTIMIZER_WORKERS, else ``saved`` (the app's
    setting), else one per CPU. A saved count this machine cannot run (a settings file from a
    bigger machine) is ignored with a warning: a setting must never stop the app."""
    source = "workers"
    if workers is None:
        raw = os.environ.get(WORKERS_ENV, "").strip()
        if not raw:
            if saved is not None and 1 <= saved <= max_workers():
                return saved
            if saved is not None:
                log.warning("saved worker count out of range, using one per CPU",
                            extra={"saved": saved, "max": max_workers()})
            return min(cpu_count(), max_workers())
        source = WORKERS_ENV
        try:
            workers = int(raw)
        except ValueError:
            raise ValidationError(f"{WORKERS_ENV}={raw!r} is not a whole number") from None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise ValidationError(f"{source} must be a whole number, got {workers!r}")
    limit = max_workers()
    if not 1 <= workers <= limit:
        raise PoolError(f"{source} must be between 1 and {limit} (at most 8 per CPU, "
                        f"{cpu_count()} CPUs here), got {workers}")
    return workers


class WorkItem(Struct, array_like=True):
    key: int  # pool-wide job number
    input_path: str
    output_path: str
    settings: ImageSettings


class Ready(Struct, tag="ready", array_like=True):
    pid: int
    warmup: float  # seconds spent in warm_up()


class Done(Struct, tag="done", array_like=True):
    key: int
    result: OptimizationResult
    times: StageTimes
    started: float  # time.monotonic(): CLOCK_MONOTONIC is system-wide, so comparable in the parent
    finished: float


WorkerMessage = Ready | Done


def limit_codec_threads() -> None:
    """One thread per codec in this process (what every worker runs with). A benchmark's
    in-process baseline should call it too, so both sides do the same work per image."""
    for name in _THREAD_ENV:
        os.environ[name] = "1"
    with contextlib.suppress(ImportError):
        from PIL import AvifImagePlugin

        AvifImagePlugin.DEFAULT_MAX_THREADS = 1


def _watch_lifeline(lifeline: Connection, current: list[WorkItem]) -> None:
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    for item in current:
        remove_partial_files(item.output_path)
    os._exit(1)


def _process(item: WorkItem) -> tuple[OptimizationResult, StageTimes]:
    try:
        return optimize_file(item.input_path, item.output_path, item.settings)
    except Exception as exc:  # optimize_file reports image problems itself; this is a bug
        message = (
            "out of memory" if isinstance(exc, MemoryError) else f"{type(exc).__name__}: {exc}"
        )
        result = OptimizationResult(
            original_path=item.input_path, optimized_path=item.output_path, original_size=0,
            optimized_size=0, success=False, status="error", errorKind="internal",
            error=f"unexpected error: {message}",
        )
        return result, StageTimes()


def worker_main(tasks: Connection, results: Connection, lifeline: Connection) -> None:
    """Entry point of a worker process (runs in the child)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    current: list[WorkItem] = []  # the image in flight, for the watchdog
    threading.Thread(target=_watch_lifeline, args=(lifeline, current), daemon=True,
                     name="lifeline").start()
    limit_codec_threads()
    began = time.monotonic()
    warm_up()
    encoder = msgspec.msgpack.Encoder()
    decoder = msgspec.msgpack.Decoder(list[WorkItem])
    try:
        results.send_bytes(encoder.encode(Ready(pid=os.getpid(), warmup=time.monotonic() - began)))
        while True:
            try:
                items = decoder.decode(tasks.recv_bytes())
            except EOFError:
                return
            for item in items:
                current[:] = [item]
                started = time.monotonic()
                result, times = _process(item)
                done = Done(item.key, result, times, started, time.monotonic())
                results.send_bytes(encoder.encode(done))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent went away: nobody is waiting for results


class WorkerHandle:
    """The parent's side of one worker: the process, its pipes, the jobs it holds.

    ``jobs`` holds what was sent and not yet reported, in order (its head is in flight);
    ``assignments`` the number of those jobs per assignment still open, so the pool can limit
    how far ahead a worker is fed.
    """

    def __init__(self, ctx: BaseContext, slot: int) -> None:
        task_r, task_w = ctx.Pipe(duplex=False)
        result_r, result_w = ctx.Pipe(duplex=False)
        life_r, life_w = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=worker_main, args=(task_r, result_w, life_r),
            name=f"image-optimizer-worker-{slot}", daemon=True,
        )
        try:
            self.process.start()
        finally:
            # The child has its own copies now; ours must go, or EOF would never be seen.
            task_r.close()
            result_w.close()
            life_r.close()
        self.slot = slot
        self.pid: int = self.process.pid
        self.tasks: Connection = task_w
        self.results: Connection = result_r
        self.lifeline: Connection = life_w  # never written: closing it (or dying) ends the worker
        self.ready = False
        self.eof = False
        self.retiring = False  # surplus after a resize: gets no new work, exits once idle
        self.jobs: deque[Job] = deque()
        self.assignments: deque[int] = deque()
        self._encoder = msgspec.msgpack.Encoder()

    def send(self, items: list[WorkItem]) -> None:
        self.tasks.send_bytes(self._encoder.encode(items))

    def job_done(self) -> Job:
        """Pop the job in flight (it was just reported) and close its assignment if complete."""
        self.assignments[0] -= 1
        if self.assignments[0] == 0:
            self.assignments.popleft()
        return self.jobs.popleft()

    def exit_description(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            return f"signal {-code}"
        return f"exit code {code}"

    def retire(self) -> None:
        """Ask the worker to exit once it has reported what it holds: EOF on its task pipe."""
        self.retiring = True
        self.tasks.close()

    def close(self) -> None:
        self.tasks.close()
        self.results.close()
        self.lifeline.close()


def decoder() -> msgspec.msgpack.Decoder[WorkerMessage]:
    return msgspec.msgpack.Decoder(WorkerMessage)  # type: ignore[arg-type]

"""The worker process itself: warm up, then optimize what the parent sends, in order.

Messages are :mod:`backend.core.protocol`'s; the parent's side is
:mod:`backend.core.worker_handle`'s.

Decisions:
- Codecs run single-threaded in a worker (oxipng's rayon pool, AVIF, OpenMP). The pool is the
  parallelism: one worker per core by default. Threads inside codecs on top of that would
  oversubscribe the cores; a smaller pool deliberately leaves cores free for other work.
- Workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process group, and only the main
  process decides what a Ctrl-C means (cancel the batch, delete partial files, exit).
- A worker never outlives the app, even one that is SIGKILLed: each worker gets a lifeline, a
  pipe whose only write end the main process holds and never writes. A watchdog thread in the
  worker blocks on it; EOF means the main process is gone, and the worker removes the temp file
  of the image in flight and exits at once, even in the middle of an encode. (The kernel's
  parent-death signal cannot do this: a worker's parent is the forkserver, and the forkserver
  only exits after its children.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from multiprocessing.connection import Connection

import msgspec

from backend.core.error_map import unexpected
from backend.core.paths import remove_partial_files
from backend.core.pipeline import optimize_file, warm_up
from backend.core.preview import preview_file
from backend.core.protocol import Done, Ready, WorkItem
from backend.core.stage_times import StageTimes
from backend.types import OptimizationResult, PreviewResult

_THREAD_ENV = ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


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


def _process(item: WorkItem) -> tuple[OptimizationResult, StageTimes, PreviewResult | None]:
    try:
        if item.preview:
            return preview_file(item.input_path, item.output_path, item.settings,
                                original=item.original)
        return *optimize_file(item.input_path, item.output_path, item.settings,
                              backup=item.backup), None
    except Exception as exc:  # both report image problems themselves; this is a bug
        return OptimizationResult.failed(item.input_path, item.output_path,
                                         unexpected(exc)), StageTimes(), None


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
                result, times, preview = _process(item)
                done = Done(item.key, result, times, started, time.monotonic(), preview)
                results.send_bytes(encoder.encode(done))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent went away: nobody is waiting for results

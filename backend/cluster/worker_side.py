"""What runs inside a Dask worker: the warm pipeline, per-file checks, and the stop flags.

Dask imports this module by name in each worker process (the workers need image-optimizer
installed, as they need any task's code), so its module-level state is per worker process:

- The pipeline is warmed once per process (``_warm``, a cached call): codecs imported and
  exercised before the first image, as in a local pool worker. A worker its nanny restarts
  warms again on its first task. Codecs run one thread each (``limit_codec_threads``): Dask's
  worker threads are the parallelism, as the pool's processes are. Dask's malloc trimming is
  undone there too (``allocator.py``): it made every image buffer a fresh, page-faulting mmap.
- ``_STOPPED`` holds the batch tokens and task keys the client asked to stop (``stop``, called
  through ``Client.run``). A task checks it between images, so a cancelled or given-up task ends
  after the image it is on; an image that finishes after the stop has its output removed (the
  client reported it cancelled or failed, so no file may stay). A Dask task cannot be
  interrupted mid-encode, unlike a local worker that can be SIGKILLed.
- An input the worker cannot see is refused per file, naming the worker's host: on a cluster
  inputs and outputs are paths on a filesystem every worker mounts at the same place.
- At its start a task logs a "started" event on the client's topic, so the client can tell the
  task a lost worker was running from one merely queued there (only the first is charged a
  loss, see ``flights.py``).
- A retried task runs on one worker process only: the client names it in a ``RetryGuard``
  plugin, which Dask installs on every worker, also on those that join later (a nanny's
  replacement), before they take a task. Started anywhere else, the task was lost twice: it
  reports so without touching an image, so an image that kills its worker kills two, not four
  (Dask would rerun it up to ``allowed-failures`` times).
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import time

from distributed import WorkerPlugin, get_worker

from backend.cluster.allocator import reuse_big_buffers
from backend.cluster.protocol import ChunkReport, clock_offset, decode_items, encode_report
from backend.core.error_map import unexpected
from backend.core.protocol import Done, WorkItem
from backend.core.stage_times import StageTimes
from backend.errors import OutputError
from backend.types import OptimizationResult

_STOPPED: set[str] = set()
_RETRIES: dict[str, dict[str, tuple[str, int]]] = {}  # topic -> task key -> (address, pid)


class RetryGuard(WorkerPlugin):
    """The one worker process each retried task of a client may run on."""

    def __init__(self, topic: str, retries: dict[str, tuple[str, int]]) -> None:
        self.topic = topic
        self.retries = retries

    def setup(self, worker: object) -> None:
        _RETRIES[self.topic] = self.retries

    def teardown(self, worker: object) -> None:
        _RETRIES.pop(self.topic, None)


# The pipeline (and its codecs) is imported in a worker only: the client imports this module to
# name the task function, and loads no codec.
@functools.cache
def _warm() -> float:
    from backend.core.pipeline import warm_up
    from backend.core.worker_process import limit_codec_threads

    limit_codec_threads()
    reuse_big_buffers()

    began = time.monotonic()
    warm_up()
    return time.monotonic() - began


def warm() -> int:
    """Warm this worker's pipeline (``Client.run`` target); returns its pid."""
    _warm()
    return os.getpid()


async def stop(tokens: list[str]) -> None:
    """Stop the tasks of these batches or with these keys (``Client.run`` target; a coroutine,
    as Dask runs only those without waiting for the answer)."""
    _STOPPED.update(tokens)


def _unseen(item: WorkItem, worker: str, host: str) -> OptimizationResult | None:
    if os.path.exists(item.input_path):
        return None
    error = OutputError(f"{item.input_path} is not visible on the Dask worker {worker} (host "
                        f"{host}): on a cluster, inputs must be on a filesystem every worker "
                        "mounts at the same path", path=item.input_path)
    return OptimizationResult.failed(item.input_path, item.output_path, error)


def _process(item: WorkItem, worker: str, host: str) -> tuple[OptimizationResult, StageTimes]:
    refused = _unseen(item, worker, host)
    if refused is not None:
        return refused, StageTimes()
    from backend.core.pipeline import optimize_file

    try:
        return optimize_file(item.input_path, item.output_path, item.settings,
                             backup=item.backup)
    except Exception as exc:  # optimize_file reports image problems itself; this is a bug
        return OptimizationResult.failed(item.input_path, item.output_path,
                                         unexpected(exc)), StageTimes()


def run_chunk(batch_token: str, topic: str, payload: bytes) -> bytes:
    """The Dask task: optimize the images in ``payload`` in order; a ``ChunkReport`` back."""
    worker = get_worker()
    key = str(worker.get_current_task())
    host = socket.gethostname()
    retry = _RETRIES.get(topic, {}).get(key)
    if retry is not None and tuple(retry) != (worker.address, os.getpid()):
        return encode_report(ChunkReport(worker.address, str(worker.name), os.getpid(), host,
                                         clock_offset(), [], lost_twice=True))
    worker.log_event(topic, [key, worker.address, os.getpid()])
    _warm()
    done: list[Done] = []
    for item in decode_items(payload):
        if batch_token in _STOPPED or key in _STOPPED:
            break
        started = time.monotonic()
        result, times = _process(item, worker.address, host)
        if result.success and (batch_token in _STOPPED or key in _STOPPED):
            with contextlib.suppress(OSError):
                os.remove(item.output_path)
        done.append(Done(item.key, result, times, started, time.monotonic()))
    return encode_report(ChunkReport(worker.address, str(worker.name), os.getpid(), host,
                                     clock_offset(), done))

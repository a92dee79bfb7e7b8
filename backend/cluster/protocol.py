"""The payloads between the client and a Dask worker: msgspec msgpack bytes, as with the pool.

Dask pickles a task's arguments and result; both are plain ``bytes`` here, encoded with the same
Structs the local pool's pipes carry (``WorkItem`` in, ``Done`` out), so a cluster run checks
the same wire types and pickles no object of ours.

Times: a ``Done``'s ``started``/``finished`` are the worker's ``time.monotonic()``, which means
nothing on another host. A report carries the worker's wall-minus-monotonic offset, so the client
maps them onto its own clock (:func:`to_client_clock`); between hosts that is as good as their
clocks' agreement (NTP: milliseconds), which is fine for the benchmark's queue waits; busy time
(``finished - started``) is exact either way.
"""

from __future__ import annotations

import time

import msgspec
from msgspec import Struct

from backend.core.protocol import Done, WorkItem


class ChunkReport(Struct, array_like=True):
    worker: str  # the Dask worker's address
    name: str  # its name: stays the same when its nanny restarts it
    pid: int
    host: str
    clock_offset: float  # the worker's time.time() - time.monotonic()
    done: list[Done]  # in the order the items were given; shorter when told to stop
    lost_twice: bool = False  # a retry started on a worker other than its own: not run


def clock_offset() -> float:
    return time.time() - time.monotonic()


def encode_items(items: list[WorkItem]) -> bytes:
    return msgspec.msgpack.encode(items)


def decode_items(data: bytes) -> list[WorkItem]:
    return msgspec.msgpack.decode(data, type=list[WorkItem])


def encode_report(report: ChunkReport) -> bytes:
    return msgspec.msgpack.encode(report)


def decode_report(data: bytes) -> ChunkReport:
    return msgspec.msgpack.decode(data, type=ChunkReport)


def to_client_clock(done: Done, worker_offset: float, own_offset: float) -> Done:
    """``done`` with its times moved from the worker's monotonic clock onto this process's."""
    shift = worker_offset - own_offset
    return Done(done.key, done.result, done.times, done.started + shift, done.finished + shift)

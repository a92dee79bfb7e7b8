"""The messages between the pool and a worker process: a leaf both sides import.

msgspec msgpack frames over one-way pipes (compact, typed, ~1 µs to encode or decode, no pickle):

    parent → worker   list[WorkItem]   an assignment; closing the pipe asks the worker to exit
    worker → parent   Ready            once, after imports and ``warm_up()``
                      Done             one per item, strictly in the order the items were given
                                       (a preview item's Done carries its encoded bytes)

Because a worker reports every item in order, the parent always knows which image was in flight
when a worker died: the first item it has not reported yet. That is all crash recovery needs.

Nothing here imports the pipeline, so the parent side (scheduler, metrics) loads no codec.
"""

from __future__ import annotations

import msgspec
from msgspec import Struct

from backend.core.stage_times import StageTimes
from backend.types import ImageSettings, OptimizationResult, PreviewResult


class WorkItem(Struct, array_like=True):
    key: int  # pool-wide job number
    input_path: str
    output_path: str
    settings: ImageSettings
    backup: str | None = None  # output "replace": where this image's original is backed up
    # A preview (backend/core/preview.py): encode in memory, write nothing; with ``original``,
    # the original's displayable copy too.
    preview: bool = False
    original: bool = False


class Ready(Struct, tag="ready", array_like=True):
    pid: int
    warmup: float  # seconds spent in warm_up()


class Done(Struct, tag="done", array_like=True):
    key: int
    result: OptimizationResult
    times: StageTimes
    started: float  # time.monotonic(): CLOCK_MONOTONIC is system-wide, so comparable in the parent
    finished: float
    preview: PreviewResult | None = None  # a preview item that succeeded


WorkerMessage = Ready | Done


def decoder() -> msgspec.msgpack.Decoder[WorkerMessage]:
    return msgspec.msgpack.Decoder(WorkerMessage)  # type: ignore[arg-type]

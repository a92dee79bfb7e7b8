"""Server-sent events: the optimizer's progress events, streamed to each open page.

Each connected page gets its own generator, fed by its own optimizer subscription through a
bounded queue. When a page reads too slowly the oldest queued event is dropped: progress events
carry running totals, so the newest one supersedes the ones before it and the final event of a
batch is never the one lost. A keep-alive comment every ``keepalive`` seconds keeps proxies and
waitress's idle timeout from closing a quiet stream, and is how a vanished client is noticed (the
write fails, waitress closes the generator, the subscription is dropped).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import msgspec

from backend.types import PROGRESS_EVENT, ProgressEvent

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer

KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 256

_Item = ProgressEvent | None  # None ends the stream


def _put_latest(q: queue.Queue[_Item], item: _Item) -> None:
    while True:
        try:
            q.put_nowait(item)
            return
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                q.get_nowait()


def encode_event(event: ProgressEvent) -> bytes:
    return b"event: " + PROGRESS_EVENT.encode() + b"\ndata: " + msgspec.json.encode(event) + b"\n\n"


class EventStreams:
    def __init__(self, optimizer: ImageOptimizer, keepalive: float = KEEPALIVE_SECONDS) -> None:
        self._optimizer = optimizer
        self._keepalive = keepalive
        self._lock = threading.Lock()
        self._queues: set[queue.Queue[_Item]] = set()
        self._closed = False

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._queues)

    def stream(self) -> Iterator[bytes]:
        q: queue.Queue[_Item] = queue.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            if self._closed:
                return
            self._queues.add(q)
        unsubscribe = self._optimizer.subscribe(lambda event: _put_latest(q, event))
        try:
            # Sent at once so the browser's EventSource reports "open" without waiting for work.
            yield b"retry: 2000\n: connected\n\n"
            while True:
                try:
                    item = q.get(timeout=self._keepalive)
                except queue.Empty:
                    yield b": keep-alive\n\n"
                    continue
                if item is None:
                    return
                yield encode_event(item)
        finally:
            unsubscribe()
            with self._lock:
                self._queues.discard(q)

    def close(self) -> None:
        """End every open stream; used when the server shuts down."""
        with self._lock:
            self._closed = True
            queues = list(self._queues)
        for q in queues:
            _put_latest(q, None)

"""``image-optimizer watch DIR... [the optimize options] [--out DIR]``: a service, until stopped.

Decisions:
- One line per file on stdout as it is done ("optimized a.jpg -> …", "FAILED b.jpg: …"), or
  with ``--json`` one OptimizationResult-like ActivityItem per line (JSON Lines), for a log or
  a pipe; folder problems go to stderr.
- Ctrl-C and SIGTERM stop it cleanly: what is in the pool is cancelled (no partial files; the
  next start does those images), the workers and multiprocessing's helpers are joined, and the
  exit status is 0, since stopping is how a service ends. A folder that is not there at start
  is a usage error (2), a typo should not wait forever; one that goes away later is reported
  and watched again when it returns.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

import msgspec

from backend.errors import ValidationError
from backend.human_bytes import format_bytes
from backend.types import ImageSettings
from backend.watch.activity import Activity
from backend.watch.ledger import Ledger, LedgerBusyError
from backend.watch.model import ActivityItem, WatchFolder
from backend.watch.service import WatchService
from backend.watch.stability import DEFAULT_SETTLE

EXIT_OK, EXIT_USAGE = 0, 2


def _line(item: ActivityItem) -> str:
    if item.status == "failed":
        return f"FAILED {item.path}: {item.error}"
    return (f"optimized {item.path} -> {item.optimizedPath}: {format_bytes(item.originalSize)} "
            f"-> {format_bytes(item.optimizedSize)} ({item.compressionRatio:.1f}% saved)")


def run_watch(args: argparse.Namespace, settings: ImageSettings, workers: int,
              stdout: TextIO, stderr: TextIO) -> int:
    """``settings`` and ``workers``: the flags, already checked by ``backend/cli.py``; a
    folder that is not there raises ValidationError (a usage error)."""
    from backend.core.optimizer import ImageOptimizer
    from backend.core.pool import ProcessPool, stop_process_helpers

    folders = []
    for i, path in enumerate(args.paths):
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            raise ValidationError(f"{path}: not an existing folder")
        folders.append(WatchFolder(id=str(i + 1), path=real, recursive=args.recursive,
                                   settings=settings))
    try:
        ledger = Ledger(Path(args.db) if args.db else None)
    except LedgerBusyError as exc:
        stderr.write(f"image-optimizer: {exc.message}\n")
        return EXIT_USAGE

    def report(item: ActivityItem) -> None:
        text = msgspec.json.encode(item).decode() if args.json else _line(item)
        stdout.write(text + "\n")
        stdout.flush()

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    optimizer = ImageOptimizer(ProcessPool(workers))
    service = WatchService(optimizer, ledger, settle=args.settle or DEFAULT_SETTLE,
                           activity=Activity(report))
    try:
        optimizer.start(wait=True)
        service.start()
        for folder in folders:
            service.add(folder)
        stderr.write(f"watching {', '.join(f.path for f in folders)} (Ctrl-C to stop)\n")
        stderr.flush()
        while not stop.wait(0.5):
            pass
        stderr.write("stopping\n")
    finally:
        service.stop()
        optimizer.shutdown()
        ledger.close()
        stop_process_helpers()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK

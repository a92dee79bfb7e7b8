"""A worker SIGKILLed mid-image (as the OOM killer or a codec segfault would end it).

The slow image is a real photograph upscaled to 2000x2000 and encoded to AVIF, which keeps a
worker busy for a second or more: long enough to find the worker that holds it and kill it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from waiting import process_gone, wait_until

from backend.core.optimizer import ImageOptimizer
from backend.core.paths import PARTIAL_SUFFIX, partial_name_prefix
from backend.types import ImageSettings, OptimizationResult, Task

AVIF = ImageSettings(outputFormat="avif")


def holder_of(optimizer: ImageOptimizer, path: Path) -> int | None:
    """The pid of the worker that has ``path`` in flight, if any."""
    for worker in optimizer.info().processes:
        if worker.current == str(path):
            return worker.pid
    return None


def run_in_background(
    optimizer: ImageOptimizer, tasks: list[Task]
) -> tuple[threading.Thread, list[OptimizationResult]]:
    results: list[OptimizationResult] = []
    thread = threading.Thread(target=lambda: results.extend(optimizer.optimize_images(tasks)))
    thread.start()
    return thread, results


def kill_holder(optimizer: ImageOptimizer, path: Path, not_pid: int | None = None) -> int:
    wait_until(lambda: holder_of(optimizer, path) not in (None, not_pid))
    pid = holder_of(optimizer, path)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_killed_worker_is_replaced_and_its_image_retried_once(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    slow = tmp_images("big.jpg", source="astronaut", size=(2000, 2000), quality=95)
    small = [tmp_images(f"s{i}.jpg", source="coffee", size=(120 + i, 80)) for i in range(4)]
    tasks = [Task(input_path=str(p), settings=AVIF) for p in [small[0], slow, *small[1:]]]
    thread, results = run_in_background(optimizer, tasks)
    killed = kill_holder(optimizer, slow)
    thread.join()
    assert [r.original_path for r in results] == [t.input_path for t in tasks]
    assert all(r.success for r in results), [r.error for r in results]
    with Image.open(results[1].optimized_path) as im:
        assert (im.format, im.size) == ("AVIF", (2000, 2000))
    wait_until(lambda: optimizer.info().ready == 2)
    info = optimizer.info()
    assert info.alive == 2 and info.restarts == 1 and killed not in info.pids
    assert process_gone(killed)


def test_an_image_that_kills_its_worker_twice_fails_with_a_clear_error(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    slow = tmp_images("big.jpg", source="astronaut", size=(2000, 2000), quality=95)
    small = [tmp_images(f"s{i}.jpg", source="coffee", size=(120 + i, 80)) for i in range(3)]
    tasks = [Task(input_path=str(p), settings=AVIF) for p in [slow, *small]]
    output = slow.parent / "optimized" / "big.avif"
    output.parent.mkdir()
    # What a worker killed while writing leaves behind: its temp file. A neighbour's temp file
    # (another output's) must survive.
    partial = output.parent / f"{partial_name_prefix(str(output))}deadbeef{PARTIAL_SUFFIX}"
    neighbour = output.parent / f".big.avif2.cafe{PARTIAL_SUFFIX}"
    partial.write_bytes(b"half an image")
    neighbour.write_bytes(b"someone else's")
    caplog.set_level(logging.WARNING, logger="backend.core.pool")

    thread, results = run_in_background(optimizer, tasks)
    first = kill_holder(optimizer, slow)
    wait_until(lambda: not partial.exists())
    partial.write_bytes(b"half an image, again")
    kill_holder(optimizer, slow, not_pid=first)
    thread.join()

    failed = results[0]
    assert not failed.success and failed.status == "error" and failed.errorKind == "processing"
    assert failed.error is not None
    assert failed.error.startswith(f"worker crashed while processing {slow} (signal 9)")
    assert all(r.success for r in results[1:])
    assert not output.exists() and not partial.exists() and neighbour.exists()
    wait_until(lambda: optimizer.info().ready == 2)
    assert optimizer.info().restarts == 2
    crashes = [r for r in caplog.records if r.getMessage().startswith("worker crashed")]
    assert [getattr(r, "attempt", None) for r in crashes] == [1, 2]
    assert all(getattr(r, "path", None) == str(slow) and getattr(r, "exit", None) == "signal 9"
               for r in crashes)

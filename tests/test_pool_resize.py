"""Resizing a running pool (the app's worker setting): grow, shrink, and both during a batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from waiting import process_gone, wait_until

from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.core.sizing import max_workers
from backend.errors import PoolError
from backend.types import ImageSettings, OptimizationResult, Task
from backend.worker_count import check

AVIF = ImageSettings(outputFormat="avif")


def slow_images(make: Callable[..., Path], count: int, side: int = 1600) -> list[Path]:
    """Photos big enough that an AVIF encode keeps a worker busy for a while."""
    return [make(f"slow{i}.jpg", source="astronaut", size=(side, side), quality=95)
            for i in range(count)]


def run_in_background(optimizer: ImageOptimizer, tasks: list[Task],
                      benchmark: bool = False) -> tuple[threading.Thread, list]:
    out: list[list[OptimizationResult]] = []
    thread = threading.Thread(
        target=lambda: out.append(optimizer.optimize_images(tasks, benchmark=benchmark)))
    thread.start()
    return thread, out


def assert_valid_avifs(results: list[OptimizationResult], inputs: list[Path]) -> None:
    assert [r.original_path for r in results] == [str(p) for p in inputs]
    for result in results:
        assert result.success, result.error
        with Image.open(result.optimized_path) as im:
            assert im.format == "AVIF" and im.size == (result.width, result.height)


def test_growing_an_idle_pool_starts_warm_workers() -> None:
    with ImageOptimizer(ProcessPool(1)) as opt:
        opt.start(wait=True)
        first = opt.info().pids
        assert opt.set_workers(3) == 3
        opt.start(wait=True)  # waits for the new workers to be warm
        info = opt.info()
        assert (info.workers, info.alive, info.ready, info.restarts) == (3, 3, 3, 0)
        assert set(first) < set(info.pids)
        assert opt.workers == 3


def test_shrinking_an_idle_pool_stops_the_surplus_workers(
    tmp_images: Callable[..., Path],
) -> None:
    with ImageOptimizer(ProcessPool(3)) as opt:
        opt.start(wait=True)
        before = {w.slot: w.pid for w in opt.info().processes}
        opt.set_workers(1)
        wait_until(lambda: process_gone(before[1]) and process_gone(before[2]))
        wait_until(lambda: opt.info().alive == 1)
        info = opt.info()
        assert info.pids == [before[0]] and info.restarts == 0
        src = tmp_images("after.jpg", source="chelsea", size=(300, 200))
        result = opt.optimize_image(Task(input_path=str(src)))
        assert result.success and Path(result.optimized_path).stat().st_size > 0


def test_shrinking_during_a_batch_finishes_every_image_then_stops_the_surplus(
    tmp_images: Callable[..., Path],
) -> None:
    inputs = slow_images(tmp_images, 4)
    with ImageOptimizer(ProcessPool(2)) as opt:
        opt.start(wait=True)
        before = {w.slot: w.pid for w in opt.info().processes}
        thread, out = run_in_background(opt, [Task(input_path=str(p), settings=AVIF)
                                              for p in inputs])
        wait_until(lambda: opt.info().busy == 2)
        opt.set_workers(1)
        thread.join(120)
        assert_valid_avifs(out[0], inputs)
        wait_until(lambda: process_gone(before[1]))
        info = opt.info()
        assert (info.workers, info.alive, info.restarts) == (1, 1, 0)
        assert info.pids == [before[0]]


def test_growing_during_a_batch_puts_the_new_worker_to_work(
    tmp_images: Callable[..., Path],
) -> None:
    inputs = slow_images(tmp_images, 4, side=1200)
    with ImageOptimizer(ProcessPool(1)) as opt:
        opt.start(wait=True)
        thread, out = run_in_background(
            opt, [Task(input_path=str(p), settings=AVIF) for p in inputs], benchmark=True)
        wait_until(lambda: opt.info().busy == 1)
        opt.set_workers(2)
        thread.join(120)
        assert_valid_avifs(out[0], inputs)
        report = opt.last_benchmark()
        assert report is not None
        assert [w.tasks > 0 for w in report.workerStats] == [True, True]
        assert sum(w.tasks for w in report.workerStats) == 4


@pytest.mark.parametrize("workers", [0, -3, 10_000])
def test_a_bad_size_is_refused_and_the_pool_keeps_its_size(
    optimizer: ImageOptimizer, workers: int,
) -> None:
    with pytest.raises(PoolError, match=rf"between 1 and {max_workers()}.*got {workers}"):
        optimizer.set_workers(check(workers))  # checked where it enters, as the app does
    info = optimizer.info()
    assert (info.workers, info.alive, optimizer.workers) == (2, 2, 2)

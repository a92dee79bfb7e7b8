"""InProcessExecutor keeps the pool's contract without processes: results in task order, one
progress event stream, cancel, info; and commands run on it (the fast way to test them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backend.commands import AppContext, invoke
from backend.core.in_process import InProcessExecutor
from backend.core.optimizer import ImageOptimizer
from backend.core.stage_times import StageTimes
from backend.settings_store import SettingsStore
from backend.types import ImageSettings, OptimizationResult, ProgressEvent, Task


@pytest.fixture
def optimizer() -> Iterator[ImageOptimizer]:
    with ImageOptimizer(InProcessExecutor()) as opt:
        yield opt


def test_results_come_back_in_task_order_with_progress(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path],
) -> None:
    # Different sizes: largest first reorders them, the results must not be.
    inputs = [tmp_images(f"p{i}.jpg", source="coffee", size=(w, w * 2 // 3), quality=95)
              for i, w in enumerate([64, 400, 160])]
    events: list[ProgressEvent] = []
    results = optimizer.optimize_images([Task(input_path=str(p)) for p in inputs],
                                        on_progress=events.append)
    assert [r.original_path for r in results] == [str(p) for p in inputs]
    assert all(r.success and Path(r.optimized_path).is_file() for r in results)
    assert events[-1].status == "complete" and events[-1].completedTasks == 3
    assert events[-1].metadata.totalDuration is not None


def test_a_failed_image_does_not_stop_the_batch(
    optimizer: ImageOptimizer, tmp_path: Path, real_photo: Path,
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really")
    results = optimizer.optimize_images([Task(input_path=str(broken)),
                                         Task(input_path=str(real_photo))])
    assert [r.success for r in results] == [False, True]
    assert results[0].error


def slow(gate: threading.Event, started: threading.Event) -> Callable[
        [str, str, ImageSettings], tuple[OptimizationResult, StageTimes]]:
    def run(input_path: str, output_path: str, settings: ImageSettings, backup: str | None,
            ) -> tuple[OptimizationResult, StageTimes]:
        started.set()
        gate.wait(10)
        Path(output_path).parent.mkdir(parents=True, exist_ok=True)
        Path(output_path).write_bytes(b"x")
        return OptimizationResult(original_path=input_path, optimized_path=output_path,
                                  original_size=10, optimized_size=1, success=True), StageTimes()
    return run


def test_cancel_settles_everything_at_once_and_leaves_no_output(tmp_path: Path) -> None:
    gate, started = threading.Event(), threading.Event()
    executor = InProcessExecutor(run=slow(gate, started))
    tasks = [Task(input_path=str(tmp_path / f"{i}.jpg")) for i in range(4)]
    with ImageOptimizer(executor) as optimizer:
        results: list[OptimizationResult] = []
        batch = threading.Thread(target=lambda: results.extend(optimizer.optimize_images(tasks)))
        batch.start()
        assert started.wait(10)
        assert len(optimizer.active_tasks()) == 4
        assert optimizer.info().inFlight >= 1
        assert optimizer.cancel() == 4
        batch.join(10)
        assert [r.status for r in results] == ["cancelled"] * 4
        gate.set()  # the image that was running finishes after the cancel
        deadline = time.monotonic() + 5
        while optimizer.info().busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert optimizer.active_tasks() == []
    assert not list((tmp_path / "optimized").glob("*.jpg"))


def test_info_has_the_pool_shape_and_resize_is_accepted(optimizer: ImageOptimizer) -> None:
    info = optimizer.info()
    assert (info.workers, info.alive, info.ready, info.startMethod) == (1, 1, 1, "in-process")
    assert optimizer.set_workers(3) == 3 and optimizer.info().workers == 3


def test_commands_run_on_it(
    optimizer: ImageOptimizer, tmp_path: Path, real_photo: Path,
) -> None:
    context = AppContext(optimizer=optimizer, settings=SettingsStore(tmp_path / "config"),
                         shell="desktop")
    reply = invoke("optimize_images", {"tasks": [[str(real_photo), None, {}]]}, context)
    assert reply.ok and reply.result[0].success
    assert invoke("get_active_tasks", {}, context).result == []
    assert invoke("get_app_info", {}, context).result.workers == 1

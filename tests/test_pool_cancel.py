"""Cancel on the real pool: queued images dropped, running ones stopped, nothing half-written.

Slow images are real photographs upscaled to 2000x2000 and encoded to AVIF (a second or more
each); a cancel that did not stop them would leave their outputs on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from waiting import process_gone, wait_until

from backend.core.optimizer import ImageOptimizer
from backend.core.paths import PARTIAL_SUFFIX, partial_name_prefix
from backend.types import ImageSettings, OptimizationResult, ProgressEvent, Task

AVIF = ImageSettings(outputFormat="avif")


def slow_images(make: Callable[..., Path], n: int) -> list[Path]:
    return [make(f"big{i}.jpg", source="astronaut", size=(2000, 2000), quality=95)
            for i in range(n)]


def test_cancel_stops_running_and_queued_images_and_leaves_no_partial_files(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    slow = slow_images(tmp_images, 2)
    small = [tmp_images(f"s{i}.jpg", source="coffee", size=(100 + i, 70)) for i in range(5)]
    tasks = [Task(input_path=str(p), settings=AVIF) for p in [*small, *slow]]
    outputs = [p.parent / "optimized" / f"{p.stem}.avif" for p in slow]
    outputs[0].parent.mkdir()
    # A worker killed while writing leaves a temp file: plant one for each running image.
    partials = [o.parent / f"{partial_name_prefix(str(o))}0123ab{PARTIAL_SUFFIX}" for o in outputs]
    for partial in partials:
        partial.write_bytes(b"half")
    events: list[ProgressEvent] = []
    results: list[OptimizationResult] = []
    runner = threading.Thread(target=lambda: results.extend(
        optimizer.optimize_images(tasks, on_progress=events.append)))
    runner.start()
    wait_until(lambda: {w.current for w in optimizer.info().processes} == set(map(str, slow)))
    busy_pids = optimizer.info().pids

    assert optimizer.cancel() == 7
    runner.join()

    assert [r.original_path for r in results] == [t.input_path for t in tasks]
    for result in results:
        assert (result.status, result.success, result.error) == ("cancelled", False, "cancelled")
        assert result.errorKind == "cancelled"
        assert not Path(result.optimized_path).exists()
    assert not any(p.exists() for p in partials)
    assert list(outputs[0].parent.iterdir()) == []
    assert all(process_gone(pid) for pid in busy_pids)
    final = events[-1]
    assert (final.completedTasks, final.status, final.metadata.error) == (7, "error", "cancelled")
    assert final.metadata.formattedMessage.endswith("; 7 cancelled")
    wait_until(lambda: optimizer.info().ready == 2)
    assert optimizer.active_tasks() == []


def test_images_finished_before_a_cancel_keep_their_results(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    small = [tmp_images(f"s{i}.jpg", source="chelsea", size=(90 + i, 60)) for i in range(3)]
    slow = slow_images(tmp_images, 3)
    tasks = [Task(input_path=str(p), settings=AVIF) for p in [*small, *slow]]
    events: list[ProgressEvent] = []
    results: list[OptimizationResult] = []
    runner = threading.Thread(target=lambda: results.extend(
        optimizer.optimize_images(tasks, on_progress=events.append)))
    runner.start()
    # Largest first: the small images run last, so this waits for the first slow ones.
    wait_until(lambda: events)
    cancelled = optimizer.cancel()
    runner.join()
    done = [r for r in results if r.success]
    assert done and cancelled == len(tasks) - len(done)
    for result in done:
        assert Path(result.optimized_path).stat().st_size == result.optimized_size
    assert all(r.status == "cancelled" for r in results if not r.success)
    final = events[-1]
    assert final.status == "complete" and final.metadata.error == "cancelled"
    assert final.completedTasks == len(tasks)


def test_cancel_with_nothing_running_cancels_nothing(optimizer: ImageOptimizer) -> None:
    assert optimizer.cancel() == 0
    assert optimizer.info().ready == 2

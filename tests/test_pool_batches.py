"""The real pool (2 worker processes) on real images: order, streaming, concurrency.

Choosing its size is tested in test_worker_count.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from waiting import wait_until

from backend.core.optimizer import ImageOptimizer
from backend.core.scheduler import SMALL_IMAGE_BYTES
from backend.errors import ValidationError
from backend.types import ImageSettings, ProgressEvent, Task

SOURCES = ("chelsea", "coffee", "astronaut", "camera", "rocket.jpg", "motorcycle_left")


def photos(make: Callable[..., Path], sizes: list[int]) -> list[Path]:
    """Real photographs of different sizes, so largest-first dispatch reorders them."""
    return [make(f"p{i}.jpg", source=SOURCES[i % len(SOURCES)], size=(w, w * 3 // 4), mode="RGB",
                 quality=95) for i, w in enumerate(sizes)]


def test_results_come_back_in_task_order_whatever_order_they_ran_in(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    inputs = photos(tmp_images, [64, 900, 120, 640, 32, 1200, 300])
    tasks = [Task(input_path=str(p)) for p in inputs]
    results = optimizer.optimize_images(tasks)
    assert [r.original_path for r in results] == [str(p) for p in inputs]
    for path, result in zip(inputs, results, strict=True):
        assert result.success, result.error
        out = Path(result.optimized_path)
        assert out == path.parent / "optimized" / path.name
        assert result.optimized_size == out.stat().st_size
        with Image.open(path) as src, Image.open(out) as im:
            assert im.format == "JPEG"
            assert im.size == src.size == (result.width, result.height)


def test_each_finished_image_streams_an_event_and_the_last_says_complete(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    inputs = photos(tmp_images, [400, 300, 200, 100])
    events: list[ProgressEvent] = []
    optimizer.subscribe(events.append)
    results = optimizer.optimize_images([Task(input_path=str(p)) for p in inputs])
    completed = [e.completedTasks for e in events]
    assert completed == sorted(set(completed)) and completed[-1] == 4
    assert all(e.totalTasks == 4 for e in events)
    assert [e.status for e in events] == ["processing"] * (len(events) - 1) + ["complete"]
    final = events[-1]
    assert final.progressPercentage == 100
    assert final.metadata.totalDuration is not None and final.metadata.totalDuration > 0
    assert final.metadata.formattedMessage.startswith("4 images optimized in ")
    # However events were coalesced, their sizes add up to the batch's.
    assert sum(e.metadata.savedBytes for e in events) == sum(r.savedBytes for r in results)
    assert sum(e.metadata.originalSize for e in events) == sum(r.original_size for r in results)
    first = events[0].metadata
    if events[0].completedTasks == 1:  # a single image: the original's message
        assert first.formattedMessage.startswith(f"{first.fileName} optimized (")
        assert first.formattedMessage.endswith("% compression)")


def test_a_failed_image_is_reported_and_the_batch_continues(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    good = photos(tmp_images, [200, 150])
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo\n" * 50)
    events: list[ProgressEvent] = []
    tasks = [Task(input_path=str(p)) for p in (good[0], bad, good[1])]
    results = optimizer.optimize_images(tasks, on_progress=events.append)
    assert [r.success for r in results] == [True, False, True]
    assert results[1].status == "error" and results[1].error
    assert events[-1].status == "complete" and events[-1].completedTasks == 3
    assert any(e.metadata.error == results[1].error for e in events)


def test_a_batch_where_every_image_failed_ends_with_status_error(
    optimizer: ImageOptimizer, tmp_path: Path
) -> None:
    bad = [tmp_path / "a.jpg", tmp_path / "b.png"]
    for path in bad:
        path.write_bytes(b"")
    events: list[ProgressEvent] = []
    results = optimizer.optimize_images([Task(input_path=str(p)) for p in bad],
                                        on_progress=events.append)
    assert not any(r.success for r in results)
    assert events[-1].status == "error"
    assert events[-1].metadata.error == results[-1].error


def test_active_tasks_lists_queued_and_in_flight_inputs_during_a_batch(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    slow = [tmp_images(f"slow{i}.jpg", source="astronaut", size=(2000, 2000), quality=95)
            for i in range(2)]
    assert all(p.stat().st_size >= SMALL_IMAGE_BYTES for p in slow)  # each goes out alone
    small = photos(tmp_images, [80, 90, 100])
    inputs = [str(p) for p in [*small, *slow]]
    avif = ImageSettings(outputFormat="avif")
    tasks = [Task(input_path=p, settings=avif) for p in inputs]
    runner = threading.Thread(target=optimizer.optimize_images, args=(tasks,))
    runner.start()
    # Largest first: both workers take a slow AVIF while the small ones wait in the queue.
    wait_until(lambda: {w.current for w in optimizer.info().processes} == set(map(str, slow)))
    assert sorted(optimizer.active_tasks()) == sorted(inputs)
    assert optimizer.info().queued == 3
    optimizer.cancel()
    runner.join()
    assert optimizer.active_tasks() == []


def test_two_batches_at_once_each_get_only_their_own_results_and_events(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    first = photos(tmp_images, [300, 200, 100])
    second = [tmp_images(f"b{i}.png", source="coffee", size=(90 + i, 60)) for i in range(5)]
    seen: list[ProgressEvent] = []
    optimizer.subscribe(seen.append)
    outcome: dict[str, tuple[list, list[ProgressEvent]]] = {}

    def run(name: str, paths: list[Path]) -> None:
        own: list[ProgressEvent] = []
        results = optimizer.optimize_images([Task(input_path=str(p)) for p in paths],
                                            on_progress=own.append)
        outcome[name] = (results, own)

    threads = [threading.Thread(target=run, args=("first", first)),
               threading.Thread(target=run, args=("second", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, paths in (("first", first), ("second", second)):
        results, own = outcome[name]
        assert [r.original_path for r in results] == [str(p) for p in paths]
        assert all(r.success for r in results)
        assert {e.totalTasks for e in own} == {len(paths)}
        assert own[-1].completedTasks == len(paths) and own[-1].status == "complete"
    finals = [e for e in seen if e.status == "complete"]
    assert sorted(e.totalTasks for e in finals) == [3, 5]


def test_a_listener_that_raises_is_logged_and_the_others_still_hear(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: ProgressEvent) -> None:
        raise RuntimeError("listener bug")

    heard: list[ProgressEvent] = []
    optimizer.subscribe(broken)
    unsubscribe = optimizer.subscribe(heard.append)
    result = optimizer.optimize_image(Task(input_path=str(photos(tmp_images, [120])[0])))
    assert result.success
    assert heard[-1].status == "complete" and heard[-1].completedTasks == 1
    assert "progress listener failed" in caplog.text
    unsubscribe()
    optimizer.optimize_image(Task(input_path=str(photos(tmp_images, [130])[0])))
    assert len(heard) == 1


def test_the_pool_starts_warm_workers_and_reports_its_state(optimizer: ImageOptimizer) -> None:
    info = optimizer.info()
    assert (info.workers, info.alive, info.ready, info.busy, info.queued) == (2, 2, 2, 0, 0)
    assert info.started and info.startMethod in ("forkserver", "spawn")
    for pid in info.pids:
        assert Path(f"/proc/{pid}").exists()


def test_tasks_that_are_not_tasks_are_refused_naming_the_position(
    optimizer: ImageOptimizer,
) -> None:
    with pytest.raises(ValidationError, match=r"tasks\[1\]: expected a Task, got str"):
        optimizer.optimize_images([Task(input_path="a.jpg"), "b.jpg"])  # type: ignore[list-item]
    assert optimizer.optimize_images([]) == []

"""Progress events: coalescing, exact counts, messages, the final event.

The coalescing rules are checked on :class:`BatchProgress` with a replayed timeline (exact,
independent of machine speed), then on the real pool (and the in-process executor) with many
tiny real images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from backend.core.executor import Executor
from backend.core.in_process import InProcessExecutor
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.core.progress import MAX_EVENTS_PER_SECOND, BatchProgress
from backend.types import OptimizationResult, ProgressEvent, Task


def ok(name: str, original: int = 1000, optimized: int = 600) -> OptimizationResult:
    return OptimizationResult(original_path=f"/photos/{name}", optimized_path=f"/out/{name}",
                              original_size=original, optimized_size=optimized, success=True,
                              savedBytes=original - optimized)


def failed(name: str, error: str = "truncated JPEG data") -> OptimizationResult:
    return OptimizationResult(original_path=f"/photos/{name}", optimized_path=f"/out/{name}",
                              original_size=500, optimized_size=0, success=False, error=error,
                              status="error")


def cancelled(name: str) -> OptimizationResult:
    return OptimizationResult(original_path=f"/photos/{name}", optimized_path=f"/out/{name}",
                              original_size=500, optimized_size=0, success=False,
                              error="cancelled", status="cancelled")


def replay(
    progress: BatchProgress, timeline: list[tuple[float, OptimizationResult]]
) -> list[tuple[float, ProgressEvent]]:
    """Feed results at the given times, sending events when due, as the hub's thread does."""
    sent: list[tuple[float, ProgressEvent]] = []
    for at, result in timeline:
        due = progress.due()
        if due is not None and due <= at:  # the hub woke at ``due`` and sent the window
            sent.append((due, progress.take(due)))
        progress.record(result, at)
        due = progress.due()
        if due is not None and due <= at:  # nothing recent: this one goes out at once
            sent.append((at, progress.take(at)))
    return sent


def test_a_thousand_images_in_a_second_make_about_thirty_events_with_exact_totals() -> None:
    progress = BatchProgress(total=1000, started=0.0)
    timeline = [(0.001 * (i + 1), ok(f"img{i}.jpg", 1000 + i, 400)) for i in range(1000)]
    sent = replay(progress, timeline)
    events = [event for _, event in sent]
    assert len(events) <= MAX_EVENTS_PER_SECOND + 2
    times = [at for at, _ in sent[:-1]]
    assert all(b - a >= 1 / MAX_EVENTS_PER_SECOND - 1e-9 for a, b in pairwise(times))
    counts = [e.completedTasks for e in events]
    assert counts == sorted(set(counts)) and counts[-1] == 1000
    assert sum(e.metadata.originalSize for e in events) == sum(1000 + i for i in range(1000))
    assert sum(e.metadata.savedBytes for e in events) == sum(600 + i for i in range(1000))
    final = events[-1]
    assert (final.status, final.progressPercentage, final.metadata.totalDuration) == (
        "complete", 100, 1.0)
    assert final.metadata.fileName == "img999.jpg"
    assert events[1].metadata.formattedMessage.startswith(
        f"img{events[1].completedTasks - 1}.jpg and ")


def test_images_slower_than_the_limit_each_get_their_own_event() -> None:
    progress = BatchProgress(total=4, started=0.0)
    timeline = [(0.1 * (i + 1), ok(f"photo{i}.jpg", 2048, 1024)) for i in range(4)]
    events = [event for _, event in replay(progress, timeline)]
    assert [e.completedTasks for e in events] == [1, 2, 3, 4]
    assert [e.progressPercentage for e in events] == [25, 50, 75, 100]
    assert [e.status for e in events] == ["processing"] * 3 + ["complete"]
    assert events[0].metadata.formattedMessage == (
        "photo0.jpg optimized (1.00 KB saved / 50% compression)")
    assert events[-1].metadata.formattedMessage == (
        "4 images optimized in 0.40 s (4.00 KB saved / 50% compression)")
    assert events[-1].metadata.totalDuration == 0.4


def test_failures_are_named_in_the_events_that_cover_them() -> None:
    progress = BatchProgress(total=4, started=0.0)
    timeline = [(0.5, failed("bad.jpg")), (0.51, ok("a.jpg")),
                (0.52, failed("worse.png", "empty file")), (2.0, ok("b.jpg"))]
    events = [event for _, event in replay(progress, timeline)]
    assert events[0].metadata.formattedMessage == "bad.jpg failed: truncated JPEG data"
    assert events[0].metadata.error == "truncated JPEG data"
    assert events[1].metadata.formattedMessage == (
        "worse.png and 1 more optimized (0.39 KB saved / 40% compression); 1 failed")
    assert events[1].metadata.error == "empty file"
    assert events[-1].status == "complete"
    assert events[-1].metadata.formattedMessage.endswith("; 2 failed")


def test_a_batch_with_no_success_ends_with_status_error() -> None:
    progress = BatchProgress(total=2, started=0.0)
    events = [e for _, e in replay(progress, [(0.1, failed("a.jpg")), (0.2, failed("b.jpg"))])]
    assert (events[-1].status, events[-1].metadata.error) == ("error", "truncated JPEG data")


def test_a_cancelled_batch_ends_with_every_image_counted_and_error_cancelled() -> None:
    progress = BatchProgress(total=3, started=0.0)
    timeline = [(0.1, ok("a.jpg")), (0.2, cancelled("b.jpg")), (0.2, cancelled("c.jpg"))]
    events = [e for _, e in replay(progress, timeline)]
    final = events[-1]
    assert (final.completedTasks, final.status, final.metadata.error) == (3, "complete",
                                                                          "cancelled")
    assert final.metadata.formattedMessage == (
        "1 of 3 images optimized in 0.20 s (400 B saved / 40% compression); 2 cancelled")


@pytest.mark.parametrize("executor", [lambda: ProcessPool(2), InProcessExecutor],
                         ids=["pool", "in-process"])
def test_many_tiny_images_on_the_pool_stay_within_the_event_rate_with_exact_counts(
    tmp_images: Callable[..., Path], executor: Callable[[], Executor],
) -> None:
    first = tmp_images("tiny0.jpg", source="coffee", size=(24, 16), quality=95)
    inputs = [first]
    for i in range(1, 240):  # copies: the same real tiny photo, 240 files
        copy = first.with_name(f"tiny{i}.jpg")
        copy.write_bytes(first.read_bytes())
        inputs.append(copy)
    events: list[ProgressEvent] = []
    with ImageOptimizer(executor()) as optimizer:
        optimizer.start(wait=True)
        began = time.monotonic()
        results = optimizer.optimize_images([Task(input_path=str(p)) for p in inputs],
                                            on_progress=events.append)
        elapsed = time.monotonic() - began
    assert all(r.success for r in results)
    # Sends are at least 1/30 s apart and all happen within the call, plus the final one.
    assert len(events) <= int(elapsed * MAX_EVENTS_PER_SECOND) + 2
    counts = [e.completedTasks for e in events]
    assert counts == sorted(set(counts)) and counts[-1] == len(inputs)
    assert [e.status for e in events][-1] == "complete"
    assert sum(e.metadata.savedBytes for e in events) == sum(r.savedBytes for r in results)


@pytest.mark.parametrize("total", [1, 7])
def test_percentages_round_down_like_the_original(total: int) -> None:
    progress = BatchProgress(total=total, started=0.0)
    events = [e for _, e in replay(progress, [(1.0 * i, ok(f"{i}.jpg")) for i in range(total)])]
    assert [e.progressPercentage for e in events] == [
        (i + 1) * 100 // total for i in range(total)]

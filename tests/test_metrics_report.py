"""Benchmark mode: the report of a real batch, and the recorder's arithmetic on known timings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from backend.core.metrics import STAGES, BenchmarkRecorder, BenchmarkReport
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.core.protocol import Done
from backend.core.scheduler import Job
from backend.core.stage_times import StageTimes
from backend.types import ImageSettings, OptimizationResult, Task


def test_a_benchmarked_batch_reports_every_measure(tmp_images: Callable[..., Path]) -> None:
    inputs = [tmp_images(f"p{i}.jpg", source=src, size=(w, w * 2 // 3), quality=95)
              for i, (src, w) in enumerate([("chelsea", 300), ("coffee", 450), ("astronaut", 240),
                                            ("rocket.jpg", 360), ("camera", 150)])]
    with ImageOptimizer(ProcessPool(2)) as optimizer:
        optimizer.start(wait=True)
        plain = optimizer.optimize_images([Task(input_path=str(inputs[0]))])
        assert plain[0].success and optimizer.last_benchmark() is None
        results = optimizer.optimize_images([Task(input_path=str(p)) for p in inputs],
                                            benchmark=True)
        pids = set(optimizer.info().pids)
        report = optimizer.last_benchmark()
    assert report is not None
    assert (report.workers, report.images, report.processed, report.succeeded) == (2, 5, 5, 5)
    assert report.failed == report.cancelled == 0 and report.warmAtStart
    assert report.bytesIn == sum(r.original_size for r in results)
    assert report.bytesOut == sum(r.optimized_size for r in results)
    assert report.megapixels == pytest.approx(
        sum(r.width * r.height for r in results if r.width and r.height) / 1e6)
    assert 0 < report.timeToFirstResult <= report.wallTime  # type: ignore[operator]
    assert report.imagesPerSecond == pytest.approx(5 / report.wallTime)
    assert report.megapixelsPerSecond == pytest.approx(report.megapixels / report.wallTime)
    assert list(report.stages) == list(STAGES)
    assert report.stages["encode"].total > 0
    assert [w.slot for w in report.workerStats] == [0, 1]
    assert sum(w.tasks for w in report.workerStats) == 5
    for w in report.workerStats:
        assert w.busy + w.idle == pytest.approx(report.wallTime)
        assert set(w.pids) <= pids
    stage_time = sum(s.total for s in report.stages.values())
    assert stage_time <= sum(w.busy for w in report.workerStats) + 1e-6
    assert report.queueLengthMax == 5
    assert 0 <= report.queueWaitMean <= report.queueWaitMax <= report.wallTime

    decoded = msgspec.json.decode(msgspec.json.encode(report), type=BenchmarkReport)
    assert decoded == report
    text = report.render()
    assert "5 images (5 ok) on 2 workers" in text
    for needle in ("images/s", "MP/s", "first result", "queue", *STAGES):
        assert needle in text
    assert text.count("\n  0 ") == 1 and text.count("\n  1 ") == 1


def _job(index: int, enqueued: float) -> Job:
    return Job(index, f"/in/{index}.jpg", f"/out/{index}.jpg", ImageSettings(), 1000,
               key=index + 1, enqueued=enqueued)


def _result(index: int, width: int, height: int) -> OptimizationResult:
    return OptimizationResult(original_path=f"/in/{index}.jpg", optimized_path=f"/out/{index}.jpg",
                              original_size=1000, optimized_size=250, success=True, width=width,
                              height=height)


def test_the_recorder_turns_known_timings_into_exact_figures() -> None:
    # Two workers over 4 s: slot 0 runs images 0 (0-2 s) and 2 (2-3 s); slot 1 runs image 1
    # (1-4 s). All three were queued at t=0; the queue went 3 -> 1 at t=0, 1 -> 0 at t=2.
    recorder = BenchmarkRecorder(workers=2, start_method="forkserver", started=0.0, images=4,
                                 warm=False)
    recorder.queue_changed(3, 0.0)
    recorder.queue_changed(1, 0.0)
    recorder.queue_changed(0, 2.0)
    times = StageTimes(load=0.1, resize=0.0, encode=0.5, optimize=0.2, write=0.05)
    for index, slot, pid, start, end in [(0, 0, 11, 0.0, 2.0), (2, 0, 12, 2.0, 3.0),
                                         (1, 1, 21, 1.0, 4.0)]:
        done = Done(index + 1, _result(index, 2000, 1000), times, start, end)
        recorder.settled(_job(index, 0.0), done.result, done, slot, pid, end)
    lost = OptimizationResult(original_path="/in/3.jpg", optimized_path="/out/3.jpg",
                              original_size=1000, optimized_size=0, success=False,
                              status="cancelled", error="cancelled")
    recorder.settled(_job(3, 0.0), lost, None, None, None, 4.0)
    report = recorder.report(finished=4.0)

    assert (report.processed, report.succeeded, report.cancelled) == (3, 3, 1)
    assert report.wallTime == 4.0 and report.timeToFirstResult == 2.0
    assert report.imagesPerSecond == 0.75
    assert report.megapixels == 6.0 and report.megapixelsPerSecond == 1.5
    assert (report.bytesIn, report.bytesOut) == (3000, 750)
    assert report.stages["encode"].total == pytest.approx(1.5)
    assert report.stages["encode"].mean == pytest.approx(0.5)
    slot0, slot1 = report.workerStats
    assert (slot0.tasks, slot0.busy, slot0.idle, slot0.pids) == (2, 3.0, 1.0, [11, 12])
    assert (slot1.tasks, slot1.busy, slot1.idle, slot1.utilization) == (1, 3.0, 1.0, 0.75)
    assert report.queueLengthMax == 3
    assert report.queueLengthMean == pytest.approx(0.5)  # 1 image for 2 s out of 4
    assert report.queueWaitMean == pytest.approx(1.0)  # waits 0, 2 and 1 s
    assert report.queueWaitMax == 2.0
    assert "times include worker start-up" in report.render()

"""Our engine in a child process: ``python -m bench.ours speed|latency|many-small``.

The job arrives as JSON on stdin (``bench.schema``) and the measurement leaves as JSON on stdout,
so each contender runs alone in a fresh interpreter, as msgspec's benchmarks do: nothing a
previous contender allocated, imported or warmed can help or hurt the next one.

Timing rules (the same for every contender):
- the clock runs from submitting a batch until the last result is back in the caller;
- pool start-up (spawning and warming workers) is reported apart and never timed, because the
  app starts its pool once at launch; the in-process loop gets the same courtesy (``warm_up``);
- inputs are read once before timing so the page cache treats every contender alike.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec

from backend.core.pipeline import optimize_file, warm_up
from backend.core.worker_process import limit_codec_threads
from backend.types import ImageSettings, OptimizationResult, ProgressEvent, Task
from bench.cpu import tree_cpu_s
from bench.machine import versions
from bench.schema import (
    GroupRun,
    JobImage,
    LatencyJob,
    LatencyRun,
    ManySmallJob,
    ManySmallRun,
    SpeedJob,
    SpeedRun,
)

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer

SETTINGS = ImageSettings()  # the app's defaults: quality 90, original format, no resize
_PAGE = os.sysconf("SC_PAGE_SIZE")
_MAX_ERRORS = 5


def rss_mb() -> float:
    with open("/proc/self/statm", "rb") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


class EventLog:
    """A subscriber that stamps every progress event as it arrives."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.last: ProgressEvent | None = None
        self._done = threading.Event()

    def __call__(self, event: ProgressEvent) -> None:
        self.times.append(time.perf_counter())
        self.last = event
        if event.status != "processing":
            self._done.set()

    def reset(self) -> None:
        self.times.clear()
        self.last = None
        self._done.clear()

    def wait_final(self, timeout: float = 5.0) -> bool:
        return self._done.wait(timeout)


@contextmanager
def started_pool(workers: int) -> Iterator[tuple[ImageOptimizer, float]]:
    """A pool with every worker spawned and warmed, and how long that took."""
    # Imported here so the loop baseline's process holds nothing but the pipeline.
    from backend.core.optimizer import ImageOptimizer
    from backend.core.pool import ProcessPool

    optimizer = ImageOptimizer(ProcessPool(workers))
    try:
        t0 = time.perf_counter()
        optimizer.start(wait=True)
        yield optimizer, time.perf_counter() - t0
    finally:
        optimizer.shutdown()


def _prime(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass


def _tasks(images: list[JobImage]) -> list[Task]:
    return [Task(input_path=im.input, output_path=im.output, settings=SETTINGS) for im in images]


def _outcome(name: str, wall: float, results: list[OptimizationResult]) -> GroupRun:
    failures = [r for r in results if not r.success]
    return GroupRun(
        name=name, wall_s=wall, failed=len(failures),
        kept_original=sum(1 for r in results if r.keptOriginal),
        errors=[f"{os.path.basename(r.original_path)}: {r.error}" for r in failures][:_MAX_ERRORS],
    )


def run_loop(job: SpeedJob) -> SpeedRun:
    """The baseline: a plain in-process loop over ``optimize_file``."""
    # Single-threaded codecs, as in every worker, so both sides do the same work per image.
    limit_codec_threads()
    warm_up()
    groups = []
    for group in job.groups:
        _prime([im.input for im in group.images])
        for im in group.images:
            os.makedirs(os.path.dirname(im.output), exist_ok=True)
        stages: dict[str, float] = {}
        results = []
        first: float | None = None
        cpu0, t0 = tree_cpu_s(), time.perf_counter()
        for im in group.images:
            result, times = optimize_file(im.input, im.output, SETTINGS)
            results.append(result)
            if first is None:
                first = time.perf_counter() - t0
            for stage, seconds in msgspec.structs.asdict(times).items():
                stages[stage] = stages.get(stage, 0.0) + seconds
        run = _outcome(group.name, time.perf_counter() - t0, results)
        run.cpu_s = tree_cpu_s() - cpu0
        run.first_result_s = first
        run.stages = stages
        groups.append(run)
    return SpeedRun(engine="loop", workers=1, groups=groups, versions=versions())


def run_pool(job: SpeedJob) -> SpeedRun:
    events = EventLog()
    with started_pool(job.workers) as (optimizer, start_s):
        optimizer.subscribe(events)
        groups = []
        for group in job.groups:
            _prime([im.input for im in group.images])
            events.reset()
            tasks = _tasks(group.images)
            cpu0, t0 = tree_cpu_s(), time.perf_counter()
            results = optimizer.optimize_images(tasks, benchmark=True)
            wall = time.perf_counter() - t0
            cpu = tree_cpu_s() - cpu0
            events.wait_final()
            run = _outcome(group.name, wall, results)
            run.cpu_s = cpu
            run.first_result_s = events.times[0] - t0 if events.times else None
            report = optimizer.last_benchmark()
            if report is not None:
                run.benchmark = msgspec.to_builtins(report)
                run.benchmark_text = report.render()
                run.stages = {name: stage.total for name, stage in report.stages.items()}
            groups.append(run)
    return SpeedRun(engine="pool", workers=job.workers, groups=groups, versions=versions(),
                    start_s=start_s)


def run_latency(job: LatencyJob) -> LatencyRun:
    limit_codec_threads()
    warm_up()
    events = EventLog()
    task = _tasks([job.image])[0]
    local_out = job.image.output + ".in-process" + os.path.splitext(job.image.output)[1]
    os.makedirs(os.path.dirname(job.image.output), exist_ok=True)
    _prime([job.image.input])
    pool_s, first_event_s, in_process_s = [], [], []
    with started_pool(job.workers) as (optimizer, cold):
        optimizer.subscribe(events)
        for _ in range(job.repeats):
            events.reset()
            t0 = time.perf_counter()
            optimizer.optimize_images([task])
            pool_s.append(time.perf_counter() - t0)
            events.wait_final()
            if events.times:
                first_event_s.append(events.times[0] - t0)
            t0 = time.perf_counter()
            optimize_file(job.image.input, local_out, SETTINGS)
            in_process_s.append(time.perf_counter() - t0)
    return LatencyRun(cold_start_s=cold, pool_s=pool_s, first_event_s=first_event_s,
                      in_process_s=in_process_s)


def run_many_small(job: ManySmallJob) -> ManySmallRun:
    events = EventLog()
    tasks = [
        Task(input_path=path, output_path=os.path.join(job.out_dir, os.path.basename(path)),
             settings=SETTINGS)
        for path in job.inputs
    ]
    os.makedirs(job.out_dir, exist_ok=True)
    _prime(job.inputs)
    with started_pool(job.workers) as (optimizer, _):
        optimizer.subscribe(events)
        baseline = rss_mb()
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        t0 = time.perf_counter()
        sampler = threading.Thread(
            target=_sample_rss, args=(samples, t0, job.sample_interval_s, stop.is_set),
            daemon=True,
        )
        sampler.start()
        results = optimizer.optimize_images(tasks)
        wall = time.perf_counter() - t0
        events.wait_final()
        stop.set()
        sampler.join()
        final = rss_mb()
    half = wall / 2
    first_half = [mb for t, mb in samples if t <= half] or [baseline]
    second_half = [mb for t, mb in samples if t > half] or [final]
    last = events.last
    return ManySmallRun(
        wall_s=wall, images=len(results), failed=sum(1 for r in results if not r.success),
        rss_baseline_mb=baseline, rss_peak_mb=max(mb for _, mb in samples or [(0, final)]),
        rss_final_mb=final, rss_first_half_peak_mb=max(first_half),
        rss_second_half_peak_mb=max(second_half), rss_trace=_thin(samples, 200),
        events=len(events.times), events_per_s=len(events.times) / wall if wall else 0.0,
        # The final event is exempt from the rate limit: the SPEC always sends it.
        events_peak_1s=peak_per_second(
            events.times[:-1] if last and last.status != "processing" else events.times
        ),
        final_status=last.status if last else "none",
        final_completed=last.completedTasks if last else 0,
        final_total=last.totalTasks if last else 0,
    )


def peak_per_second(times: list[float]) -> int:
    """The most events that fell inside any one-second window."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _sample_rss(samples: list[tuple[float, float]], t0: float, interval: float,
                stopped: Callable[[], bool]) -> None:
    while not stopped():
        samples.append((time.perf_counter() - t0, rss_mb()))
        time.sleep(interval)


def _thin(samples: list[tuple[float, float]], keep: int) -> list[tuple[float, float]]:
    step = max(1, len(samples) // keep)
    return [(round(t, 3), round(mb, 1)) for t, mb in samples[::step]]


_COMMANDS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "speed": (SpeedJob, lambda job: run_loop(job) if job.engine == "loop" else run_pool(job)),
    "latency": (LatencyJob, run_latency),
    "many-small": (ManySmallJob, run_many_small),
}


def main() -> None:
    job_type, run = _COMMANDS[sys.argv[1]]
    job = msgspec.json.decode(sys.stdin.buffer.read(), type=job_type)
    sys.stdout.buffer.write(msgspec.json.encode(run(job)))


if __name__ == "__main__":
    main()

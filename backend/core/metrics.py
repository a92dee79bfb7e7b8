"""Benchmark mode: what one batch cost, where the time went, and a readable report.

The pool feeds a :class:`BenchmarkRecorder` as images settle (aggregates only, nothing kept per
image, so a 10 000-image benchmark costs no memory); :meth:`BenchmarkRecorder.report` freezes it
into a :class:`BenchmarkReport`, a msgspec Struct (JSON-encodable) with :meth:`render`.

Definitions:
- wall time: from submitting the batch to its last result. If the pool was still starting when
  the batch came (``warmAtStart`` false), that includes worker start-up, counted as idle time.
- time to first result: from submitting to the first image a worker reported.
- images/s counts every image a worker processed (successes and failures); megapixels count the
  pixels of the written outputs (width x height of each successful result: the input's pixels
  unless the image was resized down), so MP/s is output pixels per second.
- bytes in/out: input and output sizes of the successful images.
- stages: the pipeline's own timings (load, resize, encode, optimize, write), summed over images;
  means are per processed image.
- per worker (by slot; a replaced worker keeps its slot, so a slot can list several pids): busy =
  time inside the pipeline, idle = wall time - busy (includes waiting for work, IPC, and a
  replacement's start-up).
- queue length: images of this batch not yet sent to a worker (max, and mean over wall time);
  queue wait: per image, from submitting to a worker starting it (includes the time it sat
  prefetched in a busy worker's pipe).
"""

from __future__ import annotations

from msgspec import Struct

from backend.core.protocol import Done
from backend.core.scheduler import Job
from backend.types import OptimizationResult

STAGES = ("load", "resize", "encode", "optimize", "write")


class StageStats(Struct, kw_only=True):
    total: float  # seconds
    mean: float  # seconds per processed image


class WorkerStats(Struct, kw_only=True):
    slot: int
    pids: list[int]
    tasks: int
    busy: float
    idle: float
    utilization: float  # busy / wall time, 0..1


class BenchmarkReport(Struct, kw_only=True):
    workers: int
    startMethod: str
    warmAtStart: bool  # every worker was ready when the batch was submitted
    images: int
    processed: int
    succeeded: int
    failed: int
    cancelled: int
    wallTime: float
    timeToFirstResult: float | None
    imagesPerSecond: float
    megapixels: float
    megapixelsPerSecond: float
    bytesIn: int
    bytesOut: int
    stages: dict[str, StageStats]
    workerStats: list[WorkerStats]
    queueLengthMax: int
    queueLengthMean: float
    queueWaitMean: float
    queueWaitMax: float

    def render(self) -> str:
        """A plain-text report for a terminal."""
        saved = (1 - self.bytesOut / self.bytesIn) * 100 if self.bytesIn else 0.0
        first = "-" if self.timeToFirstResult is None else f"{self.timeToFirstResult:.3f} s"
        outcome = f"{self.succeeded} ok"
        if self.failed:
            outcome += f", {self.failed} failed"
        if self.cancelled:
            outcome += f", {self.cancelled} cancelled"
        lines = [
            f"Benchmark: {self.images} images ({outcome}) on {self.workers} workers "
            f"({self.startMethod})",
            *([] if self.warmAtStart else
              ["  (the pool was still starting: times include worker start-up)"]),
            f"  wall time     {self.wallTime:.3f} s   first result {first}",
            f"  throughput    {self.imagesPerSecond:.2f} images/s   "
            f"{self.megapixelsPerSecond:.2f} MP/s ({self.megapixels:.1f} MP written)",
            f"  bytes         {_mb(self.bytesIn)} in -> {_mb(self.bytesOut)} out "
            f"({saved:.1f}% saved)",
            f"  queue         length max {self.queueLengthMax}, mean {self.queueLengthMean:.1f}; "
            f"wait mean {self.queueWaitMean:.3f} s, max {self.queueWaitMax:.3f} s",
            "",
            f"  {'stage':<10}{'total s':>10}{'mean ms':>10}{'share':>8}",
        ]
        stage_sum = sum(s.total for s in self.stages.values()) or 1.0
        for name, stage in self.stages.items():
            lines.append(f"  {name:<10}{stage.total:>10.3f}{stage.mean * 1000:>10.2f}"
                         f"{stage.total / stage_sum:>8.1%}")
        lines += ["", f"  {'worker':<8}{'tasks':>7}{'busy s':>10}{'idle s':>10}{'util':>8}  pids"]
        for w in self.workerStats:
            pids = ",".join(map(str, w.pids)) or "-"
            lines.append(f"  {w.slot:<8}{w.tasks:>7}{w.busy:>10.3f}{w.idle:>10.3f}"
                         f"{w.utilization:>8.1%}  {pids}")
        return "\n".join(lines)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.2f} MB"


class _Slot:
    __slots__ = ("busy", "pids", "tasks")

    def __init__(self) -> None:
        self.tasks = 0
        self.busy = 0.0
        self.pids: list[int] = []


class BenchmarkRecorder:
    """Aggregates one batch's measurements; called under the pool lock (keep it cheap)."""

    def __init__(
        self, workers: int, start_method: str, started: float, images: int, warm: bool
    ) -> None:
        self.workers = workers
        self.start_method = start_method
        self.warm = warm
        self.started = started
        self.images = images
        self.first_result: float | None = None
        self.processed = self.succeeded = self.failed = self.cancelled = 0
        self.pixels = 0
        self.bytes_in = self.bytes_out = 0
        self.stage_totals = dict.fromkeys(STAGES, 0.0)
        self.slots = [_Slot() for _ in range(workers)]
        self.wait_total = self.wait_max = 0.0
        self.queue_len = 0
        self.queue_max = 0
        self.queue_since = started
        self.queue_area = 0.0  # ∫ queue length dt, for the time-weighted mean

    def queue_changed(self, queued: int, now: float) -> None:
        self.queue_area += self.queue_len * (now - self.queue_since)
        self.queue_len, self.queue_since = queued, now
        self.queue_max = max(self.queue_max, queued)

    def settled(
        self, job: Job, result: OptimizationResult, done: Done | None, slot: int | None,
        pid: int | None, now: float,
    ) -> None:
        if result.status == "cancelled":
            self.cancelled += 1
        elif result.success:
            self.succeeded += 1
            self.bytes_in += result.original_size
            self.bytes_out += result.optimized_size
            if result.width and result.height:
                self.pixels += result.width * result.height
        else:
            self.failed += 1
        if done is None or slot is None:
            return
        self.processed += 1
        if self.first_result is None:
            self.first_result = now - self.started
        times = done.times
        for name in STAGES:
            self.stage_totals[name] += getattr(times, name)
        wait = max(0.0, done.started - job.enqueued)
        self.wait_total += wait
        self.wait_max = max(self.wait_max, wait)
        while slot >= len(self.slots):  # the pool grew during the batch
            self.slots.append(_Slot())
        record = self.slots[slot]
        record.tasks += 1
        record.busy += done.finished - done.started
        if pid is not None and pid not in record.pids:
            record.pids.append(pid)

    def report(self, finished: float) -> BenchmarkReport:
        wall = max(finished - self.started, 1e-9)
        area = self.queue_area + self.queue_len * (finished - self.queue_since)
        per_image = max(self.processed, 1)
        megapixels = self.pixels / 1e6
        return BenchmarkReport(
            workers=self.workers, startMethod=self.start_method, warmAtStart=self.warm,
            images=self.images,
            processed=self.processed, succeeded=self.succeeded, failed=self.failed,
            cancelled=self.cancelled, wallTime=wall, timeToFirstResult=self.first_result,
            imagesPerSecond=self.processed / wall, megapixels=megapixels,
            megapixelsPerSecond=megapixels / wall, bytesIn=self.bytes_in,
            bytesOut=self.bytes_out,
            stages={name: StageStats(total=total, mean=total / per_image)
                    for name, total in self.stage_totals.items()},
            workerStats=[
                WorkerStats(slot=i, pids=s.pids, tasks=s.tasks, busy=s.busy,
                            idle=max(0.0, wall - s.busy), utilization=min(1.0, s.busy / wall))
                for i, s in enumerate(self.slots)
            ],
            queueLengthMax=self.queue_max, queueLengthMean=area / wall,
            queueWaitMean=self.wait_total / per_image, queueWaitMax=self.wait_max,
        )

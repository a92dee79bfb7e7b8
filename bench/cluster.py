"""The same batch on the local pool and on a Dask cluster, and a huge batch through the cluster.

    python -m bench.cluster [--repeat N] [--tiny N] [--out DIR]   # bench/results/cluster.{json,md}

Both on this machine, in one run: a local ``ProcessPool(2)`` and a cluster of one
``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` (separate processes on
127.0.0.1, started and stopped here), so the ratio is the cost of going through Dask
(scheduler round trips, pickled msgpack payloads, the callback thread), not of a network.

- throughput: the bench's ``quick`` corpus (13 real images up to 4 MP, ``bench/corpus.py``),
  default settings, each warm, repetitions interleaved (pool, cluster, pool, ...); median
  images/s and MP/s, and cluster / pool. Target: the cluster ≥ 0.9x the pool's images/s.
- flat memory: ``--tiny`` (default 100,000) distinct 8x8 PNGs in one batch through the cluster;
  the client's RSS sampled every 100 ms, reported at 10 %, 50 % and 100 % of the images done,
  and the most tasks the scheduler held at once (sampled). The batch's own results (one
  ``OptimizationResult`` per image, which the caller gets back) grow with it, as on the pool;
  the futures and the scheduler's tasks must not.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
from PIL import Image

from backend.cluster.executor import DaskExecutor
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.types import ImageSettings, ProgressEvent, Task
from bench.corpus import build_corpus
from bench.machine import load_average

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
# The README's recommended cluster settings. Dask's statistical profiler samples every worker
# thread's stack every 10 ms, under the GIL: a CPU-bound worker pays for it. The event-loop
# watchdog (20 ms) and the system monitor (500 ms) are diagnostics: with them slowed, an idle
# 2-worker cluster here used 0.035 of a core instead of 0.107.
WORKER_CONFIG = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
                 "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",
                 "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "2s"}


class Run(msgspec.Struct, kw_only=True):
    executor: str
    seconds: float
    images_per_second: float
    megapixels_per_second: float
    worker_cpu_seconds: float  # user + system CPU of the worker processes during the batch
    worker_minor_faults: int  # their minor page faults (a fresh mmap per buffer shows here)


class Throughput(msgspec.Struct, kw_only=True):
    images: int
    megapixels: float
    runs: list[Run]
    pool_images_per_second: float  # medians
    cluster_images_per_second: float
    ratio: float  # cluster / pool
    # pool / cluster worker CPU seconds per batch (medians): the per-image cost through each,
    # which other load on the machine does not move as it moves the wall times
    cpu_ratio: float


class Flatness(msgspec.Struct, kw_only=True):
    images: int
    seconds: float
    images_per_second: float
    succeeded: int
    rss_mb_at: dict[str, float]  # "10%", "50%", "100%" of the images done
    rss_mb_peak: float
    scheduler_tasks_max: int


class Report(msgspec.Struct, kw_only=True):
    load_average: list[float]
    cpu_count: int
    throughput: Throughput
    flatness: Flatness | None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def local_cluster(scratch: Path) -> Iterator[str]:
    address = f"tcp://127.0.0.1:{_free_port()}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "PYTHONPATH": str(REPO), **WORKER_CONFIG}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env,
             "start_new_session": True, "cwd": scratch}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                               address.rsplit(":", 1)[1], "--dashboard-address",
                               f"127.0.0.1:{_free_port()}"], **quiet)]  # type: ignore[call-overload]
    procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                   "--no-dashboard", "--host", "127.0.0.1"],
                                  **quiet))  # type: ignore[call-overload]
    try:
        yield address
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


def _worker_usage(pids: list[int]) -> tuple[float, int]:
    """CPU seconds and minor page faults so far of these processes (all on this machine)."""
    cpu, faults = 0.0, 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / TICK
        faults += int(fields[7])
    return cpu, faults


def _batch(optimizer: ImageOptimizer, inputs: list[Path], out: Path) -> tuple[float, float, int]:
    """Seconds, worker CPU seconds and worker minor faults of one batch."""
    settings = ImageSettings(output="folder", outputFolder=str(out))
    tasks = [Task(input_path=str(p), settings=settings) for p in inputs]
    pids = optimizer.info().pids
    cpu, faults = _worker_usage(pids)
    began = time.perf_counter()
    results = optimizer.optimize_images(tasks)
    seconds = time.perf_counter() - began
    cpu_after, faults_after = _worker_usage(pids)
    failed = [r.error for r in results if not r.success]
    if failed:
        raise RuntimeError(f"bench batch failed: {failed[:3]}")
    return seconds, cpu_after - cpu, faults_after - faults


def throughput(pool: ImageOptimizer, cluster: ImageOptimizer, scratch: Path,
               repeat: int) -> Throughput:
    images, _ = build_corpus(BENCH_DIR / ".cache", "quick")
    inputs = [Path(im.path) for im in images]
    megapixels = sum(im.width * im.height for im in images) / 1e6
    runs: list[Run] = []
    for rep in range(repeat + 1):  # the first round warms both (caches, first imports)
        for name, optimizer in (("pool", pool), ("cluster", cluster)):
            out = scratch / f"{name}-{rep}"
            seconds, cpu, faults = _batch(optimizer, inputs, out)
            shutil.rmtree(out)
            if rep:
                runs.append(Run(executor=name, seconds=seconds,
                                images_per_second=len(inputs) / seconds,
                                megapixels_per_second=megapixels / seconds,
                                worker_cpu_seconds=round(cpu, 2), worker_minor_faults=faults))
    med = {name: statistics.median(r.images_per_second for r in runs if r.executor == name)
           for name in ("pool", "cluster")}
    cpu = {name: statistics.median(r.worker_cpu_seconds for r in runs if r.executor == name)
           for name in ("pool", "cluster")}
    return Throughput(images=len(inputs), megapixels=round(megapixels, 2), runs=runs,
                      pool_images_per_second=med["pool"],
                      cluster_images_per_second=med["cluster"],
                      ratio=med["cluster"] / med["pool"],
                      cpu_ratio=cpu["pool"] / max(cpu["cluster"], 1e-9))


def flatness(cluster: ImageOptimizer, executor: DaskExecutor, scratch: Path,
             count: int) -> Flatness:
    folder = scratch / "tiny"
    folder.mkdir()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "seed.png")
    seed = (folder / "seed.png").read_bytes()
    inputs = []
    for i in range(count):
        path = folder / f"t{i:06d}.png"
        path.write_bytes(seed)
        inputs.append(path)
    marks = {"10%": count // 10, "50%": count // 2, "100%": count}
    rss_at: dict[str, float] = {}
    samples: list[float] = []
    tasks_seen = [0]
    stop = threading.Event()

    def on_progress(event: ProgressEvent) -> None:
        for name, mark in marks.items():
            if name not in rss_at and event.completedTasks >= mark:
                rss_at[name] = round(_rss_mb(), 1)

    def sample() -> None:
        client = executor._client  # the bench looks inside: how many tasks the scheduler holds
        while not stop.wait(0.1):
            samples.append(_rss_mb())
            with contextlib.suppress(Exception):
                tasks_seen[0] = max(tasks_seen[0], client.run_on_scheduler(
                    lambda dask_scheduler: len(dask_scheduler.tasks)))

    sampler = threading.Thread(target=sample, daemon=True)
    settings = ImageSettings(output="folder", outputFolder=str(scratch / "tiny-out"))
    tasks = [Task(input_path=str(p), settings=settings) for p in inputs]
    sampler.start()
    began = time.perf_counter()
    results = cluster.optimize_images(tasks, on_progress=on_progress)
    seconds = time.perf_counter() - began
    stop.set()
    sampler.join()
    return Flatness(images=count, seconds=round(seconds, 2),
                    images_per_second=round(count / seconds, 1),
                    succeeded=sum(r.success for r in results), rss_mb_at=rss_at,
                    rss_mb_peak=round(max(samples, default=_rss_mb()), 1),
                    scheduler_tasks_max=tasks_seen[0])


def _growth(f: Flatness) -> list[str]:
    if "10%" not in f.rss_mb_at or "100%" not in f.rss_mb_at:
        return []
    grown = f.rss_mb_at["100%"] - f.rss_mb_at["10%"]
    per_image = grown * 1e6 / (f.images - f.images // 10)
    return [f"growth from 10 % to 100 % done: {grown:.1f} MB, {per_image:.0f} bytes per image: "
            "the batch's results, one per image, which the caller gets back; the futures and "
            "the scheduler's tasks stay within the window.", ""]


def render(report: Report) -> str:
    t = report.throughput
    lines = [
        "# Cluster: the local pool vs a Dask cluster on this machine", "",
        f"load average at start {report.load_average}, {report.cpu_count} CPUs; "
        "both executors 2 processes, 1 thread each", "",
        f"## Throughput: {t.images} images, {t.megapixels} MP (median of the repetitions)", "",
        "| executor | images/s | runs (s) | worker CPU s per run (median) "
        "| worker minor faults per run (median) |", "|---|---:|---|---:|---:|",
    ]
    for name, ips in (("pool", t.pool_images_per_second), ("cluster", t.cluster_images_per_second)):
        mine = [r for r in t.runs if r.executor == name]
        secs = ", ".join(f"{r.seconds:.2f}" for r in mine)
        cpu = statistics.median(r.worker_cpu_seconds for r in mine)
        faults = statistics.median(r.worker_minor_faults for r in mine)
        lines.append(f"| {name} | {ips:.2f} | {secs} | {cpu:.2f} | {faults:,.0f} |")
    verdict = "yes" if t.ratio >= 0.9 else "NO"
    lines += ["", f"cluster / pool = **{t.ratio:.2f}x** (target ≥ 0.9x: {verdict})", "",
              f"worker CPU per batch, pool / cluster = {t.cpu_ratio:.2f}x (1.00: an image costs "
              "the same through both; the wall times also carry the machine's other load)", ""]
    f = report.flatness
    if f is not None:
        lines += [
            f"## {f.images:,} tiny images through the cluster", "",
            f"{f.succeeded:,} succeeded in {f.seconds} s ({f.images_per_second}/s)", "",
            "| done | client RSS MB |", "|---|---:|",
            *[f"| {k} | {v} |" for k, v in f.rss_mb_at.items()],
            f"| peak | {f.rss_mb_peak} |", "",
            f"most tasks the scheduler held at once (sampled): {f.scheduler_tasks_max}", "",
            *_growth(f),
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny", type=int, default=100_000, help="0: skip the flatness run")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        scratch = Path(tmp)
        load = load_average()
        with local_cluster(scratch) as address:
            executor = DaskExecutor(address, 60.0)
            with ImageOptimizer(ProcessPool(2)) as pool, ImageOptimizer(executor) as cluster:
                pool.start(wait=True)
                executor_ready = time.monotonic() + 60
                while executor.info().alive < 2 and time.monotonic() < executor_ready:
                    time.sleep(0.2)
                speed = throughput(pool, cluster, scratch, options.repeat)
                flat = (flatness(cluster, executor, scratch, options.tiny) if options.tiny
                        else None)
    report = Report(load_average=list(load), cpu_count=os.cpu_count() or 1, throughput=speed,
                    flatness=flat)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "cluster.json").write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    table = render(report)
    (options.out / "cluster.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()

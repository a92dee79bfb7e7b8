"""``python -m bench.resize_webp``: resize to 1920 px and convert to WebP, ours against sharp.

    python -m bench.resize_webp                # full corpus, 2 workers, 3 repetitions
    python -m bench.resize_webp --quick --repeat 1

The workload issue 13 names ("resize-to-1920 + convert to WebP"): every corpus image
(``bench/corpus.py``, JPEG and PNG, 0.1-20 MP) with its longest edge brought to 1920 px (never
enlarged) and written as WebP at quality 90. Ours is the app's pool (``ImageOptimizer`` with N
warmed worker processes, settings ``resize: longest 1920, outputFormat: webp``); sharp is the
original sidecar's code path for the same settings (``bench/sharp/resize_webp.mjs``), N images
in flight. Each engine runs in a fresh process per repetition, the two alternating; JPEG inputs
and PNG inputs are timed as two batches. Speed is input megapixels per second (median wall time
of the repetitions); bytes are what each wrote. Results: ``bench/results/resize_webp.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from PIL import Image

from bench.machine import CpuMeter, machine_info
from bench.peer_sharp import PeerUnavailable, ensure_sharp, original_uv_threadpool, sharp_versions
from bench.report import mb, ratio, write_result
from bench.schema import CorpusImage, RunOptions, ScenarioResult, Table, TargetCheck

BENCH_DIR = Path(__file__).resolve().parent
SIZE = 1920
QUALITY = 90
ENGINES = ("ours", "sharp")


class ResizeImage(msgspec.Struct):
    input: str
    output: str


class ResizeJob(msgspec.Struct, kw_only=True):
    workers: int
    size: int
    quality: int
    images: list[ResizeImage]
    sharp_dir: str | None = None


class ResizeRun(msgspec.Struct, kw_only=True):
    wall_s: float
    cpu_s: float | None = None
    errors: list[str] = msgspec.field(default_factory=list)
    stages: dict[str, float] | None = None  # ours: the pipeline's stage seconds, summed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.resize_webp",
                                description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="the quick corpus")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from bench.corpus import build_corpus

    args = parse_args(argv)
    cache = args.cache.resolve()
    started = time.time()
    try:
        sharp_dir = ensure_sharp(cache)
    except PeerUnavailable as exc:
        print(f"bench.resize_webp needs the sharp peer: {exc}", file=sys.stderr)
        return 1
    mode = "quick" if args.quick else "full"
    corpus, notes = build_corpus(cache, mode)
    groups = {fmt: sorted((im for im in corpus if im.format == fmt),
                          key=lambda im: -im.width * im.height) for fmt in ("jpeg", "png")}
    scratch = cache / "scratch" / "resize_webp"
    runs: dict[tuple[str, str], list[ResizeRun]] = {}
    written: dict[tuple[str, str], int] = {}
    meter = CpuMeter()
    for rep in range(args.repeat):
        for engine in ENGINES if rep % 2 == 0 else reversed(ENGINES):
            for fmt, images in groups.items():
                folder = scratch / engine / fmt
                shutil.rmtree(folder, ignore_errors=True)
                job = ResizeJob(workers=args.workers, size=SIZE, quality=QUALITY, images=[
                    ResizeImage(im.path, str(folder / f"{Path(im.name).stem}.webp"))
                    for im in images], sharp_dir=str(sharp_dir))
                run = _run_sharp(job) if engine == "sharp" else _run_ours(job)
                written[(engine, fmt)] = _check(job)
                runs.setdefault((engine, fmt), []).append(run)
                shutil.rmtree(folder, ignore_errors=True)
    other = meter.other_share()
    machine = machine_info(sharp_versions(sharp_dir))
    machine.other_cpu_share = other
    result = ScenarioResult(
        name="resize_webp", title="Resize to 1920 px + WebP: ours vs sharp",
        description=__doc__.split("\n\n")[2].replace("\n", " "),
        options=RunOptions(mode=mode, repeat=args.repeat, workers=[args.workers],
                           small_images=0),
        machine=machine, corpus=corpus, notes=notes,
        started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)))
    _report(result, groups, runs, written, args.workers)
    _quality(result, [im for g in groups.values() for im in g])
    result.duration_s = round(time.time() - started, 1)
    json_path, md_path = write_result(result, args.out)
    for target in result.targets:
        print(f"  {target.name}: {target.measured} (target {target.target})")
    print(f"results: {json_path}, {md_path}")
    return 0


def _report(result: ScenarioResult, groups: dict[str, list[CorpusImage]],
            runs: dict[tuple[str, str], list[ResizeRun]], written: dict[tuple[str, str], int],
            workers: int) -> None:
    rows, totals = [], {engine: 0.0 for engine in ENGINES}
    for fmt, images in [*groups.items(), ("all", [im for g in groups.values() for im in g])]:
        mp = sum(im.megapixels for im in images)
        medians = {}
        for engine in ENGINES:
            walls = ([r.wall_s for r in runs[(engine, fmt)]] if fmt != "all" else [
                sum(pair) for pair in zip(*([r.wall_s for r in runs[(engine, f)]]
                                            for f in groups), strict=True)])
            medians[engine] = statistics.median(walls)
            if fmt != "all":
                totals[engine] += medians[engine]
        out = {e: sum(written[(e, f)] for f in (groups if fmt == "all" else [fmt]))
               for e in ENGINES}
        cpu = {e: statistics.median(sum(r.cpu_s or 0.0 for r in rs) for rs in zip(
            *(runs[(e, f)] for f in (groups if fmt == "all" else [fmt])), strict=True))
            for e in ENGINES}
        speed = medians["sharp"] / medians["ours"]
        rows.append([fmt, str(len(images)), f"{mp:.1f}", f"{medians['ours']:.2f}",
                     f"{medians['sharp']:.2f}", f"{mp / medians['ours']:.1f}",
                     f"{mp / medians['sharp']:.1f}", ratio(speed), f"{cpu['ours']:.2f}",
                     f"{cpu['sharp']:.2f}", ratio(cpu["sharp"] / cpu["ours"]), mb(out["ours"]),
                     mb(out["sharp"]), ratio(out["ours"] / out["sharp"])])
        if fmt == "all":
            result.targets.append(TargetCheck(
                name=f"resize-to-{SIZE} + WebP, MP/s ours / sharp at {workers} workers",
                target=">= 1.00x", measured=ratio(speed), met=speed >= 1.0))
    result.tables.append(Table(
        title=f"Longest edge to {SIZE} px, WebP quality {QUALITY}, {workers} workers",
        columns=["inputs", "images", "MP in", "ours s", "sharp s", "ours MP/s", "sharp MP/s",
                 "speed ours/sharp", "ours CPU s", "sharp CPU s", "CPU sharp/ours",
                 "ours bytes", "sharp bytes", "bytes ours/sharp"],
        rows=rows, note="Median wall seconds of the repetitions per batch ('all': the sum of "
                        "both batches per repetition). Above 1x we are faster. CPU seconds "
                        "(ours: the main process and its workers; sharp: the Node process), "
                        "median of the repetitions: the steadier figure when other processes "
                        "share the cores, since it does not count time spent waiting for one."))
    stages = _median_stages(runs, groups)
    result.tables.append(Table(
        title="Where our time goes (pipeline stages, summed over images, median repetition)",
        columns=["inputs", *stages[next(iter(groups))].keys()],
        rows=[[fmt, *(f"{s:.2f}" for s in stages[fmt].values())] for fmt in groups],
        note="CPU seconds inside the workers, both workers added."))
    result.data["runs"] = {f"{e}-{f}": msgspec.to_builtins(r) for (e, f), r in runs.items()}
    result.data["bytes"] = {f"{e}-{f}": n for (e, f), n in written.items()}


def _median_stages(runs: dict[tuple[str, str], list[ResizeRun]],
                   groups: dict[str, list[CorpusImage]]) -> dict[str, dict[str, float]]:
    out = {}
    for fmt in groups:
        ours = sorted(runs[("ours", fmt)], key=lambda r: r.wall_s)
        out[fmt] = ours[len(ours) // 2].stages or {}
    return out


def _quality(result: ScenarioResult, images: list[CorpusImage]) -> None:
    """Our resized pixels (before the encode) against an exact Lanczos, per split."""
    from bench.quality import butteraugli_path
    from bench.resize_quality import BEFORE, VIPS, fit, score_image, transparent
    from bench.split import split_of

    binary = butteraugli_path()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for im in sorted(images, key=lambda im: (split_of(im.name), im.name)):
            if max(im.width, im.height) <= SIZE or transparent(Path(im.path)):
                continue
            size = fit(im.width, im.height, SIZE)
            scores = score_image(Path(im.path), size, binary, Path(tmp), only=(BEFORE, VIPS))
            rows.append([split_of(im.name), im.name, f"{size[0]}x{size[1]}", *(
                f"{scores[n]['ssimulacra2']:.2f} / {scores[n].get('ba_max', float('nan')):.2f}"
                for n in (VIPS, BEFORE))])
    result.tables.append(Table(
        title=f"Our resize against an exact Lanczos (every image above {SIZE} px)",
        columns=["split", "image", "size", "now (libvips): SSIMULACRA2 / butteraugli max",
                 "before (Pillow 8-bit): SSIMULACRA2 / butteraugli max"],
        rows=rows, note="Exact: Lanczos-3 in floating point on the full-resolution decode "
                        "(bench/resize_quality.py). Pillow's 8-bit Lanczos differs from it by "
                        "rounding alone: its scores are the floor for 'the same pixels'. No "
                        "setting was chosen on these images: the tune/held-out label is for "
                        "reading only."))


def _check(job: ResizeJob) -> int:
    """Bytes written; every output must be a WebP no larger than the size asked for."""
    total = 0
    for im in job.images:
        with Image.open(im.output) as out:
            if out.format != "WEBP" or max(out.size) > job.size:
                raise RuntimeError(f"{im.output}: {out.format} {out.size}")
        total += os.path.getsize(im.output)
    return total


def _run_sharp(job: ResizeJob) -> ResizeRun:
    env = dict(os.environ, UV_THREADPOOL_SIZE=str(original_uv_threadpool()))
    proc = subprocess.run(["node", str(BENCH_DIR / "sharp" / "resize_webp.mjs")],
                          input=msgspec.json.encode(job), capture_output=True, env=env,
                          timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"resize_webp.mjs exited {proc.returncode}: {proc.stderr[-500:]!r}")
    return msgspec.json.decode(proc.stdout, type=ResizeRun)


def _run_ours(job: ResizeJob) -> ResizeRun:
    proc = subprocess.run([sys.executable, "-m", "bench.resize_webp", "--child"],
                          input=msgspec.json.encode(job), capture_output=True,
                          cwd=BENCH_DIR.parent, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ours exited {proc.returncode}: {proc.stderr[-800:]!r}")
    return msgspec.json.decode(proc.stdout, type=ResizeRun)


def child() -> None:
    """Our side, in its own process: a warmed pool, the batch timed from submit to last result."""
    from backend.types import ImageSettings, QualitySettings, ResizeSettings, Task
    from bench.cpu import tree_cpu_s
    from bench.ours import started_pool

    job = msgspec.json.decode(sys.stdin.buffer.read(), type=ResizeJob)
    settings = ImageSettings(quality=QualitySettings(global_=job.quality), outputFormat="webp",
                             resize=ResizeSettings(mode="longest", size=job.size))
    tasks = [Task(input_path=im.input, output_path=im.output, settings=settings)
             for im in job.images]
    for im in job.images:
        Path(im.input).read_bytes()  # page cache, as sharp's side does
        Path(im.output).parent.mkdir(parents=True, exist_ok=True)
    with started_pool(job.workers) as (optimizer, _):
        cpu0, t0 = tree_cpu_s(), time.perf_counter()
        results = optimizer.optimize_images(tasks, benchmark=True)
        wall = time.perf_counter() - t0
        cpu = tree_cpu_s() - cpu0
        report = optimizer.last_benchmark()
    run = ResizeRun(wall_s=wall, cpu_s=cpu, errors=[
        f"{r.original_path}: {r.error}" for r in results if not r.success],
        stages=None if report is None else {n: s.total for n, s in report.stages.items()})
    sys.stdout.buffer.write(msgspec.json.encode(run))


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
    else:
        sys.exit(main())

"""Time to first result with a warm pool, against the same image in the calling process.

The app starts its pool at launch, so what a person feels on dropping an image is the warm
pool's latency: submit, dispatch, encode in a worker, result back. The scenario measures that
for one small real image (the smallest JPEG of the corpus), and the same image through
``optimize_file`` in the calling process: the difference is the pool's fixed cost per batch. It
also reports the cold start (spawning and warming every worker) and, from the scaling runs, how
soon the first result of a whole largest-first batch arrives.
"""

from __future__ import annotations

import shutil
import statistics

from bench.contenders import Contender, run_child
from bench.context import Context
from bench.scenarios.base import Scenario, by_group, no_needs
from bench.schema import JobImage, LatencyJob, LatencyRun, ScenarioResult, Table


def build(ctx: Context, result: ScenarioResult) -> None:
    jpegs = [im for im in ctx.real_images if im.format == "jpeg"]
    if not jpegs:
        result.skipped = "no JPEG in the corpus"
        return
    image = min(jpegs, key=lambda im: im.width * im.height)
    result.corpus = [image]
    folder = ctx.scratch / "latency"
    shutil.rmtree(folder, ignore_errors=True)
    job = LatencyJob(
        workers=ctx.max_workers, repeats=max(3, 2 * ctx.options.repeat + 1),
        image=JobImage(input=image.path, output=str(folder / image.name), format="jpeg"),
    )
    try:
        run = run_child("latency", job, LatencyRun)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert isinstance(run, LatencyRun)
    result.data["latency"] = run
    pool, local = statistics.median(run.pool_s), statistics.median(run.in_process_s)
    rows = [
        ["cold start: spawn + warm all workers", _ms([run.cold_start_s])],
        [f"warm pool: {image.name} submitted -> result back", _ms(run.pool_s)],
        [f"warm pool: {image.name} submitted -> first progress event", _ms(run.first_event_s)],
        [f"in-process optimize_file({image.name})", _ms(run.in_process_s)],
        ["pool cost per batch (warm pool - in-process, medians)", f"{1000 * (pool - local):.1f}"],
    ]
    for w in sorted({1, *ctx.pool_workers}):
        for fmt, s in by_group(ctx.stats("real", Contender("pool", w))).items():
            if s.first_result_s is not None:
                rows.append([f"first result of the {fmt} batch ({s.images} images, largest "
                             f"first), pool-{w}", f"{1000 * s.first_result_s:.1f}"])
    result.tables.append(Table(
        title=f"Latency ({image.width}x{image.height} JPEG, {ctx.max_workers} workers)",
        columns=["what", "ms (median, min to max)"], rows=rows,
    ))


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (f"{1000 * statistics.median(values):.1f} "
            f"({1000 * min(values):.1f} to {1000 * max(values):.1f})")


SCENARIO = Scenario(
    name="first_result",
    title="Time to first result with a warm pool",
    description=(
        "How long after submitting a batch the first result is back, with the pool already "
        "started and warmed (as the app does at launch), against the same image in-process."
    ),
    needs=no_needs,
    build=build,
)

"""10 000 small images through one batch: memory of the main process and progress event rate.

The process that owns the ImageOptimizer (the app's main process) is sampled every 50 ms from
/proc while the batch runs. Targets, from the issue: peak RSS under 400 MB and flat over the
batch, and at most ~30 progress events per second delivered to a subscriber.

"Flat" is measured as the peak of the batch's second half minus the peak of its first half; it
must stay under 25 MB, i.e. under 2.5 KB per image over 10 000 images, which is about what the
caller's own list of results costs. The event rate is the most events in any one-second window;
the final event is exempt (the SPEC always sends it). This scenario runs once: memory is not
noisy the way time is.
"""

from __future__ import annotations

import shutil

from bench.contenders import run_child
from bench.context import Context
from bench.scenarios.base import Scenario, no_needs
from bench.schema import ManySmallJob, ManySmallRun, ScenarioResult, Table, TargetCheck

RSS_LIMIT_MB = 400.0
GROWTH_LIMIT_MB = 25.0
EVENTS_LIMIT = 30


def build(ctx: Context, result: ScenarioResult) -> None:
    inputs = ctx.small_images
    folder = ctx.scratch / "many-small"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        run = run_child("many-small", ManySmallJob(workers=ctx.max_workers, inputs=inputs,
                                                   out_dir=str(folder)), ManySmallRun)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert isinstance(run, ManySmallRun)
    result.data["many_small"] = run
    growth = run.rss_second_half_peak_mb - run.rss_first_half_peak_mb
    result.tables.append(Table(
        title=f"{run.images} small images (48-160 px tiles of photographs, half JPEG, half PNG), "
              f"{ctx.max_workers} workers",
        columns=["what", "value"],
        rows=[
            ["wall time", f"{run.wall_s:.2f} s ({run.images / run.wall_s:.0f} images/s)"],
            ["failed", str(run.failed)],
            ["RSS before the batch", f"{run.rss_baseline_mb:.1f} MB"],
            ["RSS peak, first half / second half",
             f"{run.rss_first_half_peak_mb:.1f} / {run.rss_second_half_peak_mb:.1f} MB"],
            ["RSS peak / after the batch", f"{run.rss_peak_mb:.1f} / {run.rss_final_mb:.1f} MB"],
            ["progress events delivered", f"{run.events} ({run.events_per_s:.1f}/s mean, "
                                          f"{run.events_peak_1s} in the busiest second)"],
            ["final event", f"{run.final_status}, {run.final_completed}/{run.final_total}"],
        ],
        note="The RSS trace (200 points) is in the JSON.",
    ))
    result.targets.extend([
        TargetCheck(name="peak RSS of the main process", target=f"< {RSS_LIMIT_MB:.0f} MB",
                    measured=f"{run.rss_peak_mb:.1f} MB", met=run.rss_peak_mb < RSS_LIMIT_MB),
        TargetCheck(name="RSS flat (second-half peak - first-half peak)",
                    target=f"< {GROWTH_LIMIT_MB:.0f} MB", measured=f"{growth:+.1f} MB",
                    met=growth < GROWTH_LIMIT_MB),
        TargetCheck(name="progress events per second (busiest second)",
                    target=f"<= {EVENTS_LIMIT}", measured=str(run.events_peak_1s),
                    met=run.events_peak_1s <= EVENTS_LIMIT),
        TargetCheck(name="final event: complete, counts exact", target=f"complete {run.images}/"
                    f"{run.images}", measured=f"{run.final_status} {run.final_completed}/"
                    f"{run.final_total}", met=run.final_status == "complete"
                    and run.final_completed == run.final_total == run.images),
    ])


SCENARIO = Scenario(
    name="many_small",
    title="Many small images: memory and progress events",
    description=(
        "One batch of many tiny real-photo tiles (10 000 in the full run): the main process's "
        "RSS sampled every 50 ms, and the progress events a subscriber receives."
    ),
    needs=no_needs,
    build=build,
)

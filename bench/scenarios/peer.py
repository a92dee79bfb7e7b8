"""Ours vs the original's engine (Node sharp), per format, at every worker count.

JPEG inputs are encoded to JPEG and PNG inputs to PNG by both engines, each with its defaults
(ours: the app's defaults at quality 90; sharp: the original sidecar's, see
``bench/peer_sharp.py``). N workers means N of our worker processes against N sharp images in
flight on N libvips threads. Speed is input megapixels per second; bytes are what each engine
wrote (ours may keep a copy of the original when re-encoding does not make it smaller, as the
SPEC requires; that copy counts as written).
"""

from __future__ import annotations

from bench.contenders import Contender
from bench.context import Context
from bench.measure import Need
from bench.peer_sharp import SHARP_VERSION, PeerUnavailable, original_uv_threadpool
from bench.report import mb, ratio
from bench.scenarios.base import Scenario, by_group, speed_ratio
from bench.schema import ScenarioResult, SpeedStat, Table, TargetCheck

TARGETS = {"jpeg": 4.0, "png": 1.5}
TARGET_WORKERS = 2


def speed_needs(ctx: Context, image_set: str, workers: list[int]) -> list[Need]:
    if isinstance(ctx.sharp, PeerUnavailable):
        return []
    return [Need(image_set, Contender(engine, w)) for w in workers for engine in ("pool",
                                                                                   "sharp")]


def needs(ctx: Context) -> list[Need]:
    return speed_needs(ctx, "real", ctx.pool_workers)


def compare(ctx: Context, result: ScenarioResult, image_set: str,
            workers: list[int]) -> dict[tuple[str, int], dict[str, float | None]]:
    """Fill the comparison table; the ratios by (format, workers)."""
    if isinstance(ctx.sharp, PeerUnavailable):
        result.skipped = f"sharp peer unavailable: {ctx.sharp}"
        return {}
    rows, out, speeds = [], {}, []
    for w in workers:
        ours = by_group(ctx.stats(image_set, Contender("pool", w)))
        theirs = by_group(ctx.stats(image_set, Contender("sharp", w)))
        speeds.extend([*ours.values(), *theirs.values()])
        for fmt in sorted(ours.keys() & theirs.keys(), key=("jpeg", "png").index):
            o, t = ours[fmt], theirs[fmt]
            speed = speed_ratio(o, t)
            size = o.bytes_out / t.bytes_out if t.bytes_out else None
            out[(fmt, w)] = {"speed_ratio": speed, "bytes_ratio": size}
            rows.append([fmt, str(w), str(o.images), f"{o.megapixels:.1f}", _mps(o), _mps(t),
                         ratio(speed), _bytes(o), _bytes(t), ratio(size),
                         f"{_cores(o)} / {_cores(t)}", f"{o.failed} / {t.failed}"])
    result.data["speeds"] = speeds
    result.data["ratios"] = [
        {"format": fmt, "workers": w, **r} for (fmt, w), r in out.items()
    ]
    result.tables.append(Table(
        title="Ours vs sharp (same images, same worker count)",
        columns=["format", "workers", "images", "MP", "ours MP/s", "sharp MP/s", "speed ours/sharp",
                 "ours bytes out (saved)", "sharp bytes out (saved)", "bytes ours/sharp",
                 "cores busy ours / sharp", "failed ours / sharp"],
        rows=rows,
        note=f"sharp {SHARP_VERSION}, `sharp.concurrency(1)`, N images in flight, "
             f"UV_THREADPOOL_SIZE={original_uv_threadpool()} (the original sidecar's). MP/s "
             "from the median of the repetitions, ± half their (max - min) spread. "
             "A bytes ratio below 1 means our files are smaller. Cores busy: CPU seconds over "
             "wall seconds of the median run (ours: main process and workers; sharp: the Node "
             "process, all threads).",
    ))
    return out


def build(ctx: Context, result: ScenarioResult) -> None:
    result.corpus = ctx.real_images
    result.notes.extend(ctx.corpus_notes)
    ratios = compare(ctx, result, "real", ctx.pool_workers)
    w = TARGET_WORKERS if TARGET_WORKERS in ctx.pool_workers else ctx.max_workers
    for fmt, floor in TARGETS.items():
        value = ratios.get((fmt, w), {}).get("speed_ratio")
        result.targets.append(TargetCheck(
            name=f"{fmt.upper()} MP/s ours / sharp at {w} workers", target=f">= {floor:.1f}x",
            measured=ratio(value), met=None if value is None else value >= floor,
        ))


def _cores(s: SpeedStat) -> str:
    return "n/a" if s.cores_busy is None else f"{s.cores_busy:.2f}"


def _mps(s: SpeedStat) -> str:
    return f"{s.mp_per_s:.2f} (±{s.spread_pct / 2:.0f}%)"


def _bytes(s: SpeedStat) -> str:
    saved = 100 * (1 - s.bytes_out / s.bytes_in) if s.bytes_in else 0.0
    kept = f", {s.kept_original} originals kept" if s.kept_original else ""
    return f"{mb(s.bytes_out)} ({saved:.0f}%{kept})"


SCENARIO = Scenario(
    name="peer_sharp",
    title="Ours vs the original's engine (Node sharp)",
    description=(
        "The original app's engine, Node sharp with the original sidecar's defaults, against "
        "our pool on the same real images, per format (JPEG to JPEG, PNG to PNG), at every "
        "worker count. Targets at 2 workers: JPEG >= 4x sharp's MP/s, PNG >= 1.5x."
    ),
    needs=needs,
    build=build,
)

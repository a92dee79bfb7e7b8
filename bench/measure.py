"""Repeated, interleaved speed measurements shared by every scenario of one bench run.

Scenarios declare which contenders they need on which image set; the bench measures the union
once. Repetitions are interleaved (rep 1 of every contender, then rep 2, …) so a slow minute on
a shared machine smears over all contenders instead of landing on one. Each figure is the median
of the repetitions; the spread (max - min over median) is reported next to it, so a reader can
tell a real difference from noise.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.contenders import Contender, Written, run_once
from bench.schema import CorpusImage, GroupRun, SpeedRun, SpeedStat

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Need:
    image_set: str  # "real" or "synthetic"
    contender: Contender


@dataclass
class Samples:
    runs: list[SpeedRun]
    written: list[dict[str, Written]]


def measure(
    needs: list[Need], image_sets: dict[str, dict[str, list[CorpusImage]]], *, repeat: int,
    scratch: Path, sharp_dir: Path | None,
) -> dict[Need, list[SpeedStat]]:
    """Run every need ``repeat`` times, interleaved; one SpeedStat per need and image group."""
    samples = {need: Samples([], []) for need in needs}
    for rep in range(repeat):
        for need in needs:
            log.info("rep %d/%d: %s on %s", rep + 1, repeat, need.contender.label, need.image_set)
            run, written = run_once(need.contender, image_sets[need.image_set], scratch,
                                    sharp_dir)
            samples[need].runs.append(run)
            samples[need].written.append(written)
    return {
        need: [
            summarize(need.contender, name, images, s.runs, s.written)
            for name, images in image_sets[need.image_set].items()
        ]
        for need, s in samples.items()
    }


def summarize(
    contender: Contender, group: str, images: list[CorpusImage], runs: list[SpeedRun],
    written: list[dict[str, Written]],
) -> SpeedStat:
    per_run: list[GroupRun] = [_group(run, group) for run in runs]
    walls = [g.wall_s for g in per_run]
    median = statistics.median(walls)
    middle = sorted(per_run, key=lambda g: g.wall_s)[len(per_run) // 2]
    megapixels = sum(im.width * im.height for im in images) / 1e6
    firsts = [g.first_result_s for g in per_run if g.first_result_s is not None]
    errors = list(dict.fromkeys(
        [e for g in per_run for e in g.errors] + [m for w in written for m in w[group].missing]
    ))
    return SpeedStat(
        engine=contender.engine, workers=contender.workers, group=group, images=len(images),
        megapixels=round(megapixels, 3), bytes_in=sum(im.bytes for im in images),
        bytes_out=written[0][group].bytes_out, wall_s=[round(w, 4) for w in walls],
        median_s=round(median, 4),
        spread_pct=round(100 * (max(walls) - min(walls)) / median, 1) if median else 0.0,
        mp_per_s=round(megapixels / median, 3) if median else 0.0,
        images_per_s=round(len(images) / median, 3) if median else 0.0,
        failed=max(g.failed for g in per_run) + len(written[0][group].missing),
        kept_original=middle.kept_original,
        first_result_s=round(statistics.median(firsts), 4) if firsts else None,
        cores_busy=round(middle.cpu_s / middle.wall_s, 3)
        if middle.cpu_s is not None and middle.wall_s else None,
        stages=middle.stages, benchmark=middle.benchmark,
        benchmark_text=middle.benchmark_text, errors=errors[:5],
    )


def combined(stats: list[SpeedStat]) -> SpeedStat:
    """All groups of one contender as if one batch: total pixels over total median time."""
    first = stats[0]
    median = sum(s.median_s for s in stats)
    megapixels = sum(s.megapixels for s in stats)
    images = sum(s.images for s in stats)
    walls = [sum(ws) for ws in zip(*(s.wall_s for s in stats), strict=True)]
    stages: dict[str, float] = {}
    for s in stats:
        for name, seconds in (s.stages or {}).items():
            stages[name] = stages.get(name, 0.0) + seconds
    return SpeedStat(
        engine=first.engine, workers=first.workers, group="all", images=images,
        megapixels=round(megapixels, 3), bytes_in=sum(s.bytes_in for s in stats),
        bytes_out=sum(s.bytes_out for s in stats), wall_s=[round(w, 4) for w in walls],
        median_s=round(median, 4),
        spread_pct=round(100 * (max(walls) - min(walls)) / median, 1) if median else 0.0,
        mp_per_s=round(megapixels / median, 3) if median else 0.0,
        images_per_s=round(images / median, 3) if median else 0.0,
        failed=sum(s.failed for s in stats), kept_original=sum(s.kept_original for s in stats),
        cores_busy=_weighted_cores(stats), stages=stages or None,
        errors=[e for s in stats for e in s.errors][:5],
    )


def _weighted_cores(stats: list[SpeedStat]) -> float | None:
    """Cores busy over all groups: each group's figure weighted by its wall time."""
    if any(s.cores_busy is None for s in stats):
        return None
    wall = sum(s.median_s for s in stats)
    return round(sum(s.cores_busy * s.median_s for s in stats) / wall, 3) if wall else None


def _group(run: SpeedRun, name: str) -> GroupRun:
    for group in run.groups:
        if group.name == name:
            return group
    raise RuntimeError(f"{run.engine}-{run.workers} returned no group {name!r}")

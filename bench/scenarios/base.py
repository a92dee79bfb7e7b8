"""The shape of a scenario, and table rows every speed scenario shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.context import Context
from bench.measure import Need
from bench.report import mb
from bench.schema import ScenarioResult, SpeedStat


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    needs: Callable[[Context], list[Need]]
    build: Callable[[Context, ScenarioResult], None]


def no_needs(_: Context) -> list[Need]:
    return []


SPEED_COLUMNS = ["contender", "images", "MP", "median s", "spread", "MP/s", "images/s",
                 "first result s", "cores busy", "bytes in", "bytes out", "failed"]


def speed_row(label: str, s: SpeedStat) -> list[str]:
    first = "n/a" if s.first_result_s is None else f"{s.first_result_s:.3f}"
    cores = "n/a" if s.cores_busy is None else f"{s.cores_busy:.2f}"
    return [label, str(s.images), f"{s.megapixels:.1f}", f"{s.median_s:.3f}",
            f"{s.spread_pct:.0f}%", f"{s.mp_per_s:.2f}", f"{s.images_per_s:.2f}", first, cores,
            mb(s.bytes_in), mb(s.bytes_out), str(s.failed)]


def speed_ratio(a: SpeedStat | None, b: SpeedStat | None, scale: float = 1.0) -> float | None:
    """a's MP/s over b's (times ``scale``), or None when either is missing."""
    if a is None or b is None or not b.mp_per_s:
        return None
    return a.mp_per_s / (b.mp_per_s * scale)


def by_group(stats: list[SpeedStat] | None) -> dict[str, SpeedStat]:
    return {s.group: s for s in stats or []}

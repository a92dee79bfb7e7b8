"""Extra: ours vs sharp on generated extremes (noise, smooth gradients, a flat screenshot).

Not part of any target: real images decide those. Synthetic inputs show the edges, where an
encoder's worst and best cases live (noise defeats both JPEG and palette PNG; a gradient is
palette PNG's best case and banding's worst).
"""

from __future__ import annotations

from bench.context import Context
from bench.measure import Need
from bench.scenarios.base import Scenario
from bench.scenarios.peer import compare, speed_needs
from bench.schema import ScenarioResult


def needs(ctx: Context) -> list[Need]:
    return speed_needs(ctx, "synthetic", [ctx.max_workers])


def build(ctx: Context, result: ScenarioResult) -> None:
    result.corpus = ctx.synthetic_images
    compare(ctx, result, "synthetic", [ctx.max_workers])


SCENARIO = Scenario(
    name="synthetic",
    title="Extra: synthetic images, ours vs sharp",
    description=(
        "Generated images (RGB and RGBA noise, a 12 MP gradient as JPEG and PNG, a flat UI "
        "screenshot) through our pool and sharp at the highest worker count. No target: the "
        "speed targets are judged on real images only."
    ),
    needs=needs,
    build=build,
)

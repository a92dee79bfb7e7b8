"""``python -m bench.run``: run the bench scenarios and write ``bench/results/``.

    python -m bench.run                      # full run (~10 min on 2 idle cores)
    python -m bench.run --quick              # a few images, one repetition (~1-2 min)
    python -m bench.run --smoke --out DIR    # three tiny images; what the test suite runs
    python -m bench.run --scenario peer_sharp --scenario scaling
    python -m bench.run --list

Speed measurements are shared: every contender a selected scenario needs is measured once,
``--repeat`` times, interleaved, each run in a fresh subprocess. Missed targets do not fail the
run (the bench measures; the report says yes or NO); a scenario that crashes does (exit 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import sys
import time
from pathlib import Path

from bench.context import Context
from bench.machine import CpuMeter, machine_info
from bench.measure import measure
from bench.peer_sharp import sharp_versions
from bench.report import write_latest, write_result
from bench.scenarios import SCENARIOS
from bench.scenarios.base import Scenario
from bench.schema import RunOptions, ScenarioResult

log = logging.getLogger("bench")
BENCH_DIR = Path(__file__).resolve().parent
_DEFAULTS = {"full": (3, 10_000), "quick": (1, 1_000), "smoke": (1, 40)}
_ENGINE_ORDER = ("loop", "pool", "sharp")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small corpus, one repetition")
    size.add_argument("--smoke", action="store_true",
                      help="three tiny images, no download but sharp; for tests")
    p.add_argument("--scenario", action="append", choices=list(SCENARIOS), metavar="NAME",
                   help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}")
    p.add_argument("--repeat", type=int, help="repetitions per contender (default 3; 1 quick)")
    p.add_argument("--workers", type=_workers, default=[1, 2],
                   help="worker counts to compare, comma-separated (default 1,2)")
    p.add_argument("--small-images", type=int, help="images in the many_small batch")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache",
                   help="downloads, corpus, sharp install, scratch (default bench/.cache)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return p.parse_args(argv)


def _workers(text: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of worker counts: {text!r}") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be >= 1: {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.list:
        for s in SCENARIOS.values():
            print(f"{s.name:14} {s.title}")
        return 0
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    repeat, small = _DEFAULTS[mode]
    options = RunOptions(mode=mode, repeat=args.repeat or repeat, workers=args.workers,
                         small_images=args.small_images or small)
    ctx = Context(options=options, cache_dir=args.cache.resolve())
    selected = [SCENARIOS[name] for name in dict.fromkeys(args.scenario or SCENARIOS)]
    t0 = time.perf_counter()
    meter = CpuMeter()
    try:
        results = run_scenarios(ctx, selected)
    finally:
        shutil.rmtree(ctx.scratch, ignore_errors=True)
    if ctx.machine is not None:
        ctx.machine.other_cpu_share = meter.other_share()
    for result in results:
        result.duration_s = round(time.perf_counter() - t0, 1)
        write_result(result, args.out)
    _print_summary(results, write_latest(args.out, list(SCENARIOS)))
    return 1 if any(r.skipped and r.skipped.startswith("crashed") for r in results) else 0


def run_scenarios(ctx: Context, selected: list[Scenario]) -> list[ScenarioResult]:
    """Measure what the scenarios need (once, interleaved), then let each build its result."""
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    needs = sorted({need for s in selected for need in s.needs(ctx)},
                   key=lambda n: (n.image_set, _ENGINE_ORDER.index(n.contender.engine),
                                  n.contender.workers))
    uses_sharp = any(n.contender.engine == "sharp" for n in needs)
    sharp_dir = ctx.sharp if uses_sharp and isinstance(ctx.sharp, Path) else None
    ctx.machine = machine_info(sharp_versions(sharp_dir) if sharp_dir else None)
    image_sets = {name: ctx.image_set(name) for name in {n.image_set for n in needs}}
    log.info("measuring %d contenders x %d repetitions", len(needs), ctx.options.repeat)
    ctx.speeds = measure(needs, image_sets, repeat=ctx.options.repeat, scratch=ctx.scratch,
                         sharp_dir=sharp_dir)
    results = []
    for scenario in selected:
        log.info("scenario %s", scenario.name)
        result = ScenarioResult(name=scenario.name, title=scenario.title,
                                description=scenario.description, options=ctx.options,
                                machine=ctx.machine, started=started)
        try:
            scenario.build(ctx, result)
        except Exception as exc:  # one broken scenario must not hide the others' results
            log.exception("scenario %s crashed", scenario.name)
            result.skipped = f"crashed: {type(exc).__name__}: {exc}"
        if ctx.options.mode != "full" and result.targets:
            result.notes.append(f"`{ctx.options.mode}` mode: few images, one repetition; the "
                                "figures check the harness, the targets are judged on a full "
                                "run on an idle machine.")
        results.append(result)
    return results


def _print_summary(results: list[ScenarioResult], latest: Path) -> None:
    for r in results:
        state = f"skipped ({r.skipped})" if r.skipped else "ok"
        print(f"{r.name}: {state}")
        for t in r.targets:
            verdict = {True: "met", False: "MISSED", None: "not measured"}[t.met]
            print(f"  {t.name}: {t.measured} (target {t.target}) {verdict}")
    print(f"report: {latest}")


if __name__ == "__main__":
    sys.exit(main())

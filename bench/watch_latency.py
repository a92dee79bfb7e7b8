"""``python -m bench.watch_latency``: from "file complete" to "optimized output written" in a
watched folder, with the default settle time (1 s) and the real pool.

Single: N files written one at a time (0.5 s apart); burst: B files moved in at once. The
latency of a file is the time its activity item is made (its result is in, the output renamed
into place) minus the time its last byte was written. Writes JSON and a table to
``bench/results/watch_latency.{json,md}``. The settle time is a floor by design
(``backend/watch/stability.py``): the figure above it is what the watch itself costs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image

from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.watch.activity import Activity
from backend.watch.ledger import Ledger
from backend.watch.model import ActivityItem, WatchFolder
from backend.watch.service import WatchService
from backend.watch.stability import DEFAULT_SETTLE

RESULTS = Path(__file__).parent / "results"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=30)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    done: dict[str, float] = {}

    def on_item(item: ActivityItem) -> None:
        done[item.path] = time.time()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder, staging = root / "in", root / "staging"
        folder.mkdir()
        staging.mkdir()
        image = Image.effect_noise((640, 480), 40).convert("RGB")
        optimizer = ImageOptimizer(ProcessPool(args.workers))
        optimizer.start(wait=True)
        service = WatchService(optimizer, Ledger(root / "l.db"), activity=Activity(on_item))
        service.start()
        service.add(WatchFolder(id="b", path=os.path.realpath(folder)))
        complete: dict[str, float] = {}
        for i in range(args.single):
            path = os.path.realpath(folder / f"s{i:03}.jpg")
            image.save(path, quality=95)
            complete[path] = time.time()
            time.sleep(0.5)
        for i in range(args.burst):
            image.save(staging / f"b{i:03}.jpg", quality=95)
        burst_start = time.time()
        for i in range(args.burst):
            target = os.path.realpath(folder / f"b{i:03}.jpg")
            os.rename(staging / f"b{i:03}.jpg", target)
            complete[target] = time.time()
        deadline = time.time() + 600
        while len(done) < len(complete) and time.time() < deadline:
            time.sleep(0.05)
        service.stop()
        optimizer.shutdown()
        single = [done[p] - complete[p] for p in complete if "/s" in p[-9:] and p in done]
        burst = [done[p] - complete[p] for p in complete if "/b" in p[-9:] and p in done]
        burst_wall = max(done[p] for p in complete if "/b" in p[-9:]) - burst_start
    report = {
        "settle_s": DEFAULT_SETTLE, "workers": args.workers, "image": "640x480 JPEG q95",
        "single": {"n": len(single), "median_s": statistics.median(single),
                   "p95_s": _p95(single)},
        "burst": {"n": len(burst), "median_s": statistics.median(burst), "p95_s": _p95(burst),
                  "wall_s": burst_wall, "images_per_s": len(burst) / burst_wall},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "watch_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    s, b = report["single"], report["burst"]
    table = (
        "# Watch latency: file complete -> optimized output written\n\n"
        f"Settle {DEFAULT_SETTLE:g} s, {args.workers} workers, 640x480 JPEG q95 inputs.\n\n"
        "| case | files | median s | p95 s | wall s |\n|---|---|---|---|---|\n"
        f"| one at a time | {s['n']} | {s['median_s']:.2f} | {s['p95_s']:.2f} | |\n"
        f"| burst (moved in at once) | {b['n']} | {b['median_s']:.2f} | {b['p95_s']:.2f} | "
        f"{b['wall_s']:.2f} |\n")
    (RESULTS / "watch_latency.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()

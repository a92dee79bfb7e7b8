"""PNG lossless: oxipng presets and filter sets, bytes against time, on the corpus PNGs.

    python -m bench.png_lossless [--cache DIR] [--out DIR]   # bench/results/png_lossless.{json,md}

Each contender re-optimizes every PNG of the full bench corpus (``bench/corpus.py``) from
memory, one oxipng thread (as in a worker), one file at a time in this process, so the times
are comparable within one run. ``o2`` is what quality 100 runs today (``formats/png.py``); the
issue's target is oxipng ``-o4``'s savings at no more than 1.5x ``o2``'s time.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before oxipng starts its pool

import msgspec
import oxipng

from bench.corpus import build_corpus
from bench.machine import load_average

BENCH_DIR = Path(__file__).resolve().parent
_F = oxipng.RowFilter
CONTENDERS: dict[str, dict[str, object]] = {
    "o2": {"level": 2},
    "o2+bigent+brute": {"level": 2, "filter": [_F.NoOp, _F.Sub, _F.Entropy, _F.Bigrams,
                                                _F.BigEnt, _F.Brute]},
    "o3": {"level": 3},
    "o4": {"level": 4},
}


class Row(msgspec.Struct, kw_only=True):
    file: str
    bytes_in: int
    bytes_out: dict[str, int]
    seconds: dict[str, float]


class Result(msgspec.Struct, kw_only=True):
    started: str
    load_average: list[float]
    rows: list[Row]


def measure(paths: list[Path]) -> list[Row]:
    rows = []
    for path in paths:
        data = path.read_bytes()
        out: dict[str, int] = {}
        secs: dict[str, float] = {}
        for name, options in CONTENDERS.items():
            start = time.perf_counter()
            result = oxipng.optimize_from_memory(data, strip=oxipng.StripChunks.safe(), **options)
            secs[name] = time.perf_counter() - start
            out[name] = len(result)
        rows.append(Row(file=path.name, bytes_in=len(data), bytes_out=out, seconds=secs))
    return rows


def table(result: Result) -> str:
    total_in = sum(r.bytes_in for r in result.rows)
    base_bytes = sum(r.bytes_out["o2"] for r in result.rows)
    base_time = sum(r.seconds["o2"] for r in result.rows)
    lines = [
        "# PNG lossless: oxipng presets (`python -m bench.png_lossless`)", "",
        f"Started {result.started}, load average {result.load_average}; "
        f"{len(result.rows)} corpus PNGs, {total_in:,} bytes; one thread, one file at a time.", "",
        "| contender | saved | bytes vs o2 | time vs o2 |", "|---|---|---|---|",
    ]
    for name in CONTENDERS:
        size = sum(r.bytes_out[name] for r in result.rows)
        secs = sum(r.seconds[name] for r in result.rows)
        lines.append(f"| {name} | {100 * (1 - size / total_in):.2f} % | {size / base_bytes:.4f} "
                     f"| {secs / base_time:.2f} |")
    lines += ["", "| file | bytes in | " + " | ".join(CONTENDERS) + " |",
              "|---|---|" + "---|" * len(CONTENDERS)]
    for r in result.rows:
        cells = " | ".join(f"{r.bytes_out[n]:,} ({r.seconds[n]:.2f} s)" for n in CONTENDERS)
        lines.append(f"| {r.file} | {r.bytes_in:,} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.png_lossless")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = p.parse_args(argv)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = [round(x, 2) for x in load_average()]
    corpus, _notes = build_corpus(args.cache.resolve(), "full")
    paths = sorted(Path(im.path) for im in corpus if im.format == "png")
    result = Result(started=started, load_average=load, rows=measure(paths))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "png_lossless.json").write_bytes(msgspec.json.format(msgspec.json.encode(result)))
    (args.out / "png_lossless.md").write_text(table(result))
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""PNG lossless: what quality 100 runs against oxipng's presets, bytes against time.

    python -m bench.png_lossless [--cache DIR] [--out DIR]   # bench/results/png_lossless.{json,md}

Each contender re-optimizes every PNG of the full bench corpus (``bench/corpus.py``) and the
synthetic PNGs (``bench/synthetic.py``) from memory, one oxipng thread (as in a worker), one file
at a time in this process, contenders back to back on each file, so the times are comparable
within one run; times are CPU seconds of this process (oxipng's one thread included), fairer
than wall time when other work shares the machine. ``o2`` is what quality 100 ran before issue
13 (oxipng's default preset); ``ours`` is ``formats/png.py``'s ``lossless_options``, its filter
probe included in its time. The issue's target: oxipng ``-o4``'s savings at no more than 1.5x
``o2``'s time. Corpus files are reported by split (``bench/split.py``): settings were chosen on
the tune split, the held-out split checks them; the synthetic files are in neither. Every
output is decoded and its pixels compared with the input's.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before oxipng starts its pool

import msgspec
import numpy as np
import oxipng
from PIL import Image

from backend.core.formats.png import LOSSLESS_DEFLATE, MAX_COLORS, lossless_options
from bench.corpus import build_corpus
from bench.machine import load_average
from bench.split import CORPUS_SPLIT
from bench.synthetic import build_synthetic

BENCH_DIR = Path(__file__).resolve().parent
_STRIP = oxipng.StripChunks.safe()


def _preset(**options: object) -> Callable[[bytes], bytes]:
    return lambda data: oxipng.optimize_from_memory(data, strip=_STRIP, **options)


def _ours(data: bytes) -> bytes:
    return oxipng.optimize_from_memory(data, strip=_STRIP, **lossless_options(data))


CONTENDERS: dict[str, Callable[[bytes], bytes]] = {
    "o2": _preset(level=2),
    "ours": _ours,
    "o2 + libdeflate 12": _preset(level=2, deflate=LOSSLESS_DEFLATE),
    "o4": _preset(level=4),
}


def _kind(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as im:
        if im.mode in ("1", "L", "P") or im.getcolors(MAX_COLORS) is not None:
            return "few colours"
    return "truecolour"


def _filter_chosen(data: bytes) -> str:
    """The filter ``ours`` compresses with (its probe's winner), or the preset's when none."""
    chosen = lossless_options(data).get("filter")
    return "preset" if not isinstance(chosen, list) else str(chosen[0]).rsplit(".", 1)[-1]


class Row(msgspec.Struct, kw_only=True):
    file: str
    split: str  # "tune" or "held-out" for corpus files, "synthetic" otherwise
    kind: str  # "few colours" (palette, grey, <= 256 colours) or "truecolour"
    filter: str  # the row filter ours chose
    megapixels: float
    bytes_in: int
    bytes_out: dict[str, int]
    seconds: dict[str, float]
    identical: dict[str, bool]  # decoded pixels equal to the input's


class Result(msgspec.Struct, kw_only=True):
    started: str
    load_average: list[float]
    rows: list[Row]


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        # 16-bit and palette files compared in a mode that keeps every value they hold.
        mode = "I" if im.mode.startswith("I") else "RGBA"
        return np.asarray(im.convert(mode))


def measure(paths: list[Path]) -> list[Row]:
    rows = []
    for path in paths:
        data = path.read_bytes()
        reference = _pixels(data)
        out: dict[str, int] = {}
        secs: dict[str, float] = {}
        same: dict[str, bool] = {}
        for name, run in CONTENDERS.items():
            start = time.process_time()
            result = run(data)
            secs[name] = round(time.process_time() - start, 4)
            out[name] = len(result)
            same[name] = bool(np.array_equal(_pixels(result), reference))
        with Image.open(path) as im:
            mp = im.width * im.height / 1e6
        rows.append(Row(file=path.name, split=CORPUS_SPLIT.get(path.name, "synthetic"),
                        kind=_kind(data), filter=_filter_chosen(data), megapixels=round(mp, 2),
                        bytes_in=len(data), bytes_out=out, seconds=secs, identical=same))
        print(path.name, out, secs, flush=True)
    return rows


def _summary(rows: list[Row], title: str) -> list[str]:
    total_in = sum(r.bytes_in for r in rows)
    base_bytes = sum(r.bytes_out["o2"] for r in rows)
    base_time = sum(r.seconds["o2"] for r in rows)
    lines = [f"**{title}** ({len(rows)} files, {total_in:,} bytes)", "",
             "| contender | saved | bytes vs o2 | CPU time vs o2 | CPU seconds "
             "| pixels identical |",
             "|---|---|---|---|---|---|"]
    for name in CONTENDERS:
        size = sum(r.bytes_out[name] for r in rows)
        secs = sum(r.seconds[name] for r in rows)
        same = all(r.identical[name] for r in rows)
        lines.append(f"| {name} | {100 * (1 - size / total_in):.2f} % | {size / base_bytes:.4f} "
                     f"| {secs / base_time:.2f} | {secs:.1f} | {'yes' if same else 'NO'} |")
    return [*lines, ""]


def table(result: Result, corpus: set[str]) -> str:
    real = [r for r in result.rows if r.file in corpus]
    synthetic = [r for r in result.rows if r.file not in corpus]
    lines = [
        "# PNG lossless: quality 100 against oxipng's presets (`python -m bench.png_lossless`)", "",
        f"Started {result.started}, load average {result.load_average} (other work was running: "
        "ratios within this run, not absolute times); CPU seconds, one oxipng thread, one file "
        "at a time, contenders back to back on each file.", "",
        *_summary([r for r in real if r.split == "tune"], "Corpus PNGs, tune split"),
        *_summary([r for r in real if r.split == "held-out"], "Corpus PNGs, held-out split"),
        *_summary(real, "Corpus PNGs"), *_summary(synthetic, "Synthetic PNGs"),
        *_summary(result.rows, "All"),
        "| file | split | kind | MP | bytes in | filter (ours) | " + " | ".join(CONTENDERS) + " |",
        "|---|---|---|---|---|---|" + "---|" * len(CONTENDERS),
    ]
    for r in result.rows:
        cells = " | ".join(f"{r.bytes_out[n]:,} ({r.seconds[n]:.2f} s)" for n in CONTENDERS)
        lines.append(f"| {r.file} | {r.split} | {r.kind} | {r.megapixels} | {r.bytes_in:,} "
                     f"| {r.filter} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.png_lossless")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = p.parse_args(argv)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = [round(x, 2) for x in load_average()]
    cache = args.cache.resolve()
    corpus, _notes = build_corpus(cache, "full")
    real = sorted(Path(im.path) for im in corpus if im.format == "png")
    synthetic = sorted(Path(im.path) for im in build_synthetic(cache, "full")
                       if im.format == "png")
    result = Result(started=started, load_average=load, rows=measure(real + synthetic))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "png_lossless.json").write_bytes(msgspec.json.format(msgspec.json.encode(result)))
    text = table(result, {p.name for p in real})
    (args.out / "png_lossless.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m bench.metric_speed``: SSIMULACRA2's cost per megapixel, C kernels vs numpy.

    python -m bench.metric_speed [--repeat 3]

For JPEG photos of the corpus (whole files, 1.7-20 MP) and one PNG with alpha: the image decoded
once, a JPEG quality-80 copy of it decoded, then on one core (this process) the reference's
preparation (``Reference(...)``) and one score (``Reference.score``), each with the C kernels and
with the numpy path, alternating, the CPU time of the fastest of ``--repeat`` runs. The two
paths' scores are compared too. Results: ``bench/results/metric_speed.{json,md}``; the issue-13
budget is 0.3 s per megapixel for a score.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from unittest.mock import patch

import numpy as np
from PIL import Image

from backend.core import ssimulacra2 as metric
from bench.corpus import build_corpus

BENCH_DIR = Path(__file__).resolve().parent
IMAGES = ("dune.jpg", "colorful-cups.jpg", "the-mouse.jpg", "nuthatch-20mp.jpg",
          "stripes-grey-alpha.png")
BUDGET_S_PER_MP = 0.3


def _cpu(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        out = run()
        best = min(best, time.process_time() - started)
    return best, out


def measure(path: str, repeat: int) -> dict[str, object]:
    with Image.open(path) as im:
        im.load()
        pixels = np.asarray(im.convert("RGBA" if "A" in im.getbands() else "RGB"))
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, :3]).save(buffer, "JPEG", quality=80)
    distorted = np.asarray(Image.open(buffer).convert("RGB"))
    if pixels.shape[2] == 4:
        distorted = np.dstack([distorted, pixels[:, :, 3]])
    mp = pixels.shape[0] * pixels.shape[1] / 1e6
    row: dict[str, object] = {"image": Path(path).name, "megapixels": round(mp, 2),
                              "alpha": pixels.shape[2] == 4}
    for name in ("C kernels", "numpy"):
        # The numpy path is what scores where no C compiler is found.
        with ExitStack() as stack:
            if name == "numpy":
                stack.enter_context(patch.object(metric, "_kernels", lambda: None))
            prepare, reference = _cpu(partial(metric.Reference, pixels), repeat)
            assert isinstance(reference, metric.Reference)
            score, value = _cpu(partial(reference.score, distorted), repeat)
        row[name] = {"reference_s_per_mp": round(prepare / mp, 4),
                     "score_s_per_mp": round(score / mp, 4), "score": value}
    return row


def render(rows: list[dict[str, object]], load: float) -> str:
    lines = ["# SSIMULACRA2: CPU seconds per megapixel, C kernels vs numpy", "",
             "`python -m bench.metric_speed`: one process, one core, the fastest of the "
             f"repetitions; load average at start {load:.2f} (other work running makes the "
             "absolute times noisy, the ratio within a row less so). Distorted = the image as "
             f"JPEG 80. Budget for a score: {BUDGET_S_PER_MP} s/MP.", "",
             "| image | MP | reference C | reference numpy | score C | score numpy | "
             "score numpy / C | score C | score numpy |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, n = r["C kernels"], r["numpy"]
        assert isinstance(c, dict) and isinstance(n, dict)
        lines.append(f"| {r['image']} | {r['megapixels']} | {c['reference_s_per_mp']:.3f} | "
                     f"{n['reference_s_per_mp']:.3f} | {c['score_s_per_mp']:.3f} | "
                     f"{n['score_s_per_mp']:.3f} | "
                     f"{n['score_s_per_mp'] / c['score_s_per_mp']:.1f}x | "
                     f"{c['score']:.4f} | {n['score']:.4f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metric_speed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    args = parser.parse_args(argv)
    if metric._kernels() is None:
        print("the C kernels cannot be built here (see the log)", file=sys.stderr)
        return 1
    corpus, _ = build_corpus(args.cache.resolve(), "full")
    paths = {im.name: im.path for im in corpus}
    load = os.getloadavg()[0]
    rows = []
    for name in IMAGES:
        rows.append(measure(paths[name], args.repeat))
        print(json.dumps(rows[-1]), file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metric_speed.json").write_text(json.dumps(
        {"load": load, "rows": rows, "budget_s_per_mp": BUDGET_S_PER_MP,
         "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, indent=1))
    text = render(rows, load)
    (args.out / "metric_speed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.jpeg_speed``: JPEG encode time per megapixel on one core, whole files.

    python -m bench.jpeg_speed --split held-out

Each JPEG of the split (whole corpus files, 0.3-20 MP) is decoded once as the pipeline decodes
it; then each encoder encodes it at the default's setting (UI 90: jpegli quality 90, the old
libjpeg-turbo tables at 88, mozjpeg at 90), best of ``--repeat`` runs, in this one process, so
one core. Encode only: decode, orientation and the write are the same for every encoder.
Results: ``bench/results/jpeg_speed-<split>.{json,md}``. The issue-13 budget: 50 ms/MP.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from backend.core.formats import jpeg
from backend.core.loader import decode, open_source
from bench.corpus import build_corpus
from bench.jpeg_contenders import CONTENDERS
from bench.split import in_split

BENCH_DIR = Path(__file__).resolve().parent
# contender → its setting for the UI's default 90
AT_DEFAULT = {"jpegli-420-p2": 1.0, "turbo-flat": 88, "mozjpeg-vips": 90}
BUDGET_MS_PER_MP = 50.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.jpeg_speed")
    p.add_argument("--split", choices=("tune", "held-out", "all"), default="held-out")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    args = p.parse_args(argv)
    corpus, _ = build_corpus(args.cache.resolve(), "full")
    images = [im for im in corpus if im.format == "jpeg" and in_split(im.name, args.split)]
    rows = []
    for im in images:
        picture = decode(open_source(im.path, Path(im.path).read_bytes()), target=None,
                         animation=False)
        for name, setting in AT_DEFAULT.items():
            encode = CONTENDERS[name][0]
            best = min(_timed(encode, picture, setting) for _ in range(args.repeat))
            rows.append({"image": im.name, "megapixels": im.megapixels, "encoder": name,
                         "seconds": round(best, 4)})
        print(f"{im.name}: " + ", ".join(f"{r['encoder']} {r['seconds']:.3f} s"
                                         for r in rows[-len(AT_DEFAULT):]), file=sys.stderr)
    write(args.out, args.split, rows)
    return 0


def _timed(encode: object, picture: object, setting: float) -> float:
    t0 = time.perf_counter()
    encode(picture, setting)  # type: ignore[operator]
    return time.perf_counter() - t0


def write(out: Path, split: str, rows: list[dict[str, object]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    mp = sum(float(r["megapixels"]) for r in rows if r["encoder"] == "jpegli-420-p2")  # type: ignore[arg-type]
    totals = {name: sum(float(r["seconds"]) for r in rows if r["encoder"] == name)  # type: ignore[arg-type]
              for name in AT_DEFAULT}
    summary = {name: round(1000 * t / mp, 1) for name, t in totals.items()}
    (out / f"jpeg_speed-{split}.json").write_text(json.dumps(
        {"split": split, "ms_per_mp": summary, "megapixels": round(mp, 1), "samples": rows,
         "encoder_in_use": jpeg.encoder_name(),
         "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, indent=1))
    lines = [f"# JPEG encode time on one core, {split} split, whole files ({mp:.1f} MP)", "",
             "Encode only, at the UI's default 90, best of the repetitions, one process "
             f"(`python -m bench.jpeg_speed`). Budget: {BUDGET_MS_PER_MP:.0f} ms/MP.", "",
             "| encoder | ms per MP | within budget |", "|---|---|---|"]
    lines += [f"| {name} | {ms:.1f} | {'yes' if ms <= BUDGET_MS_PER_MP else 'no'} |"
              for name, ms in summary.items()]
    (out / f"jpeg_speed-{split}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

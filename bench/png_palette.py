"""PNG palette gate: ours against sharp's palette at each quality, on SSIMULACRA2 and butteraugli.

    python -m bench.png_palette [--workers N] [--cache DIR] [--out DIR]
                                # bench/results/png_palette.{json,md}

Inputs: the 640-px crops of the corpus PNGs (``bench/rd.py``'s, both splits of
``bench/split.py``). At each quality of ``QUALITIES``, sharp (the original's engine,
``bench/sharp/rd_sweep.mjs``: ``palette: true``, no gate) and our pipeline (``optimize_file``:
gate, search, lossless fallback and kept originals included) write a PNG, and each is scored
against the crop (SSIMULACRA2 and butteraugli on white, as ``bench/rd.py``).

The gate's thresholds in ``png.py`` are sharp's median SSIMULACRA2 over the tune split at each
quality: the score the original's engine typically delivers at that number, so a palette we
keep scores at least that. The calibration table gives those medians; the held-out split
reports how the thresholds do on images they were not chosen on. Times are CPU seconds of our
whole pipeline per image, in this process.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec
from PIL import Image

from backend.core.formats import png
from backend.core.pipeline import optimize_file
from backend.types import ImageSettings, QualitySettings
from bench.corpus import build_corpus
from bench.machine import load_average
from bench.peer_sharp import ensure_sharp
from bench.quality import butteraugli, butteraugli_path, on_white, write_reference
from bench.rd import CROP_SIDE, Unit, make_crops, run_sharp, sharp_outputs
from bench.split import split_of
from bench.ssimulacra2 import ssimulacra2

BENCH_DIR = Path(__file__).resolve().parent
QUALITIES = (30, 50, 70, 80, 90, 95)


class Scores(msgspec.Struct, kw_only=True):
    bytes: int
    ssimulacra2: float
    butteraugli: float


class Sample(msgspec.Struct, kw_only=True):
    image: str
    split: str
    kind: str
    megapixels: float
    quality: int
    sharp: Scores
    ours: Scores
    ours_palette: bool  # our file is a palette PNG
    ours_seconds: float  # CPU seconds of optimize_file


class Result(msgspec.Struct, kw_only=True):
    started: str
    load_average: list[float]
    thresholds: dict[int, float]  # png.min_palette_score at each quality, this run
    samples: list[Sample]


class _Job(msgspec.Struct, frozen=True):
    path: str
    name: str
    kind: str
    sharp: dict[int, str]
    scratch: str
    butteraugli: str


def _scores(reference: Image.Image, ref_png: Path, data_path: Path, binary: str) -> Scores:
    with Image.open(data_path) as opened:
        opened.load()
        score = ssimulacra2(on_white(reference).convert("RGB"), on_white(opened).convert("RGB"))
        distance = butteraugli(ref_png, opened, binary=binary).pnorm3
    return Scores(bytes=data_path.stat().st_size, ssimulacra2=round(score, 3),
                  butteraugli=round(distance, 4))


def measure_image(job: _Job) -> list[Sample]:
    folder = Path(job.scratch) / Path(job.name).stem
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(job.path) as opened:
        reference = opened.copy()
    ref_png = write_reference(reference, folder / "reference.png")
    samples = []
    for q in QUALITIES:
        out = folder / f"ours-q{q}.png"
        settings = ImageSettings(quality=QualitySettings(global_=q), outputFormat="png")
        start = time.process_time()
        result, _ = optimize_file(job.path, str(out), settings)
        seconds = time.process_time() - start
        if not result.success:
            raise RuntimeError(f"ours failed on {job.name} q{q}: {result.error}")
        with Image.open(out) as written:
            palette = written.mode in ("P", "PA")
        samples.append(Sample(
            image=job.name, split=split_of(job.name), kind=job.kind,
            megapixels=round(reference.width * reference.height / 1e6, 3), quality=q,
            sharp=_scores(reference, ref_png, Path(job.sharp[q]), job.butteraugli),
            ours=_scores(reference, ref_png, out, job.butteraugli), ours_palette=palette,
            ours_seconds=round(seconds, 4)))
    return samples


def _row(samples: list[Sample], q: int, threshold: float) -> str:
    at = [s for s in samples if s.quality == q]
    sharp_bytes, our_bytes = sum(s.sharp.bytes for s in at), sum(s.ours.bytes for s in at)
    below = sum(s.ours.ssimulacra2 < s.sharp.ssimulacra2 for s in at)
    worse_ba = sum(s.ours.butteraugli > s.sharp.butteraugli for s in at)
    return (f"| {q} | {threshold:.1f} | {len(at)} | {sum(s.ours_palette for s in at)} | "
            f"{sharp_bytes / 1e3:,.0f} KB | {our_bytes / 1e3:,.0f} KB | "
            f"{100 * (our_bytes / sharp_bytes - 1):+.0f} % | "
            f"{statistics.mean(s.sharp.ssimulacra2 for s in at):.2f} | "
            f"{statistics.mean(s.ours.ssimulacra2 for s in at):.2f} | "
            f"{min(s.sharp.ssimulacra2 for s in at):.2f} | "
            f"{min(s.ours.ssimulacra2 for s in at):.2f} | "
            f"{statistics.mean(s.sharp.butteraugli for s in at):.3f} | "
            f"{statistics.mean(s.ours.butteraugli for s in at):.3f} | {below} | {worse_ba} |")


def table(result: Result) -> str:
    samples = result.samples
    lines = [
        "# PNG palette gate: ours vs sharp (`python -m bench.png_palette`)", "",
        f"Started {result.started}, load average {result.load_average}; 640-px crops of the "
        "corpus PNGs; SSIMULACRA2 (higher is better) and butteraugli 3-norm (lower is better) on "
        "white against the crop; ours is the whole pipeline (gate, search, lossless fallback).",
        "", "## Calibration (tune split)", "",
        "| quality | sharp's median SSIMULACRA2 (tune) | threshold in png.py |", "|---|---|---|",
    ]
    tune = [s for s in samples if s.split == "tune"]
    for q in QUALITIES:
        median = statistics.median(s.sharp.ssimulacra2 for s in tune if s.quality == q)
        lines.append(f"| {q} | {median:.1f} | {result.thresholds[q]:.1f} |")
    head = ("| quality | threshold | images | our palettes | sharp bytes | our bytes | ours/sharp "
            "| sharp SSIMULACRA2 mean | ours mean | sharp min | ours min | sharp butteraugli mean "
            "| ours mean | images below sharp's SSIMULACRA2 | images above sharp's butteraugli |")
    for split in ("held-out", "tune"):
        part = [s for s in samples if s.split == split]
        lines += ["", f"## {split} split{' (the report)' if split == 'held-out' else ''}", "",
                  head, "|" + "---|" * 15]
        lines += [_row(part, q, result.thresholds[q]) for q in QUALITIES]
    lines += ["", "## Each image: SSIMULACRA2 ours / sharp (p: our palette, l: lossless), bytes "
              "ours / sharp", "",
              "| image | split | kind | " + " | ".join(f"q{q}" for q in QUALITIES) + " |",
              "|---|---|---|" + "---|" * len(QUALITIES)]
    for name in sorted({s.image for s in samples}):
        mine = {s.quality: s for s in samples if s.image == name}
        first = mine[QUALITIES[0]]
        cells = [f"{s.ours.ssimulacra2:.1f}{'p' if s.ours_palette else 'l'} / "
                 f"{s.sharp.ssimulacra2:.1f}, {s.ours.bytes // 1000}K / {s.sharp.bytes // 1000}K"
                 for s in (mine[q] for q in QUALITIES)]
        lines.append(f"| {name} | {first.split} | {first.kind} | " + " | ".join(cells) + " |")
    per_mp = sum(s.ours_seconds for s in samples) / sum(s.megapixels for s in samples)
    lines += ["", f"Our whole pipeline: {per_mp:.2f} CPU s/MP on these crops (the gate scores "
              "images below 1 MP whole, a sample of tiles above)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.png_palette")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = p.parse_args(argv)
    result = _run(args, {q: png.min_palette_score(q) for q in QUALITIES})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "png_palette.json").write_bytes(msgspec.json.format(msgspec.json.encode(result)))
    text = table(result)
    (args.out / "png_palette.md").write_text(text)
    print(text)
    return 0


def _run(args: argparse.Namespace, thresholds: dict[int, float]) -> Result:
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = [round(x, 2) for x in load_average()]
    cache = args.cache.resolve()
    binary = butteraugli_path()
    if binary is None:
        raise SystemExit("bench.png_palette needs butteraugli_main (Debian libjxl-devtools)")
    corpus, _notes = build_corpus(cache, "full")
    side = CROP_SIDE["full"]
    crops = make_crops([im for im in corpus if im.format == "png"], side,
                       cache / "rd" / f"crops-{side}")
    scratch = cache / "scratch" / "png_palette"
    shutil.rmtree(scratch, ignore_errors=True)
    units = [Unit(image=c, format="png", settings=list(QUALITIES), sharp_outputs={},
                  scratch=str(scratch)) for c in crops]
    run_sharp(units, ensure_sharp(cache), scratch / "sharp", args.workers)
    jobs = [_Job(path=c.path, name=c.name, kind=c.kind, sharp=outs, scratch=str(scratch),
                 butteraugli=binary)
            for c, outs in zip(crops, sharp_outputs(units, scratch / "sharp"), strict=True)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        samples = [s for found in pool.map(measure_image, jobs) for s in found]
    shutil.rmtree(scratch, ignore_errors=True)
    return Result(started=started, load_average=load, thresholds=thresholds, samples=samples)


if __name__ == "__main__":
    raise SystemExit(main())

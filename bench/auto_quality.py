"""Auto quality against the original's default, and target-size accuracy.

    python -m bench.auto_quality                 # quick corpus (13 files up to 4 MP), ~15 min
    python -m bench.auto_quality --mode full     # 31 files up to 20 MP
    python -m bench.auto_quality --levels high   # one level
    python -m bench.auto_quality --formats avif --levels high --name auto_quality-avif

For every corpus file, JPEG inputs to JPEG and every input to WebP (and with ``--formats avif``
to AVIF, left out by default: ~1 s/MP per encode, several per search), whole files as a person
drops them:

- **sharp q90**: the original's engine at its default (``bench/sharp/rd_sweep.mjs``, the
  sidecar's settings), scored with SSIMULACRA2 against the input (the engine's metric);
- **ours q90**: our pipeline at the default slider (the time a plain encode takes);
- **ours Auto**: our pipeline at each Auto quality level: bytes, the score recomputed from the
  written file, the quality chosen, seconds per megapixel (CPU time of ``optimize_file`` in
  this process, one core), and how far the search's sampled score was from the full one;
- **target size**: ``maxSize`` at 30 % and 60 % of our q90 file (a search is needed), at 2 %
  with ``allowResize`` (a downscale is needed) and at 200 bytes without it (unreachable: it
  must come back ``targetMet: false``): met, how far under, and every miss.

The corpus is split as every bench splits it (``bench/split.py``, by image): the levels'
targets are chosen on the "tune" split; the headline figures are the "held-out" split's.
A size target is "reachable" when it is at least the smallest file the format can make of that
image with its metadata and colour profile (quality 1 at 8 px wide: a 3 KB ICC profile is a
floor no quality or size goes under); the others must come back ``targetMet: false``.
JSON and a table go to ``bench/results/auto_quality.{json,md}``. Timings are ratios within this
run (Auto against a plain encode of the same files); the machine's load is recorded beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np
from PIL import Image

from backend.core.formats.encoders import encoder_for
from backend.core.pipeline import optimize_file
from backend.core.quality_scorer import Scorer
from backend.core.quality_targets import LEVELS
from backend.types import ImageSettings, OptimizationResult
from bench.corpus import build_corpus
from bench.peer_sharp import PeerUnavailable, ensure_sharp
from bench.rd import RdItem, sweep_sharp
from bench.schema import CorpusImage
from bench.split import split_of

BENCH_DIR = Path(__file__).resolve().parent
CACHE = BENCH_DIR / ".cache"
RESULTS = BENCH_DIR / "results"
FORMATS = ("jpeg", "webp", "avif")
SIZE_FRACTIONS = (0.3, 0.6)
RESIZE_FRACTION = 0.02
UNREACHABLE = 200


class SizeTrial(msgspec.Struct, kw_only=True):
    target: int
    allow_resize: bool
    reachable: bool  # at least the smallest file the format makes of this image
    bytes: int
    met: bool | None
    under: float  # (target - bytes) / target
    message: str | None


class Row(msgspec.Struct, kw_only=True):
    image: str
    split: str
    format: str
    megapixels: float
    sharp_bytes: int
    sharp_score: float
    q90_bytes: int
    q90_seconds: float
    auto: dict[str, dict[str, float]]  # level → bytes, score, quality, seconds, sample_error
    sizes: list[SizeTrial]


def units(images: list[CorpusImage], formats: list[str]) -> list[tuple[CorpusImage, str, str]]:
    """(image, output format, split) for every measured pair."""
    return [(im, fmt, split_of(im.name)) for im in images for fmt in formats
            if fmt != "jpeg" or im.format == "jpeg"]


def run_sharp(pairs: list[tuple[CorpusImage, str, str]], folder: Path) -> list[Path]:
    sharp_dir = ensure_sharp(CACHE)
    outputs = [folder / "sharp" / f"{Path(im.name).stem}.{fmt}" for im, fmt, _ in pairs]
    run = sweep_sharp([RdItem(input=im.path, output=str(out), format=fmt, quality=90)
                       for (im, fmt, _), out in zip(pairs, outputs, strict=True)], sharp_dir, 1)
    if run.errors:
        raise RuntimeError("; ".join(run.errors))
    return outputs


def scorer_for(image: CorpusImage, fmt: str) -> Scorer:
    with Image.open(image.path) as im:
        im.load()
        frame = im if im.mode in ("L", "LA", "RGB", "RGBA") else im.convert(
            "RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        spec = encoder_for(fmt).format
        return Scorer(frame, spec.pillow, keeps_alpha=spec.alpha)


def ours(image: CorpusImage, folder: Path, **settings: object,
         ) -> tuple[bytes, float, OptimizationResult]:
    """The file, the CPU seconds it took (this process: one core, and steadier than wall time
    when other work shares the machine) and the result."""
    out = folder / f"out{Path(image.name).suffix}"
    config = msgspec.convert(settings, ImageSettings)
    started = time.process_time()
    result, _ = optimize_file(image.path, str(out), config)
    seconds = time.process_time() - started
    if not result.success:
        raise RuntimeError(f"{image.name}: {result.error}")
    return Path(result.optimized_path).read_bytes(), seconds, result


def measure(image: CorpusImage, fmt: str, split: str, sharp_out: Path, levels: list[str],
            folder: Path, with_sizes: bool) -> Row:
    scorer = scorer_for(image, fmt)
    mp = image.width * image.height / 1e6
    plain, plain_seconds, _ = ours(image, folder, outputFormat=fmt)
    auto: dict[str, dict[str, float]] = {}
    for level in levels:
        data, seconds, result = ours(image, folder, outputFormat=fmt, autoQuality=level)
        full = scorer.full(data)
        auto[level] = {"bytes": len(data), "score": full, "seconds": seconds,
                       "quality": float(result.chosenQuality or 0),
                       "sample_error": scorer.fast(data) - full}
    if with_sizes:
        floor, _, _ = ours(image, folder, outputFormat=fmt, quality={"global": 1},
                           resize={"mode": "width", "size": 8})
    sizes: list[SizeTrial] = []
    targets = [(round(f * len(plain)), False) for f in SIZE_FRACTIONS]
    targets += [(round(RESIZE_FRACTION * len(plain)), True), (UNREACHABLE, False)]
    for target, resize in targets if with_sizes else []:
        data, _, result = ours(image, folder, outputFormat=fmt, maxSize=target,
                               allowResize=resize)
        sizes.append(SizeTrial(target=target, allow_resize=resize, bytes=len(data),
                               reachable=target >= len(floor) and (resize or target != UNREACHABLE),
                               met=result.targetMet, under=(target - len(data)) / target,
                               message=result.targetMessage))
    return Row(image=image.name, split=split, format=fmt, megapixels=round(mp, 3),
               sharp_bytes=sharp_out.stat().st_size, sharp_score=scorer.full(
                   sharp_out.read_bytes()), q90_bytes=len(plain), q90_seconds=plain_seconds,
               auto=auto, sizes=sizes)


def summary(rows: list[Row], levels: list[str]) -> list[dict[str, object]]:
    """Per split, format and level: the issue's figures."""
    out = []
    for split in ("held-out", "tune"):
        for fmt in FORMATS:
            group = [r for r in rows if r.split == split and r.format == fmt]
            if not group:
                continue
            p5 = float(np.percentile([r.sharp_score for r in group], 5))
            mp = sum(r.megapixels for r in group)
            plain_s = sum(r.q90_seconds for r in group)
            for level in levels:
                scores = [r.auto[level]["score"] for r in group]
                auto_s = sum(r.auto[level]["seconds"] for r in group)
                out.append({
                    "split": split, "format": fmt, "level": level, "images": len(group),
                    "bytes_vs_sharp_q90": sum(r.auto[level]["bytes"] for r in group) / sum(
                        r.sharp_bytes for r in group) - 1,
                    "sharp_q90_p5_score": p5, "min_score": min(scores),
                    "below_sharp_p5": sum(s < p5 for s in scores),
                    "seconds_per_mp": auto_s / mp, "plain_seconds_per_mp": plain_s / mp,
                    "max_sample_error": max(abs(r.auto[level]["sample_error"]) for r in group),
                })
    return out


def size_summary(rows: list[Row]) -> dict[str, object]:
    """Reachable: at least the format's smallest file of the image (see the module docstring)."""
    trials = [s for r in rows for s in r.sizes]
    reachable = [s for s in trials if s.reachable]
    met = [s for s in reachable if s.met]
    unders = sorted(s.under for s in met)
    unreachable = [s for s in trials if not s.reachable]
    return {
        "reachable": len(reachable), "met": len(met),
        "within_3_percent": sum(u <= 0.03 for u in unders),
        "median_under": unders[len(unders) // 2] if unders else None,
        "max_under": unders[-1] if unders else None,
        "overshoot_unreported": sum(s.bytes > s.target and s.met is not False for s in trials),
        "unreachable": len(unreachable),
        "unreachable_reported": sum(s.met is False and bool(s.message) for s in unreachable),
    }


def render(result: dict[str, object]) -> str:
    lines = ["# Auto quality vs sharp q90, and target-size accuracy", "",
             f"`python -m bench.auto_quality --mode {result['mode']}`; load average at start "
             f"{result['load']}. Levels: " + ", ".join(
                 f"{k} = {v:g}" for k, v in LEVELS.items()) + ".", "",
             "| split | format | level | images | bytes vs sharp q90 | sharp q90 P5 score | "
             "min score | below P5 | Auto s/MP | plain q90 s/MP | max sample error |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    summary_rows: list[dict[str, object]] = result["summary"]  # type: ignore[assignment]
    for s in summary_rows:
        lines.append(
            f"| {s['split']} | {s['format']} | {s['level']} | {s['images']} | "
            f"{s['bytes_vs_sharp_q90']:+.1%} | {s['sharp_q90_p5_score']:.2f} | "
            f"{s['min_score']:.2f} | {s['below_sharp_p5']} | {s['seconds_per_mp']:.2f} | "
            f"{s['plain_seconds_per_mp']:.3f} | {s['max_sample_error']:.2f} |")
    lines += ["", "Auto s/MP and plain q90 s/MP: CPU seconds of `optimize_file` in this process "
              "(one core) per megapixel.", ""]
    sizes: dict[str, object] = result["sizes"]  # type: ignore[assignment]
    if sizes["reachable"] or sizes["unreachable"]:
        shown = ", ".join(f"{k} {f'{v:.2%}' if isinstance(v, float) else v}"
                          for k, v in sizes.items())
        lines += [f"Target size (maxSize): {shown}.", ""]
    rows: list[dict[str, object]] = result["rows"]  # type: ignore[assignment]
    levels: list[str] = result["measured_levels"]  # type: ignore[assignment]
    lines += ["## Per image", "", "| split | image | format | MP | sharp q90 bytes | sharp score | "
              + " | ".join(f"{level} bytes | {level} score | {level} q" for level in levels)
              + " |", "|---|---|---|---|---|---|" + "---|---|---|" * len(levels)]
    for r in rows:
        auto: dict[str, dict[str, float]] = r["auto"]  # type: ignore[assignment]
        lines.append(f"| {r['split']} | {r['image']} | {r['format']} | {r['megapixels']} | "
                     f"{r['sharp_bytes']:,} | {r['sharp_score']:.2f} | " + " | ".join(
                         f"{auto[level]['bytes']:,.0f} | {auto[level]['score']:.2f} | "
                         f"{auto[level]['quality']:.0f}" for level in levels) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.auto_quality")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--levels", nargs="+", choices=list(LEVELS), default=list(LEVELS))
    parser.add_argument("--first", type=int, metavar="N", help="only the N smallest files")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=["jpeg", "webp"])
    parser.add_argument("--sizes", action=argparse.BooleanOptionalAction, default=True,
                        help="the target-size trials (--no-sizes: Auto quality only)")
    parser.add_argument("--name", default="auto_quality",
                        help="results file stem in bench/results (default auto_quality)")
    args = parser.parse_args(argv)
    images, notes = build_corpus(CACHE, args.mode)
    if args.first:
        images = sorted(images, key=lambda im: im.width * im.height)[: args.first]
    pairs = units(images, args.formats)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="auto-quality-") as tmp:
        folder = Path(tmp)
        try:
            sharp_outputs = run_sharp(pairs, folder)
        except PeerUnavailable as exc:
            print(f"sharp unavailable: {exc}", file=sys.stderr)
            return 1
        rows = []
        for (image, fmt, split), sharp_out in zip(pairs, sharp_outputs, strict=True):
            rows.append(measure(image, fmt, split, sharp_out, args.levels, folder,
                                args.sizes))
            print(f"{image.name} -> {fmt}: done", file=sys.stderr)
    result: dict[str, object] = {
        "mode": args.mode, "load": round(load, 2), "notes": notes, "levels": LEVELS,
        "measured_levels": args.levels,
        "summary": summary(rows, args.levels), "sizes": size_summary(rows),
        "rows": msgspec.to_builtins(rows)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_bytes(msgspec.json.format(msgspec.json.encode(result)))
    (RESULTS / f"{args.name}.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

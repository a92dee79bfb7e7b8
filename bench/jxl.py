"""JPEG XL figures: lossless JPEG transcode, lossy JXL against our JPEG, effort and time.

    python -m bench.jxl [--quick] [--workers N]      # writes bench/results/jxl.{json,md}

What it measures, on the bench corpus (``bench/corpus.py``), in one run:

1. **Lossless transcode** of every JPEG of the full corpus, whole (``jxl.from_source`` at
   quality 100, metadata "keep"): bytes saved against the input, encode time per megapixel,
   and whether the JPEG reconstructed from the JXL file has the input's SHA-256.
2. **Calibration** of ``formats.jxl.QUALITY_SCALE``: on 640-px centre crops (512 with
   ``--quick``; ``bench.rd.make_crops``), our JPEG at each UI anchor and libjxl at a grid of its
   own qualities, each scored with SSIMULACRA2 (``bench/ssimulacra2.py``) against the crop.
   For each anchor, the libjxl quality whose mean score equals our JPEG's mean score there
   (linear between grid points) is the mapping.
3. **Equal quality**: at each UI anchor through the mapping just measured, total JXL bytes
   against our JPEG's, mean SSIMULACRA2 and butteraugli 3-norm (Debian's ``butteraugli_main``)
   of both, and encode time per megapixel.
4. **Effort**: libjxl efforts 3-9 at the default UI quality: bytes, score and time, as ratios to
   effort 7 within this run.

Crops with transparency are scored on white for JPEG (which has no alpha) and for JXL alike.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import logging
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec
import pillow_jxl
from PIL import Image

from backend.core.formats import jpeg, jxl
from backend.core.picture import EncodeRequest, Picture
from bench.corpus import build_corpus
from bench.quality import (
    Point,
    butteraugli,
    butteraugli_path,
    bytes_at,
    on_white,
    write_reference,
)
from bench.rd import make_crops
from bench.ssimulacra2 import ssimulacra2

BENCH_DIR = Path(__file__).resolve().parent
ANCHORS = [10, 30, 50, 70, 80, 90, 95]
NATIVE_GRID = [1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 88, 90, 92, 94, 96, 98]
EFFORTS = [3, 5, 6, 7, 8, 9]
BUTTERAUGLI_ANCHORS = [50, 70, 80, 90]
DEFAULT_UI_QUALITY = 90
EFFORT_IN_FORCE = jxl.EFFORT

log = logging.getLogger(__name__)


class Transcode(msgspec.Struct):
    name: str
    megapixels: float
    jpeg_bytes: int
    jxl_bytes: int
    seconds: float
    exact: bool  # the reconstructed JPEG has the input's SHA-256


class Score(msgspec.Struct):
    engine: str  # "jpeg" (UI quality), "jxl" (UI quality), "jxl-native", "jxl-effort-N"
    setting: float
    name: str
    megapixels: float
    bytes: int
    seconds: float
    ssimulacra2: float
    butteraugli: float | None = None


class Result(msgspec.Struct):
    mode: str
    started: str
    duration_s: float
    load_average: list[float]
    crops: int
    transcodes: list[Transcode]
    scores: list[Score]
    calibrated_scale: list[tuple[int, float]]
    scale_in_force: list[tuple[int, int]]
    effort_in_force: int


def transcode(path: str) -> Transcode:
    data = Path(path).read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        megapixels = im.width * im.height / 1e6
    started = time.perf_counter()
    out = jxl.from_source(data, EncodeRequest(quality=100, metadata="keep", source=data))
    seconds = time.perf_counter() - started
    assert out is not None, f"{path}: libjxl refused the transcode"
    reconstructed = pillow_jxl.Decoder(num_threads=0)(out)[2]
    exact = hashlib.sha256(reconstructed).digest() == hashlib.sha256(data).digest()
    return Transcode(Path(path).name, megapixels, len(data), len(out), seconds, exact)


def _scored(engine: str, setting: float, name: str, reference: Image.Image, out: bytes,
            seconds: float, ba_ref: Path | None, ba: str | None) -> Score:
    with Image.open(io.BytesIO(out)) as decoded:
        shown = on_white(decoded.convert("RGBA" if "A" in decoded.mode else "RGB"))
    score = float(ssimulacra2(reference, shown))
    ba_score = float(butteraugli(ba_ref, shown, binary=ba).pnorm3) if ba_ref and ba else None
    mp = reference.width * reference.height / 1e6
    return Score(engine, setting, name, mp, len(out), seconds, score, ba_score)


def _timed(encode: object, *args: object) -> tuple[bytes, float]:
    started = time.perf_counter()
    out = encode(*args)  # type: ignore[operator]
    return out, time.perf_counter() - started


def _crop(path: str, ba: str | None, scratch: str) -> tuple[Image.Image, Path | None]:
    with Image.open(path) as im:
        im.load()
        frame = im.convert("RGBA" if "A" in im.mode else "RGB")
    ref = Path(scratch) / f"{Path(path).name}.ref.png"
    return frame, (ref if ref.is_file() else write_reference(frame, ref)) if ba else None


def crop_scores(path: str, ba: str | None, scratch: str) -> list[Score]:
    """First pass on one crop: our JPEG at the anchors, libjxl on its grid and at each effort."""
    name = Path(path).name
    frame, ba_ref = _crop(path, ba, scratch)
    reference, picture = on_white(frame), Picture(frames=[frame])
    scores = []
    for q in ANCHORS:
        with_ba = ba_ref if q in BUTTERAUGLI_ANCHORS else None
        out, s = _timed(jpeg.encode, Picture(frames=[jpeg.flatten(frame)]),
                        EncodeRequest(quality=q))
        scores.append(_scored("jpeg", q, name, reference, out, s, with_ba, ba))
    for native in NATIVE_GRID:
        out, s = _timed(jxl.encode_native, picture, EncodeRequest(quality=90), native)
        scores.append(_scored("jxl-native", native, name, reference, out, s, None, None))
    native_default = jxl.target_quality(DEFAULT_UI_QUALITY)
    for effort in EFFORTS:
        jxl.EFFORT = effort
        out, s = _timed(jxl.encode_native, picture, EncodeRequest(quality=90), native_default)
        scores.append(_scored(f"jxl-effort-{effort}", native_default, name, reference, out, s,
                              None, None))
    jxl.EFFORT = EFFORT_IN_FORCE
    return scores


def mapped_scores(path: str, ba: str | None, scratch: str,
                  mapping: list[tuple[int, float]]) -> list[Score]:
    """Second pass on one crop: libjxl at each anchor through the mapping just measured."""
    name = Path(path).name
    frame, ba_ref = _crop(path, ba, scratch)
    reference, picture = on_white(frame), Picture(frames=[frame])
    scores = []
    for q, native in mapping:
        out, s = _timed(jxl.encode_native, picture, EncodeRequest(quality=q), round(native))
        with_ba = ba_ref if q in BUTTERAUGLI_ANCHORS else None
        scores.append(_scored("jxl", q, name, reference, out, s, with_ba, ba))
    return scores


def calibrate(scores: list[Score]) -> list[tuple[int, float]]:
    """(UI anchor, libjxl quality) with equal mean SSIMULACRA2 to our JPEG at the anchor."""
    grid = [(n, statistics.fmean(s.ssimulacra2 for s in scores
                                 if s.engine == "jxl-native" and s.setting == n))
            for n in NATIVE_GRID]
    mapping = []
    for q in ANCHORS:
        target = statistics.fmean(s.ssimulacra2 for s in scores
                                  if s.engine == "jpeg" and s.setting == q)
        mapping.append((q, _inverse(grid, target)))
    return mapping


def _inverse(grid: list[tuple[int, float]], target: float) -> float:
    if target <= grid[0][1]:
        return float(grid[0][0])
    for (n0, s0), (n1, s1) in itertools.pairwise(grid):
        if s0 <= target <= s1 and s1 > s0:
            return n0 + (n1 - n0) * (target - s0) / (s1 - s0)
    return float(grid[-1][0])


def render(result: Result) -> str:
    t = result.transcodes
    saved = 1 - sum(x.jxl_bytes for x in t) / sum(x.jpeg_bytes for x in t)
    mp = sum(x.megapixels for x in t)
    lines = [
        "# JPEG XL", "",
        f"Mode {result.mode}, started {result.started}, {result.duration_s:.0f} s, load average "
        f"at start {result.load_average}. Times are ratios within this run (2 shared cores).", "",
        "## Lossless JPEG transcode (whole corpus JPEGs, metadata kept)", "",
        f"{len(t)} files, {mp:.1f} MP: **{saved:.1%} smaller** than the input JPEGs "
        f"(per file {min(1 - x.jxl_bytes / x.jpeg_bytes for x in t):.1%} to "
        f"{max(1 - x.jxl_bytes / x.jpeg_bytes for x in t):.1%}); the reconstructed JPEG's "
        f"SHA-256 equals the input's for {sum(x.exact for x in t)} of {len(t)}; "
        f"{sum(x.seconds for x in t) / mp * 1000:.0f} ms/MP.", "",
        "| file | MP | JPEG bytes | JXL bytes | saved | exact |", "|---|---|---|---|---|---|",
    ]
    lines += [f"| {x.name} | {x.megapixels:.1f} | {x.jpeg_bytes} | {x.jxl_bytes} | "
              f"{1 - x.jxl_bytes / x.jpeg_bytes:.1%} | {'yes' if x.exact else 'NO'} |" for x in t]
    lines += ["", f"## Lossy at equal quality ({result.crops} crops, effort "
              f"{result.effort_in_force})", "",
              "Mapping in force (UI → libjxl quality): "
              + ", ".join(f"{a}→{b}" for a, b in result.scale_in_force) + ".",
              "Measured this run (equal mean SSIMULACRA2 to our JPEG): "
              + ", ".join(f"{a}→{b:.1f}" for a, b in result.calibrated_scale) + ".", "",
              "*JXL bytes at equal score*: libjxl's bytes, interpolated on its own quality grid, "
              "at our JPEG's mean SSIMULACRA2; the other JXL columns are libjxl at the UI "
              "number through the mapping measured in this run (rounded to whole qualities).",
              "",
              "| UI q | JPEG SSIMULACRA2 | JXL SSIMULACRA2 | JPEG butteraugli | "
              "JXL butteraugli | JXL bytes / JPEG | JXL bytes at equal score / JPEG | "
              "JPEG ms/MP | JXL ms/MP |",
              "|---|---|---|---|---|---|---|---|---|"]
    s = result.scores
    curve = [Point(int(n), sum(x.bytes for x in s if x.engine == "jxl-native" and x.setting == n),
                   _mean([x for x in s if x.engine == "jxl-native" and x.setting == n],
                         "ssimulacra2")) for n in NATIVE_GRID]
    for q in ANCHORS:
        jp = [x for x in s if x.engine == "jpeg" and x.setting == q]
        jx = [x for x in s if x.engine == "jxl" and x.setting == q]
        jpeg_bytes = sum(x.bytes for x in jp)
        equal = bytes_at(curve, _mean(jp, "ssimulacra2"))
        lines.append(
            f"| {q} | {_mean(jp, 'ssimulacra2'):.1f} | {_mean(jx, 'ssimulacra2'):.1f} | "
            f"{_ba(jp)} | {_ba(jx)} | {sum(x.bytes for x in jx) / jpeg_bytes:.3f} | "
            f"{'n/a' if equal is None else f'{equal / jpeg_bytes:.3f}'} | "
            f"{_ms_per_mp(jp):.0f} | {_ms_per_mp(jx):.0f} |")
    lines += ["", f"## Effort (libjxl quality {jxl.target_quality(DEFAULT_UI_QUALITY)}, "
              f"UI {DEFAULT_UI_QUALITY}; ratios to effort 7)", "",
              "| effort | bytes | SSIMULACRA2 | time |", "|---|---|---|---|"]
    base = [x for x in s if x.engine == "jxl-effort-7"]
    for effort in EFFORTS:
        e = [x for x in s if x.engine == f"jxl-effort-{effort}"]
        lines.append(f"| {effort} | {sum(x.bytes for x in e) / sum(x.bytes for x in base):.3f} |"
                     f" {_mean(e, 'ssimulacra2'):.2f} | "
                     f"{_ms_per_mp(e) / _ms_per_mp(base):.2f} |")
    return "\n".join(lines) + "\n"


def _mean(scores: list[Score], field: str) -> float:
    return statistics.fmean(getattr(x, field) for x in scores)


def _ba(scores: list[Score]) -> str:
    values = [x.butteraugli for x in scores if x.butteraugli is not None]
    return f"{statistics.fmean(values):.2f}" if values else "n/a"


def _ms_per_mp(scores: list[Score]) -> float:
    return sum(x.seconds for x in scores) / sum(x.megapixels for x in scores) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.jxl", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="the quick corpus, 512-px crops")
    p.add_argument("--smoke", action="store_true", help="three tiny images (checks the script)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    load = list(os.getloadavg())
    started, stamp = time.time(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    corpus, notes = build_corpus(args.cache.resolve(), mode)
    for note in notes:
        log.warning(note)
    side = 640 if mode == "full" else 512
    crops = make_crops(corpus, side, args.cache.resolve() / "rd" / f"crops-{side}")
    scratch = args.cache.resolve() / "scratch" / "jxl"
    scratch.mkdir(parents=True, exist_ok=True)
    ba = butteraugli_path()
    # The transcode is cheap: always every JPEG of the full corpus, whole.
    whole, more_notes = build_corpus(args.cache.resolve(), "full") if mode == "quick" else ([], [])
    for note in more_notes:
        log.warning(note)
    with ProcessPoolExecutor(args.workers) as pool:
        transcodes = list(pool.map(transcode, [im.path for im in whole or corpus
                                               if im.format == "jpeg"]))
        paths, bas, scratches = ([c.path for c in crops], [ba] * len(crops),
                                 [str(scratch)] * len(crops))
        scores = [s for batch in pool.map(crop_scores, paths, bas, scratches) for s in batch]
        mapping = calibrate(scores)
        scores += [s for batch in pool.map(mapped_scores, paths, bas, scratches,
                                           [mapping] * len(crops)) for s in batch]
    result = Result(mode=mode, started=stamp, duration_s=time.time() - started,
                    load_average=load, crops=len(crops), transcodes=transcodes, scores=scores,
                    calibrated_scale=mapping,
                    scale_in_force=[a for a in jxl.QUALITY_SCALE if a[0] in ANCHORS],
                    effort_in_force=EFFORT_IN_FORCE)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "jxl.json").write_bytes(msgspec.json.format(msgspec.json.encode(result)))
    (args.out / "jxl.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.webp_avif``: WebP and AVIF encoder settings against sharp, on both metrics.

    python -m bench.webp_avif                      # tune split: every candidate setting
    python -m bench.webp_avif --split held-out --candidate webp:today --candidate avif:today

Each candidate is a way of calling Pillow's encoder (``CANDIDATES``). On the 640-px crops of
``bench/rd.py`` it encodes every input (JPEG and PNG crops alike) at a sweep of the encoder's own
quality numbers; sharp encodes the same inputs with the original sidecar's settings at quality
30-95 (``bench/sharp/rd_sweep.mjs``). Every output is scored against its input on SSIMULACRA2
and butteraugli (alpha on white, as ``bench/rd.py``), and each candidate's curve gives its
BD-rate against sharp over the quality sharp's settings 70-95 reach (negative: fewer bytes).
Encode time: each candidate and sharp encode every crop at the default quality from decoded
pixels on one thread, sharp (``bench/sharp/encode_timed.mjs``, one request a line) and each
candidate alternating encode by encode, the fastest of ``--repeat`` per crop, wall and CPU time
(sharp's encoder is single-threaded too: its CPU time equals its wall time). A candidate is a
win only when both BD-rates are <= 0 and its CPU time ratio is <= 1. Settings are chosen on
the tune split, then reported on held-out.
Results: ``bench/results/webp_avif-<split>.{json,md}``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec
import numpy as np
from PIL import Image

from backend.core.formats import avif, webp
from backend.core.loader import decode, open_source
from backend.core.picture import EncodeRequest, Picture
from bench.corpus import build_corpus
from bench.machine import CpuMeter, machine_info
from bench.peer_sharp import PeerUnavailable, ensure_sharp, sharp_versions
from bench.quality import (
    bd_rate,
    butteraugli,
    butteraugli_path,
    luma,
    on_white,
    ssim,
    write_reference,
)
from bench.rd import CROP_SIDE, RdItem, make_crops, sweep_sharp
from bench.rd_report import BD_RANGE, Sample, Stat, curves, points
from bench.report import write_result
from bench.schema import CorpusImage, RunOptions, ScenarioResult, Table
from bench.split import SplitChoice, in_split
from bench.ssimulacra2 import ssimulacra2

log = logging.getLogger("bench.webp_avif")
BENCH_DIR = Path(__file__).resolve().parent
SHARP_SETTINGS = [30, 50, 70, 75, 80, 85, 90, 95]
# WebP is sampled at sharp's own numbers: libwebp is the same library at the same scale, so on
# opaque inputs both curves are the same points (byte-identical files) and the BD-rate is 0
# exactly; other points would leave an interpolation error of up to ~±5 % per image.
NATIVE = {"webp": SHARP_SETTINGS,
          "avif": [45, 60, 70, 78, 85, 90, 94]}
TIMED_QUALITY = {"webp": 90, "avif": avif.target_quality(90)}  # the UI default 90, mapped
SHARP_TIMED_QUALITY = 90
EXT = {"webp": "webp", "avif": "avif"}

Encode = Callable[[Picture, int], bytes]


def _webp(**options: object) -> Encode:
    def encode(picture: Picture, quality: int) -> bytes:
        return webp.encode_native(picture, EncodeRequest(quality=quality), quality, **options)
    return encode


def _avif(**options: object) -> Encode:
    def encode(picture: Picture, quality: int) -> bytes:
        return avif.encode_native(picture, EncodeRequest(quality=quality), quality, **options)
    return encode


# aom's own options (aomenc's names), handed through libavif's codec-specific options.
NO_IBC = {"enable-intrabc": "0"}
TRIMMED = {**NO_IBC, "enable-filter-intra": "0", "enable-smooth-intra": "0"}

CANDIDATES: dict[str, dict[str, Encode]] = {
    "webp": {
        "today": _webp(),
        "method 5": _webp(method=5),
        "method 6": _webp(method=6),
    },
    "avif": {
        "before (speed 6, RGB input)": _avif(speed=6, rgba=False),
        "today": _avif(),
        "before (speed 7, aom's defaults)": _avif(aom={}),
        "speed 6": _avif(speed=6),
        "speed 8": _avif(speed=8),
        "speed 9": _avif(speed=9),
        "no intra block copy": _avif(aom=NO_IBC),
        "no intra block copy, filter or smooth intra": _avif(aom=TRIMMED),
        "trimmed, no diagonal or angle-delta intra": _avif(aom={
            **TRIMMED, "enable-diagonal-intra": "0", "enable-angle-delta": "0"}),
        "no intra block copy, deltaq-mode 0": _avif(aom={**NO_IBC, "deltaq-mode": "0"}),
        "no intra block copy, no trellis in the search": _avif(aom={
            **NO_IBC, "disable-trellis-quant": "2"}),
        "no intra block copy, no trellis": _avif(aom={**NO_IBC, "disable-trellis-quant": "1"}),
        "no intra block copy, intra DCT only": _avif(aom={**NO_IBC, "use-intra-dct-only": "1"}),
        "no intra block copy, no trellis in the search, intra DCT only": _avif(aom={
            **NO_IBC, "disable-trellis-quant": "2", "use-intra-dct-only": "1"}),
        "trimmed, no trellis in the search": _avif(aom={
            **TRIMMED, "disable-trellis-quant": "2"}),
        "no intra block copy, no trellis in the search, cost updates per tile": _avif(aom={
            **NO_IBC, "disable-trellis-quant": "2", "coeff-cost-upd-freq": "2",
            "mode-cost-upd-freq": "2"}),
        "RGB input": _avif(rgba=False),
        "RGB input, 4:2:0": _avif(subsampling="4:2:0", rgba=False),
    },
}


class Unit(msgspec.Struct, frozen=True):
    image: CorpusImage
    format: str
    candidates: list[str]
    sharp_outputs: dict[int, str]
    scratch: str
    butteraugli: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.webp_avif",
                                description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("tune", "held-out", "all"), default="tune")
    p.add_argument("--candidate", action="append",
                   help="FORMAT:NAME, e.g. avif:today (default: every candidate)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3, help="timed encodes per crop")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    started = time.time()
    cache = args.cache.resolve()
    ba = butteraugli_path()
    try:
        sharp_dir = ensure_sharp(cache)
    except PeerUnavailable as exc:
        print(f"bench.webp_avif needs the sharp peer: {exc}", file=sys.stderr)
        return 1
    if ba is None:
        print("bench.webp_avif needs butteraugli_main (Debian libjxl-devtools)", file=sys.stderr)
        return 1
    chosen = _chosen(args.candidate)
    split: SplitChoice = args.split
    corpus, notes = build_corpus(cache, "full")
    corpus = [im for im in corpus if in_split(im.name, split)]
    crops = make_crops(corpus, CROP_SIDE["full"], cache / "rd" / f"crops-{CROP_SIDE['full']}")
    scratch = cache / "scratch" / "webp_avif"
    shutil.rmtree(scratch, ignore_errors=True)
    meter = CpuMeter()
    units = [Unit(image=c, format=fmt, candidates=names, scratch=str(scratch), butteraugli=ba,
                  sharp_outputs={q: str(scratch / "sharp" / fmt / f"{Path(c.name).stem}-q{q}."
                                        f"{EXT[fmt]}") for q in SHARP_SETTINGS})
             for fmt, names in chosen.items() for c in crops]
    _sharp_sweep(units, sharp_dir, args.workers)
    samples = _measure(units, args.workers)
    timing = _timing(crops, chosen, sharp_dir, args.repeat)
    other = meter.other_share()
    machine = machine_info(sharp_versions(sharp_dir))
    machine.other_cpu_share = other
    result = ScenarioResult(
        name=f"webp_avif-{split}", title=f"WebP and AVIF settings against sharp ({split} split)",
        description=__doc__.split("\n\n")[2].replace("\n", " "),
        options=RunOptions(mode="full", repeat=args.repeat, workers=[args.workers],
                           small_images=0),
        machine=machine, corpus=corpus, notes=[*notes, f"corpus split: {split}"],
        started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)))
    result.tables.append(_summary(samples, timing, chosen))
    result.tables.append(_per_image(samples, chosen))
    result.data["samples"] = msgspec.to_builtins(samples)
    result.data["timing"] = msgspec.to_builtins(timing)
    result.duration_s = round(time.time() - started, 1)
    json_path, md_path = write_result(result, args.out)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"results: {json_path}, {md_path}")
    return 0


def _chosen(wanted: list[str] | None) -> dict[str, list[str]]:
    if not wanted:
        return {fmt: list(found) for fmt, found in CANDIDATES.items()}
    out: dict[str, list[str]] = {}
    for item in wanted:
        fmt, _, name = item.partition(":")
        if name not in CANDIDATES.get(fmt, {}):
            raise SystemExit(f"unknown candidate {item!r}; known: " + ", ".join(
                f"{f}:{n}" for f, c in CANDIDATES.items() for n in c))
        out.setdefault(fmt, []).append(name)
    return out


def _sharp_sweep(units: list[Unit], sharp_dir: Path, lanes: int) -> None:
    sweep_sharp([RdItem(input=u.image.path, output=out, format=u.format, quality=q)
                 for u in units for q, out in u.sharp_outputs.items()], sharp_dir, lanes)


def _measure(units: list[Unit], workers: int) -> list[Sample]:
    context = multiprocessing.get_context("spawn")
    samples: list[Sample] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for done, found in enumerate(pool.map(_measure_unit, units), 1):
            samples.extend(found)
            log.info("measured %d/%d", done, len(units))
    return samples


def _picture(path: str) -> Picture:
    return decode(open_source(path, Path(path).read_bytes()), target=None, animation=False)


def _measure_unit(unit: Unit) -> list[Sample]:
    folder = Path(unit.scratch) / "ours" / unit.format
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(unit.image.name).stem
    with Image.open(unit.image.path) as opened:
        reference = opened.copy()
    ref_png = write_reference(reference, folder / f"{stem}-reference.png")
    ref = (luma(reference), np.asarray(on_white(reference).convert("RGB")))
    picture = _picture(unit.image.path)
    samples = []
    for name in unit.candidates:
        encode = CANDIDATES[unit.format][name]
        for q in NATIVE[unit.format]:
            out = folder / f"{stem}-q{q}.{EXT[unit.format]}"
            out.write_bytes(encode(picture, q))
            samples.append(_sample(unit, name, q, out, ref, ref_png))
            out.unlink()
    for q, path in unit.sharp_outputs.items():
        samples.append(_sample(unit, "sharp", q, Path(path), ref, ref_png))
    ref_png.unlink()
    return samples


def _sample(unit: Unit, engine: str, q: int, path: Path,
            ref: tuple[np.ndarray, np.ndarray], ref_png: Path) -> Sample:
    with Image.open(path) as opened:
        opened.load()
        return Sample(
            image=unit.image.name, kind=unit.image.kind, input_format=unit.image.format,
            format=unit.format, engine=engine, setting=q, bytes=path.stat().st_size,
            input_bytes=unit.image.bytes, megapixels=unit.image.megapixels,
            ssim=round(ssim(ref[0], luma(opened)), 6),
            ssimulacra2=round(ssimulacra2(ref[1], on_white(opened).convert("RGB")), 4),
            butteraugli=round(butteraugli(ref_png, opened, binary=unit.butteraugli).pnorm3, 4))


class Timed(msgspec.Struct):
    """Seconds to encode every crop once (the fastest of the repetitions, per crop): wall time
    and the encoding process's CPU time (every thread it ran)."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0


Timing = dict[str, dict[str, Timed]]  # format → engine ("sharp" or a candidate) → totals


def _timing(crops: list[CorpusImage], chosen: dict[str, list[str]], sharp_dir: Path,
            repeat: int) -> Timing:
    """Every crop at the default quality, sharp and each candidate alternating encode by
    encode, in a fresh process of its own (``_time_all``)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_time_all, [c.path for c in crops], chosen, str(sharp_dir),
                           repeat).result()


def _time_all(paths: list[str], chosen: dict[str, list[str]], sharp_dir: str,
              repeat: int) -> Timing:
    """Per crop and repetition: one sharp encode (``sharp/encode_timed.mjs``, a Node process
    answering one request a line), then one of each candidate here, so load that comes and
    goes on a shared machine falls on every engine alike."""
    out: Timing = {fmt: {name: Timed() for name in ["sharp", *names]}
                   for fmt, names in chosen.items()}
    node = subprocess.Popen(
        ["node", str(BENCH_DIR / "sharp" / "encode_timed.mjs"),
         msgspec.json.encode({"sharp_dir": sharp_dir}).decode()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert node.stdin is not None and node.stdout is not None
    try:
        for path in paths:
            picture = _picture(path)
            for fmt, names in chosen.items():
                best = {name: Timed(float("inf"), float("inf")) for name in ["sharp", *names]}
                request = msgspec.json.encode({"input": path, "format": fmt,
                                               "quality": SHARP_TIMED_QUALITY}).decode()
                for _ in range(repeat):
                    node.stdin.write(request + "\n")
                    node.stdin.flush()
                    _keep_fastest(best["sharp"], msgspec.json.decode(node.stdout.readline(),
                                                                     type=Timed))
                    for name in names:
                        encode = CANDIDATES[fmt][name]
                        t0, c0 = time.perf_counter(), time.process_time()
                        encode(picture, TIMED_QUALITY[fmt])
                        _keep_fastest(best[name], Timed(time.perf_counter() - t0,
                                                        time.process_time() - c0))
                for name, found in best.items():
                    out[fmt][name].seconds += found.seconds
                    out[fmt][name].cpu_seconds += found.cpu_seconds
    finally:
        node.stdin.close()
        node.wait(timeout=60)
    return out


def _keep_fastest(best: Timed, found: Timed) -> None:
    best.seconds = min(best.seconds, found.seconds)
    best.cpu_seconds = min(best.cpu_seconds, found.cpu_seconds)


def _bd(stats: list[Stat], sharp: list[Stat], metric: str) -> float | None:
    return bd_rate(points(stats, metric), points(sharp, metric, BD_RANGE))


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1f} %"


def _summary(samples: list[Sample], timing: Timing, chosen: dict[str, list[str]]) -> Table:
    found = curves(samples)
    rows = []
    for fmt, names in chosen.items():
        sharp, theirs = found[(fmt, "sharp")], timing[fmt]["sharp"]
        for name in names:
            stats, ours = found[(fmt, name)], timing[fmt][name]
            s2, ba = _bd(stats, sharp, "ssimulacra2"), _bd(stats, sharp, "ba")
            cpu = ours.cpu_seconds / theirs.cpu_seconds
            win = s2 is not None and ba is not None and s2 <= 0 and ba <= 0 and cpu <= 1
            rows.append([fmt.upper(), name, str(stats[0].images), _pct(s2), _pct(ba),
                         _pct(_bd(stats, sharp, "ssim")), f"{ours.cpu_seconds:.2f}",
                         f"{theirs.cpu_seconds:.2f}", f"{cpu:.2f}x",
                         f"{ours.seconds / theirs.seconds:.2f}x", "yes" if win else "no"])
    return Table(
        title="Each candidate against sharp: BD-rate and encode time",
        columns=["format", "candidate", "inputs", "BD-rate SSIMULACRA2", "BD-rate butteraugli",
                 "BD-rate SSIM", "encode CPU s (ours)", "encode CPU s (sharp)",
                 "CPU time ours/sharp", "wall time ours/sharp", "wins on all three"],
        rows=rows,
        note="BD-rate over the quality sharp reaches with settings 70-95, negative: fewer bytes "
             "than sharp for the same mean score. Encode time: every crop once at the default "
             f"quality (ours: WebP {TIMED_QUALITY['webp']}, AVIF {TIMED_QUALITY['avif']}, the "
             "UI's 90 mapped; sharp: 90), sharp and ours alternating encode by encode, the "
             "fastest of the repetitions per crop; CPU seconds of the encoding process (both "
             "encode on one thread, so CPU and wall agree but for the machine's other load). "
             "'wins' needs both BD-rates <= 0 and the CPU ratio <= 1.")


def _per_image(samples: list[Sample], chosen: dict[str, list[str]]) -> Table:
    """Per image and candidate, BD-rate against sharp on each metric (for per-image choices)."""
    rows = []
    for fmt, names in chosen.items():
        for image in sorted({s.image for s in samples if s.format == fmt}):
            found = curves([s for s in samples if s.format == fmt and s.image == image])
            sharp = found[(fmt, "sharp")]
            cells = []
            for name in names:
                stats = found[(fmt, name)]
                cells.append(f"{_pct(_bd(stats, sharp, 'ssimulacra2'))} / "
                             f"{_pct(_bd(stats, sharp, 'ba'))}")
            rows.append([fmt.upper(), image, *cells])
    width = max(len(n) for n in chosen.values())
    return Table(title="Per image: BD-rate against sharp, SSIMULACRA2 / butteraugli",
                 columns=["format", "image", *(f"candidate {i + 1}" for i in range(width))],
                 rows=rows, note="Candidates in the order of the summary table, per format.")


if __name__ == "__main__":
    sys.exit(main())

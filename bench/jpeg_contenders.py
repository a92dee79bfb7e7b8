"""``python -m bench.jpeg_contenders``: JPEG encoders against sharp's mozjpeg, to choose one.

    python -m bench.jpeg_contenders                    # tune split, every contender
    python -m bench.jpeg_contenders --contender jpegli-444-p2 --split held-out

Each contender encodes the same 640-px JPEG crops as ``bench.rd`` (same corpus, same crops,
same sharp outputs at 70-95) at a sweep of its own quality numbers; every output is scored with
SSIMULACRA2 and butteraugli against the crop, and each contender's curve gives its BD-rate
against sharp's over the range sharp's 70-95 covers, and its encode time per megapixel (one
process per core, so a ratio between contenders in one run, not an absolute). Pixels go in as
the pipeline decodes them; only the encoder differs. Results: ``bench/results/
jpeg_contenders.{json,md}``. This is the exploration tool behind ``backend/core/formats/jpeg.py``'s
choice (issue 13); ``bench.rd`` then measures the chosen default through the real pipeline.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mozjpeg_lossless_optimization as mozjpeg
import numpy as np
import pyjpegli
from PIL import Image

from backend.core.formats import jpeg, jpegli_lib
from backend.core.formats.jpegli_lib import JpegliSettings
from backend.core.loader import decode, open_source
from backend.core.picture import EncodeRequest, Picture
from bench.corpus import build_corpus
from bench.peer_sharp import ensure_sharp
from bench.quality import Point, bd_rate, butteraugli, butteraugli_path, on_white, write_reference
from bench.rd import CROP_SIDE, Unit, make_crops, run_sharp, sharp_outputs
from bench.split import in_split
from bench.ssimulacra2 import ssimulacra2

log = logging.getLogger("bench.jpeg_contenders")
BENCH_DIR = Path(__file__).resolve().parent
SHARP_SETTINGS = [70, 75, 80, 85, 90, 95]
QUALITIES = [55, 63, 70, 77, 83, 88, 91, 94, 97]  # libjpeg-style numbers for Pillow and pyjpegli
DISTANCES = [3.0, 2.4, 1.9, 1.5, 1.2, 0.95, 0.75, 0.6, 0.45]  # jpegli's butteraugli distance

Encode = Callable[[Picture, float], bytes]


def _rgb(picture: Picture) -> np.ndarray:
    image = jpeg.flatten(picture.image)
    return np.asarray(image if image.mode == "L" else image.convert("RGB"))


def _turbo(picture: Picture, q: float) -> bytes:
    return jpeg.encode_native(picture, EncodeRequest(quality=int(q)), int(q))


def _pyjpegli(picture: Picture, q: float) -> bytes:
    rgb = np.ascontiguousarray(np.asarray(jpeg.flatten(picture.image).convert("RGB")))
    return pyjpegli.encode(rgb, rgb.shape[1], rgb.shape[0], quality=int(q))


def _pyjpegli_rewritten(picture: Picture, q: float) -> bytes:
    return mozjpeg.optimize(_pyjpegli(picture, q))


def _mozjpeg_vips(picture: Picture, q: float) -> bytes:
    import pyvips  # bench-only: pyvips-binary's libvips carries mozjpeg, as sharp's does

    rgb = np.ascontiguousarray(np.asarray(jpeg.flatten(picture.image).convert("RGB")))
    image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.shape[1], rgb.shape[0], 3, "uchar")
    # sharp's ``mozjpeg: true``: trellis, overshoot deringing, optimized scans, table 3
    return bytes(image.jpegsave_buffer(
        Q=int(q), optimize_coding=True, interlace=True, trellis_quant=True,
        overshoot_deringing=True, optimize_scans=True, quant_table=3, subsample_mode="on"))


def _shim(subsample: bool, level: int, adaptive: bool = True) -> Encode:
    def run(picture: Picture, d: float) -> bytes:
        settings = JpegliSettings(0, subsample, level, adaptive, distance=d)
        return jpegli_lib.encode(_rgb(picture), settings)
    return run


# name → (encoder, its sweep, what it is)
CONTENDERS: dict[str, tuple[Encode, list[float], str]] = {
    "turbo-flat": (_turbo, QUALITIES, "today's: libjpeg-turbo (Pillow), flattened tables, "
                   "4:2:0, progressive"),
    "pyjpegli": (_pyjpegli, QUALITIES, "pyjpegli's Python API: quality, 4:2:0, baseline, "
                 "standard Huffman tables"),
    "pyjpegli+rewrite": (_pyjpegli_rewritten, QUALITIES, "pyjpegli, then mozjpeg's lossless "
                         "progressive rewrite"),
    "mozjpeg-vips": (_mozjpeg_vips, QUALITIES, "mozjpeg 5 through pyvips-binary with sharp's "
                     "mozjpeg settings (the peer's own encoder, in this process)"),
    "jpegli-420-p2": (_shim(True, 2), DISTANCES, "jpegli C API: 4:2:0, progressive level 2, AQ"),
    "jpegli-420-p1": (_shim(True, 1), DISTANCES, "jpegli C API: 4:2:0, progressive level 1, AQ"),
    "jpegli-420-p0": (_shim(True, 0), DISTANCES, "jpegli C API: 4:2:0, sequential, AQ"),
    "jpegli-420-p2-noaq": (_shim(True, 2, False), DISTANCES,
                           "jpegli C API: 4:2:0, progressive level 2, no AQ"),
    "jpegli-444-p2": (_shim(False, 2), DISTANCES, "jpegli C API: 4:4:4, progressive level 2, AQ"),
    "jpegli-444-p1": (_shim(False, 1), DISTANCES, "jpegli C API: 4:4:4, progressive level 1, AQ"),
    "jpegli-444-p0": (_shim(False, 0), DISTANCES, "jpegli C API: 4:4:4, sequential, AQ"),
    "jpegli-444-p2-noaq": (_shim(False, 2, False), DISTANCES,
                           "jpegli C API: 4:4:4, progressive level 2, no AQ"),
}


def measure_crop(job: tuple[str, str, list[str], dict[int, str], str]) -> list[dict[str, object]]:
    """Every contender's sweep and sharp's outputs on one crop, scored."""
    name, path, contenders, sharp, ba = job
    picture = decode(open_source(path, Path(path).read_bytes()), target=None, animation=False)
    with Image.open(path) as opened:
        reference = on_white(opened.copy()).convert("RGB")
    ref_rgb = np.asarray(reference)
    scratch = Path(sharp[next(iter(sharp))]).parent.parent / "contenders"
    scratch.mkdir(parents=True, exist_ok=True)
    ref_png = write_reference(reference, scratch / f"{name}.ref.png")
    megapixels = ref_rgb.shape[0] * ref_rgb.shape[1] / 1e6
    rows = []

    def score(engine: str, setting: float, data: bytes, seconds: float | None) -> None:
        with Image.open(io.BytesIO(data)) as out:
            out.load()
            rows.append({"image": name, "engine": engine, "setting": setting, "bytes": len(data),
                         "ssimulacra2": round(ssimulacra2(ref_rgb, out.convert("RGB")), 4),
                         "butteraugli": round(butteraugli(ref_png, out, binary=ba).pnorm3, 4),
                         "ms_per_mp": None if seconds is None else round(
                             seconds * 1000 / megapixels, 2)})

    for q, out_path in sharp.items():
        score("sharp", q, Path(out_path).read_bytes(), None)
    for contender in contenders:
        encode, sweep, _ = CONTENDERS[contender]
        encode(picture, sweep[len(sweep) // 2])  # warm: first-call costs are not the encoder's
        for setting in sweep:
            t0 = time.perf_counter()
            data = encode(picture, setting)
            score(contender, setting, data, time.perf_counter() - t0)
    ref_png.unlink()
    return rows


def summarize(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Per contender: BD-rate vs sharp on each metric, median ms/MP."""
    images = sorted({str(r["image"]) for r in rows})
    by: dict[tuple[str, float], list[dict[str, object]]] = {}
    for r in rows:
        by.setdefault((str(r["engine"]), float(r["setting"])), []).append(r)  # type: ignore[arg-type]

    def curve(engine: str, metric: str) -> list[Point]:
        out = []
        for (e, setting), found in sorted(by.items()):
            if e != engine or len(found) != len(images):
                continue
            mean = float(np.mean([float(f[metric]) for f in found]))  # type: ignore[arg-type]
            out.append(Point(int(setting * 100), sum(int(f["bytes"]) for f in found),  # type: ignore[call-overload]
                             mean if metric == "ssimulacra2" else -mean))
        return out

    summary = {}
    for engine in sorted({e for e, _ in by} - {"sharp"}):
        times = [float(r["ms_per_mp"]) for r in rows if r["engine"] == engine]  # type: ignore[arg-type]
        summary[engine] = {
            "bd_ssimulacra2": bd_rate(curve(engine, "ssimulacra2"), curve("sharp", "ssimulacra2")),
            "bd_butteraugli": bd_rate(curve(engine, "butteraugli"), curve("sharp", "butteraugli")),
            "ms_per_mp": float(np.median(times)) if times else None}
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.jpeg_contenders")
    p.add_argument("--contender", action="append", choices=list(CONTENDERS))
    p.add_argument("--split", choices=("tune", "held-out", "all"), default="tune")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    ba = butteraugli_path()
    if ba is None:
        print("needs butteraugli_main (Debian libjxl-devtools)", file=sys.stderr)
        return 1
    cache = args.cache.resolve()
    sharp_dir = ensure_sharp(cache)
    corpus, _ = build_corpus(cache, "full")
    corpus = [im for im in corpus if im.format == "jpeg" and in_split(im.name, args.split)]
    crops = make_crops(corpus, CROP_SIDE["full"], cache / "rd" / f"crops-{CROP_SIDE['full']}")
    scratch = cache / "scratch" / "jpeg_contenders"
    units = [Unit(image=c, format="jpeg", settings=SHARP_SETTINGS, sharp_outputs={},
                  scratch=str(scratch)) for c in crops]
    run_sharp(units, sharp_dir, scratch / "sharp", args.workers)
    contenders = args.contender or list(CONTENDERS)
    jobs = [(u.image.name, u.image.path, contenders, outs, ba)
            for u, outs in zip(units, sharp_outputs(units, scratch / "sharp"), strict=True)]
    rows: list[dict[str, object]] = []
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        for found in ex.map(measure_crop, jobs):
            rows.extend(found)
            log.info("measured %s", found[0]["image"])
    summary = summarize(rows)
    write(args.out, args.split, contenders, summary, rows)
    return 0


def write(out: Path, split: str, contenders: list[str], summary: dict[str, dict[str, object]],
          rows: list[dict[str, object]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    name = f"jpeg_contenders-{split}"
    (out / f"{name}.json").write_text(json.dumps(
        {"split": split, "summary": summary, "samples": rows,
         "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, indent=1))

    def pct(v: object) -> str:
        return "n/a" if v is None else f"{float(v):+.1f} %"  # type: ignore[arg-type]

    lines = [f"# JPEG contenders vs sharp 0.35.5 (mozjpeg), {split} split",
             "", "BD-rate over the quality range sharp's 70-95 covers (negative: fewer bytes "
             "at equal score); encode ms/MP is the median over the sweep, one process per core "
             "on a shared machine (compare within this table only). `python -m "
             "bench.jpeg_contenders`.", "",
             "| contender | what | BD-rate SSIMULACRA2 | BD-rate butteraugli | encode ms/MP |",
             "|---|---|---|---|---|"]
    for c in contenders:
        s = summary.get(c, {})
        ms = s.get("ms_per_mp")
        lines.append(f"| {c} | {CONTENDERS[c][2]} | {pct(s.get('bd_ssimulacra2'))} | "
                     f"{pct(s.get('bd_butteraugli'))} | "
                     f"{'n/a' if ms is None else f'{float(ms):.1f}'} |")  # type: ignore[arg-type]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

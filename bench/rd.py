"""``python -m bench.rd``: bytes at equal measured quality, ours against the original's engine.

    python -m bench.rd                 # full corpus, ~8 min on 2 idle cores
    python -m bench.rd --quick         # quick corpus, smaller crops, fewer settings (~2 min)
    python -m bench.rd --calibrate     # measure the UI-number → encoder-quality mapping
    python -m bench.rd --format jpeg --format png
    python -m bench.rd --split held-out   # one split of the corpus (bench/split.py)

For each format, both engines encode the same inputs at a sweep of quality numbers: ours through
the real pipeline (``optimize_file``: quality mapping, lossless re-optimization, kept originals
and all), the original's engine through Node sharp with the original sidecar's settings
(``bench/sharp/rd_sweep.mjs``). Every output is decoded and compared with its input
(SSIMULACRA2, butteraugli and SSIM on luma, ``bench/quality.py``); the rate-quality curves give
the BD-rate over quality 70-95 and the bytes each engine needs at equal mean quality, for the
tune and the held-out split of the corpus apart (``bench/split.py``). ``--calibrate`` measures
on the tune split (unless told otherwise) the native quality whose mean SSIMULACRA2 matches
sharp's at each UI number. Results:
``bench/results/quality.json`` (every sample) and ``quality.md`` (the tables, see
``bench/rd_report.py``).

Inputs: the speed bench's corpus (``bench/corpus.py``), each image cut to a centred crop
(``CROP_SIDE``: 640 px, 512 with ``--quick``; measuring whole 20 MP images at eight qualities
would take an hour) on 16-px boundaries, so JPEG crops are re-saved with the original file's
own quantization tables and subsampling on the original block grid: they are the same kind of
JPEG the person had. PNG crops are lossless. ICC profiles are left out: sharp converts tagged
images to sRGB and we keep the profile, which would make equal pixels look different. JPEG
inputs are encoded to JPEG, PNG to PNG; every input to WebP and AVIF. The PNG targets are also
checked on the whole PNG files: savings at the default, and lossless (quality 100) against
oxipng's default preset, both engines in this process back to back on one core.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec
import numpy as np
import oxipng
from PIL import Image, JpegImagePlugin

from backend.core.formats.encoders import encoder_for
from backend.core.loader import decode, open_source
from backend.core.picture import EncodeRequest, Picture
from backend.core.pipeline import optimize_file
from backend.types import ImageSettings, QualitySettings
from bench.corpus import build_corpus
from bench.machine import machine_info
from bench.peer_sharp import PeerUnavailable, ensure_sharp, sharp_versions
from bench.quality import butteraugli, butteraugli_path, luma, on_white, ssim, write_reference
from bench.rd_report import Sample, build_result
from bench.report import write_result
from bench.schema import CorpusImage, RunOptions, ScenarioResult
from bench.split import SplitChoice, in_split
from bench.ssimulacra2 import ssimulacra2

log = logging.getLogger("bench.rd")
BENCH_DIR = Path(__file__).resolve().parent
FORMATS = ("jpeg", "png", "webp", "avif")
EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
CROP_SIDE = {"full": 640, "quick": 512}
SETTINGS = {"full": [30, 50, 70, 75, 80, 85, 90, 95], "quick": [50, 70, 80, 90, 95]}
CALIBRATION_ANCHORS = [10, 30, 50, 70, 80, 90, 95]
CALIBRATION_NATIVE = [5, 10, 20, 30, 40, 50, 60, 65, 70, 75, 80, 84, 88, 91, 94, 97]
_GRID = 16


class RdItem(msgspec.Struct):
    input: str
    output: str
    format: str
    quality: int


class RdJob(msgspec.Struct):
    sharp_dir: str
    lanes: int
    items: list[RdItem]


class RdRun(msgspec.Struct):
    versions: dict[str, str]
    errors: list[str]


class Unit(msgspec.Struct, frozen=True):
    """One input and one output format: everything one pool task measures."""

    image: CorpusImage  # the crop (or the whole file for the PNG default check)
    format: str
    settings: list[int]
    sharp_outputs: dict[int, str]  # setting → file sharp wrote
    scratch: str
    native: bool = False  # calibration: ours at the encoder's own quality numbers
    butteraugli: str | None = None
    whole: bool = False  # a whole corpus file, not a crop


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.rd", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="quick corpus, 512-px crops, 5 settings")
    p.add_argument("--calibrate", action="store_true",
                   help="measure the UI-number mapping: ours at native qualities, matched on "
                        "SSIMULACRA2 (no butteraugli); the tune split unless --split says")
    p.add_argument("--format", action="append", choices=FORMATS, help="only this format")
    p.add_argument("--split", choices=("tune", "held-out", "all"),
                   help="corpus split to measure (default: tune with --calibrate, else all)")
    p.add_argument("--workers", type=int, default=2, help="processes measuring (default 2)")
    p.add_argument("--render", action="store_true",
                   help="only rebuild quality.md from the samples in quality.json")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache", help="corpus, sharp")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.render:
        return render(args.out)
    mode = "quick" if args.quick else "full"
    formats = args.format or (["jpeg", "webp", "avif"] if args.calibrate else list(FORMATS))
    cache = args.cache.resolve()
    started = time.time()
    try:
        sharp_dir = ensure_sharp(cache)
    except PeerUnavailable as exc:
        print(f"bench.rd needs the sharp peer: {exc}", file=sys.stderr)
        return 1
    ba = None if args.calibrate else butteraugli_path()
    split: SplitChoice = args.split or ("tune" if args.calibrate else "all")
    corpus, notes = build_corpus(cache, mode)
    corpus = [im for im in corpus if in_split(im.name, split)]
    notes.append(f"corpus split measured: {split} (bench/split.py)")
    if ba is None and not args.calibrate:
        notes.append("butteraugli_main (Debian libjxl-devtools) not found: SSIM only")
    crops = make_crops(corpus, CROP_SIDE[mode], cache / "rd" / f"crops-{CROP_SIDE[mode]}")
    scratch = cache / "scratch" / "rd"
    shutil.rmtree(scratch, ignore_errors=True)
    anchors = CALIBRATION_ANCHORS if args.calibrate else SETTINGS[mode]
    units = [Unit(image=c, format=f, settings=anchors, sharp_outputs={}, scratch=str(scratch),
                  butteraugli=ba) for f in formats for c in inputs_for(f, crops)]
    run = run_sharp(units, sharp_dir, scratch / "sharp", args.workers)
    units = [msgspec.structs.replace(u, sharp_outputs=outs) for u, outs in zip(
        units, sharp_outputs(units, scratch / "sharp"), strict=True)]
    if args.calibrate:
        units += [msgspec.structs.replace(u, settings=CALIBRATION_NATIVE, sharp_outputs={},
                                          native=True) for u in units]
    elif "png" in formats:
        whole = [im for im in corpus if im.format == "png"]
        units += [Unit(image=im, format="png", settings=[90], sharp_outputs={},
                       scratch=str(scratch / "whole"), butteraugli=ba, whole=True)
                  for im in whole]
    samples = measure(units, args.workers)
    lossless = png_lossless(corpus, scratch / "lossless") if (
        "png" in formats and not args.calibrate) else []
    options = RunOptions(mode=mode, repeat=1, workers=[args.workers], small_images=0)
    result = build_result(
        samples=samples, lossless=lossless, crops=crops, corpus=corpus, calibrate=args.calibrate,
        options=options, machine=machine_info(sharp_versions(sharp_dir)), notes=notes + [
            f"sharp: {e}" for e in run.errors[:5]], started=started, crop_side=CROP_SIDE[mode])
    json_path, md_path = write_result(result, args.out)
    shutil.rmtree(scratch, ignore_errors=True)
    for target in result.targets:
        print(f"  {target.name}: {target.measured} (target {target.target}) "
              f"{'met' if target.met else 'MISSED'}")
    print(f"results: {json_path}, {md_path}")
    return 0


def render(out: Path) -> int:
    """quality.md (and the figures in quality.json) again from a previous run's samples."""
    previous = msgspec.json.decode((out / "quality.json").read_bytes(), type=ScenarioResult)
    samples = msgspec.convert(previous.data["samples"], list[Sample])
    crops = msgspec.convert(previous.data["crops"], list[CorpusImage])
    side = CROP_SIDE[previous.options.mode]
    result = build_result(
        samples=[s for s in samples if s.setting != 100], crops=crops,
        lossless=[s for s in samples if s.setting == 100], corpus=previous.corpus,
        calibrate=False, options=previous.options, machine=previous.machine,
        notes=previous.notes, started=time.time() - previous.duration_s, crop_side=side)
    result.started, result.duration_s = previous.started, previous.duration_s
    write_result(result, out)
    return 0


def make_crops(images: list[CorpusImage], side: int, folder: Path) -> list[CorpusImage]:
    """A centred crop of each image (cached), saved as described in the module docstring."""
    folder.mkdir(parents=True, exist_ok=True)
    crops = []
    for im in images:
        path = folder / im.name
        if not path.is_file():
            _write_crop(Path(im.path), path, side)
        with Image.open(path) as opened:
            width, height = opened.size
        crops.append(msgspec.structs.replace(
            im, path=str(path), width=width, height=height, bytes=path.stat().st_size,
            origin=f"{side}-px centre crop of {im.origin}"))
    return crops


def _write_crop(src: Path, dest: Path, side: int) -> None:
    with Image.open(src) as im:
        w, h = im.size
        cw, ch = min(w, side), min(h, side)
        left, top = (w - cw) // 2 // _GRID * _GRID, (h - ch) // 2 // _GRID * _GRID
        im.load()
        if im.format == "JPEG":
            sampling = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(
                JpegImagePlugin.get_sampling(im), "4:2:0")
            options = {"qtables": im.quantization, "subsampling": sampling, "optimize": True,
                       "progressive": bool(im.info.get("progressive"))}
            mode = im.mode
        else:
            options = {}
            mode = "LA" if im.mode == "LA" else "L" if im.mode in ("L", "I;16", "I") else (
                "RGBA" if im.mode in ("P", "PA", "RGBA") or "transparency" in im.info else "RGB")
        cropped = im.convert(mode).crop((left, top, left + cw, top + ch))
    # Rebuilt from its pixels alone: no ICC profile, EXIF or text travels with the crop.
    clean = Image.frombytes(cropped.mode, cropped.size, cropped.tobytes())
    tmp = dest.with_name(f".{dest.name}.tmp")
    clean.save(tmp, "JPEG" if options else "PNG", **options)
    tmp.replace(dest)


def inputs_for(fmt: str, crops: list[CorpusImage]) -> list[CorpusImage]:
    """JPEG from JPEG, PNG from PNG (as the speed bench), WebP and AVIF from everything."""
    return [c for c in crops if fmt in ("webp", "avif") or c.format == fmt]


def sharp_outputs(units: list[Unit], folder: Path) -> list[dict[int, str]]:
    return [{q: str(folder / u.format / f"{Path(u.image.name).stem}-q{q}.{EXT[u.format]}")
             for q in u.settings} for u in units]


def run_sharp(units: list[Unit], sharp_dir: Path, folder: Path, lanes: int) -> RdRun:
    """Every sharp encode of the run in one Node process, ``lanes`` images at a time."""
    return sweep_sharp([RdItem(input=u.image.path, output=out, format=u.format, quality=q)
                        for u, outs in zip(units, sharp_outputs(units, folder), strict=True)
                        for q, out in outs.items()], sharp_dir, lanes)


def sweep_sharp(items: list[RdItem], sharp_dir: Path, lanes: int) -> RdRun:
    """``items`` encoded by sharp (``sharp/rd_sweep.mjs``) in one Node process, ``lanes`` at a
    time; shared by every bench that needs sharp's files at given qualities."""
    log.info("sharp: %d encodes", len(items))
    proc = subprocess.run(
        ["node", str(BENCH_DIR / "sharp" / "rd_sweep.mjs")], check=False, capture_output=True,
        input=msgspec.json.encode(RdJob(sharp_dir=str(sharp_dir), lanes=lanes, items=items)),
        timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"rd_sweep.mjs exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return msgspec.json.decode(proc.stdout, type=RdRun)


def measure(units: list[Unit], workers: int) -> list[Sample]:
    """Every unit in a pool of ``workers`` processes (largest first, so none is left last)."""
    ordered = sorted(units, key=lambda u: -u.image.width * u.image.height * len(u.settings))
    context = multiprocessing.get_context("spawn")
    samples: list[Sample] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for done, found in enumerate(pool.map(measure_unit, ordered), 1):
            samples.extend(found)
            if done % 20 == 0 or done == len(ordered):
                log.info("measured %d/%d inputs", done, len(ordered))
    return samples


def measure_unit(unit: Unit) -> list[Sample]:
    """Our outputs for every setting (encoded here), sharp's (already written), measured."""
    folder = Path(unit.scratch) / "ours" / unit.format
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{Path(unit.image.name).stem}-{'native' if unit.native else 'ui'}"
    with Image.open(unit.image.path) as opened:
        reference = opened.copy()
    ref_png = write_reference(reference, folder / f"{stem}-reference.png") if (
        unit.butteraugli) else None
    ref_luma = luma(reference)
    ref_rgb = np.asarray(on_white(reference).convert("RGB"))
    native = _native_picture(unit) if unit.native else None
    samples = []
    for q in unit.settings:
        out = folder / f"{stem}-q{q}.{EXT[unit.format]}"
        kept = False
        if native is not None:
            encoder = encoder_for(unit.format)
            assert encoder.encode_native is not None
            request = EncodeRequest(quality=q)
            out.write_bytes(encoder.optimize(encoder.encode_native(native, request, q), request))
        else:
            settings = ImageSettings(quality=QualitySettings(global_=q), outputFormat=unit.format)
            result, _ = optimize_file(unit.image.path, str(out), settings)
            if not result.success:
                raise RuntimeError(f"ours failed on {unit.image.name} q{q}: {result.error}")
            kept = bool(result.keptOriginal)
        engine = "ours-native" if unit.native else "ours"
        samples.append(_sample(unit, engine, q, out, (ref_luma, ref_rgb), ref_png, kept))
        out.unlink()
    for q, path in unit.sharp_outputs.items():
        if Path(path).is_file():
            samples.append(_sample(unit, "sharp", q, Path(path), (ref_luma, ref_rgb), ref_png,
                                   False))
    return samples


def _native_picture(unit: Unit) -> Picture:
    source = open_source(unit.image.path, Path(unit.image.path).read_bytes())
    return decode(source, target=None, animation=False)


def _sample(unit: Unit, engine: str, q: int, path: Path, reference: tuple[np.ndarray, np.ndarray],
            ref_png: Path | None, kept: bool) -> Sample:
    """``reference``: the input's luma (for SSIM) and its RGB on white (for SSIMULACRA2: the same
    pixels butteraugli sees)."""
    ref_luma, ref_rgb = reference
    with Image.open(path) as opened:
        opened.load()
        similarity = ssim(ref_luma, luma(opened))
        score = ssimulacra2(ref_rgb, on_white(opened).convert("RGB"))
        distance = butteraugli(ref_png, opened, binary=unit.butteraugli).pnorm3 if (
            ref_png is not None and unit.butteraugli) else None
    return Sample(image=unit.image.name, kind=unit.image.kind, input_format=unit.image.format,
                  format=unit.format, engine=engine, setting=q, bytes=path.stat().st_size,
                  input_bytes=unit.image.bytes, megapixels=unit.image.megapixels,
                  ssim=round(float(similarity), 6), butteraugli=None if distance is None else round(
                      float(distance), 4), ssimulacra2=round(float(score), 4), kept_original=kept,
                  whole=unit.whole)


def png_lossless(corpus: list[CorpusImage], folder: Path) -> list[Sample]:
    """Quality 100 (ours) and oxipng's default preset on each whole PNG, back to back, in CPU
    seconds of this process (steadier than wall time on a shared machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    settings = ImageSettings(quality=QualitySettings(global_=100), outputFormat="png")
    for im in (c for c in corpus if c.format == "png"):
        data = Path(im.path).read_bytes()
        t0 = time.process_time()
        theirs = oxipng.optimize_from_memory(data)
        t1 = time.process_time()
        result, _ = optimize_file(im.path, str(folder / im.name), settings)
        t2 = time.process_time()
        with Image.open(im.path) as a, Image.open(folder / im.name) as b:
            identical = np.array_equal(np.asarray(a.convert("RGBA")), np.asarray(b.convert("RGBA")))
        for engine, size, seconds in (("oxipng", len(theirs), t1 - t0),
                                      ("ours", result.optimized_size, t2 - t1)):
            samples.append(Sample(
                image=im.name, kind=im.kind, input_format="png", format="png", engine=engine,
                setting=100, bytes=size, input_bytes=im.bytes, megapixels=im.megapixels,
                ssim=1.0 if engine == "oxipng" or identical else 0.0, seconds=round(seconds, 4),
                kept_original=bool(result.keptOriginal) and engine == "ours", whole=True))
    return samples


if __name__ == "__main__":
    sys.exit(main())

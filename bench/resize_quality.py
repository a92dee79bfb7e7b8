"""``python -m bench.resize_quality``: how far each way of downscaling is from an exact Lanczos.

    python -m bench.resize_quality                  # tune split, 1920 and 960 px
    python -m bench.resize_quality --split held-out

Each corpus image (of the split) is brought to a longest edge of 1920 and 960 px (sizes not
smaller than the image are skipped) by each candidate, and every result is scored against the
exact result: Lanczos-3 in floating point (Pillow's ``F`` mode, channel by channel, no box
pre-shrink) of the full-resolution decode, rounded once. Scores: SSIMULACRA2 (100 = identical)
and butteraugli (max and 3-norm, 0 = identical). Candidates: Pillow's 8-bit Lanczos as the
pipeline ran it before libvips (JPEG ``draft`` at >= 2x the target, ``reducing_gap=3``), the
pipeline's libvips path (``backend/core/shrink.py``), a JPEG ``draft`` to k x the target then
Lanczos, and Pillow's ``reducing_gap`` g (a box ``reduce`` then Lanczos). A candidate whose
pixels equal the 8-bit Lanczos bit for bit gets its scores without being scored again. Images
with real transparency are left out: the pipeline filters them with Pillow as before.
Results: ``bench/results/resize_quality-<split>.{json,md}``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from backend.core import shrink
from backend.core.ssimulacra2 import ssimulacra2
from bench.machine import machine_info
from bench.quality import butteraugli, butteraugli_path, write_reference
from bench.report import write_result
from bench.schema import RunOptions, ScenarioResult, Table
from bench.split import SplitChoice, in_split

BENCH_DIR = Path(__file__).resolve().parent
SIZES = (1920, 960)
BEFORE = "Pillow 8-bit (before)"
VIPS = "libvips (now)"
DRAFT_KS = (1.5, 2.0, 3.0)
GAPS = (1.0, 2.0)

Resizer = Callable[[bytes, tuple[int, int]], Image.Image]


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _flat(image: Image.Image) -> Image.Image:
    """RGB or L: the images measured here have no real transparency."""
    return image.convert("L" if image.mode in ("L", "LA") else "RGB")


def exact(data: bytes, size: tuple[int, int]) -> Image.Image:
    image = _flat(_open(data))
    planes = [np.asarray(band.convert("F").resize(size, Image.Resampling.LANCZOS))
              for band in image.split()]
    pixels = np.clip(np.rint(np.stack(planes, -1)), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels if len(planes) > 1 else pixels[..., 0])


def pillow(data: bytes, size: tuple[int, int], *, draft_k: float | None = 2.0,
           gap: float | None = 3.0) -> Image.Image:
    image = _open(data)
    if draft_k is not None and image.format == "JPEG":
        image.draft(image.mode, (round(size[0] * draft_k), round(size[1] * draft_k)))
    return _flat(image).resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)


def vips(data: bytes, size: tuple[int, int]) -> Image.Image:
    image = _open(data)
    fmt = "jpeg" if image.format == "JPEG" else "png"
    out = shrink.decode_shrunk(data, fmt, image.mode, image.size, size)
    if out is None:
        raise RuntimeError("the libvips path refused a corpus image")
    return _flat(out).resize(size, Image.Resampling.LANCZOS) if out.size != size else _flat(out)


def candidates(is_jpeg: bool) -> dict[str, Resizer]:
    out: dict[str, Resizer] = {BEFORE: pillow, VIPS: vips}
    if is_jpeg:
        for k in DRAFT_KS:
            out[f"draft {k:g}x"] = lambda d, s, k=k: pillow(d, s, draft_k=k)
    for g in GAPS:
        out[f"reducing_gap {g:g}"] = lambda d, s, g=g: pillow(d, s, draft_k=None, gap=g)
    return out


def _cpu(fn: Resizer, data: bytes, size: tuple[int, int]) -> tuple[Image.Image, float]:
    best, out = float("inf"), None
    for _ in range(2):
        t0 = time.process_time()
        out = fn(data, size)
        best = min(best, time.process_time() - t0)
    assert out is not None
    return out, best


def score_image(path: Path, size: tuple[int, int], binary: str | None, scratch: Path,
                only: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
    """Per candidate (``only`` these): SSIMULACRA2, butteraugli max and 3-norm against exact,
    and CPU seconds."""
    data = path.read_bytes()
    reference = exact(data, size)
    ref_png = write_reference(reference, scratch / "reference.png") if binary else None
    rows: dict[str, dict[str, float]] = {}
    before_pixels = None
    for name, fn in candidates(path.suffix == ".jpg").items():
        if only is not None and name not in only:
            continue
        out, cpu = _cpu(fn, data, size)
        assert out.size == size, (name, out.size, size)
        pixels = np.asarray(out)
        if name == BEFORE:
            before_pixels = pixels
        elif before_pixels is not None and np.array_equal(pixels, before_pixels):
            rows[name] = dict(rows[BEFORE], cpu_s=cpu, same_as_before=1.0)
            continue
        row = {"ssimulacra2": ssimulacra2(reference, out), "cpu_s": cpu, "same_as_before": 0.0}
        if binary and ref_png is not None:
            ba = butteraugli(ref_png, out, binary=binary)
            row |= {"ba_max": ba.max, "ba_p3": ba.pnorm3}
        rows[name] = row
    return rows


def fit(width: int, height: int, edge: int) -> tuple[int, int]:
    if width >= height:
        return edge, max(1, round(height * edge / width))
    return max(1, round(width * edge / height)), edge


def transparent(path: Path) -> bool:
    with Image.open(path) as im:
        return im.mode in ("RGBA", "LA") and im.getchannel("A").getextrema()[0] < 255


def main(argv: list[str] | None = None) -> int:
    from bench.corpus import build_corpus

    p = argparse.ArgumentParser(prog="python -m bench.resize_quality",
                                description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=["tune", "held-out", "all"], default="tune")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache")
    args = p.parse_args(argv)
    split: SplitChoice = args.split
    started = time.time()
    corpus, notes = build_corpus(args.cache.resolve(), "full")
    binary = butteraugli_path()
    if binary is None:
        notes.append("butteraugli_main (Debian libjxl-devtools) not found: SSIMULACRA2 only")
    images = [im for im in corpus if in_split(im.name, split)]
    measured: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for im in images:
            if transparent(Path(im.path)):
                notes.append(f"{im.name}: real transparency (filtered by Pillow as before)")
                continue
            for edge in SIZES:
                if edge >= max(im.width, im.height):
                    continue
                size = fit(im.width, im.height, edge)
                key = f"{im.name} -> {size[0]}x{size[1]}"
                measured[key] = score_image(Path(im.path), size, binary, Path(tmp))
                print(key, {n: round(r["ssimulacra2"], 2) for n, r in measured[key].items()},
                      flush=True)
    result = ScenarioResult(
        name=f"resize_quality-{split}", title=f"Downscaling against an exact Lanczos ({split} "
        "split)", description=__doc__.split("\n\n")[2].replace("\n", " "),
        options=RunOptions(mode="full", repeat=2, workers=[1], small_images=0),
        machine=machine_info({}), corpus=images, notes=notes,
        started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)))
    _report(result, measured)
    result.duration_s = round(time.time() - started, 1)
    json_path, md_path = write_result(result, args.out)
    print(f"results: {json_path}, {md_path}")
    return 0


def _fmt(row: dict[str, float] | None) -> str:
    if row is None:
        return "-"
    ba = f" / {row['ba_max']:.2f} / {row['ba_p3']:.2f}" if "ba_max" in row else ""
    same = " (=)" if row.get("same_as_before") else ""
    return f"{row['ssimulacra2']:.2f}{ba}{same}"


def _report(result: ScenarioResult, measured: dict[str, dict[str, dict[str, float]]]) -> None:
    names = list(dict.fromkeys(n for rows in measured.values() for n in rows))
    summary = []
    for name in names:
        rows = [r[name] for r in measured.values() if name in r]
        changed = [r for r in rows if not r.get("same_as_before")]
        s2 = [r["ssimulacra2"] for r in rows]
        ba = [r["ba_max"] for r in rows if "ba_max" in r]
        summary.append([name, str(len(rows)), str(len(changed)), f"{min(s2):.2f}",
                        f"{statistics.mean(s2):.2f}", f"{max(ba):.2f}" if ba else "-",
                        f"{sum(r['cpu_s'] for r in rows):.2f}"])
    result.tables.append(Table(
        title="Each candidate against the exact Lanczos, over all images and sizes",
        columns=["candidate", "results", "differing from before", "SSIMULACRA2 min",
                 "SSIMULACRA2 mean", "butteraugli max (worst)", "decode + resize CPU s"],
        rows=summary,
        note="Pillow's own 8-bit Lanczos (the pipeline before) is the floor: it differs from "
             "the exact result by rounding alone (mean < 0.2 levels), and a candidate that "
             "scores as it does is as exact as it. CPU seconds: fastest of 2, one core."))
    result.tables.append(Table(
        title="Per image: SSIMULACRA2 / butteraugli max / butteraugli 3-norm against exact",
        columns=["image -> size", *names],
        rows=[[key, *(_fmt(rows.get(n)) for n in names)] for key, rows in measured.items()],
        note="(=): the same pixels as the 8-bit Lanczos before (the candidate changes nothing at "
             "this ratio), scores copied."))
    result.data["measured"] = measured


if __name__ == "__main__":
    raise SystemExit(main())

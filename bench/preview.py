"""How long the compare view waits for a preview: ``preview_image`` through the warm pool.

    python -m bench.preview [--repeat N] [--out DIR]   # writes bench/results/preview.{json,md}

Inputs: the bench corpus's real 20 MP photograph (``nuthatch-20mp.jpg``, ``bench/corpus.py``)
resized to a typical 12 MP phone photo (4032x3024) and to 2 MP (1732x1155), saved as JPEG
quality 92. For each, JPEG → JPEG and JPEG → WebP at quality 75, measured through the command
door exactly as the page calls it (``commands.invoke`` on a warm two-worker
``ProcessPool``), with and without the original in the reply (the view asks for it once, when
it opens):

- wall ms of the call (median of ``--repeat``, with min and max), the worker's own ms
  (``durationMs``: read, encode, score, the page's copies), and the JSON reply's bytes;
- the batch's cost of the same image and settings (``optimize_image`` into a temporary folder,
  same pool, same run), so ``preview / batch`` says what a preview adds to the encode;
- the preview's sampled SSIMULACRA2 against the whole-image score (computed here, once).

Run it on an idle machine; the load average at the start is recorded, and only ratios within
one run should be compared across machines.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import msgspec
from PIL import Image

from backend.commands import AppContext, invoke
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.core.ssimulacra2 import ssimulacra2
from backend.settings_store import SettingsStore
from bench.corpus import build_corpus
from bench.machine import load_average

BENCH_DIR = Path(__file__).resolve().parent
SIZES = {"12 MP": (4032, 3024), "2 MP": (1732, 1155)}
FORMATS = ("jpeg", "webp")
QUALITY = 75


class Case(msgspec.Struct, kw_only=True):
    image: str
    width: int
    height: int
    input_bytes: int
    output: str
    with_original: bool
    wall_ms: list[float]
    worker_ms: list[float]
    batch_ms: list[float]
    reply_bytes: int
    result_bytes: int
    score_sampled: float | None
    score_full: float | None
    score_metric: str | None


class Report(msgspec.Struct, kw_only=True):
    repeat: int
    workers: int
    load_average: tuple[float, float, float]
    cpu_count: int
    cases: list[Case]


def _inputs(folder: Path) -> dict[str, Path]:
    images, _ = build_corpus(BENCH_DIR / ".cache", "full")
    source = next(Path(i.path) for i in images if Path(i.path).name == "nuthatch-20mp.jpg")
    out = {}
    with Image.open(source) as photo:
        photo = photo.convert("RGB")
        for name, size in SIZES.items():
            # Centre crop to 4:3, then downscale: a camera-like frame of real detail.
            w, h = photo.size
            crop_h = min(h, round(w * size[1] / size[0]))
            crop_w = round(crop_h * size[0] / size[1])
            box = ((w - crop_w) // 2, (h - crop_h) // 2, (w + crop_w) // 2, (h + crop_h) // 2)
            path = folder / f"photo-{name.replace(' ', '')}.jpg"
            photo.crop(box).resize(size, Image.Resampling.LANCZOS).save(path, quality=92)
            out[name] = path
    return out


def _full_score(path: Path, data: bytes) -> float:
    with Image.open(path) as original, Image.open(io.BytesIO(data)) as result:
        return ssimulacra2(original.convert("RGB"), result.convert("RGB"))


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def measure(repeat: int, workers: int) -> Report:
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        folder = Path(tmp)
        inputs = _inputs(folder)
        optimizer = ImageOptimizer(ProcessPool(workers))
        optimizer.start(wait=True)
        context = AppContext(optimizer=optimizer, settings=SettingsStore(folder / "config"),
                             shell="desktop")
        try:
            for name, path in inputs.items():
                for fmt in FORMATS:
                    settings = {"outputFormat": fmt, "quality": {"global": QUALITY}}
                    for with_original in (True, False):
                        cases.append(_case(context, name, path, settings, with_original,
                                           repeat, folder))
        finally:
            optimizer.shutdown()
    return Report(repeat=repeat, workers=workers, load_average=load_average(),
                  cpu_count=os.cpu_count() or 1, cases=cases)


def _case(context: AppContext, name: str, path: Path, settings: dict[str, object],
          with_original: bool, repeat: int, folder: Path) -> Case:
    args = {"input_path": str(path), "settings": settings, "original": with_original}
    walls, workers_ms, batch = [], [], []
    reply = None
    for rep in range(repeat):
        start = time.perf_counter()
        reply = invoke("preview_image", args, context)
        walls.append(_ms(start))
        assert reply.ok, reply.error
        workers_ms.append(reply.result.durationMs)
        out = folder / f"out-{rep}"
        start = time.perf_counter()
        saved = invoke("optimize_image", {"input_path": str(path), "output_path": str(out),
                                          "settings": settings}, context)
        batch.append(_ms(start))
        assert saved.ok and saved.result.success, saved
    assert reply is not None
    result = reply.result
    wire = msgspec.json.encode(reply)
    data = base64.b64decode(msgspec.json.decode(wire)["result"]["result"]["data"])
    with Image.open(path) as image:
        width, height = image.size
    return Case(
        image=name, width=width, height=height, input_bytes=path.stat().st_size,
        output=result.format, with_original=with_original, wall_ms=walls, worker_ms=workers_ms,
        batch_ms=batch, reply_bytes=len(wire), result_bytes=result.size,
        score_sampled=result.score, score_full=round(_full_score(path, data), 2),
        score_metric=result.scoreMetric)


def _med(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def render(report: Report) -> str:
    load = ", ".join(f"{x:.2f}" for x in report.load_average)
    lines = [
        "# Preview timings (`python -m bench.preview`)",
        "",
        f"`preview_image` through the command door on a warm {report.workers}-worker pool, "
        f"{report.repeat} repetitions (median, min-max); {report.cpu_count} CPUs, load average "
        f"at the end {load}. Quality {QUALITY}; inputs are JPEG q92 of a real photograph.",
        "",
        "| image | output | original sent | preview ms | worker ms | batch ms | preview / batch "
        "| reply | result | SSIMULACRA2 sampled / whole |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report.cases:
        ratio = _med(c.wall_ms) / max(_med(c.batch_ms), 0.1)
        lines.append(
            f"| {c.image} ({c.width}x{c.height}, {c.input_bytes / 1e6:.2f} MB) | {c.output} | "
            f"{'yes' if c.with_original else 'no'} | {_med(c.wall_ms)} "
            f"({min(c.wall_ms)}-{max(c.wall_ms)}) | {_med(c.worker_ms)} | {_med(c.batch_ms)} | "
            f"{ratio:.2f} | {c.reply_bytes / 1e6:.2f} MB | {c.result_bytes / 1e3:.0f} KB | "
            f"{c.score_sampled} / {c.score_full} |")
    lines += ["", f"Score metric: {report.cases[0].score_metric}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    options = parser.parse_args()
    report = measure(options.repeat, options.workers)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "preview.json").write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    table = render(report)
    (options.out / "preview.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()

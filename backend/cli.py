"""Command line: ``image-optimizer [optimize PATH… | serve]``; no sub-command opens the window.

Decisions where the SPEC is silent:
- ``--quality N`` sets the global quality and clears per-format overrides from ``--settings``, so
  the flag means what it says; ``--format``/``--resize``/``--size`` override their fields likewise.
- A path that does not exist or is not a supported image is listed as skipped and makes the exit
  status 1 (something the user asked for was not optimized); bad flags or settings exit 2.
- ``--auto-quality`` without a level means "high"; a value that is not a level name is refused
  with a hint (``--auto-quality photo.jpg`` would otherwise read the path as the level).
- ``--max-size`` takes bytes, or a number with a unit: KB/MB/GB are 1000-based, KiB/MiB/GiB
  1024-based (as on disk labels and in ``ls --si``); case does not matter ("200kb"). An image
  whose output cannot be made that small is written as small as it got, listed as "TARGET NOT
  MET" with the reason, and makes the exit status 1.
- With ``--json`` stdout carries only the JSON array; the summary, skipped files and the benchmark
  report go to stderr. Ctrl-C cancels the batch (no partial files) and exits 130.
- ``--cluster ADDRESS`` (or $IMAGE_OPTIMIZER_CLUSTER) runs the batch on a Dask cluster
  (backend/cluster_option.py); a scheduler that cannot be reached, or has no worker, exits 2:
  nothing was tried, as with a bad flag.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO, get_args

import msgspec

from backend import cluster_option, worker_count
from backend.core.discovery import Skipped, expand_paths
from backend.core.formats.registry import OUTPUT_CHOICES
from backend.core.quality_targets import DEFAULT_LEVEL, LEVEL_NAMES, LEVELS
from backend.errors import ClusterError, OptimizerError, ValidationError
from backend.human_bytes import format_bytes
from backend.logging_setup import configure_logging
from backend.types import (
    ChromaMode,
    IccMode,
    ImageSettings,
    MetadataMode,
    OptimizationResult,
    ProgressEvent,
    ResizeMode,
    Task,
)
from backend.validation import decode_settings

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# Shell-friendly spellings of the chroma modes, beside the wire's own ("4:4:4").
_CHROMA_FLAGS = {"444": "4:4:4", "420": "4:2:0"}
_BYTE_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024,
               "mib": 1024**2, "gib": 1024**3}
_BYTE_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


class UsageError(Exception):
    pass


def _add_image_flags(opt: argparse.ArgumentParser) -> None:
    """The image options `optimize` and `watch` share (read by settings_from_args)."""
    opt.add_argument("--quality", type=int, metavar="N", help="1-100; 100 = lossless")
    opt.add_argument("--format", choices=OUTPUT_CHOICES, help="output format (default: original)")
    opt.add_argument("--resize", choices=get_args(ResizeMode), help="which edge --size applies to")
    opt.add_argument("--size", type=int, metavar="PX", help="target size of that edge in px")
    opt.add_argument("--settings", metavar="JSON", help="an ImageSettings object as JSON")
    levels = ", ".join(f"{name} ({score:g})" for name, score in LEVELS.items())
    opt.add_argument("--auto-quality", nargs="?", const=DEFAULT_LEVEL, metavar="LEVEL",
                     help="per image, the lowest quality that still reaches the level's "
                          f"SSIMULACRA2 score: {levels}; off; default {DEFAULT_LEVEL}")
    opt.add_argument("--max-size", metavar="SIZE",
                     help="every output at most SIZE: bytes, or e.g. 200KB, 1.5MB, 500KiB")
    opt.add_argument("--allow-resize", action="store_true", default=None,
                     help="with --max-size, downscale an image that does not fit otherwise")
    place = opt.add_mutually_exclusive_group()
    place.add_argument("--out", metavar="DIR",
                       help="write outputs into DIR, mirroring the folders below what was named")
    place.add_argument("--beside", action="store_true",
                       help="write each output beside its source, named with --suffix")
    place.add_argument("--replace", action="store_true",
                       help="replace the originals (backed up first; undo with `revert`)")
    opt.add_argument("--suffix", metavar="S",
                     help="file-name suffix for --beside (default: -optimized); one that "
                          "starts with '-' is written --suffix=-s")
    opt.add_argument("--no-keep-dates", dest="keep_dates", action="store_false", default=None,
                     help="give outputs the current time, not their source's dates")
    opt.add_argument("--metadata", choices=get_args(MetadataMode),
                     help="EXIF/XMP/IPTC: strip (default), keep, or keep without location")
    opt.add_argument("--icc", choices=get_args(IccMode),
                     help="colour profile: keep (default) or convert to sRGB and drop it")
    opt.add_argument("--chroma", choices=[*_CHROMA_FLAGS, *get_args(ChromaMode)],
                     help="JPEG/AVIF chroma subsampling: auto (default), 444 or 420")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="image-optimizer",
        description="Compress, resize and convert images. With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command")

    opt = sub.add_parser("optimize", help="optimize images or folders of images")
    opt.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    _add_image_flags(opt)
    opt.add_argument("--workers", type=int, metavar="N", help="worker processes")
    opt.add_argument("--cluster", metavar="ADDRESS",
                     help="run on a Dask cluster: tcp://HOST:8786 (or $IMAGE_OPTIMIZER_CLUSTER)")
    opt.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    opt.add_argument("--json", action="store_true", help="print only the results as JSON")
    opt.add_argument("--benchmark", action="store_true", help="print a benchmark report")

    watch = sub.add_parser("watch", help="optimize new images in folders as they appear")
    watch.add_argument("paths", nargs="+", metavar="DIR", help="folders to watch")
    _add_image_flags(watch)
    watch.add_argument("--workers", type=int, metavar="N", help="worker processes")
    watch.add_argument("--recursive", action="store_true", help="watch sub-folders too")
    watch.add_argument("--db", metavar="FILE", help="the ledger (default: watch.sqlite3 in the "
                       "user data folder)")
    watch.add_argument("--settle", type=float, metavar="S",
                       help="seconds a file must stay unchanged to count as complete (default 1)")
    watch.add_argument("--json", action="store_true", help="one JSON result per line on stdout")

    rev = sub.add_parser("revert", help="put back the originals of a --replace batch")
    rev.add_argument("batch", nargs="?", metavar="BATCH", help="batch name (default: the last)")
    rev.add_argument("--list", action="store_true", help="list the batches that can be reverted")

    serve = sub.add_parser("serve", help="serve the UI to a browser on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    serve.add_argument("--open", action="store_true", help="open the page in a browser")
    serve.add_argument("--workers", type=int, metavar="N", help="worker processes")

    desktop = sub.add_parser("desktop", help="open the window (the default)")
    desktop.add_argument("--workers", type=int, metavar="N", help="worker processes")
    return parser


def settings_from_args(args: argparse.Namespace) -> ImageSettings:
    """The ``--settings`` object with the flags laid over it."""
    raw: dict[str, Any] = {}
    if args.settings is not None:
        try:
            raw = json.loads(args.settings)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--settings is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise UsageError("--settings must be a JSON object (an ImageSettings)")
    if args.quality is not None:
        raw["quality"] = {"global": args.quality}
    if args.format is not None:
        raw["outputFormat"] = args.format
    if args.out is not None:
        raw.update(output="folder", outputFolder=os.path.abspath(args.out))
    elif args.beside:
        raw["output"] = "beside"
    elif args.replace:
        raw["output"] = "replace"
    if args.suffix is not None:
        if raw.get("output") != "beside":
            raise UsageError("--suffix needs --beside")
        raw["suffix"] = args.suffix
    if args.keep_dates is not None:
        raw["keepDates"] = args.keep_dates
    for name in ("metadata", "icc"):
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    if args.chroma is not None:
        raw["chroma"] = _CHROMA_FLAGS.get(args.chroma, args.chroma)
    if args.auto_quality is not None:
        if args.auto_quality not in LEVEL_NAMES:
            raise UsageError(f"--auto-quality takes one of {', '.join(LEVEL_NAMES)}, not "
                             f"{args.auto_quality!r} (before a path, write "
                             f"--auto-quality={DEFAULT_LEVEL})")
        raw["autoQuality"] = args.auto_quality
    if args.max_size is not None:
        raw["maxSize"] = parse_byte_size(args.max_size)
    if args.allow_resize is not None:
        raw["allowResize"] = args.allow_resize
    if args.resize is not None or args.size is not None:
        mode = args.resize or "none"
        if mode != "none" and args.size is None:
            raise UsageError(f"--resize {mode} needs --size PX")
        if args.size is not None and mode == "none":
            raise UsageError("--size needs --resize width|height|longest|shortest")
        resize = dict(raw.get("resize") or {})
        resize.update(mode=mode, size=args.size)
        raw["resize"] = resize
    try:
        return decode_settings(raw)
    except ValidationError as exc:
        raise UsageError(exc.message) from None


def parse_byte_size(text: str) -> int:
    """``200KB`` → 200000 bytes (see the module docstring for the units)."""
    match = _BYTE_SIZE_RE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _BYTE_UNITS:
        raise UsageError(f"--max-size {text!r}: expected bytes or a number with a unit "
                         "(B, KB, MB, GB, KiB, MiB, GiB), e.g. 200KB")
    return round(float(match.group(1)) * _BYTE_UNITS[unit])


class _ProgressBar:
    """A one-line bar on a terminal; silent when stderr is a pipe or a file."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * event.completedTasks // max(event.totalTasks, 1)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] "
            f"{event.completedTasks}/{event.totalTasks} {event.progressPercentage:3d}%"
        )
        if event.status != "processing":
            self.stream.write("\n")
        self.stream.flush()


def summarize(results: Sequence[OptimizationResult], seconds: float) -> str:
    ok = [r for r in results if r.success]
    before = sum(r.original_size for r in ok)
    after = sum(r.optimized_size for r in ok)
    pct = (before - after) * 100.0 / before if before else 0.0
    lines = [
        f"{len(ok)} of {len(results)} images optimized in {seconds:.2f}s: "
        f"{format_bytes(before)} -> {format_bytes(after)} ({pct:.1f}% saved)"
    ]
    kept = sum(1 for r in ok if r.keptOriginal)
    if kept:
        lines.append(f"{kept} kept as the original (already smaller than any re-encode)")
    lines.extend(f"TARGET NOT MET {r.original_path}: {r.targetMessage}" for r in ok
                 if r.targetMet is False)
    lines.extend(f"FAILED {r.original_path}: {r.error}" for r in results if not r.success)
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def run_optimize(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from backend.core.optimizer import ImageOptimizer
    from backend.core.pool import ProcessPool, stop_process_helpers

    settings = settings_from_args(args)
    found = expand_paths(args.paths, recursive=args.recursive, settings=settings)
    paths, skipped = found.paths, found.skipped
    if found.folders:
        stderr.write(f"found {_count(len(paths), 'image')} in {_count(found.folders, 'folder')}"
                     f" ({format_bytes(found.bytes)})\n")
    for item in skipped:
        stderr.write(f"skipped {item.path}: {item.reason}\n")
    tasks = [Task(input_path=p, output_path=None, settings=settings) for p in paths]
    try:
        address = cluster_option.resolve(args.cluster, args.workers)
        # The CLI does not read the app's saved setting: scripts say what they want.
        executor = (cluster_option.executor(address) if address
                    else ProcessPool(worker_count.resolve(args.workers)))
    except OptimizerError as exc:
        raise UsageError(exc.message) from None
    try:
        return _optimize(ImageOptimizer(executor), tasks, skipped, args, stdout, stderr)
    except ClusterError as exc:
        stderr.write(f"image-optimizer: {exc.message}\n")
        return EXIT_USAGE
    finally:
        # A command leaves no process behind: the pool joined its workers on the way out;
        # multiprocessing's own helpers would otherwise live until the interpreter exits.
        stop_process_helpers()


def _optimize(
    optimizer: ImageOptimizer, tasks: list[Task], skipped: list[Skipped],
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO,
) -> int:
    started = time.perf_counter()
    with optimizer:
        if args.benchmark:
            # The report measures image work on a warm pool, as the app sees it after start-up.
            optimizer.start(wait=True)
            started = time.perf_counter()
        optimizer.subscribe(_ProgressBar(stderr))
        try:
            results = (
                optimizer.optimize_images(tasks, roots=args.paths, benchmark=args.benchmark)
                if tasks
                else []
            )
        except KeyboardInterrupt:
            optimizer.cancel()
            stderr.write("cancelled\n")
            return EXIT_INTERRUPTED
        report = optimizer.last_benchmark() if args.benchmark else None
    elapsed = time.perf_counter() - started

    if args.json:
        stdout.write(msgspec.json.encode(results).decode() + "\n")
    summary_stream = stderr if args.json else stdout
    if not tasks:
        summary_stream.write("no supported images to optimize\n")
    else:
        summary_stream.write(summarize(results, elapsed) + "\n")
    for batch in sorted({r.backupBatch for r in results if r.backupBatch}):
        summary_stream.write(f"originals backed up as batch {batch}: undo with "
                             f"`image-optimizer revert {batch}`\n")
    if report is not None:
        summary_stream.write(report.render() + "\n")
    all_ok = bool(tasks) and not skipped and all(
        r.success and r.targetMet is not False for r in results)
    return EXIT_OK if all_ok else EXIT_FAILED


def run_revert(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from backend.core import replace

    if args.list:
        for batch in replace.batches():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(batch.created))
            stdout.write(f"{batch.batch}  {batch.images} image(s)  {when}\n")
        return EXIT_OK
    try:
        report = replace.revert(args.batch)
    except ValidationError as exc:
        stderr.write(f"image-optimizer: {exc.message}\n")
        return EXIT_FAILED
    for path in report.restored:
        stdout.write(f"restored {path}\n")
    for failure in report.failed:
        stderr.write(f"NOT restored {failure.path}: {failure.error}\n")
    stdout.write(f"{len(report.restored)} original(s) of batch {report.batch} restored\n")
    return EXIT_OK if not report.failed else EXIT_FAILED


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds through the optimizer's context manager, so the pool shuts down cleanly.
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if args.command == "optimize":
            return run_optimize(args, sys.stdout, sys.stderr)
        if args.command == "watch":
            from backend.watch.cli import run_watch

            try:
                workers = worker_count.resolve(args.workers)
                return run_watch(args, settings_from_args(args), workers, sys.stdout, sys.stderr)
            except OptimizerError as exc:  # a bad worker count, a folder that is not there
                raise UsageError(exc.message) from None
        if args.command == "revert":
            return run_revert(args, sys.stdout, sys.stderr)
        if args.command == "serve":
            from backend.shells.http import serve

            return serve(port=args.port, open_browser=args.open, workers=args.workers)
        from backend.shells.desktop import run

        return run(workers=getattr(args, "workers", None))
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"image-optimizer: error: {exc}\n")
        return EXIT_USAGE

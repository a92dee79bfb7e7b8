"""Who competes, and running one contender once in its own subprocess.

A contender is an engine at a worker count: ``loop`` (our pipeline called in a plain in-process
loop: the baseline for the pool's overhead), ``pool-N`` (our ImageOptimizer with N worker
processes) and ``sharp-N`` (the original's engine with N images in flight). Every run gets a
fresh process and a fresh output folder; the parent checks what was written (each output
exists and is the format asked for) and measures the bytes itself, so all contenders are judged
by the same rule.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import msgspec

from bench.peer_sharp import run_sharp
from bench.schema import CorpusImage, Engine, JobGroup, JobImage, SpeedJob, SpeedRun

_MAGIC = {"jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, order=True)
class Contender:
    engine: Engine
    workers: int

    @property
    def label(self) -> str:
        return "loop" if self.engine == "loop" else f"{self.engine}-{self.workers}"


@dataclass(frozen=True)
class Written:
    """What the parent found on disk after one group of a run."""

    bytes_out: int
    missing: list[str]


def run_child(command: str, job: msgspec.Struct, result_type: type) -> object:
    """``python -m bench.ours COMMAND`` with ``job`` on stdin; its stdout decoded."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ours", command], input=msgspec.json.encode(job),
        capture_output=True, cwd=REPO_ROOT, timeout=3600, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.ours {command} exited {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace')[-800:]}")
    return msgspec.json.decode(proc.stdout, type=result_type)


def run_once(
    contender: Contender, groups: dict[str, list[CorpusImage]], scratch: Path,
    sharp_dir: Path | None,
) -> tuple[SpeedRun, dict[str, Written]]:
    """One timed run of ``contender`` over every group, outputs checked then deleted."""
    folder = scratch / f"{contender.engine}-{contender.workers}"
    shutil.rmtree(folder, ignore_errors=True)
    job = SpeedJob(
        engine=contender.engine, workers=contender.workers,
        groups=[_job_group(name, images, folder) for name, images in groups.items()],
        sharp_dir=str(sharp_dir) if sharp_dir else None,
    )
    try:
        if contender.engine == "sharp":
            run = run_sharp(job)
        else:
            run = run_child("speed", job, SpeedRun)
            assert isinstance(run, SpeedRun)
        written = {group.name: _inspect(group) for group in job.groups}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return run, written


def _job_group(name: str, images: list[CorpusImage], folder: Path) -> JobGroup:
    # Largest first for every contender: the order a good scheduler would pick anyway.
    ordered = sorted(images, key=lambda im: im.width * im.height, reverse=True)
    return JobGroup(name=name, images=[
        JobImage(input=im.path, output=str(folder / name / im.name), format=im.format)
        for im in ordered
    ])


def _inspect(group: JobGroup) -> Written:
    total, missing = 0, []
    for im in group.images:
        path = Path(im.output)
        try:
            with path.open("rb") as fh:
                head = fh.read(8)
            if not head.startswith(_MAGIC[im.format]):
                missing.append(f"{path.name}: not a {im.format} file")
                continue
            total += path.stat().st_size
        except OSError:
            missing.append(f"{path.name}: no output written")
    return Written(bytes_out=total, missing=missing)

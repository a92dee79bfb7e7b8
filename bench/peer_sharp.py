"""The original app's engine as a peer: Node ``sharp``, installed by the bench, in its own process.

The original Tauri app optimized through a Node sidecar built on sharp ``^0.34`` (libvips with
mozjpeg and libimagequant). The bench measures against the current release with the original's
settings: exactly ``sharp@0.35.5`` (libvips 8.18, aom 3.15 with ``tune=iq``), installed from the
npm registry into ``bench/.cache/sharp/`` with the machine's ``npm`` (``--prefer-offline``: npm's
own cache first, so a second clone needs no network); an install already there at that version
is used as it is. When ``node`` or ``npm`` is missing, or the install fails, the peer is skipped
with a note in the results.

Settings are the original's defaults at quality 90 (its ``defaults.js``): JPEG ``mozjpeg: true``,
4:2:0, optimised Huffman coding; PNG ``palette: true``, ``compressionLevel: 7``, ``effort: 4``,
adaptive filtering, quality 90. The peer is given every advantage the original did not have:
no per-image metadata probe, no JSON progress on stdout, a shared queue instead of the sidecar's
fixed chunks per worker, and the same largest-first order our pool gets.

libuv's thread pool is sized as the original sidecar sized it (``worker-pool.js``: the default 4,
or the CPU count above 4 cores). An earlier bench set it to N for N images in flight; with fewer
libuv threads than 4, sharp's PNG path spent a third of its CPU time on nothing (one image in
flight here: 27.3 s of CPU with 1 libuv thread, 10.9 s with 4, same output), which made sharp
look 1.5x slower on PNG than the original ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import msgspec

from bench.schema import SpeedJob, SpeedRun

SHARP_VERSION = "0.35.5"
_SCRIPT = Path(__file__).with_name("sharp") / "run.mjs"


class PeerUnavailable(Exception):
    """Why the sharp peer cannot run here (reported as a skip, never as a failure)."""


def ensure_sharp(cache_dir: Path) -> Path:
    """The folder holding ``node_modules/sharp``, installing it on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise PeerUnavailable("node/npm not found on PATH; install Debian's nodejs and npm")
    folder = cache_dir / "sharp"
    if _installed_version(folder) != SHARP_VERSION:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"private": True, "dependencies": {"sharp": SHARP_VERSION}}
        (folder / "package.json").write_text(json.dumps(manifest, indent=2))
        cmd = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev",
               "--prefer-offline"]
        try:
            proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PeerUnavailable("npm install sharp timed out after 600 s") from None
        if proc.returncode != 0 or _installed_version(folder) != SHARP_VERSION:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PeerUnavailable(f"npm install sharp@{SHARP_VERSION} failed: {tail[0]}")
    return folder


def run_sharp(job: SpeedJob) -> SpeedRun:
    """One timed run of the peer in a fresh Node process (see ``bench/sharp/run.mjs``)."""
    env = dict(os.environ, UV_THREADPOOL_SIZE=str(original_uv_threadpool()))
    proc = subprocess.run(
        ["node", str(_SCRIPT)], input=msgspec.json.encode(job), capture_output=True, env=env,
        timeout=1800, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"sharp peer exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return msgspec.json.decode(proc.stdout, type=SpeedRun)


def original_uv_threadpool() -> int:
    """The original sidecar's libuv pool size: libuv's default 4, or one per CPU above 4."""
    cpus = os.cpu_count() or 1
    return min(cpus, 128) if cpus > 4 else 4


def sharp_versions(folder: Path) -> dict[str, str]:
    """sharp's own version and the libraries it bundles (libvips, mozjpeg, libimagequant)."""
    script = ("const v=require('sharp').versions;"
              "process.stdout.write(JSON.stringify(v))")
    proc = subprocess.run(["node", "-e", script], cwd=folder, capture_output=True, text=True,
                          timeout=60, check=False)
    if proc.returncode != 0:
        return {}
    wanted = ("sharp", "vips", "mozjpeg", "imagequant", "spng", "png", "zlib-ng", "webp", "heif",
              "aom")
    return {k: str(v) for k, v in json.loads(proc.stdout).items() if k in wanted}


def _installed_version(folder: Path) -> str | None:
    try:
        meta = json.loads((folder / "node_modules" / "sharp" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return meta.get("version")

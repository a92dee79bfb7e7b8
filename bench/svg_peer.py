"""SVG contenders: SVGO 4 from npm (the peer), our SVG path, and the Python optimizers it was
chosen from, each on the same files, judged by bytes, render and time.

The peer is ``svgo@4.1.0`` (the newest 4.x) installed from the npm registry into
``bench/.cache/svgo/`` with the machine's ``npm``, run with its default preset and nothing
else by ``bench/svgo/run.mjs`` in one Node process (warmed up, no file I/O in the clock). When
``node``/``npm`` are missing or the install fails, the peer is skipped with a note.

Contenders on our side, timed in this process from text in memory to text out:
- ``ours``: ``backend.core.formats.svg.optimize_text`` at quality 90, render checks included;
- ``svgo-py``: the same port with SVGO's default preset alone (one pass, no check), to show how
  closely it follows npm SVGO;
- ``scour``: scour 0.38 with its smallest-output switches that keep the document's size (no
  ``--enable-viewboxing``, which rewrites width/height to 100 %).

Bytes are the SVG text's (a ``.svgz`` is compared uncompressed, since gzip levels differ).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
from pathlib import Path

import msgspec

from bench.svg_corpus import SvgFile

SVGO_VERSION = "4.1.0"
_SCRIPT = Path(__file__).with_name("svgo") / "run.mjs"


class PeerUnavailable(Exception):
    """Why the SVGO peer cannot run here (reported as a skip, never as a failure)."""


class Output(msgspec.Struct, kw_only=True):
    contender: str
    file: str
    bytes: int
    seconds: float
    text_path: str | None = None  # where its output text was written (None: it failed)
    error: str | None = None


def ensure_svgo(cache_dir: Path) -> Path:
    """The folder holding ``node_modules/svgo``, installing it on first use."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        raise PeerUnavailable("node/npm not found on PATH; install Debian's nodejs and npm")
    folder = cache_dir / "svgo"
    if _installed_version(folder) != SVGO_VERSION:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"private": True, "dependencies": {"svgo": SVGO_VERSION}}
        (folder / "package.json").write_text(json.dumps(manifest, indent=2))
        cmd = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev"]
        try:
            proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PeerUnavailable("npm install svgo timed out after 600 s") from None
        if proc.returncode != 0 or _installed_version(folder) != SVGO_VERSION:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PeerUnavailable(f"npm install svgo@{SVGO_VERSION} failed: {tail[0]}")
    return folder


def _installed_version(folder: Path) -> str | None:
    try:
        meta = json.loads((folder / "node_modules" / "svgo" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return meta.get("version")


def run_svgo(svgo_dir: Path, files: list[SvgFile], out_dir: Path) -> list[Output]:
    """SVGO's default preset on every file, in one Node process."""
    job = {"svgo_dir": str(svgo_dir),
           "images": [{"input": f.path, "output": str(out_dir / f"{i:04d}.svg")}
                      for i, f in enumerate(files)]}
    proc = subprocess.run(["node", str(_SCRIPT)], input=json.dumps(job), capture_output=True,
                          text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"svgo peer exited {proc.returncode}: {proc.stderr[-500:]}")
    outputs = []
    for i, (f, done) in enumerate(zip(files, json.loads(proc.stdout)["images"], strict=True)):
        path = out_dir / f"{i:04d}.svg"
        if done["error"]:
            outputs.append(Output(contender="svgo", file=f.name, bytes=0, seconds=0.0,
                                  error=done["error"]))
            continue
        text = read_text(path)
        path.write_text(text)  # uncompressed, to be drawn beside the others
        outputs.append(Output(contender="svgo", file=f.name, bytes=done["bytes"],
                              seconds=done["seconds"], text_path=str(path)))
    return outputs


def read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data).decode("utf-8")


def run_python(name: str, files: list[tuple[SvgFile, str]], out_dir: Path) -> list[Output]:
    """A Python contender on (file, checked input text) pairs, timed per file."""
    optimize = _PYTHON[name]
    optimize("<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>")  # warm-up
    outputs = []
    for i, (f, text) in enumerate(files):
        t0 = time.perf_counter()
        try:
            out = optimize(text)
        except Exception as exc:  # a contender's crash is a result, not the bench's end
            outputs.append(Output(contender=name, file=f.name, bytes=0, seconds=0.0,
                                  error=f"{type(exc).__name__}: {exc}"[:300]))
            continue
        seconds = time.perf_counter() - t0
        path = out_dir / f"{name}-{i:04d}.svg"
        path.write_text(out)
        outputs.append(Output(contender=name, file=f.name, bytes=len(out.encode()),
                              seconds=seconds, text_path=str(path)))
    return outputs


def _ours(text: str) -> str:
    from backend.core.formats.svg import optimize_text
    from backend.core.formats.svg_read import read_svg

    return optimize_text(read_svg(text.encode()), 90)


def _svgo_py(text: str) -> str:
    import svgo

    return str(svgo.optimize(text)["data"])


def _scour(text: str) -> str:
    from scour import scour

    options = scour.sanitizeOptions(None)
    for switch in ("strip_comments", "remove_metadata", "strip_xml_prolog", "shorten_ids",
                   "remove_descriptive_elements", "strip_ids", "group_create",
                   "strip_xml_space_attribute"):
        setattr(options, switch, True)
    options.indent_type, options.newlines = "none", False
    return str(scour.scourString(text, options))


_PYTHON = {"ours": _ours, "svgo-py": _svgo_py, "scour": _scour}
PYTHON_CONTENDERS = tuple(_PYTHON)

"""The SVG bench corpus: real SVGs from Debian packages, chosen by a fixed rule, plus the tests'.

Like the raster corpus (``bench/corpus.py``), every file comes from a package registry, so a
fresh clone rebuilds the same corpus: ``apt-get download`` + ``dpkg-deb -x`` into
``bench/.cache/svg-corpus/`` (no root install, nothing outside the cache), keeping only the files
picked. What each source brings:

- ``tango-icon-theme`` (public domain): Inkscape-made icons, metadata, editor namespaces, many
  gradients with tiny transforms (the hard case for rounding);
- ``openclipart-svg`` (public domain): clip art from many editors (Inkscape, Illustrator,
  Sketsa, hand-written), text, patterns, embedded rasters;
- ``inkscape`` (GPL; "some portions public domain"): the editor's own example documents, large
  artwork with filters, masks, clipPaths, text on paths, gradient meshes, ``.svgz``;
- ``tests/data/svg/`` (public domain/CC0): text + mask + clipPath + ``<style>``, an embedded
  photo, an Illustrator-style file with entities.

Pick rule: sorted paths, every n-th file (n per mode), so the choice is spread over the whole
package and never hand-picked. ``smoke`` uses the tests' files only (no download).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
TEST_FILES = REPO / "tests" / "data" / "svg"


class SvgFile(msgspec.Struct, kw_only=True):
    name: str
    path: str
    bytes: int
    source: str  # "debian:<package> <version>" or "tests/data/svg"
    origin: str  # path inside the package
    licence: str


@dataclass(frozen=True)
class Source:
    package: str
    folder: str  # inside the package
    every: dict[str, int]  # mode → keep every n-th file (absent: none in that mode)
    licence: str


SOURCES: tuple[Source, ...] = (
    Source("tango-icon-theme", "usr/share/icons/Tango/scalable", {"quick": 120, "full": 24},
           "public domain (Tango Desktop Project)"),
    Source("openclipart-svg", "usr/share/openclipart/svg", {"quick": 1000, "full": 200},
           "public domain (Open Clip Art Library)"),
    Source("inkscape", "usr/share/inkscape/examples", {"quick": 6, "full": 1},
           "GPL (Inkscape examples; 'some portions public domain')"),
)
_SUFFIXES = (".svg", ".svgz")


def build_svg_corpus(cache_dir: Path, mode: str) -> tuple[list[SvgFile], list[str]]:
    """The SVG corpus for ``mode`` (fetched into ``cache_dir/svg-corpus`` on first use), and
    notes about any package that could not be fetched."""
    files = [SvgFile(name=p.name, path=str(p), bytes=p.stat().st_size, source="tests/data/svg",
                     origin=p.name, licence="public domain / CC0 (see its README)")
             for p in sorted(TEST_FILES.iterdir()) if p.suffix in _SUFFIXES]
    notes: list[str] = []
    for source in SOURCES:
        every = source.every.get(mode)
        if every is None:
            continue
        try:
            files.extend(_from_package(source, every, cache_dir / "svg-corpus"))
        except (OSError, subprocess.CalledProcessError) as exc:
            notes.append(f"{source.package}: not fetched ({exc}); the corpus goes on without it")
    return files, notes


def _from_package(source: Source, every: int, root: Path) -> list[SvgFile]:
    folder = root / f"{source.package}-every-{every}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        return msgspec.json.decode(manifest.read_bytes(), type=list[SvgFile])
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        unpacked = Path(tmp) / "x"
        version = _unpack(source.package, Path(tmp), unpacked)
        base = unpacked / source.folder
        candidates = sorted(p for p in base.rglob("*") if p.suffix in _SUFFIXES and p.is_file()
                            and not p.is_symlink())
        folder.mkdir(parents=True, exist_ok=True)
        kept = []
        for index, src in enumerate(candidates[::every]):
            relative = src.relative_to(unpacked)
            dest = folder / f"{index:03d}-{src.name}"
            shutil.copyfile(src, dest)
            kept.append(SvgFile(name=dest.name, path=str(dest), bytes=dest.stat().st_size,
                                source=f"debian:{source.package} {version}",
                                origin=str(relative), licence=source.licence))
    manifest.write_bytes(msgspec.json.encode(kept))
    return kept


def _unpack(package: str, tmp: Path, into: Path) -> str:
    """Download ``package`` with apt and unpack it into ``into``; its version."""
    subprocess.run(["apt-get", "download", "-q", package], cwd=tmp, check=True,
                   capture_output=True, timeout=600)
    [deb] = tmp.glob(f"{package}_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True, capture_output=True,
                   timeout=600)
    return deb.name.split("_")[1].replace("%3a", ":")

"""The bench corpus: real photographs and artwork, JPEG and PNG, from 0.1 to 20 megapixels.

Every image comes from a package this machine can install, so a fresh clone rebuilds the same
corpus with no hand-made files and no network beyond the package registries:

- ``pypi:scikit-image`` (a dev dependency) bundles small public-domain/CC0 photographs;
- Debian's wallpaper packages ship large photographs and artwork, up to 20 MP. They are fetched
  with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into ``bench/.cache/`` (no root
  install, nothing outside the cache); only the chosen files are kept.

The licence of each file is taken from its package's ``copyright`` file (or scikit-image's data
docstrings) and recorded with the file, its dimensions, bytes and source in every result JSON.

Three sizes: ``smoke`` (three tiny scikit-image files, no download; for the test suite),
``quick`` (13 files up to 4 MP, balanced so two workers can share them) and ``full`` (~116 MP of
JPEG in 18 files, ~56 MP of PNG in 13, up to 20 MP; no file holds much more than a quarter of
its format's pixels, so two workers can split the work evenly; sized so a full run with three
repetitions of every contender stays under ten minutes on two cores).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec
from PIL import Image

from bench.schema import CorpusImage, ImageFormat, ImageKind

log = logging.getLogger(__name__)

Mode = str  # "smoke" | "quick" | "full"

_KDE = "GPL-2+ (KDE Visual Design Group)"
_UKUI = "CC-BY-SA-3.0 (Ubuntu Kylin community contributors)"


@dataclass(frozen=True)
class Pick:
    """One image of a package: where it is inside the package and what we call it."""

    package: str  # Debian package name, or "scikit-image"
    path: str
    name: str
    kind: ImageKind
    licence: str
    modes: tuple[Mode, ...] = ("full",)


_PLASMA = "plasma-workspace-wallpapers"
_MATE = "mate-backgrounds"
_LOMIRI = "lomiri-wallpapers-20.04"
_PW = "usr/share/wallpapers"
_MB = "usr/share/backgrounds/mate"
_ALL = ("smoke", "quick", "full")
_QF = ("quick", "full")

PICKS: tuple[Pick, ...] = (
    # JPEG
    Pick("scikit-image", "rocket.jpg", "rocket.jpg", "photo", "public domain (SpaceX)", _ALL),
    Pick("scikit-image", "retina.jpg", "retina.jpg", "photo", "CC0-1.0", _QF),
    Pick("scikit-image", "hubble_deep_field.jpg", "hubble.jpg", "photo", "public domain (NASA)"),
    Pick(_MATE, f"{_MB}/nature/GreenMeadow.jpg", "green-meadow.jpg", "photo",
         "GPL-2+ (Timothy Schellhase)"),
    Pick(_MATE, f"{_MB}/nature/FreshFlower.jpg", "fresh-flower.jpg", "photo",
         "GPL-2+ (Jens Ansorg)"),
    Pick(_MATE, f"{_MB}/nature/Dune.jpg", "dune.jpg", "photo", "GPL-2+ (Marco Cogoni)"),
    Pick(_MATE, f"{_MB}/nature/LadyBird.jpg", "ladybird.jpg", "photo",
         "GPL-2+ (Charles Barbin)", _QF),
    Pick(_PLASMA, f"{_PW}/Path/contents/images/2560x1600.jpg", "forest-path.jpg", "photo", _KDE,
         _QF),
    Pick(_PLASMA, f"{_PW}/EveningGlow/contents/images/2560x1600.jpg", "evening-glow.jpg", "photo",
         _KDE, _QF),
    Pick(_PLASMA, f"{_PW}/ColorfulCups/contents/images/2560x1600.jpg", "colorful-cups.jpg",
         "photo", _KDE, _QF),
    Pick(_PLASMA, f"{_PW}/OneStandsOut/contents/images/2560x1600.jpg", "one-stands-out.jpg",
         "photo", _KDE),
    Pick(_PLASMA, f"{_PW}/Grey/contents/images/2560x1600.jpg", "grey-greyscale.jpg", "photo",
         _KDE),
    Pick(_PLASMA, f"{_PW}/FallenLeaf/contents/images/2560x1600.jpg", "fallen-leaf.jpg", "photo",
         _KDE),
    Pick("ukui-wallpapers", "usr/share/backgrounds/the-mouse.jpg", "the-mouse.jpg", "artwork",
         _UKUI),
    Pick(_PLASMA, f"{_PW}/SafeLanding/contents/images/5120x2880.jpg", "safe-landing-15mp.jpg",
         "artwork", _KDE),
    Pick(_LOMIRI, "usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg", "infinite-sea-17mp.jpg",
         "artwork", "CC-BY-SA-3.0 (Aury88)"),
    Pick(_MATE, f"{_MB}/abstract/Elephants_5640x3172.jpg", "elephants-18mp.jpg", "artwork",
         "GPL-2+ (Wyng Stancikaite)"),
    Pick(_LOMIRI, "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg", "nuthatch-20mp.jpg",
         "photo", "CC-BY-SA-3.0 (Lukas Baubkus)"),
    # PNG
    Pick("scikit-image", "astronaut.png", "astronaut.png", "photo", "public domain (NASA)", _QF),
    Pick("scikit-image", "chelsea.png", "chelsea.png", "photo", "CC0 (Stefan van der Walt)",
         _ALL),
    Pick("scikit-image", "coffee.png", "coffee.png", "photo", "CC0 (Rachel Michetti)"),
    Pick("scikit-image", "logo.png", "skimage-logo.png", "artwork",
         "BSD-3-Clause (scikit-image)", _ALL),
    Pick("scikit-image", "text.png", "text.png", "photo", "public domain"),
    Pick(_MATE, f"{_MB}/desktop/Float-into-MATE.png", "float-into-mate.png", "artwork",
         "GPL-2+ (François Vogelweith)", _QF),
    Pick(_MATE, f"{_MB}/desktop/Stripes.png", "stripes-grey-alpha.png", "artwork",
         "GPL-2+ (Jakub Steiner)", _QF),
    Pick(_MATE, f"{_MB}/desktop/Ubuntu-Mate-Cold-no-logo.png", "mate-cold.png", "artwork",
         "CC-BY-SA-4.0 (Goce Mitevski)", _QF),
    Pick("sway-backgrounds", "usr/share/backgrounds/sway/Sway_Wallpaper_Blue_1920x1080.png",
         "sway-blue.png", "artwork", "Expat (Drew DeVault)", _QF),
    Pick(_PLASMA, f"{_PW}/Cascade/contents/images/3840x2160.png", "cascade-8mp.png", "artwork",
         _KDE),
    Pick("ukui-wallpapers", "usr/share/backgrounds/calla.png", "calla-9mp.png", "artwork", _UKUI),
    Pick(_PLASMA, f"{_PW}/Kay/contents/images/5120x2880.png", "kay-15mp.png", "artwork", _KDE),
    Pick(_PLASMA, f"{_PW}/Altai/contents/images/5120x2880.png", "altai-15mp.png", "artwork",
         _KDE),
)

_MANIFEST = "manifest.json"


def picks_for(mode: Mode) -> list[Pick]:
    return [p for p in PICKS if mode in p.modes]


def build_corpus(cache_dir: Path, mode: Mode) -> tuple[list[CorpusImage], list[str]]:
    """The corpus for ``mode``, fetched into ``cache_dir/corpus`` on first use.

    Returns the images (JPEG first, then PNG, each by size) and notes about anything that could
    not be fetched; the bench goes on with what it has and says so in the results.
    """
    folder = cache_dir / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    known = _read_manifest(folder)
    wanted = picks_for(mode)
    missing = [p for p in wanted if not _cached(known.get(p.name))]
    notes: list[str] = []
    for package in sorted({p.package for p in missing}):
        batch = [p for p in missing if p.package == package]
        try:
            known.update(_fetch_package(package, batch, folder))
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            notes.append(f"could not fetch {package}: {exc}; its images are left out")
            log.warning("corpus package %s unavailable: %s", package, exc)
    _write_manifest(folder, known)
    images = [known[p.name] for p in wanted if _cached(known.get(p.name))]
    images.sort(key=lambda im: (im.format != "jpeg", im.width * im.height, im.name))
    return images, notes


def describe(path: Path, *, fmt: ImageFormat | None = None) -> tuple[ImageFormat, int, int]:
    with Image.open(path) as im:
        found = (im.format or "").lower()
        width, height = im.size
    if found not in ("jpeg", "png") or (fmt is not None and found != fmt):
        raise RuntimeError(f"{path.name}: expected a {fmt or 'JPEG/PNG'} image, found {found!r}")
    return found, width, height  # type: ignore[return-value]


def _cached(image: CorpusImage | None) -> bool:
    return image is not None and os.path.isfile(image.path) and (
        os.path.getsize(image.path) == image.bytes
    )


def _read_manifest(folder: Path) -> dict[str, CorpusImage]:
    try:
        data = (folder / _MANIFEST).read_bytes()
        images = msgspec.json.decode(data, type=list[CorpusImage])
    except (OSError, msgspec.DecodeError):
        return {}
    return {im.name: im for im in images}


def _write_manifest(folder: Path, known: dict[str, CorpusImage]) -> None:
    ordered = sorted(known.values(), key=lambda im: im.name)
    tmp = folder / f".{_MANIFEST}.{os.getpid()}"
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(ordered)))
    tmp.replace(folder / _MANIFEST)


def _fetch_package(package: str, picks: list[Pick], folder: Path) -> dict[str, CorpusImage]:
    if package == "scikit-image":
        return _from_skimage(picks, folder)
    return _from_debian(package, picks, folder)


def _from_skimage(picks: list[Pick], folder: Path) -> dict[str, CorpusImage]:
    import skimage
    import skimage.data

    data_dir = Path(skimage.data.__file__).parent
    source = f"pypi:scikit-image {skimage.__version__}"
    return {p.name: _keep(data_dir / p.path, p, folder, source) for p in picks}


def _from_debian(package: str, picks: list[Pick], folder: Path) -> dict[str, CorpusImage]:
    with tempfile.TemporaryDirectory(dir=folder, prefix=".deb-") as tmp:
        deb = _apt_download(package, Path(tmp))
        version = _run(["dpkg-deb", "-f", str(deb), "Version"], cwd=tmp).strip()
        root = Path(tmp) / "root"
        _run(["dpkg-deb", "-x", str(deb), str(root)], cwd=tmp)
        source = f"debian:{package} {version}"
        return {p.name: _keep(root / p.path, p, folder, source) for p in picks}


def _apt_download(package: str, tmp: Path) -> Path:
    """``apt-get download``; on a machine whose package lists are empty, refresh them once."""
    try:
        _run(["apt-get", "download", "-q", package], cwd=str(tmp))
    except RuntimeError:
        if os.geteuid() != 0:
            raise
        _run(["apt-get", "update", "-qq"], cwd=str(tmp))
        _run(["apt-get", "download", "-q", package], cwd=str(tmp))
    debs = sorted(tmp.glob(f"{package}_*.deb"))
    if not debs:
        raise RuntimeError(f"apt-get download left no {package}_*.deb")
    return debs[0]


def _keep(src: Path, pick: Pick, folder: Path, source: str) -> CorpusImage:
    if not src.is_file():
        raise RuntimeError(f"{source} has no {pick.path}")
    dest = folder / pick.name
    shutil.copyfile(src, dest)
    expected: ImageFormat = "jpeg" if pick.name.endswith(".jpg") else "png"
    fmt, width, height = describe(dest, fmt=expected)
    return CorpusImage(
        name=pick.name, path=str(dest.resolve()), format=fmt, kind=pick.kind, width=width,
        height=height, bytes=dest.stat().st_size, source=source, origin=pick.path,
        licence=pick.licence,
    )


def _run(cmd: list[str], *, cwd: str) -> str:
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"{cmd[0]} is not installed")
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {tail[0]}")
    return proc.stdout

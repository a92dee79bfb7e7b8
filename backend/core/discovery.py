"""Which files are images we can optimize: content sniffing and expanding dropped paths.

Formats are recognised by their first bytes, never by the extension alone, so a PNG named
``.jpg`` is a PNG and a text file named ``.jpg`` is not an image.

Decisions for :func:`expand_paths` (used by the CLI and the app's "expand dropped paths"):

- A file is kept when its content is a supported image, or when its extension claims a supported
  format: a broken ``photo.jpg`` then reaches the pipeline and comes back as a per-image error
  a person can act on ("empty file", "truncated JPEG data", "not an image") instead of vanishing
  into a skipped list.
- Anything else is reported as skipped with a reason: ``not found``, ``permission denied``,
  ``unsupported format: .psd`` (a known image format we cannot read) or ``not an image``.
- Folders are expanded in sorted name order; sub-folders only when ``recursive``. Hidden entries
  (dot files) and our own ``optimized/`` output folders are passed over silently, so running the
  optimizer twice on a folder does not optimize its previous results.
- Given the batch's settings, the batch's own earlier outputs are passed over too: the
  ``outputFolder`` of ``output: folder`` when it lies inside a dropped folder, and files named
  with the ``beside`` suffix (``photo-optimized.jpg``). A file named explicitly is always kept.
- A filesystem root (``/``, ``C:\\``) is not walked recursively: it is skipped with "a whole
  drive", since it would mean every image on the disk, our outputs among them.
- Files keep the order they were given in; the same file given twice (also through a symlink or a
  folder and one of its files) is kept once, at its first position.
- What was found is counted (images, their bytes, folders walked) so the window can say how big a
  dropped tree is before the batch starts, and ask first when it is large.
"""

from __future__ import annotations

import os
import zlib
from typing import BinaryIO

from msgspec import Struct

from backend.core.formats.registry import FORMATS
from backend.types import ImageSettings

SUPPORTED_INPUTS: frozenset[str] = frozenset(fmt.id for fmt in FORMATS)

# Extensions that claim a supported format, lower-case, with the dot.
SUPPORTED_EXTENSIONS: dict[str, str] = {ext: fmt.id for fmt in FORMATS for ext in fmt.extensions}

# Image formats people drop that we do not read: named in the skip reason instead of "not an image".
KNOWN_UNSUPPORTED_EXTENSIONS: frozenset[str] = frozenset({
    ".ico", ".icns", ".psd", ".tga", ".jp2", ".j2k",
    ".pdf", ".eps", ".raw", ".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".rw2", ".xcf",
    ".pcx", ".ppm", ".pgm", ".pbm", ".exr", ".hdr",
})

OUTPUT_FOLDER_NAME = "optimized"
SNIFF_BYTES = 64


class Skipped(Struct, kw_only=True):
    """A dropped path that will not be optimized, and why (shown to the person)."""

    path: str
    reason: str


class Discovery(Struct, kw_only=True):
    """What :func:`expand_paths` found: the images in order, the skipped, and how much."""

    paths: list[str]
    skipped: list[Skipped]
    folders: int = 0  # folders walked, the dropped ones included
    bytes: int = 0  # total size of ``paths``


def sniff_bytes(head: bytes) -> str | None:
    """The supported format whose signature starts ``head``, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 14:
        return "bmp"
    if head.startswith(_JXL_CODESTREAM) or head.startswith(_JXL_CONTAINER):
        return "jxl"
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(head)
        # AVIF first: AVIF files list the generic "mif1" brand too.
        if any(brand in _AVIF_BRANDS for brand in brands):
            return "avif"
        if any(brand in _HEIF_BRANDS for brand in brands):
            return "heic"
    if _starts_like_svg(_gunzipped_head(head) if head.startswith(b"\x1f\x8b") else head):
        return "svg"
    return None


_JXL_CODESTREAM = b"\xff\x0a"
_JXL_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# HEVC-coded HEIF (heic, heix: 8/10-bit; hevc, hevx: sequences; heim, heis, hevm, hevs:
# multi-layer/scalable) and the generic image/sequence brands libheif opens (mif1, msf1).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm",
                          b"hevs", b"mif1", b"msf1"})


# XML that may be SVG: the SVG reader then says so, or names the root element it found instead.
_XML_STARTS = (b"<?xml", b"<svg", b"<!--", b"<!doctype svg")


def _starts_like_svg(head: bytes) -> bool:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()[:13].lower().startswith(_XML_STARTS)


def _gunzipped_head(head: bytes) -> bytes:
    """The first inflated bytes of gzip data (``.svgz``), as far as ``head`` reaches."""
    try:
        return zlib.decompressobj(wbits=31).decompress(head, SNIFF_BYTES)
    except zlib.error:
        return b""


def _ftyp_brands(head: bytes) -> list[bytes]:
    # ISO-BMFF: major brand at 8..12, then minor version, then compatible brands to the box end.
    # Some encoders write major brand "mif1" and list "avif" or "heic" only among the compatible.
    box_size = int.from_bytes(head[0:4], "big")
    end = min(len(head), box_size) if box_size >= 16 else len(head)
    return [head[8:12]] + [head[i : i + 4] for i in range(16, end - 3, 4)]


def open_quietly(path: str) -> BinaryIO:
    """``open(path, "rb")`` without touching the file's access time where the OS allows it
    (Linux ``O_NOATIME``, for files we own): looking at a file must not change the dates that
    ``keepDates`` and revert carry over."""
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.fdopen(os.open(path, os.O_RDONLY | noatime), "rb")
        except PermissionError:
            pass  # not the owner: O_NOATIME is refused, a plain open may still work
    return open(path, "rb")


def sniff_format(path: str) -> str | None:
    """The supported format of the file's content (first bytes only), or None.

    Unreadable or missing files give None too: callers that need the reason open the file
    themselves (the pipeline reports "permission denied reading …", "file not found", …).
    """
    try:
        with open_quietly(path) as fh:
            return sniff_bytes(fh.read(SNIFF_BYTES))
    except OSError:
        return None


def classify_file(path: str) -> str | None:
    """None when the file should be optimized, else the reason it is skipped."""
    return _inspect(path)[0]


def _inspect(path: str) -> tuple[str | None, int]:
    """``classify_file``'s answer and the file's size, from the one open that reads its head."""
    try:
        with open_quietly(path) as fh:
            head = fh.read(SNIFF_BYTES)
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        return "not found", 0
    except PermissionError:
        return "permission denied", 0
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}", 0
    if sniff_bytes(head) is not None:
        return None, size
    ext = os.path.splitext(path)[1].lower()
    if ext in SUPPORTED_EXTENSIONS:
        return None, size
    if ext in KNOWN_UNSUPPORTED_EXTENSIONS:
        return f"unsupported format: {ext}", 0
    return "not an image", 0


class _OwnOutputs:
    """Recognises what a batch with these settings wrote earlier."""

    def __init__(self, settings: ImageSettings | None) -> None:
        folder = settings.outputFolder if settings and settings.output == "folder" else None
        self.folder = os.path.realpath(folder) if folder else None
        self.suffix = settings.suffix if settings and settings.output == "beside" else None

    def folder_is_ours(self, path: str) -> bool:
        name = os.path.basename(path)
        if name.startswith(".") or name == OUTPUT_FOLDER_NAME:
            return True
        return self.folder is not None and os.path.realpath(path) == self.folder

    def file_is_ours(self, name: str) -> bool:
        if name.startswith("."):
            return True
        return self.suffix is not None and os.path.splitext(name)[0].endswith(self.suffix)


def is_own_output(path: str, root: str, settings: ImageSettings | None) -> bool:
    """Whether ``path``, a file somewhere below the folder ``root``, is one the rules above pass
    over: hidden, in a hidden or ``optimized/`` folder or the output folder, or named with the
    beside suffix (the watch service asks this for every file an event names)."""
    own = _OwnOutputs(settings)
    relative = os.path.relpath(path, root)
    parts = relative.split(os.sep)
    if relative.startswith(os.pardir) or own.file_is_ours(parts[-1]):
        return True
    folder = root
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if own.folder_is_ours(folder):
            return True
    return False


def _is_filesystem_root(path: str) -> bool:
    real = os.path.realpath(path)
    return os.path.dirname(real) == real


def _walk_folder(folder: str, recursive: bool, found: Discovery,
                 own: _OwnOutputs) -> list[str]:
    """Files of ``folder`` in sorted order (sub-folders' files in place when recursive)."""
    try:
        with os.scandir(folder) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
    except PermissionError:
        found.skipped.append(Skipped(path=folder, reason="permission denied"))
        return []
    found.folders += 1
    files: list[str] = []
    for entry in ordered:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if recursive and not own.folder_is_ours(entry.path):
                files.extend(_walk_folder(entry.path, recursive, found, own))
        elif not own.file_is_ours(entry.name):
            files.append(entry.path)
    return files


def expand_paths(
    paths: list[str], recursive: bool = False, settings: ImageSettings | None = None,
) -> Discovery:
    """Dropped/given paths → the images to optimize and the skipped files with reasons;
    ``settings``: the batch's, so that its own earlier outputs are not taken for inputs."""
    own = _OwnOutputs(settings)
    found = Discovery(paths=[], skipped=[])
    images, skipped = found.paths, found.skipped
    seen: set[str] = set()

    def consider(path: str) -> None:
        key = os.path.realpath(path)
        if key in seen:
            return
        seen.add(key)
        reason, size = _inspect(path)
        if reason is None:
            images.append(path)
            found.bytes += size
        else:
            skipped.append(Skipped(path=path, reason=reason))

    for path in paths:
        if os.path.isdir(path):
            if recursive and _is_filesystem_root(path):
                skipped.append(Skipped(path=path, reason=(
                    "a whole drive: choose a folder inside it (every image on the disk would "
                    "be optimized)")))
                continue
            for file in _walk_folder(path, recursive, found, own):
                consider(file)
        elif os.path.lexists(path) and not os.path.exists(path):
            skipped.append(Skipped(path=path, reason="not found (broken link)"))
        else:
            consider(path)
    return found

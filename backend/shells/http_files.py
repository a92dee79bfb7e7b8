"""The browser shell's per-launch session folder: uploads in, optimized files out.

Layout: ``<session>/uploads/<random>/<name>``; one random sub-folder per uploaded file, so two
files with the same name never clash, and the optimizer's default output lands beside each one in
``<random>/optimized/``. Nothing outside the session folder can be read or written through here.

Decisions:
- Upload names are cleaned by our own rule rather than werkzeug's ``secure_filename``, which drops
  every non-ASCII letter ("Fotoğraf.jpg" → "Fotograf.jpg", "照片.jpg" → "jpg") and so would hand
  people back renamed files. Only the last path component is kept (``/`` and ``\\`` both split),
  control characters and leading dots are removed, the name is cut to 255 bytes, and the final
  path is checked to be inside its folder after resolving links.
- An upload that is not a supported image is reported as skipped (with its original name) and its
  bytes deleted at once.
- "Download all" builds a stored (uncompressed) zip: the images are already compressed, so
  deflate would only cost time. Equal names inside the zip get " (2)", " (3)"… suffixes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import IO

from werkzeug.datastructures import FileStorage

from backend.commands import PathsResult
from backend.core.discovery import Skipped, expand_paths
from backend.errors import ForbiddenPathError, NotInSessionError, ValidationError

MAX_NAME_BYTES = 255
ZIP_SPOOL_BYTES = 32 * 1024 * 1024


def clean_name(raw: str) -> str | None:
    """A file name safe to create inside a folder, or None when nothing usable is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".").strip()
    if not name:
        return None
    while len(name.encode()) > MAX_NAME_BYTES:
        stem, ext = os.path.splitext(name)
        name = stem[:-1] + ext if stem else name[:-1]
    return name


class SessionFiles:
    def __init__(self, session_dir: str) -> None:
        self.root = os.path.realpath(session_dir)
        self.uploads = os.path.join(self.root, "uploads")

    def _inside(self, path: str, folder: str) -> bool:
        return os.path.commonpath([folder, os.path.realpath(path)]) == folder

    def save_uploads(self, files: Iterable[FileStorage]) -> PathsResult:
        os.makedirs(self.uploads, mode=0o700, exist_ok=True)
        saved: dict[str, str] = {}  # server path -> name as the person sent it
        skipped: list[Skipped] = []
        for upload in files:
            original = upload.filename or ""
            name = clean_name(original)
            if name is None:
                skipped.append(Skipped(path=original or "(no name)", reason="no usable file name"))
                continue
            folder = tempfile.mkdtemp(dir=self.uploads)
            dest = os.path.join(folder, name)
            if not self._inside(dest, folder):
                shutil.rmtree(folder, ignore_errors=True)
                skipped.append(Skipped(path=original, reason="file name not allowed"))
                continue
            upload.save(dest)
            saved[dest] = original
        found = expand_paths(list(saved), recursive=False)
        paths = found.paths
        for item in found.skipped:
            shutil.rmtree(os.path.dirname(item.path), ignore_errors=True)
            skipped.append(Skipped(path=saved.get(item.path, item.path), reason=item.reason))
        return PathsResult(paths=paths, skipped=skipped)

    def resolve(self, path: str) -> str:
        """The real path of a file inside the session folder; refuses anything else."""
        if not path:
            raise ValidationError("Invalid download: path is missing")
        real = os.path.realpath(path)
        if not self._inside(real, self.root):
            raise ForbiddenPathError(f"Only files of this session can be downloaded: {path}")
        if not os.path.isfile(real):
            raise NotInSessionError(f"No such file in this session: {path}")
        return real

    def zip_of(self, paths: list[str]) -> IO[bytes]:
        """A zip of the given session files, rewound, ready to stream."""
        if not paths:
            raise ValidationError("Invalid download-zip: paths is empty")
        files = [self.resolve(p) for p in paths]
        used: set[str] = set()
        # Returned open: the response streams it and closes it.
        spool = tempfile.SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES)  # noqa: SIM115
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            for real in files:
                archive.write(real, arcname=_unique(os.path.basename(real), used))
        spool.seek(0)
        return spool


def _unique(name: str, used: set[str]) -> str:
    stem, ext = os.path.splitext(name)
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem} ({n}){ext}"
    used.add(candidate)
    return candidate

"""The one way a file is written: a temporary file beside it, renamed into place.

The temporary file is ``.<final name>.<random>.io-partial`` in the target folder (hidden, and
recognisable by ``paths.partial_files`` when a killed worker leaves one). Mode and dates are set
on it before the rename, so the file never appears under its final name with the wrong ones.
``sync`` adds fsync of the file and its folder, for the bytes that must survive a power cut (the
originals a ``replace`` batch backs up); plain outputs skip it, since a crash can at worst lose
the newest output, never leave a half-written one.
"""

from __future__ import annotations

import logging
import os
import secrets

from backend.core.paths import PARTIAL_SUFFIX, partial_name_prefix

log = logging.getLogger(__name__)


def write_atomically(path: str, data: bytes, *, dates: tuple[int, int] | None = None,
                     mode: int | None = None, sync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; ``dates`` are (atime, mtime) in ns. Raises
    OSError; no temporary file is left behind."""
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, partial_name_prefix(path) + secrets.token_hex(6) + PARTIAL_SUFFIX)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        if dates is not None:
            os.utime(temp, ns=dates)
        os.replace(temp, path)
        if sync:
            _sync_folder(folder)
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass  # renamed into place: nothing left over
        except OSError:
            log.warning("could not remove temporary file %s", temp)


def _sync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

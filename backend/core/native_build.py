"""C sources of the project compiled once into the user's cache as shared libraries.

Used for the jpegli shim (``formats/jpegli_build.py``) and SSIMULACRA2's kernels
(``ssimulacra2_native.py``). A library's file name carries a hash of its source and of whatever
else it was built against (``salt``), so an edited source or a reinstalled dependency gets a
fresh build; the build writes to a temporary name and renames it into place, so processes
starting together never load a half-written file. A missing compiler or a failed compile raises
``BuildFailed`` with the reason, for the caller to fall back on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

_COMPILERS = ("cc", "gcc", "clang")
_BUILD_TIMEOUT_S = 120


class BuildFailed(Exception):
    """A library could not be compiled here; the message says why."""


def cached_library(source: Path, folder: Path, stem: str, salt: str,
                   link: Sequence[str] = (), flags: Sequence[str] = ("-O2",),
                   what: str = "the library") -> Path:
    """The compiled ``source`` in ``folder``, built on first use (``stem``-<hash>.so)."""
    key = hashlib.sha256(source.read_bytes() + "|".join((salt, *flags, *link)).encode()
                         ).hexdigest()[:16]
    target = folder / f"{stem}-{key}.so"
    if not target.is_file():
        compile_library(source, target, link, flags, what)
    return target


def compile_library(source: Path, target: Path, link: Sequence[str], flags: Sequence[str],
                    what: str) -> None:
    compiler = next((found for name in _COMPILERS if (found := shutil.which(name))), None)
    if compiler is None:
        raise BuildFailed(f"no C compiler (cc, gcc or clang) to build {what}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [compiler, *flags, "-shared", "-fPIC", "-o", tmp, str(source), *link],
            capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            reason = next((line for line in detail if "error" in line), detail[-1] if detail
                          else f"exit status {proc.returncode}")  # e.g. a missing header
            raise BuildFailed(f"building {what} failed: {reason}")
        os.replace(tmp, target)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFailed(f"building {what} failed: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

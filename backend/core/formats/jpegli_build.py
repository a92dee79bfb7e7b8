"""The jpegli shim (``jpegli_shim.c``) compiled once against pyjpegli's wheel, cached.

pyjpegli's wheel carries jpegli's full libjpeg-style C API as exported symbols of its extension
module, but its Python API offers only RGB at a quality number (see ``jpegli.py`` for why that
is not enough). The shim is a plain C shared library, no Python headers: it is built with the
system C compiler against the system ``jpeglib.h`` (Debian ``libjpeg62-turbo-dev``: the
JPEG_LIB_VERSION 62 structs jpegli is built for) and linked to the wheel's module by its path.

Pinned to one wheel: the version must be ``PINNED_VERSION`` (another release may change the
exported API or the struct ABI; jpegli also checks the struct size it is given at every call),
and the cached library's name carries a hash of the shim's source, the wheel module's path, size
and modification time, so a reinstalled wheel or an edited shim gets a fresh build. The build
writes to a temporary name and renames it into place, so workers starting together never load a
half-written file. Anything missing (no compiler, no header, another pyjpegli) raises
``ShimUnavailable`` with the reason; the JPEG encoder then falls back to libjpeg-turbo.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from backend.app_dirs import cache_dir

PINNED_VERSION = "0.3.2"
SOURCE = Path(__file__).with_name("jpegli_shim.c")
_COMPILERS = ("cc", "gcc", "clang")
_BUILD_TIMEOUT_S = 120


class ShimUnavailable(Exception):
    """The shim cannot be built or loaded here; the message says why."""


def wheel_module() -> Path:
    """pyjpegli's extension module (which exports jpegli's C API), checked against the pin."""
    try:
        import pyjpegli
    except ImportError as exc:
        raise ShimUnavailable(f"pyjpegli is not installed ({exc})") from None
    if pyjpegli.__version__ != PINNED_VERSION:
        raise ShimUnavailable(f"pyjpegli {pyjpegli.__version__} installed; the shim is pinned "
                              f"to {PINNED_VERSION}'s ABI")
    return Path(pyjpegli.__file__).resolve()


def library_path(folder: Path | None = None) -> Path:
    """The compiled shim for the installed wheel, built into ``folder`` (the app's cache)
    on first use."""
    module = wheel_module()
    stat = module.stat()
    key = hashlib.sha256(SOURCE.read_bytes() + f"{module}|{stat.st_size}|{stat.st_mtime_ns}"
                         .encode()).hexdigest()[:16]
    target = (folder or cache_dir() / "jpegli") / f"io-jpegli-{PINNED_VERSION}-{key}.so"
    if not target.is_file():
        _build(module, target)
    return target


def _build(module: Path, target: Path) -> None:
    compiler = next((found for name in _COMPILERS if (found := shutil.which(name))), None)
    if compiler is None:
        raise ShimUnavailable("no C compiler (cc, gcc or clang) to build the jpegli shim")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [compiler, "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE), str(module),
             f"-Wl,-rpath,{module.parent}"],
            capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            reason = next((line for line in detail if "error" in line), detail[-1] if detail
                          else f"exit status {proc.returncode}")  # e.g. no jpeglib.h
            raise ShimUnavailable(f"building the jpegli shim failed: {reason}")
        os.replace(tmp, target)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ShimUnavailable(f"building the jpegli shim failed: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

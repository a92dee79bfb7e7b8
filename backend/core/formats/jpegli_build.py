"""The jpegli shim (``jpegli_shim.c``) compiled once against pyjpegli's wheel, cached.

pyjpegli's wheel carries jpegli's full libjpeg-style C API as exported symbols of its extension
module, but its Python API offers only RGB at a quality number (see ``jpegli.py`` for why that
is not enough). The shim is a plain C shared library, no Python headers: it is built with the
system C compiler against the system ``jpeglib.h`` (Debian ``libjpeg62-turbo-dev``: the
JPEG_LIB_VERSION 62 structs jpegli is built for) and linked to the wheel's module by its path.

Pinned to one wheel: the version must be ``PINNED_VERSION`` (another release may change the
exported API or the struct ABI; jpegli also checks the struct size it is given at every call),
and the cached library's name carries a hash of the shim's source, the wheel module's path, size
and modification time, so a reinstalled wheel or an edited shim gets a fresh build
(``native_build``). Anything missing (no compiler, no header, another pyjpegli) raises
``ShimUnavailable`` with the reason; the JPEG encoder then falls back to libjpeg-turbo.
"""

from __future__ import annotations

from pathlib import Path

from backend.app_dirs import cache_dir
from backend.core.native_build import BuildFailed, cached_library

PINNED_VERSION = "0.3.2"
SOURCE = Path(__file__).with_name("jpegli_shim.c")


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
    try:
        return cached_library(SOURCE, folder or cache_dir() / "jpegli",
                              f"io-jpegli-{PINNED_VERSION}",
                              f"{module}|{stat.st_size}|{stat.st_mtime_ns}",
                              link=(str(module), f"-Wl,-rpath,{module.parent}"),
                              what="the jpegli shim")
    except BuildFailed as exc:
        raise ShimUnavailable(str(exc)) from None

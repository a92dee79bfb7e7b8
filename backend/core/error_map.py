"""The one place where foreign exceptions become the error tree (as httpx's ``map_exceptions``).

Pillow, oxipng, mozjpeg, the encoders and the OS raise their own types with their own words; a
person needs to know what to do ("truncated JPEG data", "permission denied writing …", "no space
left on the disk"). Each stage of the pipeline runs under one of these context managers, and
whatever escapes them all is turned into a result by :func:`unexpected`.

Decisions:
- Read and write errors name the path and the usual causes (permissions, a read-only file system,
  a folder or a file in the way, a full disk) rather than the errno.
- Broken image data says "truncated" when the file ends early (an incomplete copy or download),
  else "corrupt" with the decoder's own words.
- An encoder that fails on pixels we decoded is a processing error naming the output format.
- Out of memory is its own message; anything else unforeseen keeps its type name (a bug to report),
  never a traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from backend.errors import DecodeError, OptimizerError, OutputError, ProcessingError

_DECODE_ERRORS: tuple[type[BaseException], ...] = (OSError, SyntaxError, ValueError, EOFError)


@contextmanager
def reading(path: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise OutputError(f"file not found: {path}", path=path) from None
    except PermissionError:
        raise OutputError(f"permission denied reading {path}", path=path) from None
    except IsADirectoryError:
        raise OutputError(f"cannot read {path}: it is a folder, not a file", path=path) from None
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}", path=path) from None


@contextmanager
def writing(path: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _write_error(path, exc) from None


def _write_error(path: str, exc: OSError) -> OutputError:
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        detail = " (read-only file system)" if exc.errno == errno.EROFS else ""
        return OutputError(f"permission denied writing {path}{detail}", path=path)
    if isinstance(exc, IsADirectoryError):
        return OutputError(f"cannot write {path}: a folder has that name", path=path)
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return OutputError(
            f"cannot write {path}: part of the output folder path is a file, not a folder",
            path=path)
    if exc.errno == errno.ENOSPC:
        return OutputError(f"cannot write {path}: no space left on the disk", path=path)
    return OutputError(f"cannot write {path}: {exc.strerror or exc}", path=path)


@contextmanager
def decoding(
    format_label: str, path: str | None = None, *, also: tuple[type[BaseException], ...] = ()
) -> Iterator[None]:
    """Broken ``format_label`` data: Pillow's errors, plus a codec's own types in ``also``
    (oxipng's PngError, mozjpeg's ValueError) when it reads an input file itself."""
    try:
        yield
    except (*_DECODE_ERRORS, *also) as exc:
        raise DecodeError(decode_message(format_label, exc), path=path) from None


def decode_message(format_label: str, exc: BaseException) -> str:
    text = str(exc)
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return (f"truncated {format_label} data: the file ends before the image does "
                "(incomplete copy?)")
    return f"corrupt {format_label} data: {text}"


@contextmanager
def encoding(format_label: str, path: str | None = None) -> Iterator[None]:
    try:
        yield
    except (OSError, ValueError) as exc:
        raise ProcessingError(f"cannot encode as {format_label}: {exc}", path=path) from None


def unexpected(exc: BaseException) -> OptimizerError:
    """What escaped every stage: memory, or a bug (kept by type name)."""
    if isinstance(exc, MemoryError):
        return ProcessingError("not enough memory to process this image")
    return OptimizerError(f"{type(exc).__name__}: {exc}")

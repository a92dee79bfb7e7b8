"""Foreign exceptions become the error tree in one place; statuses and result shapes come from
the error classes."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import oxipng
import pytest

from backend.core.error_map import decoding, encoding, reading, unexpected, writing
from backend.core.formats.png import optimize as png_optimize
from backend.core.picture import EncodeRequest
from backend.errors import (
    CancelledError,
    DecodeError,
    ImageTooLargeError,
    OptimizerError,
    OutputError,
    PoolError,
    ProcessingError,
    ValidationError,
    status_for_kind,
)
from backend.types import OptimizationResult


@pytest.mark.parametrize(("exc", "message"), [
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk"),
    (OSError(errno.EROFS, "Read-only file system"), "permission denied writing /out/a.png "
                                                    "(read-only file system)"),
    (PermissionError(errno.EACCES, "Permission denied"), "permission denied writing /out/a.png"),
    (IsADirectoryError(errno.EISDIR, "Is a directory"), "a folder has that name"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "part of the output folder path is a "
                                                           "file"),
])
def test_write_errors_name_the_path_and_the_cause(exc: OSError, message: str) -> None:
    with pytest.raises(OutputError, match=re.escape(message)) as caught, writing("/out/a.png"):
        raise exc
    assert caught.value.path == "/out/a.png"


def test_read_errors_say_what_is_wrong_with_the_input(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"file not found: /in/x.jpg"), reading("/in/x.jpg"):
        open("/in/x.jpg", "rb")  # noqa: SIM115 - the open itself is what fails
    with pytest.raises(OutputError, match="it is a folder"), reading(str(tmp_path)):
        open(tmp_path, "rb")  # noqa: SIM115


def test_broken_data_is_truncated_or_corrupt_with_the_format_named() -> None:
    with pytest.raises(DecodeError, match=r"^truncated JPEG data: the file ends"), decoding("JPEG"):
        raise OSError("image file is truncated (3 bytes not processed)")
    with pytest.raises(DecodeError, match=r"^corrupt WebP data: bad header"), decoding("WebP"):
        raise ValueError("bad header")


def test_a_codecs_own_exception_maps_through_the_same_place() -> None:
    with pytest.raises(DecodeError, match=r"^corrupt PNG data: "):
        png_optimize(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, EncodeRequest(quality=100))
    with pytest.raises(DecodeError, match="corrupt PNG data"), decoding(
            "PNG", also=(oxipng.PngError,)):
        raise oxipng.PngError("bad chunk")


def test_encoder_failures_and_the_unforeseen_keep_a_readable_message() -> None:
    with pytest.raises(ProcessingError, match="cannot encode as AVIF: encoder busted"), encoding(
            "AVIF"):
        raise OSError("encoder busted")
    memory = unexpected(MemoryError())
    assert (type(memory), memory.message) == (ProcessingError,
                                              "not enough memory to process this image")
    bug = unexpected(KeyError("frames"))
    assert (bug.kind, bug.message) == ("internal", "KeyError: 'frames'")


def test_http_statuses_come_from_the_error_classes() -> None:
    assert [status_for_kind(cls.kind) for cls in (
        ValidationError, ImageTooLargeError, PoolError, OutputError, OptimizerError)] == [
        400, 413, 503, 500, 500]
    assert status_for_kind("no-such-kind") == 400


def test_one_constructor_builds_every_failed_result() -> None:
    failed = OptimizationResult.failed("/in/a.jpg", "/out/a.jpg", DecodeError("truncated JPEG"),
                                       original_size=12, input_format="jpeg")
    assert (failed.success, failed.status, failed.errorKind, failed.error, failed.original_size,
            failed.optimized_size, failed.inputFormat) == (
        False, "error", "decode", "truncated JPEG", 12, 0, "jpeg")
    cancelled = OptimizationResult.failed("/in/a.jpg", "/out/a.jpg", CancelledError("cancelled"))
    assert (cancelled.status, cancelled.errorKind) == ("cancelled", "cancelled")

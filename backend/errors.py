"""The exception tree, and the one place errors become the wire's ``{"kind", "message"}``.

    OptimizerError                  kind "internal"     anything unexpected
    ├── ValidationError             kind "validation"   a payload or setting is refused as a whole
    ├── UnsupportedFormatError      kind "unsupported_format"  not an image we can read
    ├── DecodeError                 kind "decode"       a readable format, broken content
    │   └── ImageTooLargeError      kind "too_large"    above the decompression-bomb pixel limit
    ├── ProcessingError             kind "processing"   resize/encode/optimize failed
    ├── OutputError                 kind "io"           reading the input or writing the output
    ├── CancelledError              kind "cancelled"    the batch was cancelled
    ├── PoolError                   kind "pool"         worker pool state or capacity
    │   └── ClusterError            kind "pool"         the Dask cluster cannot be reached or used
    ├── UnknownCommandError         kind "unknown_command"  no such command in the registry
    ├── UnsupportedCommandError     kind "unsupported"  this shell cannot do it (a native dialog in
    │                                                   a browser tab)
    ├── ForbiddenPathError          kind "forbidden"    a path outside the browser session folder
    └── NotInSessionError           kind "not_found"    a download that is not a session file

Each class also says which HTTP status the browser shell answers it with (``http_status``), so no
shell keeps its own table of kinds.

Every error carries optional context (input path, task id) for structured logs. Per-image errors
become ``OptimizationResult(success=False, error=..., errorKind=...)``; command-level errors become
the envelope from :func:`error_envelope`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OptimizerError(Exception):
    kind: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def __init__(
        self, message: str, *, path: str | None = None, task_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.task_id = task_id

    def context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.path is not None:
            ctx["path"] = self.path
        if self.task_id is not None:
            ctx["task_id"] = self.task_id
        return ctx


class ValidationError(OptimizerError):
    kind = "validation"
    http_status = 400


class UnsupportedFormatError(OptimizerError):
    kind = "unsupported_format"
    http_status = 400


class DecodeError(OptimizerError):
    kind = "decode"
    http_status = 400


class ImageTooLargeError(DecodeError):
    kind = "too_large"
    http_status = 413


class ProcessingError(OptimizerError):
    kind = "processing"
    http_status = 400


class OutputError(OptimizerError):
    kind = "io"
    http_status = 500


class CancelledError(OptimizerError):
    kind = "cancelled"
    http_status = 400


class PoolError(OptimizerError):
    kind = "pool"
    http_status = 503


class ClusterError(PoolError):
    """The Dask scheduler is unreachable or has no workers: nothing of the batch can run."""


class UnknownCommandError(OptimizerError):
    kind = "unknown_command"
    http_status = 404


class UnsupportedCommandError(OptimizerError):
    kind = "unsupported"
    http_status = 501


class ForbiddenPathError(OptimizerError):
    kind = "forbidden"
    http_status = 403


class NotInSessionError(OptimizerError):
    kind = "not_found"
    http_status = 404


def error_envelope(exc: BaseException) -> dict[str, str]:
    """The wire's error object. Unknown exceptions keep their type name, never a traceback."""
    if isinstance(exc, OptimizerError):
        return {"kind": exc.kind, "message": exc.message}
    return {"kind": OptimizerError.kind, "message": f"{type(exc).__name__}: {exc}"}


def _subclasses(cls: type[OptimizerError]) -> list[type[OptimizerError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]


def status_for_kind(kind: str, default: int = 400) -> int:
    """The HTTP status of an error envelope's ``kind``, from the class that has that kind."""
    for cls in _subclasses(OptimizerError):
        if cls.kind == kind:
            return cls.http_status
    return default


def error_of_kind(kind: str, message: str, *, path: str | None = None) -> OptimizerError:
    """The exception for an envelope's ``kind``: a failure reported across a process boundary
    (a worker's result) raised again in the parent with its own kind and words."""
    for cls in _subclasses(OptimizerError):
        if cls.kind == kind:
            return cls(message, path=path)
    return OptimizerError(message, path=path)

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
    ├── UnknownCommandError         kind "unknown_command"  no such command in the registry
    ├── UnsupportedCommandError     kind "unsupported"  this shell cannot do it (a native dialog in
    │                                                   a browser tab)
    ├── ForbiddenPathError          kind "forbidden"    a path outside the browser session folder
    └── NotInSessionError           kind "not_found"    a download that is not a session file

Every error carries optional context (input path, task id) for structured logs. Per-image errors
become ``OptimizationResult(success=False, error=..., errorKind=...)``; command-level errors become
the envelope from :func:`error_envelope`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OptimizerError(Exception):
    kind: ClassVar[str] = "internal"

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


class UnsupportedFormatError(OptimizerError):
    kind = "unsupported_format"


class DecodeError(OptimizerError):
    kind = "decode"


class ImageTooLargeError(DecodeError):
    kind = "too_large"


class ProcessingError(OptimizerError):
    kind = "processing"


class OutputError(OptimizerError):
    kind = "io"


class CancelledError(OptimizerError):
    kind = "cancelled"


class PoolError(OptimizerError):
    kind = "pool"


class UnknownCommandError(OptimizerError):
    kind = "unknown_command"


class UnsupportedCommandError(OptimizerError):
    kind = "unsupported"


class ForbiddenPathError(OptimizerError):
    kind = "forbidden"


class NotInSessionError(OptimizerError):
    kind = "not_found"


def error_envelope(exc: BaseException) -> dict[str, str]:
    """The wire's error object. Unknown exceptions keep their type name, never a traceback."""
    if isinstance(exc, OptimizerError):
        return {"kind": exc.kind, "message": exc.message}
    return {"kind": OptimizerError.kind, "message": f"{type(exc).__name__}: {exc}"}

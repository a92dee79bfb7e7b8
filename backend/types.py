"""The wire contract: msgspec Structs for every payload that crosses a boundary, nothing else.

Names and shapes are the original Tauri app's, so its frontend works unchanged against this
backend. Fields we add are optional with defaults, so an original payload stays valid. Unknown
fields are refused (``forbid_unknown_fields``) so a typo in a payload is an error naming the field,
not a setting silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, field

Quality = Annotated[int, Meta(ge=1, le=100)]
Pixels = Annotated[int, Meta(ge=1, le=100_000)]
ResizeMode = Literal["none", "width", "height", "longest", "shortest"]
OutputFormat = Literal["original", "jpeg", "jpg", "png", "webp", "avif"]
ProgressStatus = Literal["processing", "complete", "error"]
ResultStatus = Literal["ok", "error", "cancelled"]

DEFAULT_QUALITY = 90


class QualitySettings(Struct, forbid_unknown_fields=True, kw_only=True):
    # "global" is a Python keyword; the wire name stays the original's.
    global_: Quality = field(name="global", default=DEFAULT_QUALITY)
    jpeg: Quality | None = None
    png: Quality | None = None
    webp: Quality | None = None
    avif: Quality | None = None

    def for_format(self, fmt: str) -> int:
        """The quality that applies to output format ``fmt`` (a per-format value wins)."""
        specific = getattr(self, "jpeg" if fmt == "jpg" else fmt, None)
        return self.global_ if specific is None else specific


class ResizeSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    width: Pixels | None = None
    height: Pixels | None = None
    maintainAspect: bool = True
    mode: ResizeMode = "none"
    size: Pixels | None = None


class ImageSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    quality: QualitySettings = field(default_factory=QualitySettings)
    resize: ResizeSettings = field(default_factory=ResizeSettings)
    outputFormat: OutputFormat = "original"
    # Beyond the original: keep EXIF/XMP (the ICC profile is always kept).
    keepMetadata: bool = False


class AppPreferences(Struct, forbid_unknown_fields=True, kw_only=True):
    """App-wide choices that are not about images (ours; the original had none)."""

    # Worker processes; None: one per CPU. The upper bound here is the pool's absolute one; the
    # command also checks this machine's (8 per CPU).
    workers: Annotated[int, Meta(ge=1, le=64)] | None = None


class Task(Struct, forbid_unknown_fields=True, kw_only=True):
    input_path: Annotated[str, Meta(min_length=1)]
    output_path: str | None = None
    settings: ImageSettings = field(default_factory=ImageSettings)


class TaskArray(Struct, array_like=True):
    """The original UI's task form: ``[input_path, output_path | null, settings]``."""

    input_path: Annotated[str, Meta(min_length=1)]
    output_path: str | None = None
    settings: ImageSettings = field(default_factory=ImageSettings)


class OptimizationResult(Struct, kw_only=True):
    original_path: str
    optimized_path: str
    original_size: int
    optimized_size: int
    success: bool
    error: str | None = None
    savedBytes: int = 0
    compressionRatio: float = 0.0
    # Extras beyond the original's shape.
    status: ResultStatus = "ok"
    errorKind: str | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    inputFormat: str | None = None
    keptOriginal: bool = False
    durationMs: float | None = None


class ProgressMetadata(Struct, kw_only=True, omit_defaults=True):
    fileName: str
    originalSize: int
    optimizedSize: int
    savedBytes: int
    compressionRatio: float
    formattedMessage: str
    error: str | None = None
    totalDuration: float | None = None


class ProgressEvent(Struct, kw_only=True):
    completedTasks: int
    totalTasks: int
    progressPercentage: int
    status: ProgressStatus
    metadata: ProgressMetadata


PROGRESS_EVENT = "image_optimization_progress"


def savings(original_size: int, optimized_size: int) -> tuple[int, float]:
    """Bytes saved and the saving as a percentage of the original (0 for an empty original)."""
    saved = original_size - optimized_size
    ratio = round(saved * 100.0 / original_size, 2) if original_size > 0 else 0.0
    return saved, ratio


def to_builtins(obj: Any) -> Any:
    """A Struct (or list of them) as plain JSON-ready Python objects, in wire names."""
    return msgspec.to_builtins(obj)

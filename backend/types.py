"""The wire contract: msgspec Structs for every payload that crosses a boundary, nothing else.

Names and shapes are the original Tauri app's, so its frontend works unchanged against this
backend. Fields we add are optional with defaults, so an original payload stays valid. Unknown
fields are refused (``forbid_unknown_fields``) so a typo in a payload is an error naming the field,
not a setting silently ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, field

from backend.core.formats.registry import OUTPUT_CHOICES, OUTPUT_IDS, canonical
from backend.core.quality_targets import LEVEL_NAMES
from backend.errors import CancelledError, OptimizerError

Quality = Annotated[int, Meta(ge=1, le=100)]
Pixels = Annotated[int, Meta(ge=1, le=100_000)]
# The UI languages, one catalogue each in frontend/i18n/.
Language = Literal["en", "nl", "de", "fr", "es", "ru"]
ResizeMode = Literal["none", "width", "height", "longest", "shortest"]
ProgressStatus = Literal["processing", "complete", "error"]
ResultStatus = Literal["ok", "error", "cancelled"]
EventSource = Literal["watch"]
# Why a preview side is a PNG and not the file itself; the page words each in its language.
ShownReason = Literal["copy", "first_frame", "not_drawable", "upright"]
# What a preview's score was measured on (the page's words for ``scoreMetric``).
ScoreBasis = Literal["kept", "search", "tiles", "whole", "svg", "too_small"]
# What survives of the source's metadata (the ICC profile is governed by ``icc``).
MetadataMode = Literal["strip", "keep", "keep-no-location"]
IccMode = Literal["keep", "srgb"]
ChromaMode = Literal["auto", "4:4:4", "4:2:0"]
# Where outputs go (see backend/core/paths.py and backend/core/replace.py).
OutputMode = Literal["subfolder", "folder", "beside", "replace"]
# A file-name suffix for "beside": no path separators, not only dots, no control characters.
Suffix = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^(?!\.+$)[^/\\\x00-\x1f]+$")]
DEFAULT_SUFFIX = "-optimized"

DEFAULT_QUALITY = 90
# maxSize, in bytes on the wire: at least 1; above 1 TiB is no size limit anyone means.
MAX_SIZE_LIMIT = 1 << 40
ByteSize = Annotated[int, Meta(ge=1, le=MAX_SIZE_LIMIT)]

# The output formats come from the registry, so a new format needs no edit here: the enum of
# outputFormat, and one optional quality field per output format next to "global".
if TYPE_CHECKING:
    OutputFormat = str
    AutoQuality = str
else:
    OutputFormat = Literal[OUTPUT_CHOICES]
    # "off", or a named SSIMULACRA2 target (backend/core/quality_targets.py).
    AutoQuality = Literal[LEVEL_NAMES]


def _for_format(self: Any, fmt: str) -> int:
    """The quality that applies to output format ``fmt`` (a per-format value wins)."""
    specific = getattr(self, canonical(fmt), None)
    return self.global_ if specific is None else specific


QualitySettings: Any = msgspec.defstruct(
    "QualitySettings",
    # "global" is a Python keyword; the wire name stays the original's.
    [("global_", Quality, field(name="global", default=DEFAULT_QUALITY)),
     *((fmt, Quality | None, None) for fmt in OUTPUT_IDS)],
    module=__name__, namespace={"for_format": _for_format},
    forbid_unknown_fields=True, kw_only=True,
)


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
    # Beyond the original: where outputs go. "folder" needs outputFolder, "beside" uses suffix.
    output: OutputMode = "subfolder"
    outputFolder: Annotated[str, Meta(min_length=1)] | None = None
    suffix: Suffix = DEFAULT_SUFFIX
    # Beyond the original: give each output its source's modification and access times.
    keepDates: bool = True
    # Beyond the original: EXIF/XMP/IPTC kept, kept without location and serials, or dropped.
    metadata: MetadataMode = "strip"
    # Beyond the original: keep the ICC profile, or convert the pixels to sRGB and drop it.
    icc: IccMode = "keep"
    # Beyond the original: JPEG/AVIF chroma subsampling; "auto" is each encoder's own choice.
    chroma: ChromaMode = "auto"
    # Beyond the original: per image, the lowest quality whose output still reaches the level's
    # SSIMULACRA2 target (the quality number is then not used); see core/quality_search.py.
    autoQuality: AutoQuality = "off"
    # Beyond the original: every output at most this many bytes (with autoQuality, the smaller
    # of the two wins), downscaled to get there only with allowResize.
    maxSize: ByteSize | None = None
    allowResize: bool = False

    def __post_init__(self) -> None:
        if self.output == "folder" and not self.outputFolder:
            raise ValueError('output "folder" needs outputFolder (the folder to write into)')


class AppPreferences(Struct, forbid_unknown_fields=True, kw_only=True):
    """App-wide choices that are not about images (ours; the original had none)."""

    # Worker processes; None: one per CPU. The upper bound here is the pool's absolute one; the
    # command also checks this machine's (8 per CPU).
    workers: Annotated[int, Meta(ge=1, le=64)] | None = None
    # A folder dropped on the window is expanded with its sub-folders.
    recursiveDrops: bool = True
    # The UI language (frontend/i18n/<code>.json); None: follow the system/browser locale.
    language: Language | None = None


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
    # output "replace": the backup batch that can put this image's original back (revert).
    backupBatch: str | None = None
    # Auto quality or maxSize: the quality number the search settled on (None: not searched,
    # or the input was kept), and with Auto quality the SSIMULACRA2 the output reached.
    chosenQuality: int | None = None
    score: float | None = None
    # maxSize: whether the output fits, and when it does not, why and how small it got.
    targetMet: bool | None = None
    targetMessage: str | None = None

    @classmethod
    def failed(
        cls, input_path: str, output_path: str, error: OptimizerError, *, original_size: int = 0,
        input_format: str | None = None,
    ) -> OptimizationResult:
        """The result of an image that was not optimized: the one constructor for all causes
        (a bad image, an unwritable folder, a crashed worker, a cancel)."""
        return cls(
            original_path=input_path, optimized_path=output_path, original_size=original_size,
            optimized_size=0, success=False, error=error.message, errorKind=error.kind,
            status="cancelled" if isinstance(error, CancelledError) else "error",
            inputFormat=input_format,
        )



class PreviewImage(Struct, kw_only=True):
    """One side of the compare view, as the page can draw it (``data`` is base64 on the wire)."""

    mime: str
    data: bytes
    width: int
    height: int
    # Why this is not the file itself ("JPEG XL shown as PNG", "first frame of 12"); None: it is.
    shownAs: str | None = None
    shownReason: ShownReason | None = None  # the same, as a code


class PreviewResult(Struct, kw_only=True):
    """``preview_image``: one image encoded with given settings in the pool, nothing written
    (see backend/core/preview.py for the decisions)."""

    input_path: str
    output_path: str  # where the batch's naming rules would write it
    original_size: int
    size: int  # bytes of the encoded result (= len(result.data) unless shownAs says otherwise)
    savedBytes: int
    compressionRatio: float
    width: int
    height: int
    originalWidth: int
    originalHeight: int
    format: str
    inputFormat: str
    keptOriginal: bool = False
    chosenQuality: int | None = None
    score: float | None = None
    scoreMetric: str | None = None  # what ``score`` is and on which pixels
    scoreBasis: ScoreBasis | None = None  # the same, as a code
    scoreTiles: int | None = None  # with basis "tiles": how many
    targetMet: bool | None = None
    targetMessage: str | None = None
    frames: int = 1  # > 1: an animation, shown by its first frame
    # Above the preview pixel limit: "downscaled for preview: 5000x3333 of 8000x5333 (limit …)".
    downscaled: str | None = None
    durationMs: float = 0.0
    result: PreviewImage
    original: PreviewImage | None = None  # asked for with ``original: true``

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
    # Beyond the original: who started the batch; None: the page or a command, "watch": the
    # watch service (the page's own progress ignores those events).
    source: EventSource | None = None


PROGRESS_EVENT = "image_optimization_progress"


def savings(original_size: int, optimized_size: int) -> tuple[int, float]:
    """Bytes saved and the saving as a percentage of the original (0 for an empty original)."""
    saved = original_size - optimized_size
    ratio = round(saved * 100.0 / original_size, 2) if original_size > 0 else 0.0
    return saved, ratio


def to_builtins(obj: Any) -> Any:
    """A Struct (or list of them) as plain JSON-ready Python objects, in wire names."""
    return msgspec.to_builtins(obj)

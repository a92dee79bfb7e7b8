"""The decoded image as it travels through the pipeline, and what an encoder is asked to do."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from backend.core.metadata import Carried
from backend.types import ChromaMode, MetadataMode


@dataclass(slots=True)
class Picture:
    """Pixels (one frame, or all frames of an animation) plus the metadata we carry over.

    Frames share one mode, one of L, LA, RGB, RGBA (the loader normalises everything else).
    """

    frames: list[Image.Image]
    durations: list[int] = field(default_factory=list)  # ms per frame, animations only
    loop: int = 0
    icc: bytes | None = None  # the source's ICC profile, written back byte for byte
    exif: bytes | None = None  # metadata "keep"/"keep-no-location"; orientation reset to 1
    xmp: bytes | None = None
    iptc: bytes | None = None  # a JPEG APP13 payload; only JPEG writes it

    @property
    def image(self) -> Image.Image:
        return self.frames[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].size

    @property
    def animated(self) -> bool:
        return len(self.frames) > 1

    def save(self, fmt: str, frames: list[Image.Image], options: dict[str, object]) -> bytes:
        """``frames`` (this picture's pixels, possibly converted) encoded as ``fmt`` with the
        carried EXIF/XMP and, for an animation, its timing: for the Pillow writers that take
        metadata as raw bytes (WebP, AVIF)."""
        options = dict(options)
        if self.exif:
            options["exif"] = self.exif
        if self.xmp:
            options["xmp"] = self.xmp
        if len(frames) > 1:
            options.update(save_all=True, append_images=frames[1:], duration=self.durations,
                           loop=self.loop)
        out = io.BytesIO()
        frames[0].save(out, fmt, **options)
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class EncodeRequest:
    quality: int  # 1-100; 100 means lossless where the format can do it
    metadata: MetadataMode = "strip"
    # For outputs made from ``source`` (its pixels as stored, so its own orientation) and for
    # PNG, whose optimizer strips chunks: the metadata to write, already filtered for the mode.
    carried: Carried | None = None
    # ``source`` carries metadata that ``metadata`` removes: it must not be handed through as is.
    scrub: bool = False
    chroma: ChromaMode = "auto"
    # The input file, when it is already in the output format and its pixels are kept as they are
    # (no resize, no rotation): lets JPEG/PNG re-optimize it losslessly instead of re-encoding.
    source: bytes | None = None
    # EXIF orientation of ``source``: a losslessly re-optimized JPEG keeps it to display upright.
    source_orientation: int = 1
    # Frames of the input: an encoder that cannot hold an animation refuses it (JPEG XL) rather
    # than keep one frame.
    source_frames: int = 1

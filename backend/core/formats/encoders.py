"""One encoder per output format behind one small interface, found through the registry.

An encoder module (``backend/core/formats/<name>.py``, named by the registry's ``encoder``) offers
``encode(picture, request) -> bytes``, which turns pixels into a file, and ``optimize(data,
request) -> bytes``, which post-processes that file (oxipng for PNG, nothing for the others).
Formats that can work on an input file of their own format without decoding it (JPEG through
mozjpeg, PNG through oxipng) also offer ``from_source(source, request) -> bytes | None``: called
first when nothing changes the pixels, it returns the output made from the file alone (a lossless
rewrite, or the file itself when re-encoding could not make it smaller), or None when pixels must
be encoded. A module may name input formats other than its own that it takes as they are
(``SOURCE_FORMATS``: JPEG XL transcodes a JPEG losslessly); ``from_source`` then sees those
files too. Lossy formats whose UI quality is mapped onto the encoder's own scale (``scale.py``)
offer ``encode_native(picture, request, native_quality) -> bytes`` too, so the bench can measure
the encoder on its own scale and calibrate the mapping. Encoders whose own quality is continuous
(jpegli's distance, libwebp's float quality) offer ``encode_between(picture, request, quality)``
for a UI quality between two whole numbers: a size search gets within its target's last
per cent where one whole step of quality moves the file by 5-20 %. One whose alpha is coded in
steps that can double the file between two whole numbers (libwebp) offers ``encode_colour(picture,
request, quality)``: colour at ``quality``, alpha at the request's. An encoder whose chroma
subsampling matters per image names the modes Auto quality compares (``AUTO_CHROMA``), and one
whose answers land far from the common guess says where its search should start (``AUTO_GUESS``);
one whose sample over-reads the whole image says by how much the sample search should aim above
the target (``AUTO_SAMPLE_OFFSET``, so that the first whole-image confirmation usually passes).

Modules are imported on first use: the main process, which only reads the registry, never loads
a codec; a worker loads them all in ``pipeline.warm_up``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from backend.core.formats.registry import OUTPUT_FORMATS, ImageFormat, output_format

# (SSIMULACRA2 target, UI quality) pairs, highest target first.
Guesses = tuple[tuple[float, int], ...]

if TYPE_CHECKING:
    from backend.core.picture import EncodeRequest, Picture
    from backend.types import ChromaMode


@dataclass(frozen=True, slots=True)
class Encoder:
    format: ImageFormat
    encode: Callable[[Picture, EncodeRequest], bytes]
    optimize: Callable[[bytes, EncodeRequest], bytes]
    from_source: Callable[[bytes, EncodeRequest], bytes | None] | None
    encode_native: Callable[[Picture, EncodeRequest, int], bytes] | None
    encode_between: Callable[[Picture, EncodeRequest, float], bytes] | None = None
    # Colour at a float quality, alpha at the request's: see the module docstring.
    encode_colour: Callable[[Picture, EncodeRequest, float], bytes] | None = None
    source_formats: tuple[str, ...] = ()  # other input formats ``from_source`` takes
    # Chroma modes Auto quality tries per image when chroma is "auto" (the smallest file that
    # reaches the target wins); empty: the encoder's own choice only.
    auto_chroma: tuple[ChromaMode, ...] = ()
    # Where Auto quality's search starts: (target, quality) from the highest target down, about
    # where this encoder's answers land; empty: ``quality_search.GUESS``.
    auto_guess: Guesses = ()
    # SSIMULACRA2 points the sample search aims above the target (on a sampled image only):
    # about how far this encoder's sample over-reads the whole image; 0: the target as it is.
    auto_sample_offset: float = 0.0

    @property
    def name(self) -> str:
        return self.format.id

    @property
    def animation(self) -> bool:
        """Whether it can hold every frame of an animation."""
        return self.format.animation

    def takes_source(self, input_format: str) -> bool:
        """Whether an input file of ``input_format`` may reach it as it is (its own format, or
        one of ``source_formats``)."""
        return input_format == self.name or input_format in self.source_formats


def encoder_for(fmt: str) -> Encoder:
    """The encoder of output format ``fmt`` (an id or alias); ValueError for a read-only one."""
    return _load(output_format(fmt))


@cache
def _load(spec: ImageFormat) -> Encoder:
    module = importlib.import_module(f"backend.core.formats.{spec.encoder}")
    return Encoder(
        format=spec,
        encode=module.encode,
        optimize=module.optimize,
        from_source=getattr(module, "from_source", None),
        encode_native=getattr(module, "encode_native", None),
        encode_between=getattr(module, "encode_between", None),
        encode_colour=getattr(module, "encode_colour", None),
        source_formats=tuple(getattr(module, "SOURCE_FORMATS", ())),
        auto_chroma=tuple(getattr(module, "AUTO_CHROMA", ())),
        auto_guess=tuple(getattr(module, "AUTO_GUESS", ())),
        auto_sample_offset=float(getattr(module, "AUTO_SAMPLE_OFFSET", 0.0)),
    )


def all_encoders() -> list[Encoder]:
    """Every output format's encoder, in registry order (imports every codec)."""
    return [encoder_for(fmt.id) for fmt in OUTPUT_FORMATS]

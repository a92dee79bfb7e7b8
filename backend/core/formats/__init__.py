"""One encoder per output format behind one small interface.

``encode(picture, request) -> bytes`` turns pixels into a file; ``optimize(data, request) ->
bytes`` post-processes that file (oxipng for PNG, nothing for the others). Formats that can
re-optimize an input file of their own format without touching its pixels (JPEG through mozjpeg,
PNG through oxipng) also offer ``optimize_source(source, request) -> bytes``, used at quality 100
when nothing changes the pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backend.core.formats import avif, jpeg, png, webp
from backend.core.picture import EncodeRequest, Picture


@dataclass(frozen=True, slots=True)
class Encoder:
    name: str
    encode: Callable[[Picture, EncodeRequest], bytes]
    optimize: Callable[[bytes, EncodeRequest], bytes]
    optimize_source: Callable[[bytes, EncodeRequest], bytes] | None
    animation: bool  # can hold every frame of an animation


ENCODERS: dict[str, Encoder] = {
    "jpeg": Encoder("jpeg", jpeg.encode, jpeg.optimize, jpeg.optimize_source, animation=False),
    "png": Encoder("png", png.encode, png.optimize, png.optimize, animation=True),
    "webp": Encoder("webp", webp.encode, webp.optimize, None, animation=True),
    "avif": Encoder("avif", avif.encode, avif.optimize, None, animation=True),
}


def encoder_for(fmt: str) -> Encoder:
    return ENCODERS["jpeg" if fmt == "jpg" else fmt]

"""One encoder per output format behind one small interface.

``encode(picture, request) -> bytes`` turns pixels into a file; ``optimize(data, request) ->
bytes`` post-processes that file (oxipng for PNG, nothing for the others). Formats that can
work on an input file of their own format without decoding it (JPEG through mozjpeg, PNG through
oxipng) also offer ``from_source(source, request) -> bytes | None``: called first when nothing
changes the pixels, it returns the output made from the file alone (a lossless rewrite, or the
file itself when re-encoding could not make it smaller), or None when pixels must be encoded.
Lossy formats whose UI quality is mapped onto the encoder's own scale (``scale.py``) offer
``encode_native(picture, request, native_quality) -> bytes`` too, so the bench can measure the
encoder on its own scale and calibrate the mapping.
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
    from_source: Callable[[bytes, EncodeRequest], bytes | None] | None
    animation: bool  # can hold every frame of an animation
    encode_native: Callable[[Picture, EncodeRequest, int], bytes] | None = None


ENCODERS: dict[str, Encoder] = {
    "jpeg": Encoder("jpeg", jpeg.encode, jpeg.optimize, jpeg.from_source, animation=False,
                    encode_native=jpeg.encode_native),
    "png": Encoder("png", png.encode, png.optimize, png.from_source, animation=True),
    "webp": Encoder("webp", webp.encode, webp.optimize, None, animation=True,
                    encode_native=webp.encode_native),
    "avif": Encoder("avif", avif.encode, avif.optimize, None, animation=True,
                    encode_native=avif.encode_native),
}


def encoder_for(fmt: str) -> Encoder:
    return ENCODERS["jpeg" if fmt == "jpg" else fmt]

"""Drawing SVGs in the tests with resvg, independently of the code under test.

Both sides are drawn at 512 px on the longer side and compared premultiplied with numpy: the
fraction of pixels where a channel moves by more than 32 of 255. The tolerance the tests hold
outputs to is the one the product documents (``svg_render``): at most 0.1 % of the pixels.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import resvg_py
from PIL import Image

DATA = Path(__file__).parent / "data" / "svg"
BAD = DATA / "bad"
SIZE = 512
MAX_DIFFERING = 0.001


def svg_text(data: bytes) -> str:
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")


def check_size(text: str) -> tuple[int, int]:
    """512 px on the longer side of the size resvg draws ``text`` at by itself."""
    natural = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=text, dpi=96))))
    w, h = natural.size
    return (SIZE, max(1, round(SIZE * h / w))) if w >= h else (max(1, round(SIZE * w / h)), SIZE)


def draw(text: str, size: tuple[int, int]) -> np.ndarray:
    """Premultiplied RGBA as floats, drawn to fit ``size``."""
    png = resvg_py.svg_to_bytes(svg_string=text, width=size[0], height=size[1], dpi=96)
    rgba = np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"), dtype=np.float64)
    rgba[..., :3] *= rgba[..., 3:] / 255
    return rgba


def differing(a_text: str, b_text: str) -> float:
    """The fraction of pixels that differ beyond anti-aliasing noise between two SVGs."""
    size = check_size(a_text)  # both asked for the same size: resvg fits each inside it
    a, b = draw(a_text, size), draw(b_text, size)
    if a.shape != b.shape:
        return 1.0
    return float((np.abs(a - b).max(axis=2) > 32).mean())

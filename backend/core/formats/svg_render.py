"""Rendering SVG with resvg, and telling whether two SVGs render the same.

resvg (through ``resvg-py``) is a complete static SVG renderer with no network and no scripting;
it is used for the raster outputs of an SVG input (``--format png`` …) and to check every
optimized SVG against its input.

Decisions:
- Intrinsic size, as resvg reads it: ``width``/``height`` in CSS units at 96 dpi (``pt``,
  ``mm``, ``in`` …), a percentage of the ``viewBox``'s; a missing one follows the viewBox's
  aspect ratio; with neither, 100 x 100.
- "Renders the same": both are drawn at ``CHECK_SIZE`` px on their longer side, premultiplied
  RGBA; a pixel differs when a channel moves by more than ``PIXEL_TOLERANCE`` levels of 255, and
  the two are the same when at most ``AREA_TOLERANCE`` of the pixels differ. Measured on the
  bench's corpus (``bench/results/svg_peer.md``): rounding coordinates to SVGO's default 3
  decimals moves edge pixels by up to a few tens of levels on 0.0x % of the pixels (anti-aliasing
  of an edge moved by a fraction of a pixel), while a real change (a shape dropped, a gradient
  lost, a 48 px icon's transform rounded) moves whole areas: 0.4 % to 100 % of the pixels.
"""

from __future__ import annotations

import io
import re
from xml.etree.ElementTree import Element

import resvg_py
from PIL import Image, ImageChops

CHECK_SIZE = 512
PIXEL_TOLERANCE = 32
AREA_TOLERANCE = 0.001  # 0.1 % of the pixels: 262 of 512 x 512
DPI = 96.0

_LENGTH_RE = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z%]*)\s*$")
_UNITS = {"": 1.0, "px": 1.0, "pt": DPI / 72, "pc": DPI / 6, "in": DPI, "cm": DPI / 2.54,
          "mm": DPI / 25.4, "q": DPI / 101.6, "em": 16.0, "ex": 8.0}


def _length(value: str | None, box: float) -> float | None:
    """A root ``width``/``height`` in px; a percentage is of the viewBox's (as resvg reads it)."""
    match = _LENGTH_RE.match(value or "")
    unit = match.group(2).lower() if match else ""
    if match is None or (unit != "%" and unit not in _UNITS) or (unit == "%" and not box):
        return None
    number = float(match.group(1))
    return number * box / 100 if unit == "%" else number * _UNITS[unit]


def intrinsic_size(root: Element) -> tuple[float, float]:
    """The size in px that an SVG's root element asks for (see the module's decisions)."""
    box = [float(v) for v in re.split(r"[\s,]+", (root.get("viewBox") or "").strip()) if v]
    box_w, box_h = (box[2], box[3]) if len(box) == 4 and box[2] > 0 and box[3] > 0 else (0, 0)
    width, height = _length(root.get("width"), box_w), _length(root.get("height"), box_h)
    if width is None and height is not None and box_w:
        width = height * box_w / box_h
    if height is None and width is not None and box_h:
        height = width * box_h / box_w
    return (width or box_w or 100.0, height or box_h or 100.0)


def render(text: str, size: tuple[int, int] | None = None) -> Image.Image:
    """``text`` drawn by resvg as RGBA, at ``size`` (its intrinsic size when None)."""
    width, height = size if size is not None else (None, None)
    png = resvg_py.svg_to_bytes(svg_string=text, width=width, height=height, dpi=DPI)
    with Image.open(io.BytesIO(bytes(png)), formats=["PNG"]) as image:
        return image.convert("RGBA")


def check_size(root: Element) -> tuple[int, int]:
    """The size both sides are drawn at to compare them: ``CHECK_SIZE`` on the longer side."""
    width, height = intrinsic_size(root)
    if width >= height:
        return CHECK_SIZE, max(1, round(CHECK_SIZE * height / width))
    return max(1, round(CHECK_SIZE * width / height)), CHECK_SIZE


def differing_fraction(a: Image.Image, b: Image.Image) -> float:
    """The fraction of pixels whose premultiplied RGBA differs by more than ``PIXEL_TOLERANCE``."""
    if a.size != b.size:
        return 1.0
    delta = ImageChops.difference(a.convert("RGBa"), b.convert("RGBa")).split()
    worst = delta[0]
    for band in delta[1:]:
        worst = ImageChops.lighter(worst, band)
    histogram = worst.histogram()
    return sum(histogram[PIXEL_TOLERANCE + 1 :]) / (a.width * a.height)


def same_render(reference: Image.Image, candidate: str, size: tuple[int, int]) -> bool:
    """Whether ``candidate`` drawn at ``size`` is ``reference`` (drawn at that size) within
    tolerance. The size asked for, not the one resvg drew: it fits the SVG inside it."""
    try:
        drawn = render(candidate, size)
    except ValueError:  # resvg cannot draw it: not the same
        return False
    return differing_fraction(reference, drawn) <= AREA_TOLERANCE

"""Drawing an SVG input for a raster output (it is recognised in ``discovery.sniff_bytes``).

Decisions:
- SVG → SVG is never resized: a vector has no pixel size to change. The resize settings apply
  when an SVG is drawn for a raster output.
- ``--format png|webp|jpeg|avif`` on an SVG input draws it with resvg at its intrinsic size (CSS
  units at 96 dpi; see ``svg_render.intrinsic_size``), or straight at the resize target when one
  is set (also above the intrinsic size: a vector has no pixels to enlarge), so edges stay sharp;
  the picture then goes through that format's encoder like any decoded image. The raster
  inputs' pixel limit applies before anything is drawn.
"""

from __future__ import annotations

from PIL import Image

from backend.core.formats.svg_read import SvgText, read_svg
from backend.core.formats.svg_render import intrinsic_size, render
from backend.core.loader import MAX_PIXELS, Source
from backend.errors import ImageTooLargeError, ProcessingError
from backend.types import ResizeSettings


def _drawn_size(width: int, height: int, resize: ResizeSettings) -> tuple[int, int]:
    """The resize target, larger than the intrinsic size too: a vector has no pixels to blur
    (raster inputs are never enlarged, see ``resize.py``)."""
    mode, size = resize.mode, resize.size
    if size is None:
        size = {"width": resize.width, "height": resize.height}.get(mode)
    if mode == "none" or size is None:
        return width, height
    if mode == "longest":
        mode = "width" if width >= height else "height"
    elif mode == "shortest":
        mode = "width" if width <= height else "height"
    if mode == "width":
        return size, max(1, round(height * size / width))
    return max(1, round(width * size / height)), size


def pixel_size(svg: SvgText, resize: ResizeSettings, path: str) -> tuple[int, int]:
    """The size an SVG is drawn at for a raster output: intrinsic, or the resize target."""
    width, height = (max(1, round(v)) for v in intrinsic_size(svg.root))
    size = _drawn_size(width, height, resize)
    if size[0] * size[1] > MAX_PIXELS:
        raise ImageTooLargeError(
            f"image too large ({size[0] * size[1] / 1e6:.0f} megapixels to draw, limit "
            f"{MAX_PIXELS / 1e6:.0f} megapixels)", path=path)
    return size


def raster_source(path: str, data: bytes, resize: ResizeSettings) -> Source:
    """An SVG input drawn as a raster image, ready for the raster pipeline."""
    svg = read_svg(data, path)
    size = pixel_size(svg, resize, path)
    try:
        image: Image.Image = render(svg.text, size)
    except ValueError as exc:
        raise ProcessingError(f"cannot draw this SVG: {exc}", path=path) from None
    return Source(path=path, data=data, format="svg", image=image, orientation=1, frame_count=1)

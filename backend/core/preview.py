"""A preview of one image (the compare view's right side): the batch's pipeline up to the encoded
bytes, nothing written, with what the page needs to draw both sides and judge the result.

Runs in a worker (``worker_process``), for ``ImageOptimizer.preview_image``.

Decisions:
- Same pipeline as the batch (``pipeline.encode_input``): the bytes are exactly what Save would
  write (the encoders are deterministic), so the size readout is the real one.
- Images above ``PREVIEW_PIXELS`` (16 MP, after any resize the settings ask for) are previewed
  from a copy downscaled to fit 16 MP, and say so in ``downscaled``: that keeps every preview
  within about the cost of a 16 MP photo, and the page's images within what it decodes at
  once. Sizes and score are then those of the copy; Save still encodes the full image.
- Score: SSIMULACRA2 (the bench's and Auto quality's metric) of the result against the original
  at the result's size (oriented, resized as the result was, first frame). Above 0.25 MP it is
  computed on a sample: 128 px tiles at full resolution, every n-th along each axis so that
  they make up about 0.25-0.35 MP, joined into one mosaic (the way Auto quality samples, see
  ``quality_scorer``, with half its pixels), not on a downscaled copy: downscaling would hide
  the very artefacts the score is for. Tiles are cut with Pillow, never converting the whole
  image to arrays, which on a 12 MP photo cost more than the score. Auto quality's own
  full-image score is reported when it ran. ``scoreMetric`` says which. A kept original
  scores 100; SVG → SVG has no score (the optimizer already checks that the output renders as
  the input).
- What the page is sent to draw: the file itself when a browser can draw it (JPEG, PNG, WebP,
  AVIF, GIF, SVG; a JPEG's EXIF rotation is applied by the browser), else a PNG of its first
  frame, upright, with its ICC profile, and ``shownAs`` saying so: JPEG XL, HEIC, TIFF, BMP, an
  animation (the view shows one frame, labelled), an EXIF-rotated non-JPEG, and a downscaled
  original. SVG and SVGZ go to the page as SVG text (inflated), so the page draws both sides.
"""

from __future__ import annotations

import gzip
import importlib
import io
import math
import time
from collections.abc import Callable

import msgspec
from PIL import Image

from backend.core.discovery import sniff_bytes
from backend.core.error_map import unexpected
from backend.core.formats.registry import get_format
from backend.core.formats.svg_read import is_gzip
from backend.core.loader import Source, decode, open_source, read_input
from backend.core.pipeline import Encoded, encode_input
from backend.core.quality_scorer import TILE
from backend.core.resize import orient, resize, swap_if_rotated, target_size
from backend.core.ssimulacra2 import ssimulacra2
from backend.core.stage_times import StageTimes
from backend.errors import OptimizerError
from backend.types import (
    ImageSettings,
    OptimizationResult,
    PreviewImage,
    PreviewResult,
    ResizeSettings,
    ScoreBasis,
    ShownReason,
    savings,
)

PREVIEW_PIXELS = 16_000_000
SCORE_SAMPLE = 250_000  # pixels: above this, the score is taken on a sample of about this many
BROWSER_FORMATS = frozenset({"jpeg", "png", "webp", "avif", "gif", "svg"})
PNG_LEVEL = 1  # the page's copies are made for speed; they are never saved


def preview_file(
    input_path: str, output_path: str, settings: ImageSettings, *, original: bool,
) -> tuple[OptimizationResult, StageTimes, PreviewResult | None]:
    """The preview, or the image's problem as a failed result (never raises for the image)."""
    times = StageTimes()
    started = time.perf_counter()
    try:
        preview = _preview(input_path, output_path, settings, times, original)
    except Exception as exc:
        error = exc if isinstance(exc, OptimizerError) else unexpected(exc)
        return OptimizationResult.failed(input_path, output_path, error), times, None
    preview.durationMs = round((time.perf_counter() - started) * 1000, 3)
    result = OptimizationResult(
        original_path=input_path, optimized_path=output_path, original_size=preview.original_size,
        optimized_size=preview.size, success=True, format=preview.format,
        width=preview.width, height=preview.height, durationMs=preview.durationMs)
    return result, times, preview


def _preview(input_path: str, output_path: str, settings: ImageSettings, times: StageTimes,
             want_original: bool) -> PreviewResult:
    data = read_input(input_path)
    if sniff_bytes(data[:4096]) == "svg":
        return _svg_preview(input_path, output_path, settings, times, data, want_original)
    source = open_source(input_path, data)
    try:
        full = source.oriented_size
        wanted = target_size(*full, settings.resize) or full
        downscaled = None
        if wanted[0] * wanted[1] > PREVIEW_PIXELS:
            copy = _fitting(wanted)
            settings = msgspec.structs.replace(
                settings, resize=ResizeSettings(mode="longest", size=max(copy)))
            downscaled = (f"downscaled for preview: {copy[0]}x{copy[1]} of {wanted[0]}x"
                          f"{wanted[1]} (above {PREVIEW_PIXELS // 1_000_000} MP a preview is "
                          "made from a smaller copy; Save encodes the full image)")
        encoded = encode_input(input_path, settings, times, keep_pixels=True)
        fed = encoded.pixels
        # The original's pixels upright at full size: the encoder's input when nothing was
        # resized, else decoded again (only when needed).
        upright = _Lazy(lambda: fed if fed is not None and fed.size == full
                        else _upright_first_frame(source))
        if fed is not None and fed.size == encoded.size:
            reference = fed  # exactly what the encoder was given
        elif encoded.size == full:
            reference = upright()
        else:
            reference = resize(_resized_first_frame(source, encoded.size), encoded.size)
        score, metric, basis = _score(encoded, reference)
        frames = source.frame_count
        shown_original = (_original_image(source, upright, full, frames, downscaled is not None)
                          if want_original else None)
    finally:
        source.close()
    return _result(input_path, output_path, encoded, full, (score, metric, basis), frames,
                   downscaled, shown_original)


def _svg_preview(input_path: str, output_path: str, settings: ImageSettings, times: StageTimes,
                 data: bytes, want_original: bool) -> PreviewResult:
    """An SVG input: both sides are drawn by the page from SVG text where they are SVG."""
    encoded = encode_input(input_path, settings, times)
    text = gzip.decompress(data) if is_gzip(data) else data
    score, metric, basis = None, "none: an optimized SVG is checked to render as its input", (
        "svg", None)
    if encoded.format != "svg":
        from backend.core.formats.svg_source import raster_source

        drawn = raster_source(input_path, data, settings.resize)
        try:
            score, metric, basis = _score(encoded, drawn.image.convert("RGBA"))
        finally:
            drawn.close()
    shown = PreviewImage(mime="image/svg+xml", data=text, width=encoded.size[0],
                         height=encoded.size[1]) if want_original else None
    return _result(input_path, output_path, encoded, encoded.size, (score, metric, basis), 1,
                   None, shown)


def _result(input_path: str, output_path: str, encoded: Encoded, original_size: tuple[int, int],
            scored: tuple[float | None, str | None, _Basis], frames: int,
            downscaled: str | None, original: PreviewImage | None) -> PreviewResult:
    search = encoded.search
    score, metric, (basis, tiles) = scored
    saved, ratio = savings(len(encoded.data), len(encoded.out))
    return PreviewResult(
        input_path=input_path, output_path=output_path, original_size=len(encoded.data),
        size=len(encoded.out), savedBytes=saved, compressionRatio=ratio,
        width=encoded.size[0], height=encoded.size[1],
        originalWidth=original_size[0], originalHeight=original_size[1],
        format=encoded.format, inputFormat=sniff_bytes(encoded.data[:4096]) or encoded.format,
        keptOriginal=encoded.kept,
        chosenQuality=None if search is None or encoded.kept or encoded.format == "svg"
        else search.quality,
        score=score, scoreMetric=metric, scoreBasis=basis, scoreTiles=tiles,
        targetMet=None if search is None else search.target_met,
        targetMessage=None if search is None else search.message,
        frames=frames, downscaled=downscaled,
        result=_shown_result(encoded, frames), original=original)


def _fitting(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down to at most ``PREVIEW_PIXELS``, aspect kept."""
    scale = math.sqrt(PREVIEW_PIXELS / (size[0] * size[1]))
    return max(1, math.floor(size[0] * scale)), max(1, math.floor(size[1] * scale))


def _upright_first_frame(source: Source) -> Image.Image:
    picture = decode(source, target=None, animation=False)
    return orient(picture.image, source.orientation)


def _resized_first_frame(source: Source, size: tuple[int, int]) -> Image.Image:
    """The first frame at the output's ``size``, resized as the pipeline resizes (before it is
    turned upright, so the filter sees the same pixels)."""
    picture = decode(source, target=None, animation=False)
    stored = swap_if_rotated(size, source.orientation)
    return orient(resize(picture.image, stored), source.orientation)


_Basis = tuple[ScoreBasis, int | None]  # the code and, for tiles, their count


def _score(encoded: Encoded, reference: Image.Image) -> tuple[float | None, str, _Basis]:
    if encoded.kept:
        return 100.0, "none needed: the result is the original file", ("kept", None)
    search = encoded.search
    if search is not None and search.score is not None:
        return (round(search.score, 2), "SSIMULACRA2 on the whole image (Auto quality's own)",
                ("search", None))
    spec = get_format(encoded.format)
    if spec.plugin is not None:
        importlib.import_module(spec.plugin).register()
    with Image.open(io.BytesIO(encoded.out), formats=[spec.pillow]) as decoded:
        decoded.load()
        result = decoded.convert("RGBA" if spec.alpha and "A" in reference.getbands()
                                 else "RGB")
    if not (spec.alpha and "A" in reference.getbands()):
        reference = _on_white(reference)
    boxes = _sample_boxes(reference.size)
    if boxes is not None:
        reference, result = _mosaic(reference, boxes), _mosaic(result, boxes)
    try:
        score = ssimulacra2(reference, result)
    except ValueError as exc:  # too small to score (SSIMULACRA2 needs 8x8 px)
        return None, f"none: {exc}", ("too_small", None)
    if boxes is None:
        return round(score, 2), "SSIMULACRA2 on the whole image", ("whole", None)
    tiles = len(boxes[0]) * len(boxes[1])
    where = (f"{tiles} tiles of {TILE} px at full resolution "
             f"({reference.width * reference.height / 1e6:.2f} MP)")
    return round(score, 2), f"SSIMULACRA2 on {where}", ("tiles", tiles)


def _on_white(image: Image.Image) -> Image.Image:
    """What an encoder without alpha is given: the image composited on white (as jpeg.flatten)."""
    if "A" not in image.getbands():
        return image.convert("RGB")
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image.convert("RGB"), mask=image.getchannel("A"))
    return white


def _sample_boxes(size: tuple[int, int]) -> tuple[list[int], list[int]] | None:
    """Left and top edges of the sampled tiles (every ``step``-th along each axis, so that the
    sample stays near ``SCORE_SAMPLE`` pixels), or None to score the whole image."""
    width, height = size
    if width * height <= SCORE_SAMPLE or min(width, height) < 2 * TILE:
        return None
    step = max(2, math.ceil(math.sqrt(width * height / SCORE_SAMPLE)))
    return (list(range(0, width // TILE * TILE, step * TILE)),
            list(range(0, height // TILE * TILE, step * TILE)))


def _mosaic(image: Image.Image, boxes: tuple[list[int], list[int]]) -> Image.Image:
    """The sampled tiles of ``image`` joined edge to edge, cut with Pillow: no copy of the whole
    image is made (a 12 MP photo's would cost more than the score itself)."""
    lefts, tops = boxes
    mosaic = Image.new(image.mode, (len(lefts) * TILE, len(tops) * TILE))
    for row, top in enumerate(tops):
        for col, left in enumerate(lefts):
            mosaic.paste(image.crop((left, top, left + TILE, top + TILE)), (col * TILE, row * TILE))
    return mosaic


def _png(image: Image.Image, icc: bytes | None) -> bytes:
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    options: dict[str, object] = {"compress_level": PNG_LEVEL}
    if icc:
        options["icc_profile"] = icc
    image.save(out, "PNG", **options)
    return out.getvalue()


def _as_png(image: Image.Image, icc: bytes | None, why: str, reason: ShownReason) -> PreviewImage:
    return PreviewImage(mime="image/png", data=_png(image, icc), width=image.width,
                        height=image.height, shownAs=why, shownReason=reason)


class _Lazy:
    """A value computed on first use (decoding an image the common case never needs)."""

    def __init__(self, make: Callable[[], Image.Image]) -> None:
        self._make = make
        self._value: Image.Image | None = None

    def __call__(self) -> Image.Image:
        if self._value is None:
            self._value = self._make()
        return self._value


def _original_image(source: Source, upright: _Lazy, size: tuple[int, int], frames: int,
                    downscaled: bool) -> PreviewImage:
    spec = get_format(source.format)
    icc = source.image.info.get("icc_profile") or None
    width, height = size
    if downscaled:
        copy = upright().resize(_fitting(size), Image.Resampling.LANCZOS)
        return _as_png(copy, icc, f"a {copy.width}x{copy.height} PNG copy (the original is "
                                  f"{width}x{height})", "copy")
    if frames > 1:
        return _as_png(upright(), icc, f"first frame of {frames}", "first_frame")
    if source.format not in BROWSER_FORMATS:
        return _as_png(upright(), icc, f"{spec.label} shown as PNG (browsers cannot draw "
                                       f"{spec.label})", "not_drawable")
    if source.orientation != 1 and source.format != "jpeg":
        return _as_png(upright(), icc, "turned upright (EXIF orientation)", "upright")
    return PreviewImage(mime=spec.mime, data=source.data, width=width, height=height)


def _shown_result(encoded: Encoded, frames: int) -> PreviewImage:
    spec = get_format(encoded.format)
    width, height = encoded.size
    if encoded.format == "svg":
        text = gzip.decompress(encoded.out) if is_gzip(encoded.out) else encoded.out
        return PreviewImage(mime=spec.mime, data=text, width=width, height=height)
    animated = frames > 1 and spec.animation
    if encoded.format in BROWSER_FORMATS and not animated:
        return PreviewImage(mime=spec.mime, data=encoded.out, width=width, height=height)
    if spec.plugin is not None:
        importlib.import_module(spec.plugin).register()
    with Image.open(io.BytesIO(encoded.out), formats=[spec.pillow]) as decoded:
        decoded.load()
        icc = decoded.info.get("icc_profile") or None
        if animated:
            return _as_png(decoded.copy(), icc, f"first frame of {frames}", "first_frame")
        return _as_png(decoded.copy(), icc,
                       f"{spec.label} shown as PNG (browsers cannot draw {spec.label})",
                       "not_drawable")

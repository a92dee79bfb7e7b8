"""One image: load → orient → resize → encode → optimize → atomic write.

``optimize_file`` never raises for a problem with the image or its output: the problem comes back
as ``OptimizationResult(success=False, error=..., errorKind=...)`` so a batch always goes on.

Decisions (the per-format ones are in ``formats/*``, input handling in ``loader``):

- Metadata: EXIF orientation is applied to the pixels, then by default (``metadata: strip``)
  everything but the ICC profile is dropped; the profile is written back byte for byte.
  ``keep``/``keep-no-location`` are described in ``metadata.py``; ``icc: srgb`` in ``colour.py``.
- Kept original: when the output format equals the input's, the size did not change and the new
  file is not smaller, the output is a byte-for-byte copy of the input (``keptOriginal: true``,
  0 bytes saved; its metadata is then the input's), unless the settings must change what the
  file carries (``keep-no-location`` on a file with location data, ``icc: srgb`` on a tagged
  file). A resized image is always the new one: the person asked for those dimensions.
- Never over an input: an output path that is the input file (same path, through ``..`` or a
  symlink, or a hard link to it) is refused for that image (errorKind "validation"), except with
  ``output: replace``, where the original is backed up first (``replace.py``) and a result that
  is not smaller leaves it untouched.
- File dates: with ``keepDates`` (the default) every output, kept-original copies included, gets
  its source's modification and access times, set once in the writer before the rename.
- Atomic write: the bytes go to ``.<name>.<random>.io-partial`` in the target folder (created
  if missing), which is renamed over the final name; on any failure the temporary file is
  removed. No fsync: a crash can lose the newest output but never leaves a half-written one
  under the final name.
"""

from __future__ import annotations

import io
import logging
import os
import time
from dataclasses import dataclass

from PIL import Image

from backend.core import shrink
from backend.core.atomic_write import write_atomically
from backend.core.colour import to_srgb
from backend.core.discovery import sniff_bytes
from backend.core.error_map import encoding, unexpected, writing
from backend.core.formats import svg as svg_format
from backend.core.formats.encoders import all_encoders, encoder_for
from backend.core.formats.svg_read import read_svg
from backend.core.formats.svg_render import intrinsic_size
from backend.core.formats.svg_source import raster_source
from backend.core.loader import Source, decode, open_source, read_input
from backend.core.metadata import Carried, carried, needs_rewrite
from backend.core.paths import resolve_output_format
from backend.core.picture import EncodeRequest, Picture
from backend.core.quality_search import Goal, Outcome, choose
from backend.core.quality_targets import LEVELS, OFF
from backend.core.replace import Original, back_up, remove_replaced_source
from backend.core.resize import orient, resize, swap_if_rotated, target_size
from backend.core.stage_times import StageTimes
from backend.errors import OptimizerError, ValidationError
from backend.types import ImageSettings, OptimizationResult, savings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Facts:
    """What is known about the input so far, for the failure result."""

    original_size: int = 0
    input_format: str | None = None
    # A preview asks for a copy of the first frame handed to the encoder (resized, upright;
    # None when no pixels were decoded): what it scores the result against. A copy, because
    # it may be the source's own image, which is closed when the encode is done.
    keep_pixels: bool = False
    pixels: Image.Image | None = None


def optimize_file(
    input_path: str, output_path: str, settings: ImageSettings, *, backup: str | None = None,
) -> tuple[OptimizationResult, StageTimes]:
    """Optimize one image into ``output_path`` (already resolved); ``backup``: with output
    "replace", where the original is backed up (``replace.backup_prefix``). Never raises for the
    image."""
    times = StageTimes()
    started = time.perf_counter()
    facts = _Facts()
    try:
        result = _optimize(input_path, output_path, settings, times, facts, backup)
    except Exception as exc:  # every problem with the image becomes its result
        if not isinstance(exc, OptimizerError | MemoryError):
            log.exception("unexpected error optimizing %s", input_path)
        error = exc if isinstance(exc, OptimizerError) else unexpected(exc)
        result = OptimizationResult.failed(
            input_path, output_path, error, original_size=facts.original_size,
            input_format=facts.input_format)
    result.durationMs = round((time.perf_counter() - started) * 1000, 3)
    return result, times


def _optimize(
    input_path: str, output_path: str, settings: ImageSettings, times: StageTimes,
    facts: _Facts, backup: str | None,
) -> OptimizationResult:
    replacing = settings.output == "replace"
    if replacing and backup is None:
        raise ValidationError('output "replace" needs a backup folder (the optimizer makes one '
                              "per batch)", path=input_path)
    if not replacing:
        refuse_overwriting_input(input_path, output_path)
    # Before reading: the read itself may update the source's access time (relatime).
    stat = _source_stat(input_path)
    dates = None if stat is None or not settings.keepDates else (stat.st_atime_ns,
                                                                  stat.st_mtime_ns)
    encoded = encode_input(input_path, settings, times, facts)
    data, out, size, output_format, kept, search = (
        encoded.data, encoded.out, encoded.size, encoded.format, encoded.kept, encoded.search)
    mark = time.perf_counter()
    batch = None
    if not replacing:
        write_atomic(output_path, out, dates=dates)
    elif kept:
        output_path = input_path  # the original stays as it is: nothing to back up or revert
    else:
        assert backup is not None and stat is not None  # checked above; the file was just read
        # The dates from before our read, which may have touched the access time.
        original = Original(input_path, data, stat.st_mode & 0o7777, stat.st_atime_ns,
                            stat.st_mtime_ns)
        back_up(backup, original, output_path, out)
        write_atomic(output_path, out, dates=dates)
        remove_replaced_source(input_path, output_path)
        batch = os.path.basename(os.path.dirname(backup))
    times.write = time.perf_counter() - mark

    saved, ratio = savings(len(data), len(out))
    return OptimizationResult(
        original_path=input_path, optimized_path=output_path, original_size=len(data),
        optimized_size=len(out), success=True, savedBytes=saved, compressionRatio=ratio,
        width=size[0], height=size[1], format=output_format, inputFormat=facts.input_format,
        keptOriginal=kept, backupBatch=batch,
        # SVG: no search, the slider's number was used as it is.
        chosenQuality=(None if search is None or kept or output_format == "svg"
                       else search.quality),
        score=None if search is None or search.score is None else round(search.score, 2),
        targetMet=None if search is None else search.target_met,
        targetMessage=None if search is None else search.message,
    )


@dataclass(slots=True)
class Encoded:
    """One image encoded in memory: what ``optimize_file`` writes and ``preview`` shows."""

    data: bytes  # the input file
    out: bytes  # the output file (the input's bytes when ``kept``)
    size: tuple[int, int]  # the output's (width, height)
    format: str  # output format id
    kept: bool  # the output is a copy of the input
    search: Outcome | None  # what Auto quality / maxSize chose
    pixels: Image.Image | None = None  # with ``keep_pixels``: see _Facts


def encode_input(input_path: str, settings: ImageSettings, times: StageTimes,
                 facts: _Facts | None = None, *, keep_pixels: bool = False) -> Encoded:
    """Read, decode, resize and encode one input in memory (no file written). Raises the
    image's problem as an OptimizerError. ``keep_pixels``: see ``_Facts``."""
    facts = facts if facts is not None else _Facts(keep_pixels=keep_pixels)
    mark = time.perf_counter()
    data = read_input(input_path)
    facts.original_size = len(data)
    # 4 KiB: deflate's tables can hide a .svgz's first text beyond SNIFF_BYTES.
    svg_input = sniff_bytes(data[:4096]) == "svg"
    if svg_input and resolve_output_format("svg", settings) == "svg":
        facts.input_format = output_format = "svg"
        out, size = _optimize_svg(input_path, data, settings, times, mark)
        kept = len(out) >= len(data)
        search = None  # maxSize is checked on the file written, below
    else:
        source = (raster_source(input_path, data, settings.resize) if svg_input
                  else open_source(input_path, data))
        facts.input_format = source.format
        try:
            output_format = resolve_output_format(source.format, settings)
            meta = _Metadata.of(source, settings)
            out, size, search = _encode(source, output_format, settings, times, mark, meta,
                                        facts)
        finally:
            source.close()
        kept = (meta.as_is and output_format == source.format and size == source.oriented_size
                and len(out) >= len(data))
    if kept:
        out = data
        if search is not None:  # the input itself: its own pixels, within any size it had to fit
            search = Outcome(data, size, search.quality, score=(
                None if search.score is None else 100.0), target_met=search.target_met)
    if output_format == "svg":
        search = _svg_size_check(out, size, settings)
    return Encoded(data, out, size, output_format, kept, search, facts.pixels)


def _optimize_svg(input_path: str, data: bytes, settings: ImageSettings, times: StageTimes,
                  mark: float) -> tuple[bytes, tuple[int, int]]:
    """The optimized SVG file, and the size in px it asks to be shown at."""
    svg = read_svg(data, input_path)
    times.load = time.perf_counter() - mark
    mark = time.perf_counter()
    out = svg_format.optimize(svg, settings.quality.for_format("svg"), input_path)
    times.optimize = time.perf_counter() - mark
    width, height = intrinsic_size(svg.root)
    return out, (round(width), round(height))


def _svg_size_check(out: bytes, size: tuple[int, int],
                    settings: ImageSettings) -> Outcome | None:
    """maxSize for SVG → SVG: said met or not, never searched. A vector has no quality to lower
    beyond what still renders the same, and Auto quality (SSIMULACRA2 of pixels) does not apply:
    the render check already holds every optimized SVG to its input."""
    limit = settings.maxSize
    if limit is None:
        return None
    quality = settings.quality.for_format("svg")
    if len(out) <= limit:
        return Outcome(out, size, quality, target_met=True)
    return Outcome(out, size, quality, target_met=False,
                   message=f"cannot fit in {limit:,} bytes: the optimized SVG is {len(out):,} "
                           "bytes (an SVG is only made as small as still renders the same)")


@dataclass(frozen=True, slots=True)
class _Metadata:
    """What the settings do to the source's metadata and colour, worked out once per image."""

    as_stored: Carried | None  # for outputs made from the input file (its pixels as stored)
    recolour: bool  # icc: srgb on a tagged input: new pixels are needed
    as_is: bool  # the input file's bytes may reach the output unchanged

    @classmethod
    def of(cls, source: Source, settings: ImageSettings) -> _Metadata:
        as_stored = carried(source.image, settings.metadata, upright=False)
        recolour = settings.icc == "srgb" and bool(source.image.info.get("icc_profile"))
        rewrite = needs_rewrite(source.image, settings.metadata, as_stored)
        return cls(as_stored=as_stored, recolour=recolour, as_is=not (recolour or rewrite))


def _goal(settings: ImageSettings, quality: int) -> Goal | None:
    """What Auto quality and maxSize ask of the quality search; None: the slider's number."""
    if settings.autoQuality == OFF and settings.maxSize is None:
        return None
    return Goal(auto_target=LEVELS.get(settings.autoQuality), max_size=settings.maxSize,
                allow_resize=settings.allowResize, quality=quality)


def _encode(
    source: Source, output_format: str, settings: ImageSettings, times: StageTimes, mark: float,
    meta: _Metadata, facts: _Facts,
) -> tuple[bytes, tuple[int, int], Outcome | None]:
    """The output file's bytes, its (width, height), and what the quality search chose."""
    encoder = encoder_for(output_format)
    quality = settings.quality.for_format(output_format)
    target = target_size(*source.oriented_size, settings.resize)
    stored_target = None if target is None else swap_if_rotated(target, source.orientation)
    goal = _goal(settings, quality)
    unchanged = output_format == source.format and target is None and meta.as_is
    if (goal is not None and goal.auto_target is None and goal.max_size is not None and unchanged
            and len(source.data) <= goal.max_size):
        times.load = time.perf_counter() - mark
        # Already small enough, and nothing asks for new pixels: the input is the answer.
        return source.data, source.oriented_size, Outcome(
            source.data, source.oriented_size, quality, target_met=True)
    # Pixels kept as they are (same format, no resize): JPEG/PNG can work on the input file.
    # A PNG with an EXIF rotation is re-encoded upright instead: oxipng would drop its eXIf.
    # With icc: srgb a tagged input needs new pixels; metadata alone can be rewritten losslessly.
    # JPEG XL takes a JPEG input as it is too (lossless transcode).
    reuse_source = (encoder.takes_source(source.format) and target is None
                    and not meta.recolour and (source.format == "jpeg" or source.orientation == 1))
    # Made from the input file the pixels stay as stored; otherwise they are turned upright
    # (EXIF and XMP orientation then say 1).
    request = EncodeRequest(
        quality=quality, metadata=settings.metadata, chroma=settings.chroma,
        carried=meta.as_stored if reuse_source else carried(
            source.image, settings.metadata, upright=True),
        scrub=not meta.as_is,
        source=source.data if reuse_source else None, source_orientation=source.orientation,
        source_frames=source.frame_count)
    times.load = time.perf_counter() - mark  # reading and parsing the header
    mark = time.perf_counter()

    # A search needs encodes at its own qualities: the file's shortcut answers the slider's.
    if reuse_source and encoder.from_source is not None and goal is None:
        out = encoder.from_source(source.data, request)
        if out is not None:  # made from the file alone: its pixels need not be decoded
            times.optimize = time.perf_counter() - mark
            return out, source.oriented_size, None

    mark = time.perf_counter()
    picture = decode(source, target=stored_target, animation=encoder.animation)
    times.load += time.perf_counter() - mark

    mark = time.perf_counter()
    frames = picture.frames
    if stored_target is not None:
        frames = [resize(frame, stored_target) for frame in frames]
    picture.frames = [orient(frame, source.orientation) for frame in frames]
    if meta.recolour and picture.icc:
        picture.frames, picture.icc = to_srgb(picture.frames, picture.icc), None
    upright = carried(source.image, settings.metadata, upright=True) if reuse_source else (
        request.carried)
    if upright is not None:
        picture.exif, picture.xmp, picture.iptc = upright.exif, upright.xmp, upright.iptc
    times.resize = time.perf_counter() - mark
    if facts.keep_pixels:
        facts.pixels = picture.image.copy()

    mark = time.perf_counter()
    if goal is not None:
        with encoding(encoder.format.label, source.path):
            search = choose(picture, request, encoder, goal)
        times.encode = time.perf_counter() - mark  # every encode and score of the search
        return search.data, search.size, search
    with encoding(encoder.format.label, source.path):
        encoded = encoder.encode(picture, request)
    times.encode = time.perf_counter() - mark
    mark = time.perf_counter()
    out = encoder.optimize(encoded, request)
    times.optimize = time.perf_counter() - mark
    return out, picture.size, None


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overwriting_input(input_path: str, output_path: str) -> None:
    if _same_file(input_path, output_path):
        raise ValidationError(
            f"output {output_path} is the input file itself: refusing to overwrite it "
            "(choose another output folder or name)", path=input_path)


def _source_stat(input_path: str) -> os.stat_result | None:
    """The input's stat (dates, mode); None when it cannot be had (the read that follows then
    reports the problem; dates are a courtesy)."""
    try:
        return os.stat(input_path)
    except OSError:
        return None


def write_atomic(output_path: str, data: bytes, *, dates: tuple[int, int] | None = None) -> None:
    """Write ``data`` to a temporary file beside ``output_path``, then rename it into place.

    ``dates`` (atime, mtime in ns) are set on the temporary file before the rename, so the output
    never appears under its final name with the wrong dates."""
    with writing(output_path):
        os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
        write_atomically(output_path, data, dates=dates)


def warm_up() -> None:
    """Import and exercise every codec once (tiny images, in memory) so the first image is fast."""
    Image.init()
    # 32x32 with > 256 colours and some transparency, so the palette path runs too.
    gradient = Image.new("RGBA", (32, 32))
    gradient.putdata([(x * 8, y * 8, (x * y) % 256, 255 if x > 2 else 0)
                      for y in range(32) for x in range(32)])
    picture = Picture(frames=[gradient])
    for encoder in all_encoders():
        for quality in (80, 100):
            request = EncodeRequest(quality=quality)
            data = encoder.optimize(encoder.encode(picture, request), request)
            with Image.open(io.BytesIO(data), formats=[encoder.format.pillow]) as decoded:
                decoded.load()
            if encoder.from_source is not None and encoder.name == "jpeg":
                encoder.from_source(data, EncodeRequest(quality=100, source=data))
            if encoder.name in ("jpeg", "png"):  # libvips loads its decoders on first use
                shrink.decode_shrunk(data, encoder.name, "RGBA" if encoder.name == "png" else "RGB",
                                     gradient.size, (8, 8))
    resize(gradient, (8, 8))
    svg_format.optimize(read_svg(_WARM_UP_SVG), 90)  # imports SVGO's plugins and resvg


_WARM_UP_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect x="1.0" y="1" '
                b'width="6" height="6" fill="#ff0000"/></svg>')

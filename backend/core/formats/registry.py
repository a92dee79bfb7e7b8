"""Every image format we read or write, declared once (as Squoosh's per-codec ``meta.ts`` and
Pillow's ``register_extension``/``register_mime`` do).

Everything else reads this table: the wire contract's ``outputFormat`` choices and per-format
quality fields (``types.py``), output names and extensions (``paths.py``), content detection's
extension map and the loader's names (``discovery.py``, ``loader.py``), the CLI's ``--format``
choices, the native file dialog's filter, and the page's "Convert to" menu (served by
``get_app_info``). Adding an output format is one entry here plus its encoder module
``backend/core/formats/<encoder>.py`` (``encode``, ``optimize``, and optionally ``from_source`` and
``encode_native``; see ``encoders.py``) and its signature in ``discovery.sniff_bytes``. A format
whose Pillow plugin is not built in names the module that registers it (``plugin``); the loader
imports it before opening such a file, so a codec loads only where it is used.

This module imports nothing but the standard library, so reading the table (in the UI process,
the CLI's argument parser, the HTTP shell) never loads a codec.

Decisions:
- ``id`` is the wire name and the key everywhere; ``aliases`` are other names accepted on the
  wire and the command line (``jpg``), always folded to the id at the door.
- ``extensions[0]`` is the one written for a new name (``.jpg``: what people and cameras use);
  the others are recognised and kept when an output path already ends with one.
- ``original_output`` is what "Original" writes for an input we cannot write back: GIF, TIFF and
  BMP become PNG, which is lossless, universal and keeps transparency and (as APNG) animation.
  HEIC/HEIF becomes JPEG: it holds photographs (iPhone, Android, cameras) without transparency
  as a rule, and JPEG is what every viewer and upload form takes; a HEIC with transparency loses
  it there (composited onto white, as any JPEG output), so choose WebP/AVIF/PNG/JPEG XL for it.
- ``vector`` formats (SVG) are optimized as themselves by ``backend/core/formats/<id>.py`` and
  written only for inputs of their own format ("Original"): no raster input becomes one, so
  they are no "Convert to" choice and have no encoder of pixels.
- ``lossless`` means quality 100 gives identical pixels. JPEG has no such mode (JPEG → JPEG at 100
  is a lossless rewrite of the file, not of pixels); AVIF through Pillow differs by ≤ 2 levels.
  JPEG XL at 100 is lossless (modular), and a JPEG input at 100 becomes a lossless transcode.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageFormat:
    id: str
    label: str  # how people read its name: "WebP"
    mime: str
    extensions: tuple[str, ...]  # lower-case, with the dot; the first is written for new names
    pillow: str  # Pillow's plugin name, so a file is opened by exactly that decoder
    alpha: bool
    animation: bool
    lossless: bool
    encoder: str | None = None  # module in backend.core.formats that writes it; None: input only
    aliases: tuple[str, ...] = ()
    original_output: str | None = None  # what "Original" writes for it when it cannot be written
    vector: bool = False  # optimized as itself, never a target for pixels (see the decisions)
    plugin: str | None = None  # module whose register() installs a Pillow reader not built in

    @property
    def writable(self) -> bool:
        return self.encoder is not None

    @property
    def extension(self) -> str:
        return self.extensions[0]


FORMATS: tuple[ImageFormat, ...] = (
    ImageFormat("jpeg", "JPEG", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), "JPEG",
                alpha=False, animation=False, lossless=False, encoder="jpeg", aliases=("jpg",)),
    ImageFormat("png", "PNG", "image/png", (".png", ".apng"), "PNG",
                alpha=True, animation=True, lossless=True, encoder="png"),
    ImageFormat("webp", "WebP", "image/webp", (".webp",), "WEBP",
                alpha=True, animation=True, lossless=True, encoder="webp"),
    ImageFormat("avif", "AVIF", "image/avif", (".avif",), "AVIF",
                alpha=True, animation=True, lossless=False, encoder="avif"),
    # Animation: no binding writes JPEG XL frames with their own durations (``formats/jxl.py``).
    ImageFormat("jxl", "JPEG XL", "image/jxl", (".jxl",), "JXL",
                alpha=True, animation=False, lossless=True, encoder="jxl",
                plugin="backend.core.formats.jxl"),
    ImageFormat("gif", "GIF", "image/gif", (".gif",), "GIF",
                alpha=True, animation=True, lossless=True, original_output="png"),
    ImageFormat("tiff", "TIFF", "image/tiff", (".tif", ".tiff"), "TIFF",
                alpha=True, animation=False, lossless=True, original_output="png"),
    ImageFormat("bmp", "BMP", "image/bmp", (".bmp", ".dib"), "BMP",
                alpha=False, animation=False, lossless=True, original_output="png"),
    # ``.hif``: what Canon, Fujifilm and Sony cameras name their HEIF files.
    ImageFormat("heic", "HEIC", "image/heic", (".heic", ".heif", ".hif"), "HEIF",
                alpha=True, animation=False, lossless=False, original_output="jpeg",
                plugin="backend.core.formats.heic"),
    ImageFormat("svg", "SVG", "image/svg+xml", (".svg", ".svgz"), "",
                alpha=True, animation=False, lossless=True, vector=True),
)

ORIGINAL = "original"  # the outputFormat that keeps each input's own format where it can

_BY_NAME: dict[str, ImageFormat] = {
    name: fmt for fmt in FORMATS for name in (fmt.id, *fmt.aliases)
}
_BY_EXTENSION: dict[str, ImageFormat] = {ext: fmt for fmt in FORMATS for ext in fmt.extensions}

OUTPUT_FORMATS: tuple[ImageFormat, ...] = tuple(fmt for fmt in FORMATS if fmt.writable)
OUTPUT_IDS: tuple[str, ...] = tuple(fmt.id for fmt in OUTPUT_FORMATS)
# Every name the wire and the CLI accept for outputFormat, aliases included.
OUTPUT_CHOICES: tuple[str, ...] = (
    ORIGINAL, *(name for fmt in OUTPUT_FORMATS for name in (fmt.id, *fmt.aliases)))


def get_format(name: str) -> ImageFormat:
    """The format called ``name`` (its id or an alias, any case); KeyError when there is none."""
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f"not an image format: {name!r}") from None


def canonical(name: str) -> str:
    """``name`` folded to its format id (``JPG`` → ``jpeg``); ``original`` stays ``original``."""
    lowered = name.lower()
    return lowered if lowered == ORIGINAL else get_format(lowered).id


def output_format(name: str) -> ImageFormat:
    """The format called ``name`` that we write (a vector one for its own inputs only);
    ValueError for one we can only read, or none."""
    fmt = _BY_NAME.get(name.lower())
    if fmt is None or not (fmt.writable or fmt.vector):
        raise ValueError(f"not an output format: {name!r}")
    return fmt


def format_for_extension(extension: str) -> ImageFormat | None:
    """The format an extension (with its dot, any case) claims, or None."""
    return _BY_EXTENSION.get(extension.lower())


def output_for_input(input_format: str) -> str:
    """What "Original" writes for an input of content format ``input_format``."""
    fmt = get_format(input_format)
    if fmt.writable or fmt.vector:
        return fmt.id
    assert fmt.original_output is not None, f"{fmt.id} declares no original_output"
    return fmt.original_output


def labels_list(formats: tuple[ImageFormat, ...] = FORMATS) -> str:
    """"JPEG, PNG, WebP, AVIF, GIF, TIFF or BMP", for messages that name what we read."""
    names = [fmt.label for fmt in formats]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]

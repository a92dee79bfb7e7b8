"""Reading an input: content detection, opening with clear errors, decoding to a known mode.

Decisions:

- The whole input is read into memory once: it is needed for the lossless JPEG/PNG paths and the
  kept-original copy, and the input file is then never touched again.
- Pixel limit: 268 402 689 pixels (16383 x 16383, the limit sharp/libvips use), per image and for
  all frames of an animation together. Above it the image is refused as "image too large (N
  megapixels, limit M)" before any pixel is decoded; Pillow's DecompressionBombWarning never
  escapes.
- Modes are normalised to L, LA, RGB or RGBA: 1-bit → L; palette → RGB, or RGBA when it has a
  transparent entry; 16/32-bit grey → 8-bit grey, scaled (not clipped); CMYK → RGB through its
  embedded ICC profile to sRGB with LittleCMS when it has one (the CMYK profile is then dropped;
  untagged output is sRGB), else Pillow's plain conversion; an alpha channel that is fully opaque
  is dropped. 16-bit colour is decoded as 8-bit (a same-format PNG keeps 16 bits through the
  lossless path instead).
- Animations (GIF, APNG, WebP, AVIF sequences) keep every frame, composited, with their durations
  and loop count, when the output format can hold them; otherwise (JPEG) the first frame. A
  multi-page TIFF is a document, not an animation: its first page is used.
- The ICC profile is carried byte for byte. A profile whose colour space does not match the
  pixels we write (a grey profile on an image that must become RGB) is applied with LittleCMS
  and dropped, because writing it would make the output wrong.
"""

from __future__ import annotations

import importlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, UnidentifiedImageError

from backend.core import shrink
from backend.core.discovery import open_quietly, sniff_bytes
from backend.core.error_map import decoding, reading
from backend.core.formats.registry import FORMATS, get_format, labels_list
from backend.core.metadata import ORIENTATION_TAG
from backend.core.picture import Picture
from backend.core.resize import draft_size
from backend.errors import DecodeError, ImageTooLargeError, UnsupportedFormatError

MAX_PIXELS = 16383 * 16383
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_LABELS = [fmt.label for fmt in FORMATS]
_READABLE = labels_list()

# Formats people try that we do not read, recognised so the message can name them.
_FOREIGN_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF", 0, "PDF"), (b"8BPS", 0, "PSD"),
    (b"\x00\x00\x01\x00", 0, "ICO"), (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
)
_BOMB_SIZE_RE = re.compile(r"\((\d+) pixels\)")


@dataclass(slots=True)
class Source:
    """An opened input: header parsed, pixels not decoded yet."""

    path: str
    data: bytes
    format: str  # content format, lower-case: jpeg png webp avif gif tiff bmp
    image: Image.Image
    orientation: int  # EXIF orientation 1-8 (1 when absent or invalid)
    frame_count: int

    @property
    def display_format(self) -> str:
        return get_format(self.format).label

    @property
    def oriented_size(self) -> tuple[int, int]:
        w, h = self.image.size
        return (h, w) if self.orientation in (5, 6, 7, 8) else (w, h)

    def close(self) -> None:
        self.image.close()


def read_input(path: str) -> bytes:
    """The input file's bytes, or an error that says what to do about it."""
    with reading(path), open_quietly(path) as fh:
        return fh.read()


def _foreign_format(head: bytes) -> str | None:
    for signature, where, name in _FOREIGN_SIGNATURES:
        found = signature in head[:256] if where < 0 else head.startswith(signature)
        if found:
            return name
    return None


def _too_large(pixels: int | None, path: str) -> ImageTooLargeError:
    limit = f"limit {MAX_PIXELS / 1e6:.0f}"
    size = f"{pixels / 1e6:.0f} megapixels, " if pixels else ""
    return ImageTooLargeError(f"image too large ({size}{limit} megapixels)", path=path)


def open_source(path: str, data: bytes) -> Source:
    """Parse the header of ``data`` (read from ``path``); raise a typed, readable error."""
    if not data:
        raise UnsupportedFormatError("empty file (0 bytes): nothing to optimize", path=path)
    fmt = sniff_bytes(data[:64])
    if fmt is None:
        foreign = _foreign_format(data[:256])
        if foreign:
            raise UnsupportedFormatError(
                f"unsupported format: {foreign} (supported: {', '.join(_LABELS)})", path=path)
        raise UnsupportedFormatError(f"not an image (content is not {_READABLE})", path=path)
    spec = get_format(fmt)
    name = spec.label
    if spec.plugin is not None:
        importlib.import_module(spec.plugin).register()
    with decoding(name, path):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data), formats=[spec.pillow])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            match = _BOMB_SIZE_RE.search(str(exc))
            raise _too_large(int(match.group(1)) if match else None, path) from None
        except UnidentifiedImageError:
            raise DecodeError(f"cannot read this {name} file: its header is damaged or uses a "
                              f"{name} variant that is not supported", path=path) from None

    frame_count = getattr(image, "n_frames", 1) if spec.animation else 1
    w, h = image.size
    if w * h * frame_count > MAX_PIXELS:
        image.close()
        raise _too_large(w * h * frame_count, path)
    orientation = 1 if fmt == "png" and not png_may_hold_exif(data) else _orientation(image)
    return Source(path=path, data=data, format=fmt, image=image, orientation=orientation,
                  frame_count=frame_count)


_PNG_EXIF_TEXT = b"Raw profile type exif\0"


def png_may_hold_exif(data: bytes) -> bool:
    """Whether a PNG has an eXIf chunk or ImageMagick's "Raw profile type exif" text, the two
    places Pillow reads EXIF from. Walks the chunk headers only: Pillow's own ``getexif`` decodes
    every pixel first to reach chunks after the image data, and the libvips path then decodes
    them again (``shrink.py``)."""
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind == b"eXIf" or (kind in (b"tEXt", b"zTXt", b"iTXt")
                               and data.startswith(_PNG_EXIF_TEXT, pos + 8)):
            return True
        if kind == b"IEND":
            return False
        pos += 12 + length
    return True  # a damaged chunk list: let Pillow read what it can, as before


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not make the image unreadable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def decode(source: Source, *, target: tuple[int, int] | None, animation: bool) -> Picture:
    """Decode the pixels of ``source`` into a Picture in a normalised mode (not yet oriented).

    ``target``: the stored (un-oriented) size the pipeline will resize to. A JPEG or PNG is then
    decoded and shrunk by libvips (``shrink.py``); otherwise a JPEG decoder may scale down by 1/2,
    1/4 or 1/8 while decoding, staying at least ``DRAFT_GAP`` x the target. The frames may still
    be larger than ``target``: ``resize.resize`` finishes. ``animation``: keep every frame.
    """
    image = source.image
    name = source.display_format
    with decoding(name, source.path):
        shrunk = None
        if target is not None and shrink.takes(source.format, image, source.frame_count):
            shrunk = shrink.decode_shrunk(source.data, source.format, image.mode, image.size,
                                          target)
        if shrunk is not None:
            frames, durations = [shrunk], []
        elif animation and source.frame_count > 1:
            frames, durations = _decode_frames(image)
        else:
            if target is not None and source.format == "jpeg":
                image.draft(image.mode, draft_size(target))
            image.load()
            frames, durations = [image], []
    icc = image.info.get("icc_profile") or None
    loop = image.info.get("loop", 0) if len(frames) > 1 else 0
    frames, icc = normalise_frames(frames, icc)
    return Picture(frames=frames, durations=durations, loop=int(loop or 0), icc=icc)


def _decode_frames(image: Image.Image) -> tuple[list[Image.Image], list[int]]:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for index in range(image.n_frames):
        image.seek(index)
        image.load()
        durations.append(int(image.info.get("duration", 100) or 100))
        # Pillow composites each frame (disposal, blending) and reuses its buffer on seek.
        frames.append(image.convert("RGBA"))
    return frames, durations


def normalise_frames(
    frames: list[Image.Image], icc: bytes | None
) -> tuple[list[Image.Image], bytes | None]:
    """Frames in one of L, LA, RGB, RGBA, and the ICC profile that still applies to them."""
    out = []
    for frame in frames:
        frame, icc = _normalise_mode(frame, icc)
        out.append(frame)
    if all(f.mode == "RGBA" for f in out) and all(_opaque(f) for f in out):
        out = [f.convert("RGB") for f in out]
    elif len(out) == 1 and out[0].mode == "LA" and _opaque(out[0]):
        out = [out[0].convert("L")]
    return out, icc


def _opaque(image: Image.Image) -> bool:
    return image.getchannel("A").getextrema() == (255, 255)


def icc_colour_space(icc: bytes | None) -> bytes | None:
    """The data colour space in an ICC header (b"RGB ", b"GRAY", b"CMYK", ...)."""
    return icc[16:20] if icc and len(icc) >= 20 else None


def _normalise_mode(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    mode = image.mode
    if mode in ("L", "RGB") and "transparency" in image.info:
        image = image.convert("LA" if mode == "L" else "RGBA")  # a tRNS colour key
    elif mode in ("L", "LA", "RGB", "RGBA"):
        pass
    elif mode == "1":
        image = image.convert("L")
    elif mode == "P":
        has_alpha = "transparency" in image.info or image.palette.mode == "RGBA"
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode in ("PA", "RGBa", "RGBX"):
        image = image.convert("RGBA" if mode != "RGBX" else "RGB")
    elif mode == "La":
        image = image.convert("LA")
    elif mode.startswith("I") or mode == "F":
        image = _to_8bit_grey(image)
    elif mode == "CMYK":
        return _cmyk_to_rgb(image, icc)
    else:  # YCbCr, LAB, HSV: rare; Pillow's conversion is good enough
        image = image.convert("RGB")
    space = icc_colour_space(icc)
    wanted = b"GRAY" if image.mode in ("L", "LA") else b"RGB "
    if space is not None and space != wanted:
        icc = None  # a profile for other channels would describe these pixels wrongly
    return image, icc


def _to_8bit_grey(image: Image.Image) -> Image.Image:
    # Pillow's convert("L") clips 16-bit values at 255; scale the real range down instead.
    if image.mode.startswith("I;16"):
        scale = 1 / 257
    else:
        low, high = image.getextrema()
        scale = 1.0 if high <= 255 else (1 / 257 if high <= 65535 else 255 / high)
        if image.mode == "F" and low >= 0 and high <= 1.0:
            scale = 255.0
    source = image if image.mode in ("I", "F") else image.convert("I")
    return source.point(lambda v: v * scale + 0.5).convert("L")


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    if icc is not None and icc_colour_space(icc) == b"CMYK":
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(image, profile, srgb, outputMode="RGB")
            if converted is not None:
                return converted, None
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: fall back to the plain conversion below
    return image.convert("RGB"), None


def grey_to_rgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """L/LA → RGB/RGBA for formats without grey; a grey ICC profile is applied, then dropped."""
    target = "RGBA" if image.mode == "LA" else "RGB"
    if icc_colour_space(icc) == b"GRAY":
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))  # type: ignore[arg-type]
            srgb = ImageCms.createProfile("sRGB")
            base = image.convert("L") if image.mode == "LA" else image
            converted = ImageCms.profileToProfile(base, profile, srgb, outputMode="RGB")
            if converted is not None:
                if image.mode == "LA":
                    converted.putalpha(image.getchannel("A"))
                return converted, None
        except (ImageCms.PyCMSError, OSError):
            pass
        return image.convert(target), None
    return image.convert(target), icc

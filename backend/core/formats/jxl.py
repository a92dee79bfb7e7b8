"""JPEG XL: libjxl 0.12 through ``pillow-jxl-plugin`` (Rust ``jpegxl-rs``), read and written.

Why this binding: of the three on PyPI it is the one that carries metadata. It writes lossy and
lossless frames at a quality and an effort, alpha, EXIF and XMP boxes, and the lossless JPEG
transcode with its reconstruction data; its decoder returns the ICC profile, the EXIF box and,
for a transcoded file, the original JPEG bytes. ``imagecodecs`` (libjxl 0.11) has the transcode
too but writes no metadata boxes and gives every animation frame the same 100 ms; ``jxlpy`` is
unmaintained. No binding sets an ICC profile on a lossy encode, nor per-frame durations.

Decisions (measured with ``python -m bench.jxl``; figures in ``bench/QUALITY.md``):

- Quality number: mapped (``QUALITY_SCALE``) onto libjxl's quality so that each UI number gives
  the mean SSIMULACRA2 our JPEG gives at that number on the bench corpus: a person switching
  from JPEG to JPEG XL at the same number gets the same measured quality in fewer bytes.
- Effort ``EFFORT`` (libjxl's 1-10; its default is 7), chosen for time: see ``bench/QUALITY.md``.
- Quality 100: lossless (modular) from pixels, so the decoded pixels are identical; for a JPEG
  input that keeps its size, the lossless JPEG transcode instead (``from_source``): the same DCT
  coefficients recoded, ~20 % smaller, and the JPEG is reconstructable from the JXL file. It
  reconstructs the input's exact bytes whenever the settings keep all the file carries
  (``metadata: keep``, or a file with no metadata but its ICC profile); otherwise it is the
  JPEG our lossless rewrite would write (``jpeg_source.optimize_source``: metadata per the mode,
  same pixels), transcoded.
- Colour: lossy JPEG XL is coded in XYB and decoded to sRGB unless a profile says otherwise, and
  the binding cannot write a profile; pixels with a profile are converted to sRGB (LittleCMS,
  relative colorimetric) before encoding. Colours outside sRGB (Display P3 photos) are clipped
  to it. The lossless transcode keeps the JPEG's own profile.
- Metadata: EXIF (orientation 1: the pixels are upright) and XMP as ``Exif``/``xml `` boxes in
  the container, per the ``metadata`` mode; with nothing to carry the file is a bare codestream
  (no container: a few bytes smaller).
- Animations are refused with a clear per-file error rather than flattened to one frame: no
  binding writes frames with their own durations.
- One thread per image (encode and decode): the pool runs one worker per core.
"""

from __future__ import annotations

from typing import IO

from PIL import Image, ImageCms
from pillow_jxl import Encoder, JpegXLImagePlugin

from backend.core.colour import to_srgb
from backend.core.formats import jpeg_source
from backend.core.formats.bmff import truncation_message, whole_file
from backend.core.formats.scale import Scale, native_quality
from backend.core.picture import EncodeRequest, Picture
from backend.errors import UnsupportedFormatError

# Measured by ``python -m bench.jxl --quick`` (2026-12-03, 13 crops of 512 px, our JPEG being
# jpegli): at each UI number, the libjxl quality whose mean SSIMULACRA2 equals our JPEG's at
# that number. Below UI 10 our JPEG scores lower than libjxl can go, so the floor is libjxl's 1.
QUALITY_SCALE: Scale = ((1, 1), (10, 1), (30, 15), (50, 32), (70, 60), (80, 75), (90, 86),
                        (95, 92), (100, 100))
EFFORT = 7
THREADS = 1
_SOI = b"\xff\xd8"
_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
_EXIF_HEADER = b"Exif\x00\x00"
# The APPn segments that describe the pixels, not the photo: JFIF, ICC profile, Adobe (colour
# transform). Any other APPn or COM segment is metadata the settings may drop.
_IMAGE_DATA_SEGMENTS = {0xE0: (b"JFIF\x00", b"JFXX\x00"), 0xE2: (b"ICC_PROFILE\x00",),
                        0xEE: (b"Adobe",)}
_METADATA_MARKERS = frozenset(range(0xE0, 0xF0)) | {0xFE}
_SOS = 0xDA
# Other input formats it takes as they are (``Encoder.takes_source``): the JPEG transcode.
SOURCE_FORMATS = ("jpeg",)


class _JxlFile(JpegXLImagePlugin.JXLImageFile):
    """The plugin's reader, with libjxl's catch-all error ("Generic Error. Please build libjxl
    from source…") turned into what a person can act on."""

    def _open(self) -> None:
        try:
            super()._open()
        except RuntimeError:
            raise OSError(_damage(self.fp)) from None


def _damage(fp: IO[bytes]) -> str:
    data = whole_file(fp)
    cut = truncation_message(data) if data.startswith(_CONTAINER) else None
    return cut or "libjxl cannot decode it (damaged, or cut short)"


def register() -> None:
    """Make ``_JxlFile`` Pillow's JPEG XL reader. The loader calls it before every JXL open, as
    for HEIC: another library importing the plugin again would put its plain reader back."""
    Image.register_open(_JxlFile.format, _JxlFile, JpegXLImagePlugin._accept)


JpegXLImagePlugin.DECODE_THREADS = 0  # the plugin's switch for "no decoding threads"
register()


def target_quality(quality: int) -> int:
    """libjxl's quality for the UI's ``quality``."""
    return 100 if quality >= 100 else native_quality(QUALITY_SCALE, quality)


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    return encode_native(picture, req, target_quality(req.quality))


def encode_native(picture: Picture, req: EncodeRequest, quality: float) -> bytes:
    """Encode at libjxl's own ``quality`` (100: lossless; the bench calibrates the UI scale)."""
    if req.source_frames > 1:
        raise UnsupportedFormatError(
            f"JPEG XL output cannot hold this animation ({req.source_frames} frames): choose "
            "WebP, AVIF or PNG (APNG) to keep it moving, or Original")
    image = picture.image
    lossless = quality >= 100
    if picture.icc and not lossless:
        image = _in_srgb(image, picture.icc)
    encoder = Encoder(mode=image.mode, lossless=lossless, quality=float(min(quality, 100)),
                      effort=EFFORT, use_container=bool(picture.exif or picture.xmp),
                      use_original_profile=lossless, num_threads=THREADS)
    exif = picture.exif.removeprefix(_EXIF_HEADER) if picture.exif else None
    # The Exif box holds the offset of the TIFF header first (ISO/IEC 18181-2); here 0.
    return encoder(image.tobytes(), image.width, image.height, jpeg_encode=False,
                   exif=b"\x00\x00\x00\x00" + exif if exif else None, xmp=picture.xmp or None,
                   jumb=None, compress=False)


def _in_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        return to_srgb([image], icc)[0]
    except (ImageCms.PyCMSError, OSError):
        return image  # a broken profile: the pixels as they are, read as sRGB


def from_source(source: bytes, req: EncodeRequest) -> bytes | None:
    """A JPEG input at quality 100 as a lossless transcode; None to encode pixels."""
    if req.quality < 100 or not source.startswith(_SOI):
        return None
    exact = req.metadata == "keep" or _only_image_data(source)
    jpeg_data = source if exact else jpeg_source.optimize_source(source, req)
    encoder = Encoder(mode="RGB", lossless=True, quality=100.0, effort=EFFORT,
                      use_container=True, num_threads=THREADS)
    try:
        return encoder(jpeg_data, 0, 0, jpeg_encode=True)
    except RuntimeError:
        return None  # a JPEG libjxl cannot transcode (e.g. arithmetic coded): encode pixels


def _only_image_data(jpeg_data: bytes) -> bool:
    """Whether the JPEG's header carries nothing but JFIF, ICC and Adobe segments."""
    pos = 2
    while pos + 4 <= len(jpeg_data) and jpeg_data[pos] == 0xFF:
        marker = jpeg_data[pos + 1]
        if marker == _SOS:
            return True
        body = jpeg_data[pos + 4 : pos + 4 + 14]
        if marker in _METADATA_MARKERS and not body.startswith(
                _IMAGE_DATA_SEGMENTS.get(marker, ())):
            return False
        pos += 2 + int.from_bytes(jpeg_data[pos + 2 : pos + 4], "big")
    return True


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # libjxl already chose the coding for these settings

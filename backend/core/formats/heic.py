"""HEIC/HEIF input: libheif (with libde265 for HEVC) through ``pillow-heif``'s Pillow plugin.

Imported by the loader before a HEIC file is opened (the registry's ``plugin``); HEIC is read,
never written: "Original" writes JPEG for it (see the registry).

Decisions:

- Orientation: HEIF stores it as transforms (``irot``/``imir``) that libheif applies while
  decoding; pillow-heif then sets the EXIF orientation to 1 (keeping the stored one as
  ``original_orientation``), so the pipeline does not turn the pixels a second time. Kept EXIF
  (``metadata: keep``) says 1 as well, which matches the upright pixels.
- Colour: an ICC profile (``prof``, as iPhones write Display P3) is carried like any input's.
  A file that signals its colours only as ``nclx`` (no profile) is taken as sRGB.
- 10/12-bit (HDR-capable iPhone and camera files): decoded to 8 bits per channel by libheif,
  rounded, not truncated. Every output this path writes is 8-bit (JPEG, WebP, AVIF and JPEG XL
  from 8-bit pixels, PNG from the loader's 8-bit modes), so the extra bits could only be dropped
  later; converting once in libheif is the same result for less memory.
- Alpha is kept (mode RGBA) for outputs that hold it.
- A file with several images (bursts, Live Photo stills, a collection): the primary image is
  used, as every viewer shows it; thumbnails, depth maps and auxiliary images are not decoded.
- A file cut short says so ("truncated: the file ends inside its 'mdat' box"), checked before
  libheif reads it: libheif only says it cannot read such a file (which the loader reports as
  a damaged header), and from 1.21 decodes some of them without an error, a picture with its
  end missing.
- One decoding thread: the pool already runs one worker per core.
"""

from __future__ import annotations

import pillow_heif
from PIL import Image
from pillow_heif import as_plugin

from backend.core.formats.bmff import truncation_message, whole_file


class _HeicFile(as_plugin.HeifImageFile):
    """pillow-heif's reader, telling a truncated file from a damaged one."""

    def _open(self) -> None:
        # Checked before libheif sees the file: libheif 1.21 (pillow-heif 1.9) decodes some
        # files cut inside 'mdat' without an error, and words others as "Unexpected end of file".
        cut = truncation_message(whole_file(self.fp))
        if cut is not None:
            raise OSError(cut)
        super()._open()


def register() -> None:
    """Make ``_HeicFile`` Pillow's HEIF reader. The loader calls it before every HEIC open:
    other libraries re-register pillow-heif's own reader whenever they like (imageio does so each
    time it opens a file), which would silently lose the truncation message."""
    Image.register_open(_HeicFile.format, _HeicFile, as_plugin._is_supported_heif)


pillow_heif.options.DECODE_THREADS = 1
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
register()

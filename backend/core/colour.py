"""``icc: srgb``: pixels converted from their embedded profile to sRGB, the profile dropped.

Decisions:

- LittleCMS (Pillow's ImageCms), relative colorimetric intent, as browsers render matrix/TRC
  profiles: colours inside sRGB's gamut stay the same; colours outside it are clipped.
- Untagged images are taken to be sRGB already and are left alone.
- A grey image with a grey profile becomes RGB (sRGB is an RGB space); alpha is carried over.
- An output made from the input file alone (lossless JPEG/PNG rewrites, the kept original)
  cannot change pixels, so a tagged input with ``icc: srgb`` is always re-encoded.
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def to_srgb(frames: list[Image.Image], icc: bytes) -> list[Image.Image]:
    """``frames`` (modes L, LA, RGB, RGBA) converted from profile ``icc`` to sRGB."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    converted = []
    for frame in frames:
        alpha = frame.getchannel("A") if frame.mode in ("LA", "RGBA") else None
        base = frame.convert(frame.mode[:-1]) if alpha is not None else frame
        rgb = ImageCms.profileToProfile(
            base, source, _SRGB, outputMode="RGB",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
        assert rgb is not None  # inPlace=False always returns the new image
        if alpha is not None:
            rgb.putalpha(alpha)
        converted.append(rgb)
    return converted

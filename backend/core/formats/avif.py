"""AVIF: libavif + aom through Pillow.

Decisions (measured with ``python -m bench.rd``; figures in ``bench/QUALITY.md``):

- Encoder speed 6 (the original's libvips effort 2 is speed 7). At speed 7 we matched sharp
  at best (+0.5 % bytes at its default's SSIM); speed 6 needs 4-6 % fewer bytes than speed 7
  for the same SSIM and butteraugli, for ~1.7x the time (a 4 MP photo: 2.5 s instead of 1.5 s
  on one core). ``tune=ssim`` won 9 % at equal SSIM but lost at equal butteraugli: not used.
- Quality number: mapped (``QUALITY_SCALE``) so each UI number gives the mean SSIM the
  original's libheif/aom gave at that number (the default 90 is libavif quality 88).
- Chroma 4:4:4 at every quality (grey images: 4:0:0). Against 4:2:0 below 90 it costs ~3 % at
  equal SSIM (which sees luma only) and saves ~11 % at equal butteraugli (~16 % against 4:2:0
  everywhere): AV1 codes full-resolution chroma cheaply, and 4:2:0 smears coloured edges.
- One encoder thread per image (``max_threads=1``): the pool already runs one worker per core,
  and aom's own threads would only compete with the other worker.
- Quality 100 is "as good as AVIF gets here", not bit-exact: Pillow's AVIF encoder has no
  lossless mode (that needs identity matrix coefficients, which it does not expose), so 100 is
  quantizer 0 with 4:4:4 chroma; measured on photos the decoded pixels differ by at most 2
  levels per channel (mean ~0.5). Choose PNG or WebP at 100 for exact pixels.
- Grey images are encoded as monochrome AVIF (4:0:0); animations stay animations.
"""

from __future__ import annotations

from backend.core.formats.scale import Scale, native_quality
from backend.core.loader import grey_to_rgb
from backend.core.picture import EncodeRequest, Picture

# Measured by ``python -m bench.rd --calibrate`` (full corpus, 640-px crops; SSIM of the
# original's libheif/aom at each UI number reached by our libavif settings at the second).
QUALITY_SCALE: Scale = ((1, 1), (10, 5), (30, 28), (50, 47), (70, 65), (80, 74), (90, 88),
                        (95, 95), (100, 100))
SPEED = 6
THREADS = 1


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    return encode_native(picture, req, target_quality(req.quality))


def target_quality(quality: int) -> int:
    """libavif's quality for the UI's ``quality``."""
    return 100 if quality >= 100 else native_quality(QUALITY_SCALE, quality)


def encode_native(picture: Picture, req: EncodeRequest, quality: int) -> bytes:
    """Encode at libavif's own ``quality`` (the bench calibrates the UI scale with it)."""
    icc = picture.icc
    frames = []
    for frame in picture.frames:
        if frame.mode == "LA":  # libavif's grey has no alpha plane through Pillow
            frame, icc = grey_to_rgb(frame, picture.icc)
        frames.append(frame)
    grey = frames[0].mode == "L"
    options: dict[str, object] = {
        "quality": quality,
        "speed": SPEED,
        "subsampling": "4:0:0" if grey else ("4:2:0" if req.chroma == "4:2:0" else "4:4:4"),
        "max_threads": THREADS,
    }
    # Always given: Pillow would otherwise fall back to a profile left in the frame's info.
    options["icc_profile"] = icc
    return picture.save("AVIF", frames, options)


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # aom already chose the coding for these settings

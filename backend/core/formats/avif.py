"""AVIF: libavif + aom through Pillow.

Decisions (measured with ``python -m bench.webp_avif`` against sharp 0.35.5, whose AVIF is
libheif/aom at effort 2 = speed 7, 4:2:0, ``tune=iq``; BD-rate at equal mean SSIMULACRA2 /
butteraugli, figures in ``bench/QUALITY.md``, ``bench/results/webp_avif-*.md``):

- Colour frames go to libavif as RGBA (opaque alpha, which libavif does not store). Given RGB,
  libavif takes a coarse RGB-to-YUV path: decoded pixels off by ~0.9 levels on average even at
  quality 100, a butteraugli floor of ~1.1 on flat artwork whatever the bytes. That floor was
  why our AVIF lost on butteraugli (tune split: -15.6 % SSIMULACRA2 but +20.1 % butteraugli);
  through RGBA, same speed: -18.2 % / -12.2 %, and the error at 100 is ~0.35 levels.
- Encoder speed 7, the original's effort 2 (with aom's defaults: -13.0 % / -6.6 % against
  sharp on the tune split at 1.2x sharp's encode time; see the aom options below for the time
  target); speed 6 saves 5-6 points more for 2.5x sharp's time, speed 8 loses (+3.3 % /
  +15.0 %). libavif already asks aom for ``tune=iq`` (bytes identical with and without it);
  ``tune=ssimulacra2`` moved neither metric by more than 1 point; 4:2:0 (libavif's plain
  averaging) lost 30 % on butteraugli.
- Quality number: mapped (``QUALITY_SCALE``) so each UI number gives the mean SSIMULACRA2 the
  original's libheif/aom gave at that number (the default 90 is libavif quality 85 with the
  aom options below, 84 with aom's defaults; on SSIM it was 88). Held-out check
  (``bench/results/quality_calibration-avif-held-out.md``): ours within 0.7 of sharp's mean
  score at 10-95 (-0.7 at 90, -0.4 at 80), the held-out fit within 1 of the tune one;
  butteraugli not re-checked there (the BD-rates above are).
- aom options (``AOM_OPTIONS``): no intra block copy and no trellis quantization
  (``enable-intrabc=0``, ``disable-trellis-quant=1``), chosen for encode time on the tune split
  (CPU time against sharp, encodes alternating, the fastest of 3 per crop, in one run):
  0.90-0.94x over three runs (aom's defaults 1.17-1.18x in the same runs), held-out 0.88-0.89x
  over two (defaults 1.06x), load ~2-3.5. Bytes at equal SSIMULACRA2 / butteraugli: tune
  -13.0 % / -7.5 % (aom's defaults -13.0 % / -6.6 %), held-out -8.3 % / -16.1 % (defaults
  -8.8 % / -15.6 %) (``bench/results/webp_avif-{tune,held-out}-aom.md``).
  Trellis off codes ~5 % fewer bytes at the same quality number for a little less quality (the
  scale above was re-calibrated with it: 90 is now libavif 85, was 84), and comes out level on
  SSIMULACRA2 and ahead on butteraugli. Also measured on tune (``webp_avif-tune-trellis.md``,
  aom defaults there 1.21x): trellis off in the search only 0.99x, -12.8 % / -5.2 %; intra DCT
  only 0.99x, -12.4 % / -6.1 %; both 0.91x, -12.5 % / -5.2 %; coefficient/mode cost updates per
  tile cost butteraugli (-3.8 %). Before (``webp_avif-tune-speed.md``): without intra block
  copy (same bytes) 1.13x; also without filter/smooth intra 1.11x; also without
  diagonal/angle-delta intra 1.03x (-9.6 % / -3.3 %); speed 8 0.56x but +3.3 % / +15.0 %, speed
  9 0.27x, +11.7 % / +23.6 %. No effect at speed 7 (identical files on 15-16 of 16 crops, no
  time saved): rectangular, AB and 1:4 partitions off, max-partition-size 16/32/64,
  min-partition-size 8, tx64 off, rect-tx off, chroma deltaq on. Palette off saves ~8 % of
  the time but +7 % bytes at the same quality number (artwork); enable-qm=1, deltaq-mode=6
  and tune=iq are what libavif/aom use already (identical bytes); libavif refuses
  enable-tx-size-search. Speed 8 with options was not tried: speed 7 without trellis already
  meets the target.
  sharp's aom runs on one thread (its CPU time equals its wall time), so ours stays on one too.
- Target size between two whole qualities (``encode_between``): libavif's quality has 64
  quantizer steps, ~6-8 % of bytes each, and a size search landed a median 3.4 % under its
  target (more than the 3 % a person expects). Between the libavif quality that fits and the
  next, aom's perceptual delta-q strength (default 100 %) is raised by up to ``DELTAQ_SPAN``
  points: the bytes move smoothly across the step at about the same SSIMULACRA2 per byte
  (coffee at libavif 54: 20,885 bytes / 66.38 at 100 %, 22,374 / 68.10 at 125 %; libavif 55:
  22,335 / 68.07; astronaut and chelsea alike, the next step reached at 125-140 %).
- Auto quality's sample search aims ``AUTO_SAMPLE_OFFSET`` = 1.5 above the target: the mosaic
  over-reads the whole image by 1.4-1.8 points at the tune split's answers (mate-cold 1.77,
  ladybird 1.42, float-into-mate 1.59), so at 0 the first whole-image confirmation failed on
  nearly every image. ``python -m bench.auto_quality --formats avif --levels high``, quick
  corpus, 0 → 1.5: tune 1.17 → 0.95 CPU s/MP, the same files; held-out 1.12 → 1.01 s/MP, the
  same files but one (colorful-cups 91 → 88, 7 % smaller, 85.2), -14.2 % → -15.2 % bytes vs
  sharp q90 with none below its 5th percentile. A plain encode is 0.29 s/MP, so Auto stays above
  the issue's 0.5 s/MP: the answer is encoded whole at least once, and scored.
- Chroma 4:4:4 at every quality (grey images: 4:0:0): AV1 codes full-resolution chroma
  cheaply, and 4:2:0 smears coloured edges (measured again above: +30 % at equal butteraugli).
- One encoder thread per image (``max_threads=1``): the pool already runs one worker per core,
  and aom's own threads would only compete with the other worker.
- Quality 100 is "as good as AVIF gets here", not bit-exact: Pillow's AVIF encoder has no
  lossless mode (that needs identity matrix coefficients, which it does not expose), so 100 is
  quantizer 0 with 4:4:4 chroma; measured on photos the decoded pixels differ by at most 2
  levels per channel (mean ~0.3-0.4). Choose PNG or WebP at 100 for exact pixels.
- Grey images are encoded as monochrome AVIF (4:0:0); animations stay animations.
"""

from __future__ import annotations

import math

from backend.core.formats.scale import Scale, native_quality
from backend.core.loader import grey_to_rgb
from backend.core.picture import EncodeRequest, Picture

# Measured by ``python -m bench.rd --calibrate --format avif`` (tune split, 640-px crops,
# 2026-12-03, ``bench/results/quality_calibration-avif.md``): at each UI number, libavif's
# quality (speed 7, RGBA, 4:4:4, ``AOM_OPTIONS``) whose mean SSIMULACRA2 equals sharp's there
# (with aom's defaults it was 10, 29, 49, 67, 76, 84, 87; before that: mean SSIM).
QUALITY_SCALE: Scale = ((1, 1), (10, 12), (30, 32), (50, 52), (70, 69), (80, 78), (90, 85),
                        (95, 88), (100, 100))
SPEED = 7
THREADS = 1
DELTAQ_SPAN = 40  # delta-q strength points across one libavif quality step (module docstring)
# Auto quality's sample search aims this far above the target (see the module docstring).
AUTO_SAMPLE_OFFSET = 1.5
AOM_OPTIONS: dict[str, str] = {"enable-intrabc": "0", "disable-trellis-quant": "1"}


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    return encode_native(picture, req, target_quality(req.quality))


def encode_between(picture: Picture, req: EncodeRequest, quality: float) -> bytes:
    """A UI quality between two whole numbers: the libavif quality at that point of the way
    between theirs, with aom's delta-q strength raised by the fraction left over."""
    whole = math.floor(quality)
    low, high = target_quality(whole), target_quality(min(whole + 1, 100))
    if high >= 100 or high <= low:
        return encode_native(picture, req, low)
    position = low + (quality - whole) * (high - low)
    native = math.floor(position)
    strength = 100 + round((position - native) * DELTAQ_SPAN)
    return encode_native(picture, req, native,
                         aom={**AOM_OPTIONS, "deltaq-strength": str(strength)})


def target_quality(quality: int) -> int:
    """libavif's quality for the UI's ``quality``."""
    return 100 if quality >= 100 else native_quality(QUALITY_SCALE, quality)


def encode_native(picture: Picture, req: EncodeRequest, quality: int, *, speed: int = SPEED,
                  subsampling: str | None = None, aom: dict[str, str] | None = None,
                  rgba: bool = True) -> bytes:
    """Encode at libavif's own ``quality`` (the bench calibrates the UI scale with it).
    ``speed``, ``subsampling`` (for colour images), ``aom`` (aom's own options, as aomenc
    names them, in place of ``AOM_OPTIONS``) and ``rgba`` (False: hand RGB frames over as RGB,
    the less accurate conversion): the bench tries others."""
    icc = picture.icc
    frames = []
    for frame in picture.frames:
        if frame.mode == "LA":  # libavif's grey has no alpha plane through Pillow
            frame, icc = grey_to_rgb(frame, picture.icc)
        if rgba and frame.mode == "RGB":
            # libavif converts 3-channel RGB to YUV through a coarse fast path (about 1 level
            # of error everywhere, butteraugli >= 1.1 even at quality 100); RGBA goes through
            # its exact one. An opaque alpha channel is not stored: the file stays RGB.
            frame = frame.convert("RGBA")
        frames.append(frame)
    grey = frames[0].mode == "L"
    chroma = subsampling or ("4:2:0" if req.chroma == "4:2:0" else "4:4:4")
    options: dict[str, object] = {
        "quality": quality,
        "speed": speed,
        "subsampling": "4:0:0" if grey else chroma,
        "max_threads": THREADS,
    }
    chosen = AOM_OPTIONS if aom is None else aom
    if chosen:
        options["advanced"] = chosen
    # Always given: Pillow would otherwise fall back to a profile left in the frame's info.
    options["icc_profile"] = icc
    return picture.save("AVIF", frames, options)


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # aom already chose the coding for these settings

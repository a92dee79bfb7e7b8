"""WebP: lossy at the quality with alpha at the same quality; lossless at 100.

Decisions:

- Lossy: libwebp ``method=4``, the original's effort 4, with the quality number as it is (same
  library, same scale): for the same pixels our files are byte-identical to sharp's at the same
  number (alpha is coded at the same quality as colour; the original kept alpha at 90).
  Against sharp 0.35.5 on the held-out split (``python -m bench.webp_avif``, BD-rate at
  equal SSIMULACRA2 / butteraugli): -0.3 % / +0.1 % (alpha, coded at 90 by sharp, differs).
  On the tune split method 5 saves 1.8 % / 2.2 % at 1.8x sharp's encode time and method 6
  4.5 % / 5.2 % at 2.8x: not worth the time. Pillow exposes no sharp YUV, SNS or filter
  strength; sharp YUV (cwebp, three tune crops) was -0.2 % / +2.6 %, so no libwebp shim for
  it. Figures in ``bench/QUALITY.md``. The +0.1 % is the bench's interpolation, not bytes:
  sharp's file and ours are byte-identical on opaque inputs (checked at 90 on four crops), and
  the bench now samples WebP at sharp's own numbers so such curves coincide (not re-run yet).
- Quality number: libwebp's own. Re-based on SSIMULACRA2 (``python -m bench.rd --calibrate``,
  tune split, ``bench/results/quality_calibration-webp_avif.md``) the mapping is the identity at
  every anchor 10-95, as it was on SSIM: same library, same scale.
- Quality 100 is lossless with ``exact=True`` (the colour under fully transparent pixels is
  kept too), so the decoded pixels are identical. Lossless effort is ``method=4, quality=75``
  (cwebp's defaults); ``method=6, quality=100`` saves ~4 % at 30x the time.
- Grey images become RGB (WebP has no grey mode); animations stay animations.
- Target size on an image with alpha (``encode_colour``): libwebp codes alpha in steps, so one
  whole quality can more than double the file (stripes-grey-alpha, 1920x1200: 40,028 bytes at
  28, 93,224 at 31; 91,574 at 70, 192,796 at 73) and a target in such a gap was met 33-41 %
  under. The size search then holds alpha at the largest whole quality that fits and raises
  the colour's quality alone, whose bytes grow smoothly. Opaque images have gaps too, inside
  libwebp's own steps, that no quality crosses (sway-blue's smooth gradient: 85,642 bytes at
  78.75, 107,162 at 79): those targets stay up to ~20 % under.
- Auto quality's sample search aims ``AUTO_SAMPLE_OFFSET`` = 0.5 above the target
  (``quality_search``; issue 13: WebP's Auto time is mostly libwebp encoding the whole image 2-3
  times). The mosaic encoded at method 4 reads 1.0 above the whole file at the tune split's
  answers (median 1.1; held-out 1.0), but noisily: over qualities 82-99 its offset from the
  whole file has a standard deviation of 2.8 points (mean of seven images) and jumps by up to 14
  between neighbouring qualities (the tiles' rate-distortion choices at 1/9 of the macroblocks),
  so the first confirmation fails whatever the offset on a few images. Picked by replaying the
  real search on measured tables (sample and whole-image scores and CPU at every quality, the
  quick corpus' nine sampled images): search CPU (s/MP, without loading) tune 0.56 -> 0.43
  "high", 0.53 -> 0.47 "balanced", held-out 0.39 -> 0.33 "high", 0.36 -> 0.36 "balanced";
  whole-image encodes 32 -> 29 over the 18 searches; held-out files identical, tune bytes -1.2 %
  / -7.5 %. Offsets of 0.75-1.5 spent more on held-out "high" (0.38-0.49 s/MP), from 1.0 on tune
  "high" too (0.51-0.52), and 0.75-1.0 cost 3.5 % more bytes on tune "high". The bench (``python
  -m bench.auto_quality --formats webp --no-sizes``, run paired with offset 0 twice back to
  back): held-out "high" 0.50 -> 0.43 s/MP, "balanced" 0.56 -> 0.57, tune "high" 0.74 -> 0.62,
  "balanced" 0.68 -> 0.61 on a machine where plain q90 took 0.12-0.16 s/MP (0.11-0.14 in
  ``bench/results/auto_quality-quick.md``'s earlier run). Not taken: method 2 on the sample
  reads smoothly (deviation 1.0, jumps <= 3, half the encode time) but its offset drifts with
  the quality (method 4's trellis), and the replay found no saving over method 4 and 1-3.5 %
  more bytes on held-out; tiles of 256 px read smoother at method 4 (1.9) but off by up to 4
  points on the smaller images. Not enough on its own for the issue's 0.5 s/MP on tune: a third
  to a half of tune's time is stripes-grey-alpha's (its alpha makes a whole encode 0.28 s/MP,
  and its flat sample curve, 0.2-0.5 points per quality step, takes 15 sample encodes).
"""

from __future__ import annotations

from backend.core.loader import grey_to_rgb
from backend.core.picture import EncodeRequest, Picture

LOSSY_METHOD = 4
LOSSLESS_METHOD = 4
LOSSLESS_EFFORT = 75
# Auto quality's first guess per target: the medians of its WebP answers on the bench corpus
# (``python -m bench.auto_quality``, both splits: a guess changes the time, not the answer).
AUTO_GUESS = ((90.0, 96), (85.0, 93), (80.0, 89), (70.0, 80))
# Auto quality's sample search aims this far above the target (see the module docstring).
AUTO_SAMPLE_OFFSET = 0.5


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    return encode_native(picture, req, req.quality)


def encode_between(picture: Picture, req: EncodeRequest, quality: float) -> bytes:
    """Encode at a UI quality between two whole numbers (libwebp's quality is a float)."""
    return encode_native(picture, req, min(quality, 99.0))


def encode_colour(picture: Picture, req: EncodeRequest, quality: float) -> bytes:
    """Colour at ``quality`` (below 100), alpha kept at the request's quality: a size search's
    way across the jumps alpha coding makes between two whole numbers (see the module
    docstring)."""
    return encode_native(picture, req, min(quality, 99.0), alpha_quality=req.quality)


def encode_native(picture: Picture, req: EncodeRequest, quality: float, *,
                  method: int = LOSSY_METHOD, alpha_quality: float | None = None) -> bytes:
    """Encode at libwebp's ``quality`` (100: lossless); the UI's number is libwebp's.
    ``method``: the lossy effort (the bench tries others); ``alpha_quality``: the alpha
    plane's, when it is not ``quality``."""
    icc = picture.icc
    frames = []
    for frame in picture.frames:
        if frame.mode in ("L", "LA"):
            frame, icc = grey_to_rgb(frame, picture.icc)
        frames.append(frame)
    if quality >= 100:
        options: dict[str, object] = {"lossless": True, "exact": True,
                                      "method": LOSSLESS_METHOD, "quality": LOSSLESS_EFFORT}
    else:
        options = {"quality": quality, "method": method,
                   "alpha_quality": quality if alpha_quality is None else alpha_quality}
    if icc:
        options["icc_profile"] = icc
    return picture.save("WEBP", frames, options)


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    return data  # libwebp already chose the smallest coding for these settings

"""PNG: palette quantization when it scores at least what the original gave, then oxipng.

Decisions (measured on the bench corpus; figures in ``bench/QUALITY.md``):

- Below quality 100, an image with more than 256 colours is quantized to a palette of 256
  colours with libimagequant (the engine behind the original's libvips ``palette: true``) at
  speed 4 (its default), dithered at level 0.25. Dithering noise is what a palette costs most:
  on the whole corpus files, level 0.25 against 0.5 makes files 30 % smaller and raises mean SSIM
  from 0.981 to 0.988 (smooth artwork: 0.953 → 0.977), with butteraugli within ~5 % of full
  dithering (the original's); no dithering bands smooth gradients (butteraugli +15 %).
- Quality gate, by perception: a palette is kept only when its SSIMULACRA2 against the image
  (``palette_score``: 128-px tiles sampled above half a megapixel, as Auto quality scores) reaches
  ``min_palette_score(quality)``. The thresholds are what the original's engine (sharp,
  ``palette: true``, which keeps every palette) typically delivers at that number: sharp's
  median SSIMULACRA2 over the tune split's PNG crops, 44.9 at quality 30 rising to 76.3 at 90
  and 77.4 at 95 (``python -m bench.png_palette``); above 95 only an exact palette is kept.
  On the held-out split at quality 90 that gives 24 % fewer bytes than sharp with no image
  below sharp's SSIMULACRA2 or above its butteraugli (mean 91.0 against 73.6; butteraugli
  0.55 against 2.44). Photos' 256-colour palettes score 78-85, so they pass up to 95; smooth
  artwork (mate-cold: 70) and a colour wheel (42) stay lossless. libimagequant's own quality,
  the gate before, cannot tell those apart from photos. The gate costs one SSIMULACRA2 score
  (~0.25 s of CPU for a whole image below 1 MP or a 0.5 MP sample).
- The quality number also sets how good the palette must get before libimagequant stops adding
  colours (its maximum quality), as in the original's libvips, but ``PALETTE_HEADROOM`` (10)
  higher: at the default 90 every palette gets all 256 colours it can use, and each step down
  trims colours, so a lower number still means a smaller file. When that budget's palette fails
  the gate but the richest palette passes, a search (interpolating on libimagequant's stopping
  quality, within ``SEARCH_TOLERANCE``) takes about the fewest colours that pass, so the result
  is never a lossless file at one quality and a palette at a higher one: a higher number never
  scores lower. Without it, artwork failed the gate at 30-80 and passed at 90 (altai: lossless
  183 KB at quality 80, a 60 KB palette at 90). The search costs 3-6 more palettes and scores,
  on those images only.
- Images that already have at most 256 colours (artwork, screenshots, grey images) are written
  with their exact palette (or grey): no quantization, pixels unchanged.
- Compression, chosen for bytes per second: a palette image gets one filter (none: palette
  indices do not predict) and libdeflate level 6, ~0.03 s/MP; oxipng's default preset (four
  filter trials at libdeflate 11) makes files ~15 % smaller but takes ~0.35 s/MP, more than
  the original's whole PNG pipeline, and levels 7-9 save < 1 % more than 6.
- A truecolour file below quality 100 (the palette refused by the gate) gets the Entropy filter
  at libdeflate 6, ~0.09 s/MP: the default quality must not make the PNG workload slower than
  the original's engine (issue 13), and near-optimal deflate cannot be afforded there. Since
  the gate keeps smooth artwork lossless, these are most of the corpus PNGs' megapixels
  (altai, kay, cascade, mate-cold, stripes, sway-blue: 44.6 of 55.8 MP), files their makers
  already compressed well: on those six (15.58 MB) Entropy at 6 gives 15.47 MB in 4.0 CPU s
  (most inputs kept as they were), the row sample's filter (``lossless_options``) at 6 the
  same bytes in 11.9 s, at 8 15.01 MB in 16.6 s, at 10 13.60 MB in 34.4 s. With level 10 the
  PNG workload at 2 workers ran at 0.37x sharp's speed (24.1 % saved at quality 90); with
  Entropy at 6 quality 90 saves less than quality 100 (which pays for libdeflate 12).
- The gate looks at the sample first (``_Judge.first_look``): libimagequant's palette for the whole
  image (chosen from a quarter of its pixels), remapped onto the scorer's tiles only. Remapping
  the whole image was ~2/3 of the gate's time on a large image (kay, 14.7 MP: 1.32 of 2.0 s),
  and the images it refuses are the large smooth ones, so a palette that misses the target on
  the sample by ``EARLY_REFUSAL`` points is refused there; one that comes closer is remapped
  and scored as before, so no decision moves unless the sample reads 2 points off the whole
  image. The palette is chosen once per attempt (``quantize.palette_for``) and remapped onto
  the tiles, then onto the whole image if the sample passes; remapping the tiles first leaves
  the whole image's remap as it would be (``tests/test_quantize.py``); the scorer and its
  sample are made on first use (``_Judge``), so grey and few-colour images pay for neither.
  Corpus at quality 90: the same files, the gate 7.5 → 4.1 CPU s (kay 2.23 → 0.74, altai 1.72
  → 0.62, cascade 1.27 → 0.43, calla, whose palette is kept, 0.77 → 0.76; the whole PNG
  pipeline 9.6 → 8.0 s in one process). On the 9 corpus PNGs above half a
  megapixel at 30, 50, 70, 80, 90 and 95, the same decision every time; 2 of the 54 (altai
  at 30 and 70) keep a palette of a neighbouring colour budget, the search having
  interpolated on the sample's score.
- Quality 100 (``lossless_options``, ``python -m bench.png_lossless``, CPU seconds of one oxipng
  thread; chosen on the tune split, checked on the held-out one): one row filter, the one that
  wins on a sample of the rows (``png_filter_probe``: 1/16 of them, at least 4 bands of 32, each
  candidate at libdeflate 10), compressed alone at libdeflate 12. The preset ranks its four
  filters at libdeflate 7, and that is not the final ranking (altai: Entropy at 7, Sub 2.4 %
  smaller at 11); ``-o4`` compresses every candidate at 12, 4x the preset's CPU. One filter at
  12 costs 1.0-1.6x the preset on the big files, and level 12 also raises oxipng's reduction
  effort to its highest (palette sorting by co-occurrence: the grey-alpha wallpaper 400 KB
  against the preset's 525). Candidates: Sub, Entropy, Brute for truecolour, each the clear
  winner somewhere (altai Sub -2.4 %, calla Brute -3.4 % at 11), where Bigrams, BigEnt and
  MinSum never beat them by more than 0.1 %; None, Entropy, BigEnt, Brute for palette, grey and
  <= 256 colours, whose sample goes through oxipng's reductions as the whole image does (a
  truecolour sample is reduced here: a few bands could make a palette the image has not).
  BigEnt (added in the second round) comes before Brute, so a tie on the sample goes to the
  cheaper filter: the grey-alpha wallpaper's sample is 54,720 bytes with either (Entropy
  54,721), and at 12 BigEnt makes the whole image 391,193 bytes (o4's, 2.19 s) against Brute's
  399,544 (3.04 s). Entropy stays: the tests' 200-colour logo is 24,543 bytes with it at 12
  against BigEnt's 24,899 and Brute's 26,666 (its sample ranks them so). A sample of 1/32
  missed calla's winner; ranking at libdeflate 11 picked the same filters but three, for 0.05 %
  fewer bytes on the tune split and 1.6x the probe's CPU (16.4 against 10.3 s over the bench
  files). Run of 2026-12-03 (load 4-8): tune split 17.29 % saved at 1.28x the preset's CPU (o4
  17.17 % at 4.05x); held-out 19.94 % at 1.64x (o4 20.00 % at 4.71x: not met there, calla and
  cascade are Brute at 12, 2.0x and 1.4x the preset); all corpus PNGs 18.06 % at 1.39x (o4 17.98
  % at 4.26x); synthetic 4.36 % at 2.13x, o4's savings (the 12 MP gradient, 18 % smaller at 12);
  every file 15.30 % at 1.48x (o4 15.25 %). 16-bit, 1-bit and animated PNGs keep the preset
  (Pillow reads 16-bit colour as 8-bit, so a sample would rank other bytes). Pixels are
  identical on every file.
- Quality 100, second round (issue 13: the held-out split still short of o4; whole images, one
  filter, CPU s of one thread, load 2-3). The 1.5x budget cannot be met there by choosing
  filters while the final level is 12: "o2 + libdeflate 12" alone is 1.51x the preset, and the
  pass at 12 is most of ours (calla: ~15.5 of 17.6 s with Brute, whose run at level 1 takes
  2.07 s against BigEnt's 0.81, Entropy's 0.63 and Sub's 0.24; the probe ~1.1 s).
  Level 11 loses more bytes than its time is worth, at every size: calla Brute 930,608 (9.3 s)
  against 879,137 at 12 (17.6 s), cascade Brute 2,159,924 against 2,136,076, altai Sub
  3,740,671 against 3,720,562, kay Brute 4,209,163 against 4,198,180, mate-cold Entropy
  1,815,978 against 1,814,364. The held-out byte gap is cascade, where BigEnt at 12 gives o4's
  2,128,841 bytes (14.3 s) against Brute's 2,136,076 and Bigrams' 2,145,569, but its sample
  ranks Bigrams first and BigEnt third or fourth of the four at libdeflate 8, 10, 11 and 12
  alike (0.9 % behind at 10), and so do bands of 128 rows; only bands covering most of the
  image (4 of 512 rows) rank BigEnt first, at the cost of compressing nearly the whole image
  per candidate. "Brute only when it beats BigEnt by more than m on the sample" would need m
  between 0.54 % (cascade) and 0.65 % (skimage-logo, where BigEnt is 1.6 % larger at 12), a
  threshold read off the held-out split with no tune file on either side: not taken. BigEnt in
  place of Entropy for truecolour: tune float-into-mate -0.18 %, mate-cold -0.05 %, coffee
  +0.02 % at 12, but held-out astronaut +1.2 %: not taken. A probe at libdeflate 8 ranks altai's
  Brute above Sub (Sub 1.6 % smaller at 10 and the winner at 12): not taken; at 11 or 12 it costs
  2-3x the probe at 10 and picks the same filter on the four big files.
- oxipng's palette sorting is skipped for palettes libimagequant made. On the 11 palette images
  of the bench corpus it took 1.03 s of CPU against 0.32 s without, for 0.03 % fewer bytes,
  and it ran its trials on a second thread next to the main one, so a worker used ~1.45 cores
  while in oxipng: a single-worker pool borrowed the idle core, and two workers fought over
  two. Palettes that came with the input keep the full reductions.
- At quality 100 nothing is quantized: the pixels stay identical. When the input is already a
  PNG and nothing changes its pixels, oxipng works on the input file itself (keeping 16-bit depth
  and everything that renders), and so does the fallback when the palette was refused.
- oxipng strips "safely": chunks that affect rendering (iCCP, sRGB, gAMA, cHRM, tRNS, APNG
  frames…) stay, text/EXIF/time chunks go. With metadata "keep" nothing is stripped; with
  "keep-no-location" the filtered EXIF (eXIf) and XMP (iTXt) are written back after stripping.
- oxipng (rayon) would start one thread per core in every worker process; the pool already runs
  one worker per core, so each worker keeps one thread (``RAYON_NUM_THREADS``, set before
  oxipng's thread pool starts, unless the environment sets it).
- Animations are written as APNG; all frames share one palette when that is exact (at most
  256 colours over the whole animation, as in a GIF) or passes the same quality gate (scored
  on the first frame).
"""

from __future__ import annotations

import io
import math
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import numpy as np
import oxipng  # after the thread count: rayon reads it when its pool starts
from PIL import Image, PngImagePlugin

from backend.core.error_map import decoding
from backend.core.formats.png_filter_probe import best_filter
from backend.core.formats.quantize import Quantizer, palette_for
from backend.core.picture import EncodeRequest, Picture
from backend.core.quality_scorer import Scorer

MAX_COLORS = 256
DITHERING = 0.25
QUANTIZE_SPEED = 4
# SSIMULACRA2 a palette must reach, at quality numbers between which it is interpolated (flat
# below the first, refused above the last): calibrated by ``bench/png_palette.py`` on the tune
# split (see the module docstring).
PALETTE_SCORE_AT: tuple[tuple[int, float], ...] = ((30, 44.9), (50, 54.4), (70, 65.1),
                                                   (80, 74.0), (90, 76.3), (95, 77.4))
PALETTE_HEADROOM = 10
# SSIMULACRA2 points below the target at which the palette's score on the sample alone refuses
# it without remapping the whole image (see the module docstring).
EARLY_REFUSAL = 2.0
SEARCH_TOLERANCE = 3  # libimagequant quality points the search may stop short of the fewest colours
LOSSLESS_PRESET = 2  # oxipng's default preset, the base of every pass
FAST_DEFLATE = oxipng.Deflaters.libdeflater(6)
# Quality 100: the filters a sample of the rows chooses among at PROBE_DEFLATE, the winner
# alone compressed at LOSSLESS_DEFLATE, which also raises oxipng's reduction effort to its
# highest (palette sorting by co-occurrence, indexed to grey): see the module docstring.
LOSSLESS_FILTERS = [oxipng.RowFilter.Sub, oxipng.RowFilter.Entropy, oxipng.RowFilter.Brute]
# BigEnt before Brute: a tie on the sample goes to the cheaper filter (see the module docstring).
FEW_COLOURS_FILTERS = [oxipng.RowFilter.NoOp, oxipng.RowFilter.Entropy, oxipng.RowFilter.BigEnt,
                       oxipng.RowFilter.Brute]
PROBE_DEFLATE = oxipng.Deflaters.libdeflater(10)
LOSSLESS_DEFLATE = oxipng.Deflaters.libdeflater(12)
_PALETTE_FILTERS = [oxipng.RowFilter.NoOp]
_TRUECOLOR_FILTERS = [oxipng.RowFilter.Entropy]
_COLOUR_TYPE_OFFSET = 25  # in the file: signature (8), IHDR length + type (8), width, height, depth
_PALETTE_COLOUR_TYPE = 3


def min_palette_score(quality: int) -> float:
    """SSIMULACRA2 a palette must reach against the image at this quality setting."""
    anchors, scores = zip(*PALETTE_SCORE_AT, strict=True)
    if quality > anchors[-1]:
        return 100.0  # above the last anchor only an exact palette is good enough
    return float(np.interp(quality, anchors, scores))


def _scorer(image: Image.Image) -> Scorer | None:
    """The gate's scorer for ``image``; None when it is too small to score (no palette is then
    trusted unseen)."""
    try:
        return Scorer(image, "PNG", keeps_alpha=True)
    except ValueError:
        return None


def palette_score(image: Image.Image, data: bytes) -> float:
    """SSIMULACRA2 of the PNG ``data`` (its first frame) against ``image``; on a sample of
    tiles above half a megapixel, as Auto quality scores (``quality_scorer.py``)."""
    scorer = _scorer(image)
    return -math.inf if scorer is None else scorer.fast(data)


def _sheet(frames: list[Image.Image]) -> Image.Image:
    """All frames stacked vertically, so one palette can be chosen for the whole animation."""
    if len(frames) == 1:
        return frames[0]
    w, h = frames[0].size
    sheet = Image.new(frames[0].mode, (w, h * len(frames)))
    for i, frame in enumerate(frames):
        sheet.paste(frame, (0, h * i))
    return sheet


@dataclass(frozen=True, slots=True)
class Palette:
    frames: list[Image.Image]
    exact: bool  # every colour of the input is in the palette: no pixel changed


SampleLook = Callable[[Quantizer], float | None]


@dataclass(frozen=True, slots=True)
class Refused:
    """A palette refused on the gate's look at the sample, before the whole image was remapped."""

    score: float  # the sample's SSIMULACRA2


def palettize(frames: list[Image.Image], quality: int, colour_target: int,
              first_look: SampleLook | None = None) -> Palette | Refused | None:
    """The frames as palette images sharing one palette (not yet judged by the gate), or None
    when no palette is tried: one frame of at most 256 colours or grey, or lossless asked.
    ``colour_target``: libimagequant's quality at which it stops adding colours.
    ``first_look``: scores a lossy palette on a sample before the whole image is remapped to
    it; ``Refused`` when it says so (a score, not None)."""
    sheet = _sheet(frames)
    exact = sheet.getcolors(MAX_COLORS) is not None
    if len(frames) == 1 and (exact or sheet.mode == "L"):
        return None  # oxipng finds the exact palette/grey form itself, losslessly
    if not exact and quality >= 100:
        return None
    rgba = sheet if sheet.mode == "RGBA" else sheet.convert("RGBA")
    with palette_for(rgba, max_colors=MAX_COLORS, speed=QUANTIZE_SPEED,
                     max_quality=100 if exact else colour_target) as palette:
        if palette is None:
            return None
        refused = None if exact or first_look is None else first_look(palette)
        if refused is not None:
            return Refused(refused)
        quantized = palette.remap(rgba, 0.0 if exact else DITHERING)
    if quantized is None:
        return None
    if len(frames) == 1:
        return Palette([quantized], exact)
    w, h = frames[0].size
    return Palette([quantized.crop((0, h * i, w, h * (i + 1))) for i in range(len(frames))], exact)


class _Judge:
    """The gate's scoring of one picture's palettes, its scorer and sample made on first use
    (grey and few-colour images never need them)."""

    def __init__(self, picture: Picture, target: float) -> None:
        self.picture, self.target = picture, target

    @cached_property
    def scorer(self) -> Scorer | None:
        return _scorer(self.picture.image)

    @cached_property
    def tiles(self) -> Image.Image | None:
        """The scorer's sample of the single frame, RGBA; None when there is none."""
        if self.scorer is None or len(self.picture.frames) != 1:
            return None
        # Cut first, then converted: the mosaic is a ninth of the image or less.
        tiles = self.scorer.sample_image(self.picture.frames[0])
        return None if tiles is None else tiles.convert("RGBA")

    def score(self, data: bytes) -> float:
        return -math.inf if self.scorer is None else self.scorer.fast(data)

    def first_look(self, palette: Quantizer) -> float | None:
        """The sample's score when the palette already misses there by ``EARLY_REFUSAL``,
        else None (also when there is no sample)."""
        if self.tiles is None or self.scorer is None:
            return None
        quantized = palette.remap(self.tiles, DITHERING)
        if quantized is None:
            return None
        out = io.BytesIO()
        quantized.save(out, "PNG", compress_level=0)
        score = self.scorer.sample(out.getvalue())
        return score if score < self.target - EARLY_REFUSAL else None


def gated_palette(picture: Picture, req: EncodeRequest) -> bytes | None:
    """The palette PNG (not yet compressed) to write at ``req.quality``, or None to stay
    lossless: the palette the quality's colour budget gives when it reaches the gate, else
    about the one with the fewest colours that does (searching libimagequant's stopping
    quality), else none (see the module docstring)."""
    judge = _Judge(picture, min_palette_score(req.quality))
    target = judge.target

    def attempt(colour_target: int) -> tuple[bytes | None, float] | None:
        """(the palette file, its score); (None, the sample's score) when the palette already
        misses on the sample by ``EARLY_REFUSAL``; None when no palette is tried."""
        palette = palettize(picture.frames, req.quality, colour_target, judge.first_look)
        if isinstance(palette, Refused):
            return None, palette.score
        if palette is None:
            return None
        data = write_png(picture, palette.frames, req)
        return data, math.inf if palette.exact else judge.score(data)

    budget = min(100, req.quality + PALETTE_HEADROOM)
    first = attempt(budget)
    if first is None or first[1] >= target:
        return None if first is None else first[0]
    richest = attempt(100) if budget < 100 else None
    if richest is None or richest[1] < target:
        return None
    # The score grows about linearly with libimagequant's stopping quality: aim by
    # interpolation, keep the bracket, stop within SEARCH_TOLERANCE of the fewest colours.
    low, high = (budget, first[1]), (100, richest[1])
    chosen = richest[0]
    while high[0] - low[0] > SEARCH_TOLERANCE:
        aim = low[0] + (target - low[1]) / (high[1] - low[1]) * (high[0] - low[0])
        middle = min(high[0] - 1, max(low[0] + 1, math.ceil(aim)))
        found = attempt(middle)
        if found is None:
            break
        if found[1] >= target:
            high, chosen = (middle, found[1]), found[0]
        else:
            low = (middle, found[1])
    return chosen


def encode(picture: Picture, req: EncodeRequest) -> bytes:
    palette = gated_palette(picture, req) if req.quality < 100 or picture.animated else None
    if palette is not None:
        return palette
    if req.source is not None:
        return req.source  # lossless: let oxipng work on the input file itself
    return write_png(picture, picture.frames, req)


def write_png(picture: Picture, frames: list[Image.Image], req: EncodeRequest) -> bytes:
    # Pillow only frames the pixels (stored, not deflated): oxipng compresses them.
    # The profile is always given: Pillow would otherwise fall back to one left in the frame's info.
    options: dict[str, object] = {"compress_level": 0, "icc_profile": picture.icc}
    # "keep-no-location" adds its metadata after oxipng has stripped the chunks (optimize).
    if picture.exif and req.metadata == "keep":
        options["exif"] = picture.exif
    if picture.xmp and req.metadata == "keep":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", picture.xmp.decode("utf-8", "replace"))
        options["pnginfo"] = info
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=picture.durations,
                       loop=picture.loop, default_image=False)
    out = io.BytesIO()
    frames[0].save(out, "PNG", **options)
    return out.getvalue()


def lossless_options(data: bytes) -> dict[str, object]:
    """oxipng's options for the smallest lossless file at a bounded time (quality 100): the
    filter that wins on a sample of the rows, alone, at libdeflate 12 (see the module
    docstring); oxipng's default preset when no sample can be cut (16-bit, 1-bit, APNG)."""
    row_filter = best_filter(data, LOSSLESS_FILTERS, FEW_COLOURS_FILTERS, PROBE_DEFLATE)
    if row_filter is None:
        return {"level": LOSSLESS_PRESET}
    return {"level": LOSSLESS_PRESET, "filter": [row_filter], "deflate": LOSSLESS_DEFLATE}


def _compression(data: bytes, req: EncodeRequest) -> dict[str, object]:
    if req.quality >= 100:
        return lossless_options(data)
    palette = len(data) > _COLOUR_TYPE_OFFSET and data[_COLOUR_TYPE_OFFSET] == _PALETTE_COLOUR_TYPE
    if not palette:
        return {"level": LOSSLESS_PRESET, "filter": _TRUECOLOR_FILTERS, "deflate": FAST_DEFLATE}
    # A palette we wrote (not the input file handed through) comes from libimagequant, already
    # ordered and in use: oxipng's palette sorting trials would cost 3x the CPU of the rest of
    # its work for 0.03 % of bytes (see the module docstring).
    ours = data is not req.source
    return {"level": LOSSLESS_PRESET, "filter": _PALETTE_FILTERS, "deflate": FAST_DEFLATE,
            "palette_reduction": not ours}


def from_source(source: bytes, req: EncodeRequest) -> bytes | None:
    """At quality 100, oxipng on the input file itself; below, the pixels are needed."""
    return optimize(source, req) if req.quality >= 100 else None


def optimize(data: bytes, req: EncodeRequest) -> bytes:
    keep_all = req.metadata == "keep"
    strip = oxipng.StripChunks.none() if keep_all else oxipng.StripChunks.safe()
    with decoding("PNG", also=(oxipng.PngError,)):
        out = oxipng.optimize_from_memory(data, strip=strip, **_compression(data, req))
    carried = None if keep_all else req.carried
    if carried is not None:
        chunks = []
        if carried.exif:
            chunks.append(_chunk(b"eXIf", carried.exif.removeprefix(b"Exif\x00\x00")))
        if carried.xmp:
            # iTXt: keyword, no compression, empty language tag and translated keyword.
            chunks.append(_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + carried.xmp))
        out = _insert_before_idat(out, b"".join(chunks))
    return out


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (len(body).to_bytes(4, "big") + kind + body
            + zlib.crc32(kind + body).to_bytes(4, "big"))


def _insert_before_idat(png: bytes, chunks: bytes) -> bytes:
    """``png`` with ``chunks`` before its first IDAT (or acTL/fcTL of an animation): metadata
    chunks must precede the image data."""
    pos = 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] in (b"IDAT", b"acTL", b"fcTL"):
            return png[:pos] + chunks + png[pos:]
        pos += 12 + length
    return png

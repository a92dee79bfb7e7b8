"""Auto quality and target file size: searching the quality number per image.

``choose(picture, request, encoder, goal)`` encodes the picture at the qualities a search
visits (through the encoder's own ``encode``/``optimize``, on the UI's 1-100 scale) and returns
the file it settled on, the quality, and what was reached.

Decisions (the SPEC and issue 13 leave these open):

- Auto quality: the smallest quality whose output scores at least the level's SSIMULACRA2
  target (``quality_targets.py``). The search scores a sample of the image (``Scorer.fast``):
  one guess, then interpolation on the bracketing scores, bisection every third step, down to
  adjacent numbers (4-6 encodes). The result is then scored on every pixel; if that misses the
  target, the search goes on upwards with the full score, so the output always reaches it
  (unless even quality 100 does not, when 100 is the answer and its score is reported).
- Target size (``maxSize``): the largest quality whose output fits, searched on the logarithm of
  the bytes. When even quality 1 does not fit: with ``allowResize`` the picture is downscaled
  (aspect kept) by the square root of the bytes it must lose, less 10 %, until quality
  ``RESIZE_QUALITY_FLOOR`` fits (a size limit should not be met with a smeared image while
  pixels can go instead), then the quality is searched again at that size; without it, or when
  the image would fall below ``MIN_SIDE`` px, the smallest file reached is written with
  ``targetMet: false`` and a message saying how small it got: never a silent overshoot.
- Both: Auto quality first, then, if its file is too large, the size search below its quality:
  the size limit wins (the score reached is reported, below the level's target).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from backend.core.formats.encoders import Encoder
from backend.core.picture import EncodeRequest, Picture
from backend.core.quality_scorer import Scorer
from backend.core.resize import resize
from backend.core.ssimulacra2 import MIN_SIDE

LOWEST, HIGHEST = 1, 100
RESIZE_QUALITY_FLOOR = 50
RESIZE_MARGIN = 0.9
MAX_STEP = 20  # the farthest a search steps from its guess while only one side is known
# How a score and the logarithm of a file's bytes typically grow per quality step (corpus).
SCORE_SLOPE = 0.7
LOG_BYTES_SLOPE = 0.03
# Where the score search starts, by target: about where the bench corpus lands.
_GUESS = ((90.0, 90), (85.0, 80), (80.0, 70), (70.0, 55))


@dataclass(frozen=True, slots=True)
class Goal:
    auto_target: float | None = None  # SSIMULACRA2 to reach
    max_size: int | None = None  # bytes to stay at or under
    allow_resize: bool = False
    quality: int = 90  # the slider's number: the size search starts there


@dataclass(slots=True)
class Outcome:
    data: bytes
    size: tuple[int, int]  # of the pixels encoded (downscaled when the size needed it)
    quality: int
    score: float | None = None
    target_met: bool | None = None
    message: str | None = None


@dataclass(slots=True)
class _Trials:
    """The encodes of one picture, by quality, so no quality is encoded twice."""

    encode: Callable[[int], bytes]
    files: dict[int, bytes] = field(default_factory=dict)

    def __call__(self, quality: int) -> bytes:
        if quality not in self.files:
            self.files[quality] = self.encode(quality)
        return self.files[quality]


def first_reaching(measure: Callable[[int], float], threshold: float, lo: int, hi: int,
                   guess: int, slope: float) -> int:
    """The smallest q in lo..hi with ``measure(q) >= threshold`` for a measure that grows with
    q, or hi + 1 when none does. From ``guess``, until both sides are known, it steps as far as
    a measure growing by ``slope`` per quality step would need (1 to ``MAX_STEP``); then it
    interpolates between the bracketing values, bisecting every third step so that a bent curve
    still converges."""
    below: tuple[int, float] | None = None  # (q, value) known to miss
    above: tuple[int, float] | None = None  # (q, value) known to reach
    probe = min(max(guess, lo), hi)
    step = 0
    while lo <= hi:
        value = measure(probe)
        if value >= threshold:
            above, hi = (probe, value), probe - 1
        else:
            below, lo = (probe, value), probe + 1
        if lo > hi:
            break
        step += 1
        if above is None or below is None:
            known = above if above is not None else below
            assert known is not None  # the loop has measured at least once
            distance = math.ceil(abs(threshold - known[1]) / slope) + 1
            probe = known[0] + min(distance, MAX_STEP) * (1 if above is None else -1)
        elif step % 3 and above[1] != below[1]:
            t = (threshold - below[1]) / (above[1] - below[1])
            probe = round(below[0] + t * (above[0] - below[0]))
        else:
            probe = (lo + hi) // 2
        probe = min(max(probe, lo), hi)
    return above[0] if above is not None else hi + 1


def _guess(target: float) -> int:
    for score, quality in _GUESS:
        if target >= score:
            return quality
    return _GUESS[-1][1]


def _auto(trials: _Trials, scorer: Scorer, target: float) -> tuple[int, float]:
    """(quality, full score) of the smallest quality reaching ``target`` (see the module
    docstring: a sampled search, corrected once by the full score, then confirmed by it)."""
    fast_scores: dict[int, float] = {}
    full_scores: dict[int, float] = {}

    def fast(q: int) -> float:
        if q not in fast_scores:
            fast_scores[q] = scorer.fast(trials(q))
        return fast_scores[q]

    def full(q: int) -> float:
        if q not in full_scores:
            full_scores[q] = scorer.full(trials(q))
        return full_scores[q]

    quality = min(first_reaching(fast, target, LOWEST, HIGHEST, _guess(target),
                                 SCORE_SLOPE), HIGHEST)
    if scorer.sampled:
        # The sample scores a little off the whole image; shift the threshold by what it was
        # off at the answer, and search again (mostly on scores already known).
        offset = full(quality) - fast(quality)
        corrected = min(first_reaching(fast, target - offset, LOWEST, HIGHEST, quality,
                                       SCORE_SLOPE), HIGHEST)
        lower_passes = corrected < quality and full(corrected) >= target
        if lower_passes or (corrected > quality and full(quality) < target):
            quality = corrected
    while full(quality) < target and quality < HIGHEST:
        quality += 1
    return quality, full(quality)


def _largest_fitting(trials: _Trials, max_size: int, hi: int, guess: int) -> int | None:
    """The largest quality up to ``hi`` whose file fits in ``max_size`` bytes, or None."""
    over = first_reaching(lambda q: math.log(len(trials(q))), math.log(max_size + 0.5),
                          LOWEST, hi, guess, LOG_BYTES_SLOPE)
    return None if over == LOWEST else over - 1


def _downscaled(picture: Picture, factor: float) -> Picture | None:
    width, height = picture.size
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    if min(size) < MIN_SIDE or size == picture.size:
        return None
    return replace(picture, frames=[resize(frame, size) for frame in picture.frames])


def choose(picture: Picture, request: EncodeRequest, encoder: Encoder, goal: Goal) -> Outcome:
    """The output file for ``goal`` (see the module docstring)."""

    def trials_for(pic: Picture) -> _Trials:
        return _Trials(lambda q: encoder.optimize(
            encoder.encode(pic, replace(request, quality=q)), replace(request, quality=q)))

    trials = trials_for(picture)
    quality, score, scorer = goal.quality, None, None
    if goal.auto_target is not None and min(picture.size) >= MIN_SIDE:
        scorer = Scorer(picture.image, encoder.format.pillow, keeps_alpha=encoder.format.alpha)
        quality, score = _auto(trials, scorer, goal.auto_target)
    if goal.max_size is None:
        return Outcome(trials(quality), picture.size, quality, score)

    limit = goal.max_size
    if len(trials(quality)) <= limit:
        return Outcome(trials(quality), picture.size, quality, score, target_met=True)
    hi = quality - 1 if scorer is not None else HIGHEST
    fitting = _largest_fitting(trials, limit, hi, min(quality, hi)) if hi >= LOWEST else None
    floor_ok = fitting is not None and (not goal.allow_resize or fitting >= RESIZE_QUALITY_FLOOR)
    pic = picture
    if not floor_ok and goal.allow_resize:
        # Pixels go before the quality does: shrink until the floor quality fits.
        floor = min(RESIZE_QUALITY_FLOOR, hi)
        while len(trials(floor)) > limit:
            factor = min(RESIZE_MARGIN, RESIZE_MARGIN * math.sqrt(limit / len(trials(floor))))
            smaller = _downscaled(pic, factor)
            if smaller is None:
                break
            pic, trials = smaller, trials_for(smaller)
        fitting = _largest_fitting(trials, limit, hi, floor)
    if fitting is None:
        smallest = trials(LOWEST)
        how = "at quality 1" + (f", {pic.size[0]}x{pic.size[1]} px" if pic is not picture else "")
        hint = "" if goal.allow_resize else "; allow resizing to go smaller"
        return Outcome(smallest, pic.size, LOWEST, _rescore(scorer, pic, picture, smallest),
                       target_met=False,
                       message=f"cannot fit in {limit:,} bytes: the smallest file is "
                               f"{len(smallest):,} bytes ({how}){hint}")
    data = trials(fitting)
    return Outcome(data, pic.size, fitting, _rescore(scorer, pic, picture, data), target_met=True)


def _rescore(scorer: Scorer | None, pic: Picture, original: Picture, data: bytes) -> float | None:
    """The Auto quality score of the file the size limit chose (None when Auto quality is off,
    or the picture was downscaled: a score needs the same pixels on both sides)."""
    if scorer is None or pic is not original:
        return None
    return scorer.full(data)

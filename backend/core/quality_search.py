"""Auto quality and target file size: searching the quality number per image.

``choose(picture, request, encoder, goal)`` encodes the picture at the qualities a search
visits (through the encoder's own ``encode``/``optimize``, on the UI's 1-100 scale) and returns
the file it settled on, the quality, and what was reached.

Decisions (the SPEC and issue 13 leave these open):

- Auto quality: the smallest quality whose output scores at least the level's SSIMULACRA2
  target (``quality_targets.py``). The search encodes and scores a sample of the image (a
  mosaic of a ninth of its tiles, ``Scorer.sample_image``): one guess, then interpolation on
  the bracketing scores, bisection every third step, down to adjacent numbers (4-6 encodes of
  the sample). Its answer is encoded whole and scored on every pixel (the one costly step, a
  full SSIMULACRA2); the difference from the sample's score corrects the sample's threshold
  and the search runs again on known scores. At most ``CONFIRMATIONS`` whole-image scores are
  spent going lower; a whole-image miss always goes on upwards, so the output reaches the
  target (unless even quality 100 does not, when 100 is the answer and its score is reported).
  Images up to ``SAMPLE_ABOVE`` pixels are searched whole. On a sampled image the sample
  search aims the encoder's ``auto_sample_offset`` above the target: where the mosaic reads an
  encoder higher than its whole file (WebP: by 1.0 at the tune split's answers), a search aimed
  at the target itself has its first confirmation fail about half the time and pay another
  whole-image encode going up (for WebP the whole-image encodes are most of Auto quality's
  time; figures in ``formats/webp.py``). The offset is encoder data, 0 unless declared; the
  corrected searches after a confirmation use the measured offset instead. An encoder that names
  chroma modes to compare (``AUTO_CHROMA``: JPEG's 4:2:0 and 4:4:4), with chroma left to
  "auto", is searched once per mode on the sample; the mode whose sample file is smallest at its
  answer is confirmed (the sample tracks the whole file's bytes as it tracks its score), the
  other costs only its sample encodes.
- Target size (``maxSize``): the largest quality whose output fits, searched on the logarithm of
  the bytes. When even quality 1 does not fit: with ``allowResize`` the picture is downscaled
  (aspect kept) by the square root of the bytes it must lose, less 10 %, until quality
  ``RESIZE_QUALITY_FLOOR`` fits (a size limit should not be met with a smeared image while
  pixels can go instead), then the quality is searched again at that size; without it, or when
  the image would fall below ``MIN_SIDE`` px, the smallest file reached is written with
  ``targetMet: false`` and a message saying how small it got: never a silent overshoot.
  Between the largest whole quality that fits and the next, encoders with a continuous scale
  (jpegli's distance, libwebp) are bisected ``REFINE_STEPS`` times: one whole step moves a file
  by 3-20 % (WebP on flat artwork most), more than the 3 % under the target a person expects.
  The reported quality stays the whole number below. Where alpha is coded in steps that a
  whole number can double (WebP), a file still more than 1 % under is searched again with alpha
  held at that number and the colour's quality raised alone.
- Both: Auto quality first, then, if its file is too large, the size search below its quality:
  the size limit wins (the score reached is reported, below the level's target).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from backend.core.formats.encoders import Encoder, Guesses
from backend.core.picture import EncodeRequest, Picture
from backend.core.quality_scorer import Scorer
from backend.core.resize import resize
from backend.core.ssimulacra2 import MIN_SIDE

LOWEST, HIGHEST = 1, 100
RESIZE_QUALITY_FLOOR = 50
RESIZE_MARGIN = 0.9
CONFIRMATIONS = 2  # whole-image scores Auto quality spends, unless the target is still missed
REFINE_STEPS = 4  # fractional quality steps a size search takes between two whole numbers
REFINE_WITHIN = 0.01  # a size search closer than this under its target stops refining
MAX_STEP = 20  # the farthest a search steps from its guess while only one side is known
# How a score and the logarithm of a file's bytes typically grow per quality step (corpus).
SCORE_SLOPE = 0.7
LOG_BYTES_SLOPE = 0.03
# Where the score search starts, by target, for an encoder without its own ``AUTO_GUESS``.
GUESS: Guesses = ((90.0, 90), (85.0, 80), (80.0, 70), (70.0, 55))


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


def _guess(target: float, guesses: Guesses) -> int:
    for score, quality in guesses:
        if target >= score:
            return quality
    return guesses[-1][1]


@dataclass(slots=True)
class _AutoSearch:
    """One Auto quality search for one encoder setting (see the module docstring): searched on
    the sample's own encodes, confirmed on the whole image, the sample's offset from the whole
    corrected."""

    request: EncodeRequest
    trials: _Trials
    sample_trials: _Trials
    scorer: Scorer
    target: float
    guesses: Guesses
    sample_offset: float = 0.0  # the encoder's ``auto_sample_offset``
    sample_scores: dict[int, float] = field(default_factory=dict)
    full_scores: dict[int, float] = field(default_factory=dict)

    def on_sample(self, q: int) -> float:
        if q not in self.sample_scores:
            self.sample_scores[q] = self.scorer.sample(self.sample_trials(q))
        return self.sample_scores[q]

    def full(self, q: int) -> float:
        if q not in self.full_scores:
            self.full_scores[q] = (self.scorer.full(self.trials(q)) if self.scorer.sampled
                                   else self.on_sample(q))
        return self.full_scores[q]

    def search(self, threshold: float, lo: int, hi: int, guess: int) -> int:
        """The sample's answer in lo..hi, or hi + 1 when none there reaches ``threshold``.
        Quality 100 is never encoded to find out: the search stops at 99, so 100 is the answer
        when nothing below reaches (lossless where the format has it, the slowest encode)."""
        return first_reaching(self.on_sample, threshold, lo, min(hi, HIGHEST - 1), guess,
                              SCORE_SLOPE)

    def first(self) -> int:
        """The sample's answer to the level's target, aimed the encoder's ``auto_sample_offset``
        above it when the sample is not the whole image."""
        aim = self.target + (self.sample_offset if self.scorer.sampled else 0.0)
        return self.search(aim, LOWEST, HIGHEST, _guess(self.target, self.guesses))

    def sample_bytes(self, quality: int) -> int:
        return len(self.sample_trials(quality))

    def confirmed(self, quality: int) -> tuple[int, float]:
        """(quality, full score) of the smallest quality whose whole file reaches the target,
        starting from the sample's answer ``quality``."""
        target = self.target
        if not self.scorer.sampled:
            return quality, self.full(quality)
        passed: int | None = None  # the lowest quality known to reach the target on every pixel
        failed = LOWEST - 1  # the highest known not to
        for attempt in range(1, CONFIRMATIONS + 1):
            if self.full(quality) >= target:
                passed = quality if passed is None else min(passed, quality)
            else:
                failed = max(failed, quality)
            hi = HIGHEST if passed is None else passed - 1
            if failed + 1 > hi or attempt == CONFIRMATIONS:
                break
            offset = self.full(quality) - self.on_sample(quality)
            following = self.search(target - offset, failed + 1, hi, quality)
            if following in (quality, hi + 1):  # no other quality promises to do better
                break
            quality = following
        if passed is None:  # rare: the sample kept promising more than the whole image gave
            quality = failed + 1
            while quality < HIGHEST and self.full(quality) < target:
                quality += 1
            return quality, self.full(quality)
        return passed, self.full(passed)


def _auto_requests(request: EncodeRequest, encoder: Encoder) -> list[EncodeRequest]:
    """The encoder settings Auto quality compares: each of the encoder's ``auto_chroma`` modes
    when chroma is left to it, else the request as it is."""
    if request.chroma != "auto" or not encoder.auto_chroma:
        return [request]
    return [replace(request, chroma=chroma) for chroma in encoder.auto_chroma]


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

    def trials_for(pic: Picture, req: EncodeRequest) -> _Trials:
        return _Trials(lambda q: encoder.optimize(
            encoder.encode(pic, replace(req, quality=q)), replace(req, quality=q)))

    trials = trials_for(picture, request)
    quality, score, scorer = goal.quality, None, None
    if goal.auto_target is not None and min(picture.size) >= MIN_SIDE:
        scorer = Scorer(picture.image, encoder.format.pillow, keeps_alpha=encoder.format.alpha)
        mosaic = scorer.sample_image(picture.image)
        sample_picture = None if mosaic is None else Picture(frames=[mosaic], icc=picture.icc)
        searches = []
        for req in _auto_requests(request, encoder):
            whole = trials_for(picture, req)
            searches.append(_AutoSearch(req, whole, whole if sample_picture is None else
                                        trials_for(sample_picture, req), scorer,
                                        goal.auto_target, encoder.auto_guess or GUESS,
                                        encoder.auto_sample_offset))
        # The setting whose sample file is smallest at its answer: the sample predicts the
        # whole file's bytes as it predicts its score.
        answers = [(search.first(), search) for search in searches]
        first, search = min(answers, key=lambda answer: answer[1].sample_bytes(answer[0]))
        quality, score = search.confirmed(first)
        request, trials = search.request, search.trials
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
            pic, trials = smaller, trials_for(smaller, request)
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
    if fitting < hi and encoder.encode_between is not None:
        data = _refined(data, fitting, limit, lambda q: encoder.optimize(
            encoder.encode_between(pic, request, q), request))
    if (encoder.encode_colour is not None and (limit - len(data)) / limit > REFINE_WITHIN
            and _translucent(pic)):
        data = _colour_apart(data, trials(fitting), fitting, min(hi, HIGHEST - 1), limit,
                             lambda q: encoder.optimize(encoder.encode_colour(
                                 pic, replace(request, quality=fitting), q), request))
    return Outcome(data, pic.size, fitting, _rescore(scorer, pic, picture, data), target_met=True)


def _translucent(picture: Picture) -> bool:
    image = picture.image
    return image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] < 255


def _colour_apart(data: bytes, at_fitting: bytes, fitting: int, hi: int, limit: int,
                  encode: Callable[[float], bytes]) -> bytes:
    """The largest file at or under ``limit`` with alpha held at ``fitting`` and the colour's
    quality raised alone (``encode``: colour quality to file), searched over the whole numbers
    above ``fitting`` and then refined; ``data`` when none is larger. ``at_fitting``: the file
    at ``fitting`` itself (colour and alpha alike there), not encoded again."""
    colour = _Trials(lambda q: encode(float(q)), {fitting: at_fitting})
    best = _largest_fitting(colour, limit, hi, fitting) if fitting < hi else None
    if best is None or best <= fitting or len(colour(best)) <= len(data):
        return data
    chosen = colour(best)
    return _refined(chosen, best, limit, encode) if best < hi else chosen


def _refined(data: bytes, fitting: int, limit: int, encode: Callable[[float], bytes]) -> bytes:
    """The largest file at or under ``limit`` between ``fitting`` and the next whole quality
    (which does not fit): a bisection on the encoder's continuous quality."""
    lo, hi = float(fitting), fitting + 1.0
    best = data
    for _ in range(REFINE_STEPS):
        if (limit - len(best)) / limit <= REFINE_WITHIN:
            break
        middle = (lo + hi) / 2
        candidate = encode(middle)
        if len(candidate) <= limit:
            lo = middle
            best = max(best, candidate, key=len)
        else:
            hi = middle
    return best


def _rescore(scorer: Scorer | None, pic: Picture, original: Picture, data: bytes) -> float | None:
    """The Auto quality score of the file the size limit chose (None when Auto quality is off,
    or the picture was downscaled: a score needs the same pixels on both sides)."""
    if scorer is None or pic is not original:
        return None
    return scorer.full(data)

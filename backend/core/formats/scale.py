"""The UI's quality number mapped onto an encoder's own quality scale.

The number a person picks (1-100, labelled Poor … Near-lossless … Lossless) is the original
app's: each label should mean the quality the original gave at that number. Encoders disagree on
what their numbers mean (the original's mozjpeg with its own quantization tables at 90 looks like
libjpeg-turbo's standard tables at 84), so each lossy format maps the UI number through a table
of anchors measured with ``python -m bench.rd --calibrate``: at each anchor, the native quality
whose mean SSIMULACRA2 on the tune split equals the original engine's at that UI number (JPEG,
AVIF; WebP is the original's own libwebp, so its numbers stay as they are).
Between anchors the mapping is linear; 100 always stays 100 (lossless where the format has it).
"""

from __future__ import annotations

from itertools import pairwise

Scale = tuple[tuple[int, int], ...]  # (UI quality, native quality), increasing in both


def native_quality(scale: Scale, quality: int) -> int:
    """The encoder's own quality number for the UI's ``quality`` (clamped to the anchors)."""
    return round(native_between(scale, quality))


def native_between(scale: Scale, quality: float) -> float:
    """The encoder's own quality, unrounded, for a UI quality that may fall between two whole
    numbers (a size search refining between them)."""
    if quality <= scale[0][0]:
        return scale[0][1]
    for (ui_low, native_low), (ui_high, native_high) in pairwise(scale):
        if quality <= ui_high:
            span = ui_high - ui_low
            return native_low + (native_high - native_low) * (quality - ui_low) / span
    return scale[-1][1]

"""Auto quality's named levels and the SSIMULACRA2 score each one asks of every image.

Standard library only, so the wire contract, the CLI's parser and the page's menu read the levels
without loading the metric.

Decisions (figures from ``python -m bench.auto_quality``, quick corpus, 2026-12-02; see
``bench/QUALITY.md``):

- "high" (85) is about what the original app's default (sharp, quality 90) reaches on its worse
  JPEGs: 85.8 is the lowest of its scores on the tune half's photos (57.7 on rocket.jpg left
  out: sharp converts that file's ICC profile to sRGB, which a metric comparing raw pixels reads
  as damage). Every image gets at least 85; images sharp over-codes (it reaches 91-92 on the
  held-out wallpapers) get fewer bytes.
- "balanced" (80) is about sharp q90's WebP (77.7-86.6 on the tune half: its WebP keeps alpha at
  90 and codes colour more coarsely than its JPEG) and "very high quality" on SSIMULACRA2's
  scale; "compact" (70) is "high quality": artefacts visible side by side, not alone.
- The targets are scores of the output against the decoded input, both upright at the output's
  size; a target the format cannot reach below 100 gives 100 (lossless where the format has
  it), with the score it reached.
"""

from __future__ import annotations

OFF = "off"
LEVELS: dict[str, float] = {"high": 85.0, "balanced": 80.0, "compact": 70.0}
LEVEL_NAMES: tuple[str, ...] = (OFF, *LEVELS)
# What ``--auto-quality`` without a level means.
DEFAULT_LEVEL = "high"

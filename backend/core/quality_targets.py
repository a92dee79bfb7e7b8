"""Auto quality's named levels and the SSIMULACRA2 score each one asks of every image.

Standard library only, so the wire contract, the CLI's parser and the page's menu read the levels
without loading the metric.

Decisions (figures from ``python -m bench.auto_quality``; see ``bench/QUALITY.md``):

- "high" (85) is about what the original app's default (sharp, quality 90) reaches on its worse
  images (its 5th-percentile score on the bench corpus); every image gets at least that, and
  images it over-coded get fewer bytes.
- "balanced" (80) and "compact" (70) trade further: 80 is "very high quality" on SSIMULACRA2's
  scale, 70 "high quality" (artefacts visible side by side, not in isolation).
- The targets are scores of the output against the decoded input, both upright at the output's
  size; a target the format cannot reach at its best quality gives its best quality, with the
  score it reached.
"""

from __future__ import annotations

OFF = "off"
LEVELS: dict[str, float] = {"high": 85.0, "balanced": 80.0, "compact": 70.0}
LEVEL_NAMES: tuple[str, ...] = (OFF, *LEVELS)
# What ``--auto-quality`` without a level means.
DEFAULT_LEVEL = "high"

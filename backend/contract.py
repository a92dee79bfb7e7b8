"""What the page needs to build its controls, served by ``get_app_info`` so it keeps no copy.

The settings' limits, defaults and enums are the Structs' own (``msgspec.json.schema``), the output
formats are the registry's, and the words the Options menu shows for values are declared here,
next to nothing else. ``e2e/test_contract.py`` reads the controls back from the page in Chromium
and checks they equal this.

Decisions:
- The quality bands are the SPEC's (100 Lossless, ≥ 90 Near-lossless, … ≥ 10 Poor); below 10 the
  original said "Broken beyond repair", the SPEC names no band, and we say "Very poor".
- Labels are English here; a translated catalogue may replace them by key (the value they name).
- Auto quality's levels come with the SSIMULACRA2 score each asks for (``autoQualityTargets``),
  so the menu can say what "High" means; the max-size field offers KB and MB, 1000-based, as
  the CLI's ``--max-size`` reads them (``byteUnits``), and sends bytes.
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

import msgspec
from msgspec import Struct

from backend.core.formats.registry import FORMATS, ImageFormat
from backend.core.quality_targets import LEVELS
from backend.types import (
    AutoQuality,
    ChromaMode,
    IccMode,
    ImageSettings,
    MetadataMode,
    OutputMode,
    ResizeMode,
)

RESIZE_MODE_LABELS: dict[str, str] = {
    "none": "Don't resize", "width": "Width", "height": "Height", "longest": "Longest edge",
    "shortest": "Shortest edge",
}
# The words for the other enum settings, by field (the settings panel's choices).
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "output": {"subfolder": "“optimized” subfolder", "folder": "One folder",
               "beside": "Beside, renamed", "replace": "Replace originals"},
    "metadata": {"strip": "Remove", "keep": "Keep all",
                 "keep-no-location": "Keep, without location"},
    "icc": {"keep": "Keep", "srgb": "Convert to sRGB"},
    "chroma": {"auto": "Auto", "4:4:4": "4:4:4 (full)", "4:2:0": "4:2:0 (half)"},
    "autoQuality": {"off": "Off", "high": "High", "balanced": "Balanced", "compact": "Compact"},
}
# The max-size field's units, largest last, in bytes.
BYTE_UNITS: dict[str, int] = {"KB": 1000, "MB": 1000**2}
ORIGINAL_LABEL = "Original"
# (lowest quality of the band, its word), highest band first.
QUALITY_BANDS: tuple[tuple[int, str], ...] = (
    (100, "Lossless"), (90, "Near-lossless"), (70, "Excellent"), (50, "Good"), (30, "Fair"),
    (10, "Poor"), (1, "Very poor"),
)

assert set(RESIZE_MODE_LABELS) == set(get_args(ResizeMode)), "every resize mode needs a label"
for _field, _enum in (("output", OutputMode), ("metadata", MetadataMode), ("icc", IccMode),
                      ("chroma", ChromaMode), ("autoQuality", AutoQuality)):
    assert list(CHOICE_LABELS[_field]) == list(get_args(_enum)), f"labels of {_field}"


class FormatInfo(Struct, kw_only=True):
    """One registry entry as the page sees it."""

    id: str
    label: str
    mime: str
    extensions: list[str]
    aliases: list[str]
    alpha: bool
    animation: bool
    lossless: bool
    output: bool  # can be chosen under "Convert to"


class QualityBand(Struct, array_like=True):
    min: int
    label: str


class Contract(Struct, kw_only=True):
    settingsSchema: dict[str, Any]  # JSON Schema of ImageSettings: limits, defaults, enums
    defaults: ImageSettings
    formats: list[FormatInfo]  # every format we read, in registry order
    originalLabel: str
    resizeModeLabels: dict[str, str]
    choiceLabels: dict[str, dict[str, str]]  # by ImageSettings field, in display order
    qualityBands: list[QualityBand]
    autoQualityTargets: dict[str, float]  # SSIMULACRA2 score of each Auto quality level
    byteUnits: dict[str, int]  # the max-size field's units, in bytes


def _format_info(fmt: ImageFormat) -> FormatInfo:
    return FormatInfo(
        id=fmt.id, label=fmt.label, mime=fmt.mime, extensions=list(fmt.extensions),
        aliases=list(fmt.aliases), alpha=fmt.alpha, animation=fmt.animation,
        lossless=fmt.lossless, output=fmt.writable,
    )


@cache
def contract() -> Contract:
    """The same for the whole run, so built once."""
    return Contract(
        settingsSchema=msgspec.json.schema(ImageSettings),
        defaults=ImageSettings(),
        formats=[_format_info(fmt) for fmt in FORMATS],
        originalLabel=ORIGINAL_LABEL,
        resizeModeLabels=dict(RESIZE_MODE_LABELS),
        choiceLabels={name: dict(labels) for name, labels in CHOICE_LABELS.items()},
        qualityBands=[QualityBand(low, label) for low, label in QUALITY_BANDS],
        autoQualityTargets=dict(LEVELS),
        byteUnits=dict(BYTE_UNITS),
    )


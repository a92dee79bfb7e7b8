"""SVG → SVG on real files: fewer bytes, the same picture (drawn with resvg here), the quality
mapping, and the checks that keep what SVGO alone would break."""

from __future__ import annotations

import gzip
import re

import pytest
import svgo
from svg_renders import DATA, MAX_DIFFERING, differing, svg_text

from backend.core.formats import svg
from backend.core.formats.svg_read import read_svg

GOOD = sorted(p.name for p in DATA.iterdir() if p.suffix in (".svg", ".svgz"))


def optimized(name: str, quality: int = 90) -> tuple[str, str, bytes]:
    """(input text, output text, output file bytes) for a file of tests/data/svg."""
    data = (DATA / name).read_bytes()
    out = svg.optimize(read_svg(data, name), quality, name)
    return svg_text(data), svg_text(out), out


def geometry(text: str) -> list[str]:
    found = re.findall(r'\s(?:d|points|transform|gradientTransform)="([^"]*)"', text)
    return [" ".join(value.split()) for value in found]


@pytest.mark.parametrize("name", GOOD)
def test_every_real_file_gets_smaller_and_renders_the_same(name: str) -> None:
    before, after, out = optimized(name)
    assert len(out) < (DATA / name).stat().st_size
    assert differing(before, after) <= MAX_DIFFERING


@pytest.mark.parametrize("name", GOOD)
def test_quality_100_only_drops_what_never_draws(name: str) -> None:
    before, after, _ = optimized(name, 100)
    assert differing(before, after) == 0.0
    # Geometry is kept as written, but for whitespace: lossless means no rounding at all.
    assert geometry(after) == geometry(read_svg((DATA / name).read_bytes()).text)
    for gone in ("<!--", "<metadata", "sodipodi:", "inkscape:", "<!DOCTYPE", "<?xml"):
        assert gone not in after


def test_lower_quality_rounds_more_and_never_gives_more_bytes() -> None:
    name = "written-text-mask-clip.svg"
    sizes = {q: len(optimized(name, q)[2]) for q in (100, 90, 80, 50)}
    assert sizes[100] > sizes[90] >= sizes[80] >= sizes[50]
    assert svg.precision(100) is None
    assert [svg.precision(q) for q in (99, 90, 89, 75, 74, 1)] == [3, 3, 2, 2, 1, 1]


def test_an_icon_svgo_would_change_keeps_more_decimals_and_renders_the_same() -> None:
    # Tango's face-angel: SVGO's default 3 decimals visibly move its tiny gradient transforms.
    text = read_svg((DATA / "tango-face-angel.svg").read_bytes()).text
    plain = str(svgo.optimize(text)["data"])
    assert differing(text, plain) > MAX_DIFFERING
    _, after, out = optimized("tango-face-angel.svg")
    assert differing(text, after) <= MAX_DIFFERING
    assert len(out) < len(text.encode()) / 2


def test_styles_become_attributes_so_editor_defaults_go() -> None:
    # Inkscape's style="…" lists a dozen default properties per element; SVGO's preset alone
    # keeps them all.
    text = read_svg((DATA / "tango-edit-copy.svg").read_bytes()).text
    _, after, out = optimized("tango-edit-copy.svg")
    assert "stroke-dasharray:none" not in after and "marker-start:none" not in after
    assert len(out) < 0.8 * len(str(svgo.optimize(text)["data"]).encode())


def test_svgz_is_written_gzipped_and_holds_the_optimized_svg() -> None:
    _, after_plain, _ = optimized("tango-edit-copy.svg")
    _, after, out = optimized("tango-edit-copy.svgz")
    assert out[:2] == b"\x1f\x8b"
    assert gzip.decompress(out).decode() == after == after_plain


def test_text_mask_clip_and_embedded_raster_survive() -> None:
    _, after, _ = optimized("written-text-mask-clip.svg")
    assert ">Optimized</text>" in after
    for kept in ("<mask", "<clipPath", "Gradient"):
        assert kept in after
    _, after, _ = optimized("written-embedded-raster.svg")
    assert "data:image/png;base64," in after and "<clipPath" in after

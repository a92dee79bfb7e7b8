"""SVG → SVG: SVGO 4's default preset (``svgo-py``, a pure-Python port of SVGO 4.1) after its
``convertStyleToAttrs``, checked by rendering, never rasterized.

Why this optimizer (measured in ``bench/results/svg_peer.md``): ``svgo-py`` writes the same bytes
as SVGO 4.1 from npm on most files (100.5 % of its bytes over the bench corpus) and needs no Node
at run time.
SVGO's default preset leaves editors' ``style="…"`` attributes whole, every default property in
them (Inkscape writes a dozen per element): ``convertStyleToAttrs`` first turns them into
attributes, which the preset's ``removeUnknownsAndDefaults`` then drops, for about a quarter
fewer bytes than SVGO's default. SVGO leaves that plugin out of its preset because an attribute
loses to a ``<style>`` rule where the ``style`` attribute won; the render check below catches
exactly that. ``scour`` also cleans those styles, but its outputs change the render more often.

Quality (the slider means nothing else for SVG):
- 100: lossless-exact transformations only: DOCTYPE, XML declaration, comments, ``<metadata>``,
  editor namespaces (Inkscape, Sodipodi, Illustrator, Sketch …) and their attributes, unused
  namespace declarations, whitespace in attributes and between elements.
- below 100: SVGO's whole default preset, numbers rounded to ``precision(q)`` decimals:
  90-99 → 3 (SVGO's own default), 75-89 → 2, 1-74 → 1.
- Every output is drawn with resvg beside its input (``svg_render.same_render``), and the first
  that renders the same is kept, trying in turn: the smaller of styles to attributes + the
  preset and the preset alone, then the other, the preset with 1 and then 3 more decimals,
  lossless only; if even that differs, the input is kept as it is. So a lower quality only
  gives fewer bytes where the picture does not change. Multipass (SVGO's passes repeated until
  the file stops shrinking) is not used: 0.3 % fewer bytes for 2.5 times the time, and its
  compounded rounding breaks some icons.
- Scripts: ``<script>``, ``on*`` handlers and ``javascript:`` links are always removed (SVGO's
  ``removeScripts``); every output is then checked for active content and refused if it held any.
- A gzipped input (``.svgz``) is written gzipped (level 9, no timestamp), its size compared as
  stored.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterator
from typing import Any

import defusedxml.ElementTree as SafeET
import svgo
from svgo.parser import SvgoParserError

from backend.core.formats.svg_read import SvgText, active_content
from backend.core.formats.svg_render import check_size, render, same_render
from backend.errors import DecodeError, ProcessingError

log = logging.getLogger(__name__)

_LOSSLESS_PLUGINS = ("removeDoctype", "removeXMLProcInst", "removeComments", "removeMetadata",
                     "removeEditorsNSData", "removeUnusedNS", "cleanupAttrs", "removeScripts")
_MAX_PRECISION = 6
_STYLE_ATTRIBUTE_RE = re.compile(r"\sstyle\s*=")


def precision(quality: int) -> int | None:
    """Decimals kept at ``quality``; None: lossless transformations only."""
    if quality >= 100:
        return None
    return 3 if quality >= 90 else 2 if quality >= 75 else 1


def _config(decimals: int | None, styles_to_attributes: bool = False) -> dict[str, Any]:
    if decimals is None:
        return {"plugins": list(_LOSSLESS_PLUGINS)}
    first = ["convertStyleToAttrs"] if styles_to_attributes else []
    return {"plugins": [*first, "preset-default", "removeScripts"], "floatPrecision": decimals}


def _candidates(text: str, quality: int, path: str | None) -> Iterator[str]:
    """Optimized texts to try in turn: fewest bytes first, lossless last."""
    decimals = precision(quality)
    if decimals is not None:
        # Styles to attributes changes nothing without a style attribute; with one it usually
        # wins by far, but not always: both are made, the smaller is tried first.
        first = [_run_svgo(text, decimals, False, path=path)]
        if _STYLE_ATTRIBUTE_RE.search(text):
            first.append(_run_svgo(text, decimals, True, path=path))
        yield from sorted((out for out in first if out is not None), key=len)
        for extra in (1, 3):
            out = _run_svgo(text, min(decimals + extra, _MAX_PRECISION), False, path=path)
            if out is not None:
                yield out
    out = _run_svgo(text, None, False, path=path)
    if out is not None:
        yield out


def optimize_text(svg: SvgText, quality: int, path: str | None = None) -> str:
    """The optimized text of ``svg`` at ``quality``, rendering as the input does (or the input's
    own text when no optimization does)."""
    size = check_size(svg.root)
    reference = render(svg.text, size)
    for out in _candidates(svg.text, quality, path):
        if same_render(reference, out, size):
            _refuse_active(out, path)
            return out
        log.info("an optimization of %s changes its render: trying the next", path)
    _refuse_active(svg.text, path)
    return svg.text


def _run_svgo(text: str, decimals: int | None, styles_to_attributes: bool, *,
              path: str | None) -> str | None:
    try:
        return str(svgo.optimize(text, _config(decimals, styles_to_attributes))["data"])
    except SvgoParserError as exc:
        raise DecodeError(f"not well-formed SVG: {exc.reason} at line {exc.line}",
                          path=path) from None
    except Exception:  # a bug in one plugin must not fail the file while a safer rung exists
        log.exception("svgo failed at %s decimals on %s", decimals, path)
        return None


def _refuse_active(text: str, path: str | None) -> None:
    found = active_content(SafeET.fromstring(text))
    if found is not None:
        raise ProcessingError(f"the optimized SVG would still hold active content ({found}): "
                              "refused", path=path)


def encode(text: str, gzipped: bool) -> bytes:
    """The file's bytes: UTF-8, gzipped when the input was."""
    data = text.encode("utf-8")
    return gzip.compress(data, compresslevel=9, mtime=0) if gzipped else data


def optimize(svg: SvgText, quality: int, path: str | None = None) -> bytes:
    """The optimized file for ``svg`` at ``quality``, stored as the input was."""
    return encode(optimize_text(svg, quality, path), svg.gzipped)

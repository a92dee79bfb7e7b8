"""Every word a person can see in the rendered page, checked against the page's language catalogue.

``UNTRANSLATED`` is a JavaScript function (for Playwright's ``evaluate`` and for raw CDP alike)
that takes ``{catalogue, names}`` and returns the visible texts that are not the catalogue's. It
walks every text node whose element is rendered (``checkVisibility``), the options of visible
``<select>``s, and the ``aria-label``, ``aria-valuetext``, ``title`` and ``placeholder`` of
visible elements. A text passes whole, or split at the page's " · " separator, when each part is

- a catalogue value, or a catalogue template whose ``{placeholders}`` are filled with anything;
  a template with no letters of its own ("{label} ({target})") passes only when each piece
  that fills it passes by itself (it would otherwise swallow any text);
- data by rule: no letters at all (numbers, percentages, image dimensions), or letters only in the
  unit symbols the page writes sizes and durations with in this language ("12,35 KB", "6,9 s"),
  or a path (starts with "/" or a drive letter), or only format names (``names``: "JPEG");
- inside an element marked as not to be translated: ``translate="no"`` (file names, format
  names, the language endonyms) or a ``lang`` other than the page's (Python's own messages,
  the changelog, which are English by design).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.core.formats.registry import FORMATS

I18N = Path(__file__).resolve().parents[1] / "frontend" / "i18n"
LANGUAGES = ("en", "nl", "de", "fr", "es", "ru")


def catalogue(code: str) -> dict[str, Any]:
    return json.loads((I18N / f"{code}.json").read_text(encoding="utf-8"))


def format_names() -> list[str]:
    names = {name for fmt in FORMATS for name in (fmt.label, fmt.label.upper(), fmt.id.upper())}
    return sorted(names)


def walk_args(code: str) -> dict[str, Any]:
    return {"catalogue": catalogue(code), "names": format_names()}


UNTRANSLATED = r"""async ({catalogue, names}) => {
  const lang = document.documentElement.lang;
  const words = await import(new URL("js/i18n.js", document.baseURI).href);
  const escape = (text) => text.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
  const values = Object.values(catalogue)
    .flatMap((v) => (typeof v === "object" ? Object.values(v) : [v]));
  const exact = new Set(values);
  const pattern = (v) => new RegExp(`^${escape(v).replace(/\\\{\w+\\\}/g, "(.+?)")}$`, "su");
  const lettered = (v) => /\p{L}/u.test(v.replace(/\{\w+\}/g, ""));
  const templated = values.filter((v) => /\{\w+\}/.test(v));
  const templates = templated.filter(lettered).map(pattern);
  const joins = templated.filter((v) => !lettered(v)).map(pattern);
  const tokens = (text) => text.match(/\p{L}+/gu) ?? [];
  const units = new Set([
    ...["B", "KB", "MB", "GB", "px"].flatMap((u) => tokens(String(catalogue[`unit.${u}`] ?? ""))),
    ...[0.5, 65.5, 3725].flatMap((s) => tokens(words.formatDuration(s))),
  ]);
  const nameSet = new Set(names.flatMap((n) => tokens(n)));
  const isData = (part) => {
    const letters = tokens(part);
    if (!letters.length) return true;
    if (/^(\/|[A-Za-z]:\\)/.test(part)) return true;
    if (letters.every((w) => units.has(w))) return true;
    return letters.every((w) => nameSet.has(w));
  };
  // A template of placeholders and punctuation only ("{label} ({target})") passes when what
  // fills each placeholder passes on its own.
  const passes = (part, depth = 0) =>
    !part || exact.has(part) || isData(part) || templates.some((re) => re.test(part)) ||
    (depth < 3 && joins.some((re) => {
      const match = re.exec(part);
      return match !== null && match.slice(1).every((piece) => passes(piece.trim(), depth + 1));
    }));
  const exempt = (el) => {
    if (el.closest("[translate]")?.getAttribute("translate") === "no") return true;
    const marked = el.closest("[lang]");
    return marked !== null && marked.lang !== lang;
  };
  const visible = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const found = [];
  const check = (el, text, where) => {
    const whole = text.replace(/\s+/g, " ").trim();
    if (passes(whole)) return;
    for (const part of whole.split(" · ")) {
      if (!passes(part.trim())) found.push([where, part.trim()]);
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || el.closest("script, style, svg")) continue;
    if (el.closest("option")) continue; // options are checked with their select below
    if (!visible(el) || exempt(el)) continue;
    check(el, node.textContent, el.tagName.toLowerCase());
  }
  for (const select of document.querySelectorAll("select")) {
    if (!visible(select)) continue;
    for (const option of select.options) {
      if (!exempt(option)) check(option, option.textContent, "option");
    }
  }
  const labelled = "[aria-label], [aria-valuetext], [title], [placeholder]";
  for (const el of document.querySelectorAll(labelled)) {
    if (!visible(el) || exempt(el)) continue;
    for (const attribute of ["aria-label", "aria-valuetext", "title", "placeholder"]) {
      if (el.hasAttribute(attribute)) check(el, el.getAttribute(attribute), `@${attribute}`);
    }
  }
  check(document.documentElement, document.title, "title");
  return found;
}"""

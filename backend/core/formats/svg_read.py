"""Reading an SVG from a stranger safely: bytes → checked XML text, before any optimizer sees it.

An SVG is XML, and XML can make its reader expand, fetch or run things. Rules, in order:

- 0 bytes: "empty file". Gzip (``.svgz``, or any file starting with gzip's magic) is inflated,
  at most ``MAX_TEXT_BYTES``: a gzip bomb is refused, a cut-off stream is "truncated".
- Text: UTF-8 (with or without BOM), UTF-16 with BOM, or the encoding the XML declaration names.
- ``<!DOCTYPE>``: an external DTD (``PUBLIC``/``SYSTEM`` ids, as Illustrator writes) is never
  fetched: the declaration is dropped. An internal subset may only declare plain text entities
  (``<!ENTITY ns_svg "http://…">``, old Illustrator files use them for namespace names); they are
  substituted here, once, up to ``MAX_ENTITY_EXPANSION`` bytes in all. Attribute-list
  declarations (Sodipodi writes ``<!ATTLIST svg xmlns:xlink CDATA #FIXED "…">``) go with the
  DOCTYPE, their defaults unapplied: nothing in them can fetch or expand once dropped, and a
  prefix only they bound makes the file "not well-formed" below. Parameter entities, external
  entities (XXE), entities that refer to other entities (billion laughs) and any other
  declaration are refused with the reason.
- The rest is parsed by ``defusedxml`` with DTDs, entities and external references forbidden,
  so nothing the checks above missed can expand or fetch. Badly formed XML is "not well-formed"
  with expat's line and column, "truncated" when it ends before the document does.
- The root element must be ``<svg>``.
- External references are refused: an ``href`` (or ``src``/``data`` in embedded HTML), a CSS
  ``url(…)`` or ``@import`` that is not a ``#fragment`` or a ``data:`` URI, and
  ``<?xml-stylesheet?>``. A viewer of the optimized file would fetch them, and the raster path
  would read local files into the picture. ``<a href>`` links are kept: following one is the
  viewer's choice, nothing is loaded.
- Active content (``<script>``, ``on*`` handlers, ``javascript:`` links, animations that set
  an ``href`` or a handler) is not refused: it is removed by the optimizer (SVGO's
  ``removeScripts``, always on), and :func:`active_content` then checks that the output holds
  none.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from backend.errors import DecodeError, ImageTooLargeError, UnsupportedFormatError

MAX_TEXT_BYTES = 64 * 1024 * 1024  # inflated .svgz and plain text alike
MAX_ENTITY_EXPANSION = 1024 * 1024  # bytes added by substituting internal entities, in all

SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_GZIP_MAGIC = b"\x1f\x8b"

_DOCTYPE_RE = re.compile(rb"<!DOCTYPE\s+[^\[>]*(\[(?P<subset>.*?)\]\s*)?>", re.S | re.I)
_ENTITY_RE = re.compile(rb"<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[\w.:-]+)\s+(?P<rest>[^>]*)>", re.S)
_LITERAL_RE = re.compile(rb"\s*(\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')\s*$", re.S)
# Quoted defaults may hold ">": a declaration the pattern cuts short is left over, so refused.
_ATTLIST_RE = re.compile(rb"<!ATTLIST\s(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_SUBSET_NOISE_RE = re.compile(rb"<!--.*?-->|\s+", re.S)
_ENCODING_RE = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_ENCODING_DECL_RE = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")
_CSS_URL_RE = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.I)
_CSS_IMPORT_RE = re.compile(r"@import\b", re.I)
_EXECUTABLE_RE = re.compile(r"^\s*(javascript|vbscript)\s*:", re.I)
_ANIMATIONS = frozenset({"set", "animate", "animateMotion", "animateTransform"})


@dataclass(frozen=True, slots=True)
class SvgText:
    """A checked SVG: its text (DTD gone, entities substituted) and how it was stored."""

    text: str
    gzipped: bool
    root: Element  # the parsed tree, for the intrinsic size and the checks


def is_gzip(data: bytes) -> bool:
    return data.startswith(_GZIP_MAGIC)


def read_svg(data: bytes, path: str | None = None) -> SvgText:
    """``data`` as checked SVG text; a typed error with the reason when unsafe or not SVG."""
    if not data:
        raise UnsupportedFormatError("empty file (0 bytes): nothing to optimize", path=path)
    gzipped = is_gzip(data)
    raw = _gunzip(data, path) if gzipped else data
    if len(raw) > MAX_TEXT_BYTES:
        raise ImageTooLargeError(
            f"SVG too large ({len(raw) / 2**20:.0f} MiB of XML, limit "
            f"{MAX_TEXT_BYTES // 2**20} MiB)", path=path)
    raw = _without_doctype(raw, path)
    text = _decode(raw, path)
    root = _parse(text, path)
    if _local(root.tag) != "svg":
        raise UnsupportedFormatError(
            f"not an SVG: the XML's root element is <{_local(root.tag)}>, not <svg>", path=path)
    reference = external_reference(root, text)
    if reference is not None:
        raise UnsupportedFormatError(
            f"SVG refers to an external resource ({reference}): refused, since opening the file "
            "would fetch it; embed it as a data: URI or remove it", path=path)
    return SvgText(text=text, gzipped=gzipped, root=root)


def _gunzip(data: bytes, path: str | None) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        raw = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise DecodeError(f"corrupt SVGZ data: {exc}", path=path) from None
    if len(raw) > MAX_TEXT_BYTES:
        raise ImageTooLargeError(
            f"SVGZ inflates to more than {MAX_TEXT_BYTES // 2**20} MiB of XML: refused",
            path=path)
    if not inflater.eof:
        raise DecodeError("truncated SVGZ data: the file ends before the gzip stream does "
                          "(incomplete copy?)", path=path)
    return raw


def _without_doctype(raw: bytes, path: str | None) -> bytes:
    """``raw`` with its DOCTYPE dropped and its plain internal entities substituted."""
    match = _DOCTYPE_RE.search(raw)
    root = raw.find(b"<svg")
    if match is None or (root >= 0 and match.start() > root):
        return raw  # none before the root: defusedxml refuses any that is left
    entities = _entities(match.group("subset") or b"", path)
    body = raw[: match.start()] + raw[match.end() :]
    if not entities:
        return body
    added = 0
    for name, value in entities.items():
        ref = b"&" + name + b";"
        added += body.count(ref) * max(0, len(value) - len(ref))
        if added > MAX_ENTITY_EXPANSION:
            raise UnsupportedFormatError(
                f"SVG's XML entities would expand by more than {MAX_ENTITY_EXPANSION // 1024} "
                "KiB: refused (an entity-expansion bomb?)", path=path)
        body = body.replace(ref, value)
    return body


def _entities(subset: bytes, path: str | None) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for match in _ENTITY_RE.finditer(subset):
        name = match.group("name").decode("ascii", "replace")
        literal = _LITERAL_RE.match(match.group("rest"))
        if match.group("pe"):
            reason = f"a parameter entity (%{name})"
        elif literal is None:
            reason = f"an external entity ({name}), which would read a file or a URL"
        else:
            value = literal.group("dq") if literal.group("dq") is not None else literal.group("sq")
            if b"&" in value or b"%" in value or b"<" in value:
                reason = (f"an entity built from other entities or markup ({name}), the way "
                          "entity-expansion bombs are")
            else:
                found[match.group("name")] = value
                continue
        raise UnsupportedFormatError(f"SVG declares {reason}: refused", path=path)
    leftover = _SUBSET_NOISE_RE.sub(b"", _ATTLIST_RE.sub(b"", _ENTITY_RE.sub(b"", subset)))
    if leftover:
        raise UnsupportedFormatError(
            "SVG's DOCTYPE declares more than plain text entities: refused", path=path)
    return found


def _decode(raw: bytes, path: str | None) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        encoding, raw = "utf-8", raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        declared = _ENCODING_RE.match(raw[:200])
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise DecodeError(f"SVG declares an unknown text encoding ({encoding})",
                          path=path) from None
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not an SVG: the content is not {encoding} text "
                          f"(byte {exc.start})", path=path) from None
    # Text from here on, written as UTF-8: the declaration must not name the old encoding.
    return _ENCODING_DECL_RE.sub(r"\1", text, count=1)


def _parse(text: str, path: str | None) -> Element:
    try:
        return SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsupportedFormatError(f"SVG uses a refused XML feature: {exc}", path=path) from None
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":", 1)[0]
        if reason in ("no element found", "unclosed token") and line >= text.count("\n") + 1:
            raise DecodeError("truncated SVG data: the file ends before the document does "
                              "(incomplete copy?)", path=path) from None
        if line == 1 and column == 0:
            raise UnsupportedFormatError("not an image (the content is not SVG/XML)",
                                         path=path) from None
        raise DecodeError(f"not well-formed SVG/XML: {reason} at line {line}, column "
                          f"{column + 1}", path=path) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_local(url: str) -> bool:
    url = url.strip()
    return not url or url.startswith("#") or url.lower().startswith("data:")


def external_reference(root: Element, text: str) -> str | None:
    """The first reference in the document that a viewer would load, or None."""
    if "<?xml-stylesheet" in text:
        return "<?xml-stylesheet?>"
    for element in root.iter():
        name = _local(element.tag) if isinstance(element.tag, str) else ""
        for attr, value in element.attrib.items():
            local = _local(attr)
            if local in ("href", "src", "data") or attr == _XLINK_HREF:
                if name == "a" or _EXECUTABLE_RE.match(value):
                    continue  # a link, or script that removeScripts takes out
                if not _is_local(value):
                    return f'<{name} {local}="{value[:80]}">'
            elif local == "style" or "url(" in value:
                found = _css_reference(value)
                if found:
                    return found
        if name == "style" and element.text:
            found = _css_reference(element.text)
            if found:
                return found
    return None


def _css_reference(css: str) -> str | None:
    if _CSS_IMPORT_RE.search(css):
        return "CSS @import"
    for url in _CSS_URL_RE.findall(css):
        if not _is_local(url):
            return f"url({url[:80]})"
    return None


def active_content(root: Element) -> str | None:
    """The first thing in the document that could run, or None (checked on every output)."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local(element.tag)
        if name == "script":
            return "<script>"
        if name in _ANIMATIONS and (element.get("attributeName") or "").lower().endswith("href"):
            return f"<{name}> that sets a link"
        for attr, value in element.attrib.items():
            local = _local(attr).lower()
            if local.startswith("on"):
                return f"{local} handler"
            if local in ("href", "src", "data", "action", "formaction") and _EXECUTABLE_RE.match(
                    value):
                return f'{local}="{value[:40]}"'
    return None

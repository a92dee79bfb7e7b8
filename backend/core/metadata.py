"""What an output keeps of its source's metadata: EXIF, XMP and IPTC, whole or without location.

Decisions:

- ``strip`` (default): nothing but the ICC profile (and, for a JPEG rewritten losslessly with its
  pixels still stored sideways, a minimal EXIF holding just the orientation).
- ``keep``: EXIF (orientation reset to 1 when the pixels were turned upright), XMP (its
  ``tiff:Orientation`` likewise), IPTC (JPEG only: the other formats carry IPTC Core inside XMP),
  and the ICC profile.
- ``keep-no-location``: as ``keep`` minus what tells where the photo was taken or which device
  took it: the whole GPS IFD, the EXIF maker note (vendors hide serials and locations there),
  body/lens serial numbers, owner name and image unique ID; XMP properties of those names in any
  namespace (``exif:GPS*``, ``photoshop:City``, ``Iptc4xmpCore:Location``, ``aux:SerialNumber``,
  …); IPTC datasets 2:26/27/90/92/95/100/101 (location code/name, city, sub-location, state,
  country code/name), and the IPTC digest that would no longer match. PNG text chunks other than
  XMP (``Comment``, ImageMagick's "Raw profile" copies of EXIF) are dropped in this mode, since
  they can hold a copy of the GPS data in a form we do not parse.
- A file we would otherwise copy unchanged (the kept original) is not copied when its metadata
  must change: privacy beats the last few bytes (see ``needs_rewrite``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import Image

from backend.types import MetadataMode

ORIENTATION_TAG = 0x0112
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
# Exif IFD: MakerNote, ImageUniqueID, CameraOwnerName, BodySerialNumber, LensSerialNumber.
_EXIF_IFD_PRIVATE = (0x927C, 0xA420, 0xA430, 0xA431, 0xA435)
# IFD0: HostComputer, CameraSerialNumber (DNG), GPS IFD pointer.
_IFD0_PRIVATE = (0x013C, 0xC62F, GPS_IFD)

_XMP_PRIVATE_NAMES = (
    r"GPS\w*|City|State|Country|CountryCode|Location|LocationCreated|LocationShown|Sublocation"
    r"|SerialNumber|LensSerialNumber|BodySerialNumber|CameraSerialNumber|OwnerName"
    r"|CameraOwnerName|ImageUniqueID")
_XMP_ATTRIBUTE = re.compile(
    rb'\s[\w.-]+:(?:' + _XMP_PRIVATE_NAMES.encode() + rb')\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_XMP_ELEMENT = re.compile(
    rb"<(?P<tag>[\w.-]+:(?:" + _XMP_PRIVATE_NAMES.encode() + rb"))\b[^>]*?"
    rb"(?:/>|>.*?</(?P=tag)\s*>)", re.DOTALL)
_XMP_ORIENTATION = re.compile(rb'(tiff:Orientation\s*=\s*"|<tiff:Orientation>)\s*[2-8]')

PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
_IRB_IPTC = 0x0404
_IRB_IPTC_DIGEST = 0x0425
_IPTC_LOCATION = frozenset({26, 27, 90, 92, 95, 100, 101})  # record 2 datasets


@dataclass(frozen=True, slots=True)
class Carried:
    """Metadata payloads to write into an output, already filtered for the chosen mode."""

    exif: bytes | None = None  # "Exif\0\0" + TIFF, as Pillow writes and reads it
    xmp: bytes | None = None  # the XMP packet
    iptc: bytes | None = None  # a JPEG APP13 payload: Photoshop IRB holding the IPTC record


def carried(image: Image.Image, mode: MetadataMode, *, upright: bool) -> Carried | None:
    """What the output keeps of ``image``'s metadata under ``mode``; ``upright``: the output's
    pixels were turned to their display orientation (so its orientation tag must say 1)."""
    if mode == "strip":
        return None
    private = mode == "keep-no-location"
    return Carried(exif=_exif(image, private, upright), xmp=_xmp(image, private, upright),
                   iptc=_iptc(image, private))


def needs_rewrite(image: Image.Image, mode: MetadataMode, as_stored: Carried | None) -> bool:
    """Whether a byte copy of the source would carry metadata ``mode`` must remove;
    ``as_stored`` is ``carried(image, mode, upright=False)``, already at hand."""
    if mode != "keep-no-location":
        return False
    return carried(image, "keep", upright=False) != as_stored or _has_png_text(image)


def _has_png_text(image: Image.Image) -> bool:
    text = getattr(image, "text", None)
    return bool(text) and any(key != "XML:com.adobe.xmp" for key in text)


def _exif(image: Image.Image, private: bool, upright: bool) -> bytes | None:
    try:
        exif = image.getexif()
        if not len(exif):
            return None
        if private:
            exif = _without_private(exif)
        elif upright and exif.get(ORIENTATION_TAG, 1) != 1:
            exif = _copy(exif)  # Pillow's cached Exif: the source must keep its own orientation
        if upright and ORIENTATION_TAG in exif:
            exif[ORIENTATION_TAG] = 1
        return exif.tobytes()
    except Exception:  # unreadable EXIF is dropped rather than failing the image
        return None


def _copy(exif: Image.Exif) -> Image.Exif:
    copy = Image.Exif()
    copy.load(exif.tobytes())
    return copy


def _without_private(exif: Image.Exif) -> Image.Exif:
    # A fresh Exif: Pillow writes back every sub-IFD it has loaded, deleted pointer or not.
    clean = Image.Exif()
    for tag, value in exif.items():
        if tag not in _IFD0_PRIVATE and tag != EXIF_IFD:
            clean[tag] = value
    inner = {tag: value for tag, value in exif.get_ifd(EXIF_IFD).items()
             if tag not in _EXIF_IFD_PRIVATE}
    if inner:
        clean[EXIF_IFD] = inner
    return clean


def source_xmp(image: Image.Image) -> bytes | None:
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return xmp or None


def _xmp(image: Image.Image, private: bool, upright: bool) -> bytes | None:
    xmp = source_xmp(image)
    if xmp is None:
        return None
    if upright:
        xmp = _XMP_ORIENTATION.sub(lambda m: m.group(1) + b"1", xmp)
    if private:
        xmp = scrub_xmp(xmp)
    return xmp


def scrub_xmp(xmp: bytes) -> bytes:
    """``xmp`` without location, serial-number and owner properties (attribute or element)."""
    return _XMP_ELEMENT.sub(b"", _XMP_ATTRIBUTE.sub(b"", xmp))


def _iptc(image: Image.Image, private: bool) -> bytes | None:
    for marker, payload in getattr(image, "applist", ()):
        if marker == "APP13" and payload.startswith(PHOTOSHOP_HEADER):
            return scrub_photoshop(payload) if private else payload
    return None


def scrub_photoshop(payload: bytes) -> bytes | None:
    """An APP13 Photoshop payload with IPTC location datasets and the stale digest removed;
    None when nothing is left. Malformed resources end the walk (what follows is dropped)."""
    out = bytearray(PHOTOSHOP_HEADER)
    pos = len(PHOTOSHOP_HEADER)
    while pos + 12 <= len(payload) and payload[pos : pos + 4] == b"8BIM":
        start = pos
        resource = int.from_bytes(payload[pos + 4 : pos + 6], "big")
        name_len = payload[pos + 6]
        name_end = pos + 7 + name_len + ((1 + name_len) % 2)  # the Pascal name is padded even
        if name_end + 4 > len(payload):
            break
        size = int.from_bytes(payload[name_end : name_end + 4], "big")
        data_end = name_end + 4 + size
        if data_end > len(payload):
            break
        data = payload[name_end + 4 : data_end]
        pos = data_end + (size % 2)
        if resource == _IRB_IPTC_DIGEST:
            continue
        if resource == _IRB_IPTC:
            data = _scrub_iptc_record(data)
            if not data:
                continue
        out += payload[start:name_end]
        out += len(data).to_bytes(4, "big") + data + (b"\x00" if len(data) % 2 else b"")
    return bytes(out) if len(out) > len(PHOTOSHOP_HEADER) else None


def _scrub_iptc_record(data: bytes) -> bytes:
    """IPTC-IIM datasets without record 2's location datasets."""
    kept = bytearray()
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        record, dataset = data[pos + 1], data[pos + 2]
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        header = 5
        if length & 0x8000:  # extended dataset: the length's own size follows
            count = length & 0x7FFF
            length = int.from_bytes(data[pos + 5 : pos + 5 + count], "big")
            header += count
        end = pos + header + length
        if end > len(data):
            break
        if not (record == 2 and dataset in _IPTC_LOCATION):
            kept += data[pos:end]
        pos = end
    return bytes(kept)

"""ISO base media file format (the box structure of HEIF and the JPEG XL container): only what
the readers need to tell a truncated file from a damaged one, which their libraries do not."""

from __future__ import annotations

import io
from typing import IO


def cut_box(data: bytes) -> str | None:
    """The type of the top-level box ``data`` ends inside, or None when every box is whole (or
    the data is not a box structure at all)."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        name = data[pos + 4 : pos + 8].decode("latin-1")
        if size == 1 and pos + 16 <= len(data):  # a 64-bit size follows the type
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size == 0:  # the last box runs to the end of the file
            return None
        if size < 8 or not name.isprintable():
            return None  # not boxes, or damaged beyond telling
        if pos + size > len(data):
            return name
        pos += size
    return None


def truncation_message(data: bytes) -> str | None:
    """"truncated: the file ends inside its 'mdat' box", or None when it is not cut short."""
    box = cut_box(data)
    return None if box is None else f"truncated: the file ends inside its {box.strip()!r} box"


def whole_file(fp: IO[bytes]) -> bytes:
    """Every byte of the file a Pillow plugin was handed, its position left as it was."""
    if isinstance(fp, io.BytesIO):
        return fp.getvalue()
    position = fp.tell()
    fp.seek(0)
    data = fp.read()
    fp.seek(position)
    return data

"""Turning untrusted builtin objects (JSON from the UI, CLI flags) into wire Structs.

msgspec reports *where* a value failed (``$.settings.quality.global``); we add *what* the value
was, so the person reading the error can fix it without opening the payload.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from backend.errors import ValidationError
from backend.types import AppPreferences, ImageSettings, Task, TaskArray

T = TypeVar("T")

_PATH_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_TOKEN_RE = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_MISSING = object()


def _lookup(obj: Any, path: str) -> Any:
    for name, index in _TOKEN_RE.findall(path):
        try:
            obj = obj[int(index)] if index else obj[name]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return obj


def convert(obj: Any, type_: type[T], *, what: str) -> T:
    """``msgspec.convert`` with an error that names the field and the offending value."""
    try:
        return msgspec.convert(obj, type_)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _PATH_RE.search(text)
        if match is None:
            raise ValidationError(f"Invalid {what}: {text}") from None
        path = match.group("path")
        reason = text[: match.start()]
        field = path.lstrip(".") or what
        value = _lookup(obj, path)
        shown = "" if value is _MISSING else f" = {msgspec.json.encode(value).decode()[:80]}"
        raise ValidationError(f"Invalid {what}: {field}{shown}: {reason}") from None


def decode_settings(obj: Any) -> ImageSettings:
    return convert(_migrated(obj), ImageSettings, what="settings")


def _migrated(obj: Any) -> Any:
    """Settings saved before ``metadata`` replaced the boolean ``keepMetadata`` (0.1.0)."""
    if obj is None:
        return {}
    if isinstance(obj, dict) and "keepMetadata" in obj:
        obj = dict(obj)
        keep = obj.pop("keepMetadata")
        if keep is True:
            obj.setdefault("metadata", "keep")
    return obj


def decode_preferences(obj: Any) -> AppPreferences:
    return convert({} if obj is None else obj, AppPreferences, what="preferences")


_ARRAY_FIELDS = {"[0]": "input_path", "[1]": "output_path", "[2]": "settings"}


def decode_task(obj: Any, *, what: str = "task") -> Task:
    """A task in the object form or the original UI's array form ``[input, output, settings]``."""
    if not isinstance(obj, list | tuple):
        return convert(obj, Task, what=what)
    try:
        arr = convert(list(obj), TaskArray, what=what)
    except ValidationError as exc:
        # Name the array slot as the object form's field, so both forms read the same.
        message = exc.message
        for slot, name in _ARRAY_FIELDS.items():
            message = message.replace(f": {slot}", f": {name}", 1)
        raise ValidationError(message) from None
    return Task(input_path=arr.input_path, output_path=arr.output_path, settings=arr.settings)


def decode_tasks(obj: Any) -> list[Task]:
    if not isinstance(obj, list):
        got = type(obj).__name__
        raise ValidationError(f"Invalid tasks: expected an array of tasks, got {got}")
    return [decode_task(item, what=f"tasks[{i}]") for i, item in enumerate(obj)]

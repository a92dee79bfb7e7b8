"""Logging for the CLI and the app: one line per record, its context as ``key=value`` pairs.

Modules log a plain message and put the context in ``extra=`` (``task_id``, ``path``, ``pid``,
``exit`` ...). This formatter appends those pairs (logfmt style: values with spaces or quotes are
JSON-quoted), so lines stay readable, grep-able and machine-parsable::

    2026-05-09 22:41:07,512 WARNING backend.core.pool worker crashed; retrying the image once \
pid=4242 exit="signal 9" task_id=3.17 path=/photos/a.jpg attempt=1

Only the ``backend`` logger tree is configured (level from ``$IMAGE_OPTIMIZER_LOG``, default
WARNING); other libraries' logging is left as their host sets it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, TextIO

LEVEL_ENV = "IMAGE_OPTIMIZER_LOG"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_NAME = "image-optimizer"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if not text or any(c in text for c in ' ="\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        pairs = [f"{key}={_value(value)}" for key, value in record.__dict__.items()
                 if key not in _STANDARD and not key.startswith("_")]
        return " ".join([line, *pairs])


def configure_logging(level: str | int | None = None, stream: TextIO | None = None) -> None:
    """Send the backend's records to ``stream`` (stderr) as key=value lines. Idempotent."""
    logger = logging.getLogger("backend")
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(KeyValueFormatter())
    logger.addHandler(handler)
    logger.setLevel(level or os.environ.get(LEVEL_ENV, "WARNING").upper())
    logger.propagate = False

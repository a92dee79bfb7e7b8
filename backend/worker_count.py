"""How many worker processes: chosen and checked once, where the value enters the app.

Precedence: the ``--workers`` flag, then $IMAGE_OPTIMIZER_WORKERS, then the app's saved setting,
then one per CPU ("Auto"). The shells and the CLI call :func:`resolve`; the engine only ever sees
a plain, valid int.

Decisions:
- A flag or environment value that is not a whole number is a ValidationError, one out of range
  (1 to min(64, 8 per CPU)) a PoolError; the CLI turns either into a usage error (exit 2), the
  app into one line on stderr.
- A saved count this machine cannot run (a settings file from a bigger machine) is ignored with
  a warning: a setting must never stop the app.
"""

from __future__ import annotations

import logging
import os

from backend.core.sizing import cpu_count, default_workers, max_workers
from backend.errors import PoolError, ValidationError

log = logging.getLogger(__name__)

WORKERS_ENV = "IMAGE_OPTIMIZER_WORKERS"


def check(workers: object, source: str = "workers") -> int:
    """``workers`` as a valid count, or the error naming ``source`` (where the value came from)."""
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise ValidationError(f"{source} must be a whole number, got {workers!r}")
    limit = max_workers()
    if not 1 <= workers <= limit:
        raise PoolError(f"{source} must be between 1 and {limit} (at most 8 per CPU, "
                        f"{cpu_count()} CPUs here), got {workers}")
    return workers


def resolve(workers: object = None, saved: int | None = None) -> int:
    """The pool size: ``workers`` (the flag), else $IMAGE_OPTIMIZER_WORKERS, else ``saved``,
    else one per CPU."""
    if workers is not None:
        return check(workers)
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError(f"{WORKERS_ENV}={raw!r} is not a whole number") from None
        return check(value, WORKERS_ENV)
    if saved is not None and 1 <= saved <= max_workers():
        return saved
    if saved is not None:
        log.warning("saved worker count out of range, using one per CPU",
                    extra={"saved": saved, "max": max_workers()})
    return default_workers()

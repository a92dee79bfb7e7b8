"""How many worker processes this machine can run: the facts, not the choice.

Which count to use (a flag, the environment, a saved setting) is decided where the value enters,
in ``backend/worker_count.py``; the engine takes a plain int. These bounds are shared by that
check, the ``save_preferences`` command and the pool's info.
"""

from __future__ import annotations

import os

MAX_WORKERS = 64


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), not merely those installed."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return counter() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def max_workers() -> int:
    # Beyond 8 processes per core a pool only adds memory and context switches.
    return min(MAX_WORKERS, 8 * cpu_count())


def default_workers() -> int:
    """One per CPU (what "Auto" means), within the bounds."""
    return min(cpu_count(), max_workers())

"""Undo Dask's memory-trimming malloc setting in a worker, so an image costs what it costs in a
local pool worker.

Why: a Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (Dask's default
``distributed.nanny.pre-spawn-environ``, meant to hand freed memory back to the OS). Setting any
glibc malloc threshold switches off glibc's dynamic mmap threshold, so every buffer over 128 KiB
(each decoded image, each encoder buffer: tens of MB per photo) is a fresh ``mmap`` whose pages
fault in zeroed, and is unmapped again on free. On the bench corpus that is about 12x the minor
page faults and ~15 % more CPU per image than in a pool worker (``bench/results/cluster.md``).

What: when the worker runs with exactly Dask's default, set the thresholds glibc's dynamic mode
reaches anyway once big buffers have been freed (mmap at 32 MiB, trim at twice that, glibc's
own caps), so big buffers are reused from the heap as in a pool worker. A worker holds at most
64 MiB of freed heap this way. A value the cluster's operator chose is left alone, as is any
allocator that is not glibc's.
"""

from __future__ import annotations

import ctypes
import os

DASK_DEFAULT_TRIM = "65536"
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc's dynamic mode pairs with it


def reuse_big_buffers() -> bool:
    """Set the pool worker's malloc behaviour if Dask's default is in force; whether it was."""
    if os.environ.get("MALLOC_TRIM_THRESHOLD_") != DASK_DEFAULT_TRIM:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: no such switch to undo
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))

"""Where the client places a cluster task (backend/cluster/placement.py) and the worker's malloc
setting (backend/cluster/allocator.py): plain functions, checked without a cluster."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from backend.cluster.placement import pick_worker

REPO = Path(__file__).resolve().parent.parent
A, B = "tcp://10.0.0.1:1", "tcp://10.0.0.2:1"


def test_the_least_loaded_worker_takes_the_next_task() -> None:
    assert pick_worker({A: 1, B: 1}, Counter({A: 1}), queued=10) == B
    assert pick_worker({A: 4, B: 1}, Counter({A: 1, B: 1}), queued=10) == A  # 1/4 < 1/1


def test_a_worker_holds_one_task_ahead_per_thread_only_while_plenty_is_queued() -> None:
    busy = Counter({A: 1, B: 1})
    assert pick_worker({A: 1, B: 1}, busy, queued=4) == A
    assert pick_worker({A: 1, B: 1}, Counter({A: 2, B: 2}), queued=4) is None
    # Near the end nothing waits ahead: an image held by a busy worker could leave another idle.
    assert pick_worker({A: 1, B: 1}, busy, queued=3) is None


def test_no_worker_means_no_placement() -> None:
    assert pick_worker({}, Counter(), queued=5) is None


_FAULTS = """
import resource, sys
from backend.cluster.allocator import reuse_big_buffers
undone = reuse_big_buffers()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    buffer = bytearray(16 << 20)  # a decoded 4 MP RGBA image, allocated and freed per image
    del buffer
print(undone, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env: dict[str, str]) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _FAULTS], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True, timeout=60).stdout.split()
    return out[0], int(out[1])


def test_dasks_malloc_trim_default_is_undone_so_image_buffers_are_reused() -> None:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    undone, reused = _faults({**base, "MALLOC_TRIM_THRESHOLD_": "65536"})
    assert undone == "True"
    # With Dask's setting left in force each 16 MB buffer is a fresh mmap: 4096 page faults.
    kept, faulting = _faults({**base, "MALLOC_TRIM_THRESHOLD_": "65537"})  # an operator's own
    assert kept == "False"
    assert faulting > 15 * 4096 and reused < 3 * 4096

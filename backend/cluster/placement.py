"""Which Dask worker gets the next chunk: the client places every task itself.

Why not leave placement to Dask's scheduler: with a few tasks in flight it puts a new one on
whichever worker its duration estimate prefers, and an image-optimizer task's duration varies
by a hundredfold (an 8x8 icon, a 20 MP PNG), so the estimate is noise. Measured on the bench
corpus (bench/cluster.py): a worker sat idle for up to a second, mid-batch, while two tasks
waited on the other one, and work stealing did not move them. So each task is submitted
pinned to a worker with room (``workers=[address]``, ``allow_other_workers=True``, so a task
whose worker is lost still runs elsewhere), and a worker's room is the local pool's rule:

- every worker thread holds one task;
- one more per thread waits on the worker while at least 2 tasks per thread are queued, so the
  worker starts its next image without a round trip to the client (on a busy 2-core machine
  that round trip took ~30 ms, against ~0.2 ms for the pool's pipe); near the end of a batch
  nothing waits ahead, so no image sits behind a long one while another worker goes idle;
- the worker with the fewest tasks per thread goes first.
"""

from __future__ import annotations

from collections import Counter

AHEAD_PER_THREAD = 1


def pick_worker(threads: dict[str, int], holding: Counter[str], queued: int) -> str | None:
    """The address of the worker that should take the next task, or None when none has room.

    ``threads``: each worker's thread count; ``holding``: tasks each has in flight (submitted,
    not reported); ``queued``: images still waiting in the client's queue.
    """
    total = sum(threads.values())
    ahead = AHEAD_PER_THREAD if queued >= 2 * total else 0
    best: str | None = None
    best_load = 0.0
    for address in sorted(threads):
        count = threads[address]
        held = holding[address]
        if held >= count * (1 + ahead):
            continue
        load = held / count
        if best is None or load < best_load:
            best, best_load = address, load
    return best

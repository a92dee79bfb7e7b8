"""CPU time of this process and every process it started, read from /proc.

The bench reports cores busy = CPU seconds / wall seconds next to each speed. It is how a codec
that quietly runs a second thread shows up: an in-process loop must stay at one core, a pool of
N workers at N at most. (oxipng once did: its palette trials ran beside the main thread, so one
worker borrowed the idle core and "2 workers vs 1" understated the pool's scaling.)
"""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, user + system seconds) of one process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields are counted after its last ')'.
    fields = text[text.rindex(b")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def tree_cpu_s(root: int | None = None) -> float:
    """CPU seconds used so far by ``root`` (default: this process) and all its descendants
    that are still running: all their threads, user and system time."""
    root = os.getpid() if root is None else root
    stats = {int(pid): s for pid in os.listdir("/proc") if pid.isdigit()
             if (s := _stat(pid)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total

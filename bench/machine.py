"""What the numbers were measured on: CPU, memory, load, and the versions of every engine."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import threading
import time

from bench.schema import MachineInfo


def versions() -> dict[str, str]:
    """Python, Pillow and the codec libraries our engine runs on."""
    from PIL import features

    out = {"python": sys.version.split()[0]}
    for dist in ("pillow", "pyoxipng", "msgspec", "imagequant", "mozjpeg-lossless-optimization"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    for feature in ("libjpeg_turbo", "zlib", "webp", "avif"):
        version = features.version(feature)
        if version:
            out[feature] = version
    return out


def machine_info(sharp_versions: dict[str, str] | None = None) -> MachineInfo:
    found = versions()
    for name, version in (sharp_versions or {}).items():
        found[f"sharp:{name}"] = version
    node = _node_version()
    if node:
        found["node"] = node
    return MachineInfo(
        cpu_count=os.cpu_count() or 1, cpu_model=_cpu_model(), memory_gb=_memory_gb(),
        platform=platform.platform(), python=sys.version.split()[0], versions=found,
        load_average_start=load_average(),
    )


class CpuMeter:
    """CPU time the rest of the machine used while the bench ran.

    A thread samples /proc every quarter second: the busy time of all CPUs (/proc/stat) minus
    what the bench's own process tree used (this process and every descendant: contender
    processes, pool workers under their forkserver, Node). What is left is other work competing
    for the cores, the honest noise indicator on a shared machine (the load average counts the
    bench itself).
    """

    def __init__(self, interval: float = 0.25) -> None:
        self._interval = interval
        self._other = 0.0
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self._thread.start()

    def other_share(self) -> float | None:
        """Stop sampling; other processes' share of the machine's CPU time, 0..1."""
        self._stop.set()
        self._thread.join()
        elapsed = time.monotonic() - self._t0
        if _machine_busy_s() is None or elapsed <= 0:
            return None
        return round(self._other / (elapsed * (os.cpu_count() or 1)), 3)

    def _run(self) -> None:
        busy, tree = _machine_busy_s(), _tree_cpu_s(os.getpid())
        while not self._stop.wait(self._interval):
            now_busy, now_tree = _machine_busy_s(), _tree_cpu_s(os.getpid())
            if busy is None or now_busy is None:
                return
            own = sum(cpu - tree.get(pid, 0.0) for pid, cpu in now_tree.items())
            self._other += max(0.0, (now_busy - busy) - own)
            busy, tree = now_busy, now_tree


def _machine_busy_s() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / _TICK


def _tree_cpu_s(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of ``root`` and each of its live descendants, by pid."""
    parent, cpu = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue  # exited while we looked
        fields = stat[stat.rfind(")") + 2:].split()
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    tree, frontier = {root}, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in tree:
                tree.add(child)
                frontier.append(child)
    return {pid: cpu[pid] for pid in tree if pid in cpu}


_TICK = os.sysconf("SC_CLK_TCK")


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return 0.0


def _node_version() -> str | None:
    try:
        proc = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip().lstrip("v") or None

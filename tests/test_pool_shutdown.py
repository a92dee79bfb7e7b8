"""No worker process outlives the pool: explicit shutdown, normal exit, Ctrl-C, SIGTERM, SIGKILL.

Every check looks the processes up in /proc (a zombie counts as gone: it runs nothing and holds
no memory; reaping orphans is the job of whatever init the machine has).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from waiting import process_gone

from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.errors import PoolError
from backend.types import ImageSettings, OptimizationResult, Task

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import json, sys, threading, time
    from backend.core.optimizer import ImageOptimizer
    from backend.core.pool import ProcessPool
    from backend.types import ImageSettings, Task

    def main() -> None:
        mode, image = sys.argv[1], sys.argv[2]
        optimizer = ImageOptimizer(ProcessPool(2))
        optimizer.start(wait=True)
        if mode == "normal":  # no shutdown() call: the exit hook must do it
            result = optimizer.optimize_image(Task(input_path=image))
            print(json.dumps({"pids": optimizer.info().pids, "ok": result.success}), flush=True)
            return
        task = Task(input_path=image, settings=ImageSettings(outputFormat="avif"))
        batch = threading.Thread(target=optimizer.optimize_images, args=([task],), daemon=True)
        batch.start()
        while optimizer.info().inFlight == 0:
            time.sleep(0.005)
        print(json.dumps({"pids": optimizer.info().pids}), flush=True)
        try:
            while batch.is_alive():
                batch.join(0.05)
        except KeyboardInterrupt:  # Ctrl-C: cancel what runs, then exit as a CLI would
            optimizer.cancel()
            sys.exit(130)

    if __name__ == "__main__":
        main()
""")


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children[int(fields[1])].append(int(entry.name))
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children[stack.pop()]:
            found.add(child)
            stack.append(child)
    return found


def wait_until(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_shutdown_stops_every_worker_and_is_idempotent(tmp_images: Callable[..., Path]) -> None:
    optimizer = ImageOptimizer(ProcessPool(2))
    optimizer.start(wait=True)
    pids = optimizer.info().pids
    assert len(pids) == 2 and not any(process_gone(p) for p in pids)
    optimizer.shutdown()
    assert all(process_gone(p) for p in pids)
    assert optimizer.info().alive == 0
    optimizer.shutdown()
    with pytest.raises(PoolError, match="shut down"):
        optimizer.optimize_image(Task(input_path=str(tmp_images("a.jpg"))))


def test_shutdown_during_a_batch_cancels_it_and_stops_the_busy_workers(
    tmp_images: Callable[..., Path],
) -> None:
    slow = tmp_images("big.jpg", source="astronaut", size=(2000, 2000), quality=95)
    optimizer = ImageOptimizer(ProcessPool(2))
    results: list[OptimizationResult] = []
    task = Task(input_path=str(slow), settings=ImageSettings(outputFormat="avif"))
    runner = threading.Thread(target=lambda: results.extend(optimizer.optimize_images([task])))
    runner.start()
    assert wait_until(lambda: optimizer.info().inFlight == 1, timeout=60)
    pids = optimizer.info().pids
    optimizer.shutdown()
    runner.join()
    assert results[0].status == "cancelled"
    assert not (slow.parent / "optimized" / "big.avif").exists()
    assert all(process_gone(p) for p in pids)


@pytest.mark.parametrize("how", ["normal", "ctrl-c", "sigterm", "sigkill"])
def test_no_child_process_outlives_the_app(how: str, tmp_images: Callable[..., Path]) -> None:
    image = (tmp_images("small.jpg", size=(120, 80)) if how == "normal" else
             tmp_images("big.jpg", source="astronaut", size=(2000, 2000), quality=95))
    script = image.parent / "app.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), how.split("-")[0], str(image)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        report = json.loads(proc.stdout.readline() or "{}")
        assert len(report.get("pids", [])) == 2, proc.stderr.read() if proc.stderr else ""
        family = descendants(proc.pid) | set(report["pids"])
        assert set(report["pids"]) <= family
        if how != "normal":
            sig = {"ctrl-c": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}
            os.kill(proc.pid, sig[how])
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert wait_until(lambda: all(process_gone(p) for p in family)), (
        [p for p in family if not process_gone(p)])
    expected = {"normal": 0, "ctrl-c": 130, "sigterm": -signal.SIGTERM, "sigkill": -signal.SIGKILL}
    assert code == expected[how]
    if how == "normal":
        assert report["ok"] is True
    else:
        # The worker died with the app instead of finishing its image: no output, no temp file.
        assert sorted((image.parent / "optimized").glob("*")) == []

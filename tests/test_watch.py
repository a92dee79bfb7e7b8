"""The watch service with real filesystem events (inotify) in temp folders, the real pool, and the
CLI as a subprocess. Small images and a short settle time keep it fast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.types import ImageSettings
from backend.watch.activity import Activity
from backend.watch.ledger import Ledger
from backend.watch.model import WatchFolder
from backend.watch.service import WatchService

SETTLE = 0.3
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pool_optimizer() -> Iterator[ImageOptimizer]:
    optimizer = ImageOptimizer(ProcessPool(2))
    optimizer.start(wait=True)
    yield optimizer
    optimizer.shutdown()


def _png(path: Path, shade: int = 0, side: int = 32) -> Path:
    Image.new("RGB", (side, side), (shade % 256, 40, 90)).save(path)
    return path


def _wait(done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


class Watch:
    def __init__(self, optimizer: ImageOptimizer, db: Path, folder: Path,
                 **folder_options: object) -> None:
        self.ledger = Ledger(db)
        self.service = WatchService(optimizer, self.ledger, settle=SETTLE, activity=Activity())
        self.service.start()
        self.service.add(WatchFolder(id="f", path=os.path.realpath(folder), **folder_options))

    def items(self) -> list[tuple[str, str]]:
        return [(i.fileName, i.status) for i in reversed(self.service.activity.recent())]

    def settle_all(self, count: int) -> None:
        def done() -> bool:
            counts = self.service.activity.counts("f")
            return counts.optimized + counts.failed >= count and self.service.idle()

        _wait(done, timeout=60.0)
        time.sleep(SETTLE * 3)  # anything more (a loop on our own outputs) would show now

    def close(self) -> None:
        self.service.stop()
        self.ledger.close()


def test_file_written_slowly_in_chunks_is_processed_once_after_it_is_complete(
        pool_optimizer: ImageOptimizer, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    data = _png(tmp_path / "src.png", side=200).read_bytes()
    watch = Watch(pool_optimizer, tmp_path / "l.db", folder)
    try:
        with open(folder / "slow.png", "wb") as fh:
            for start in range(0, len(data), len(data) // 8 + 1):
                fh.write(data[start:start + len(data) // 8 + 1])
                fh.flush()
                time.sleep(SETTLE / 3)
                assert watch.items() == []  # not while it is being written
        watch.settle_all(1)
        assert watch.items() == [("slow.png", "optimized")]
        with Image.open(folder / "optimized" / "slow.png") as out:
            assert out.size == (200, 200)
    finally:
        watch.close()


def test_500_files_dropped_at_once_are_each_processed_exactly_once(
        pool_optimizer: ImageOptimizer, tmp_path: Path) -> None:
    staging, folder = tmp_path / "staging", tmp_path / "in"
    staging.mkdir()
    folder.mkdir()
    for i in range(500):
        _png(staging / f"img{i:03}.png", shade=i, side=8)
    watch = Watch(pool_optimizer, tmp_path / "l.db", folder)
    try:
        for name in sorted(os.listdir(staging)):
            os.rename(staging / name, folder / name)  # moved in: counts as new
        watch.settle_all(500)
        expected = [f"img{i:03}.png" for i in range(500)]
        assert watch.service.activity.counts("f").optimized == 500  # no file twice
        assert watch.service.activity.counts("f").failed == 0
        assert sorted(os.listdir(folder / "optimized")) == expected
        assert watch.ledger.count("input") == 500
    finally:
        watch.close()


def test_restart_redoes_nothing_a_modified_file_is_redone_and_new_ones_are_picked_up(
        pool_optimizer: ImageOptimizer, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "a.png", 10)
    _png(folder / "b.png", 20)
    db = tmp_path / "l.db"
    first = Watch(pool_optimizer, db, folder)
    try:
        first.settle_all(2)
    finally:
        first.close()
    _png(folder / "c.png", 30)  # appeared while not running
    time.sleep(0.01)
    _png(folder / "a.png", 99, side=40)  # changed while not running
    os.utime(folder / "b.png")  # touched: same bytes, not redone
    second = Watch(pool_optimizer, db, folder)
    try:
        second.settle_all(2)
        assert sorted(second.items()) == [("a.png", "optimized"), ("c.png", "optimized")]
        with Image.open(folder / "optimized" / "a.png") as out:
            assert out.size == (40, 40)
    finally:
        second.close()


@pytest.mark.parametrize("output", ["subfolder", "beside", "replace"])
def test_own_outputs_are_never_taken_for_inputs(
        pool_optimizer: ImageOptimizer, tmp_path: Path, output: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    settings = ImageSettings(output=output, outputFormat="webp")  # type: ignore[arg-type]
    watch = Watch(pool_optimizer, tmp_path / "l.db", folder, recursive=True, settings=settings)
    try:
        _png(folder / "a.png", 5, side=64)
        watch.settle_all(1)
        assert watch.items() == [("a.png", "optimized")]  # once: its .webp was not redone
        expected = {"subfolder": folder / "optimized" / "a.webp",
                    "beside": folder / "a-optimized.webp", "replace": folder / "a.webp"}[output]
        assert expected.read_bytes()[8:12] == b"WEBP"
    finally:
        watch.close()


def test_a_bad_image_is_a_per_file_error_and_the_watch_goes_on(
        pool_optimizer: ImageOptimizer, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    watch = Watch(pool_optimizer, tmp_path / "l.db", folder)
    try:
        (folder / "notes.jpg").write_text("not a picture")
        (folder / "readme.txt").write_text("ignored: not named as an image")
        watch.settle_all(1)
        _png(folder / "good.png")
        watch.settle_all(2)
        items = watch.service.activity.recent()
        assert [(i.fileName, i.status) for i in reversed(items)] == [
            ("notes.jpg", "failed"), ("good.png", "optimized")]
        assert "not an image" in (items[1].error or "")
        assert (items[1].errorKind, items[0].errorKind) == ("unsupported_format", None)
    finally:
        watch.close()


def test_a_folder_that_disappears_is_reported_and_rearmed_when_it_returns(
        pool_optimizer: ImageOptimizer, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    watch = Watch(pool_optimizer, tmp_path / "l.db", folder)
    try:
        folder.rename(tmp_path / "away")
        _wait(lambda: watch.service.status().folders[0].state == "missing")
        assert "folder not found" in (watch.service.status().folders[0].message or "")
        (tmp_path / "away").rename(folder)
        _wait(lambda: watch.service.status().folders[0].state == "watching")
        _png(folder / "back.png")
        watch.settle_all(1)
        assert watch.items() == [("back.png", "optimized")]
    finally:
        watch.close()


def test_two_folders_into_one_output_folder_keep_their_files_apart(
        pool_optimizer: ImageOptimizer, tmp_path: Path) -> None:
    out, a, b = tmp_path / "out", tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    settings = ImageSettings(output="folder", outputFolder=str(out))
    watch = Watch(pool_optimizer, tmp_path / "l.db", a, settings=settings)
    try:
        watch.service.add(WatchFolder(id="g", path=os.path.realpath(b), settings=settings))
        _png(a / "x.png", 1)
        _png(b / "x.png", 2, side=64)
        _wait(lambda: watch.service.activity.counts("f").optimized
              + watch.service.activity.counts("g").optimized >= 2 and watch.service.idle())
        assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["a/x.png",
                                                                              "b/x.png"]
        with Image.open(out / "b" / "x.png") as im:
            assert im.height == 64
    finally:
        watch.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True)
    return [int(p) for p in out.stdout.split()]


def test_sigterm_mid_burst_leaves_no_partial_files_and_no_children(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    env = {**os.environ, "IMAGE_OPTIMIZER_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "watch", str(folder), "--settle", "0.2",
         "--workers", "2", "--format", "avif"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and "watching" in proc.stderr.readline()
        noise = Image.effect_noise((480, 480), 60).convert("RGB")  # slow enough to stop mid-way
        for i in range(60):
            noise.save(folder / f"b{i:02}.png")
        assert proc.stdout is not None
        proc.stdout.readline()  # the burst is under way
        children = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # closes the pipes
    leftovers = [p for p in (folder / "optimized").iterdir() if p.name.endswith(".io-partial")]
    assert leftovers == []
    assert children and not [c for c in children if os.path.exists(f"/proc/{c}")]
    done = list((folder / "optimized").glob("*.avif"))
    assert 0 < len(done) < 60  # stopped mid-burst, every written file whole
    for path in done:
        with Image.open(path) as im:
            im.load()

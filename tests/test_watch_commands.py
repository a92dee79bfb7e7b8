"""add_watch_folder / remove_watch_folder / get_watch_status through the one registry, on the
in-process executor (the pool has its own tests in test_watch.py); the list is remembered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from backend.commands import AppContext, invoke
from backend.core.in_process import InProcessExecutor
from backend.core.optimizer import ImageOptimizer
from backend.settings_store import SettingsStore
from backend.watch.manager import WatchManager
from backend.watch.store import WatchStore


@pytest.fixture
def context(tmp_path: Path) -> Iterator[AppContext]:
    optimizer = ImageOptimizer(InProcessExecutor())
    watch = WatchManager(optimizer, store=WatchStore(tmp_path), ledger_path=tmp_path / "l.db",
                         settle=0.2)
    watch.start()
    yield AppContext(optimizer=optimizer, settings=SettingsStore(tmp_path), shell="desktop",
                     watch=watch)
    watch.stop()
    optimizer.shutdown()


def test_a_folder_added_by_command_is_watched_remembered_and_removed(
        context: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    reply = invoke("add_watch_folder", {"path": str(folder), "settings": {
        "outputFormat": "webp"}}, context)
    assert reply.ok, reply.error
    [entry] = reply.result.folders
    assert (entry.path, entry.state, entry.settings.outputFormat) == (
        str(folder), "watching", "webp")
    assert [f.path for f in WatchStore(tmp_path).load().folders] == [str(folder)]
    Image.new("RGB", (16, 16), (1, 2, 3)).save(folder / "s.png")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = invoke("get_watch_status", {}, context).result
        if status.recent:
            break
        time.sleep(0.05)
    assert [(i.fileName, i.status) for i in status.recent] == [("s.png", "optimized")]
    assert (folder / "optimized" / "s.webp").exists()
    removed = invoke("remove_watch_folder", {"id": entry.id}, context)
    assert removed.ok and removed.result.folders == []
    assert WatchStore(tmp_path).load().folders == []


@pytest.mark.parametrize(("args", "message"), [
    ({"path": "/no/such/folder"}, "not an existing folder"),
    ({"path": "/", "recursive": True}, "a whole drive"),
    ({}, None),
])
def test_bad_watch_folders_are_refused_with_the_reason(
        context: AppContext, tmp_path: Path, args: dict[str, object],
        message: str | None) -> None:
    args = args or {"path": str(tmp_path)}
    reply = invoke("add_watch_folder", args, context)
    if message is None:  # the same folder twice
        again = invoke("add_watch_folder", args, context)
        assert reply.ok and not again.ok and again.error is not None
        assert "already watched" in again.error.message
    else:
        assert not reply.ok and reply.error is not None
        assert reply.error.kind == "validation" and message in reply.error.message


def test_removing_an_unknown_id_says_so(context: AppContext) -> None:
    reply = invoke("remove_watch_folder", {"id": "nope"}, context)
    assert not reply.ok and reply.error is not None and "nope" in reply.error.message

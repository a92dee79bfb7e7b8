"""Driving the real desktop app: launch it under Xvfb with Qt WebEngine's remote-debugging port
open, and talk raw CDP to its page (Playwright cannot attach to Qt WebEngine)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import skimage.data
import websocket
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0


class Cdp:
    """The smallest Chrome DevTools Protocol client: one page, request/response by id."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == msg_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression[:80]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = START_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def close(self) -> None:
        self.ws.close()


@dataclass
class Desktop:
    process: subprocess.Popen[bytes]
    cdp: Cdp
    display: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def descendants(pid: int) -> set[int]:
    """PIDs of every process under ``pid`` (the app's pool workers and their helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _page_ws_url(port: int, deadline: float) -> str:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as reply:
                targets = json.load(reply)
        except OSError:
            targets = []
        for target in targets:
            if target.get("type") == "page" and "/index.html" in target.get("url", ""):
                return target["webSocketDebuggerUrl"]
        time.sleep(0.2)
    raise AssertionError("the window's page never appeared on the debugging port")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def sample_photos(folder: Path) -> list[Path]:
    """Two real JPEG photos and a PNG, created in ``folder`` (which must not exist yet)."""
    folder.mkdir()
    cat = folder / "chelsea.jpg"
    Image.fromarray(skimage.data.chelsea()).save(cat, quality=98)
    coffee = folder / "coffee.jpg"
    Image.fromarray(skimage.data.coffee()[::2, ::2]).save(coffee, quality=98)
    astronaut = folder / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).resize((256, 256)).save(astronaut)
    return [cat, coffee, astronaut]


@contextmanager
def running_desktop(display: str, tmp_path: Path) -> Iterator[Desktop]:
    """The app's window, ready; on exit it must close cleanly and leave no process behind."""
    port = _free_port()
    # Short on purpose: the forkserver's Unix socket lives in TMPDIR (a long one means spawn).
    temp_dir = tempfile.mkdtemp(prefix="io-desk-", dir="/tmp")
    log_path = tmp_path / "desktop.log"
    env = {
        **os.environ,
        "DISPLAY": display,
        "QTWEBENGINE_REMOTE_DEBUGGING": str(port),
        "IMAGE_OPTIMIZER_CONFIG_DIR": str(tmp_path / "config"),
        "IMAGE_OPTIMIZER_DATA_DIR": str(tmp_path / "data"),  # replace batches' backups
        "TMPDIR": temp_dir,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend", "desktop", "--workers", "2"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    cdp: Cdp | None = None
    try:
        cdp = Cdp(_page_ws_url(port, time.monotonic() + START_TIMEOUT))
        cdp.wait_for("typeof window.pywebview?.api?.invoke === 'function'", "pywebview's API")
        cdp.wait_for("document.querySelector('#app')?.dataset.ready === 'true'", "the UI")
        yield Desktop(process=process, cdp=cdp, display=display, log_path=log_path)
    finally:
        if cdp is not None:
            cdp.close()
        pids = descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = None
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert code == 0, f"the app did not close cleanly ({code}); log:\n{log_path.read_text()}"
        assert pids, "the app had no worker processes"
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in pids if _alive(pid)] == [], "processes left behind"

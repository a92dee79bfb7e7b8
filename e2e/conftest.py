"""Fixtures for the end-to-end tests: real servers, a real Chromium, a real X display.

- ``server``: ``python -m backend serve --port 0 --workers 2`` as a subprocess, with its own
  config folder (``IMAGE_OPTIMIZER_CONFIG_DIR``) and its own TMPDIR (so the test can look into its
  session folder); yields a :class:`Served` with the page URL and the token. Stopped with SIGTERM
  at teardown, which must succeed and remove the session folder.
- ``browser`` (one per session) and ``page`` (a fresh context per test, 1200x900, downloads on):
  Playwright driving Debian's ``/usr/bin/chromium``.
- ``artifacts``: ``test-artifacts/`` at the repository root, for screenshots.
- ``xvfb``: a private X display (``Xvfb -displayfd``), for the desktop window.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from desktop_app import Desktop, running_desktop
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(?P<port>\d+)/\?token=(?P<token>[A-Za-z0-9_-]+)$")
START_TIMEOUT = 60.0
TOKEN_HEADER = "X-Image-Optimizer-Token"
# True once the results panel has finished its opening transition (for screenshots).
RESULTS_SETTLED = "document.getElementById('results').getAnimations().length === 0"
STOP_TIMEOUT = 20.0


def expect_still(page: Page, condition: str, timeout: float = 10.0) -> None:
    """Poll a JS expression until it is true. Page.evaluate runs over CDP, which the page's
    CSP allows; wait_for_function would need eval, which the CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {condition}")
        time.sleep(0.02)


@dataclass
class Served:
    """A running ``image-optimizer serve``."""

    url: str  # the page, with ?token=
    base: str  # http://127.0.0.1:PORT
    port: int
    token: str
    config_dir: Path
    temp_dir: Path  # the server's TMPDIR: its session folder is made here
    process: subprocess.Popen[str]
    log_path: Path
    output: list[str] = field(default_factory=list)  # stdout lines after the URL

    def session_dirs(self) -> list[Path]:
        return sorted(self.temp_dir.glob("image-optimizer-session-*"))

    def stop(self) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"server ignored SIGTERM; log:\n{self.log()}") from None
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def invoke(self, command: str, args: dict[str, Any] | None = None) -> Any:
        """One command over the HTTP bridge, as the page sends it; returns the result."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", f"/api/invoke/{command}", json.dumps(args or {}), {
                "Host": f"127.0.0.1:{self.port}", TOKEN_HEADER: self.token,
                "Content-Type": "application/json"})
            response = conn.getresponse()
            body = json.loads(response.read())
        finally:
            conn.close()
        assert response.status == 200, body
        return body


def _drain(stream: Iterator[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@contextlib.contextmanager
def start_server(
    root: Path, *, config_dir: Path | None = None, workers: int | None = 2
) -> Iterator[Served]:
    """Run ``image-optimizer serve`` until the block ends. Reuse ``config_dir`` to relaunch;
    ``workers=None`` gives no ``--workers``, so the saved preference decides."""
    config_dir = config_dir or root / "config"
    root.mkdir(parents=True, exist_ok=True)
    # Short on purpose: the worker pool puts a Unix socket in TMPDIR (108-byte path limit).
    temp_dir = Path(tempfile.mkdtemp(prefix="io-e2e-", dir="/tmp"))
    log_path = root / "server.log"
    # The data folder (replace backups, the watch ledger) beside the config: never the user's.
    data_dir = config_dir.with_name(f"{config_dir.name}-data")
    env = {**os.environ, "IMAGE_OPTIMIZER_CONFIG_DIR": str(config_dir),
           "IMAGE_OPTIMIZER_DATA_DIR": str(data_dir), "TMPDIR": str(temp_dir)}
    env.pop("IMAGE_OPTIMIZER_WORKERS", None)
    size = [] if workers is None else ["--workers", str(workers)]
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve", "--port", "0", *size],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
    reader.start()
    served: Served | None = None
    try:
        try:
            first = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            first = None
        match = URL_LINE.match(first or "")
        if match is None:
            raise AssertionError(f"serve printed {first!r}; log:\n{log_path.read_text()}")
        port = int(match["port"])
        served = Served(
            url=match.group(0), base=f"http://127.0.0.1:{port}", port=port, token=match["token"],
            config_dir=config_dir, temp_dir=temp_dir, process=process, log_path=log_path,
        )
        yield served
    finally:
        if served is None:
            process.kill()
            process.wait()
        code = served.stop() if served is not None else None
        reader.join(STOP_TIMEOUT)
        process.stdout.close()
        with contextlib.suppress(queue.Empty):
            while (line := lines.get_nowait()) is not None and served is not None:
                served.output.append(line)
        leftovers = sorted(temp_dir.glob("image-optimizer-session-*"))
        shutil.rmtree(temp_dir, ignore_errors=True)
        if served is not None:
            assert code == 0, f"serve exited with {code}; log:\n{served.log()}"
            assert leftovers == [], "the session folder was not removed at exit"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with start_server(tmp_path / "served") as served:
        yield served


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    # Playwright turns on file-chooser interception when the first listener is added, without
    # waiting for Chromium's reply: a key press right after `expect_file_chooser()` could beat
    # it and open an unseen native chooser (2 runs in 5 here). A listener from the start leaves
    # interception on for the page's whole life.
    page.on("filechooser", lambda _chooser: None)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A private X display (":N"), chosen by Xvfb itself so parallel runs never collide."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    number = b""
    try:
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], START_TIMEOUT)
            chunk = os.read(read_fd, 16) if ready else b""
            if not chunk:
                raise AssertionError("Xvfb did not report its display number")
            number += chunk
        yield f":{int(number)}"
    finally:
        os.close(read_fd)
        process.terminate()
        process.wait(STOP_TIMEOUT)


@pytest.fixture
def desktop(xvfb: str, tmp_path: Path) -> Iterator[Desktop]:
    """The real window under Xvfb, driven over CDP; checks a clean exit with nothing left over."""
    with running_desktop(xvfb, tmp_path) as app:
        yield app

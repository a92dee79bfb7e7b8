"""The desktop shell: a pywebview window (Qt WebEngine on Linux) around the same UI.

The page reaches Python only through ``window.pywebview.api.invoke(command, args)``, which
forwards to :func:`backend.commands.invoke` and returns its Reply (``{"ok", "result", "error"}``)
for ``bridge.js`` to unwrap. Python reaches the page through :class:`PagePump`.

Decisions:
- The UI is served by pywebview's own local HTTP server (``http_server=True``): ES modules do not
  load from ``file://`` URLs. The page is loaded as ``index.html#desktop`` so ``bridge.js`` knows at
  once to wait for pywebview's API, and a browser tab without a token fails at once instead.
- Progress events and dropped-file paths go to the page from one pump thread. ``evaluate_js``
  waits for the page, so it must never run on the Qt main thread, and it must not block the
  optimizer's listener thread either (a closing window would hang it); the pump's queue is
  bounded and keeps the newest events.
- Dropped files: Chromium gives the page ``File`` objects without paths. pywebview pairs them with
  Qt's dropped URLs by base name, which fails for two files with the same name: Chromium renames
  the second ("photo (1).jpg"), it gets no path, and its unmatched URL is left behind for a later
  drop of another "photo.jpg". So :class:`DropRecorder` takes the paths from Qt's drop event
  itself, in drop order, and pairs them with the page's files by position when the DOM ``drop``
  reaches Python; the list — name, size, full path — goes to ``window.__bridgeDropped``, where
  ``prepareFiles`` finds it by the names and sizes of the files the UI hands over.
- SIGTERM closes the window like the close button does (pywebview already maps Ctrl-C), so the
  pool is always shut down and no worker process is left behind.
- As root (containers, CI) Chromium refuses to start without ``--no-sandbox``; the flags are set
  only then and only when the person has not set their own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
import time
from collections import deque
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import msgspec

from backend import commands
from backend.core.discovery import SUPPORTED_EXTENSIONS
from backend.settings_store import SettingsStore
from backend.shells import launch
from backend.types import PROGRESS_EVENT, ProgressEvent
from backend.watch.manager import WatchManager

if TYPE_CHECKING:
    import webview

log = logging.getLogger(__name__)

WINDOW_TITLE = "Image Optimizer"
WINDOW_SIZE = (1200, 900)
MIN_SIZE = (640, 560)
BACKGROUND = "#373737"
PUMP_QUEUE_SIZE = 512
DROPS_KEPT = 8
DROP_EXPIRY_SECONDS = 30.0
FILE_TYPES = (
    "Images (" + ";".join(f"*{ext}" for ext in sorted(SUPPORTED_EXTENSIONS)) + ")",
    "All files (*.*)",
)


class DroppedFile(msgspec.Struct):
    name: str
    size: int
    path: str | None


def pair_drop(event: dict[str, Any], paths: list[str]) -> list[DroppedFile]:
    """The page's dropped files (from a pywebview DOM ``drop`` event) with Qt's dropped paths.

    Both lists come from one drop in the same order, so they pair by position; should their
    lengths differ (a URL Chromium did not turn into a file), by base name instead.
    """
    items = (event.get("dataTransfer") or {}).get("files") or []
    files = [
        (str(item.get("name") or ""), int(item.get("size") or 0))
        for item in items
        if isinstance(item, dict)
    ]
    if len(files) == len(paths):
        return [DroppedFile(n, size, p) for (n, size), p in zip(files, paths, strict=True)]
    left = list(paths)
    paired = []
    for name, size in files:
        path = next((p for p in left if os.path.basename(p) == name), None)
        if path is not None:
            left.remove(path)
        paired.append(DroppedFile(name, size, path))
    return paired


class DropRecorder:
    """Full paths of each drop on the web view, from Qt's own drop event, oldest first."""

    def __init__(self) -> None:
        self._drops: deque[tuple[float, list[str]]] = deque(maxlen=DROPS_KEPT)
        self._lock = threading.Lock()

    def record(self, paths: list[str]) -> None:
        with self._lock:
            self._drops.append((time.monotonic(), paths))

    def take(self) -> list[str]:
        """The oldest drop not yet paired (a drop the page never saw expires)."""
        with self._lock:
            while self._drops:
                at, paths = self._drops.popleft()
                if time.monotonic() - at < DROP_EXPIRY_SECONDS:
                    return paths
        return []

    def install(self, window: webview.Window) -> None:
        """Watch the window's web view; call on the Qt main thread (``before_show``)."""
        from qtpy.QtCore import QEvent, QObject
        from qtpy.QtWebEngineWidgets import QWebEngineView

        recorder = self

        class DropFilter(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Drop:
                    urls = event.mimeData().urls()
                    recorder.record([u.toLocalFile() for u in urls if u.isLocalFile()])
                return False  # look only: the view still handles the drop

        view = window.native.findChild(QWebEngineView)
        view.installEventFilter(DropFilter(view))


class PagePump:
    """Runs ``window.<function>(payload)`` in the page, in order, from its own thread."""

    def __init__(self, window: webview.Window) -> None:
        self._window = window
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=PUMP_QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="page-pump", daemon=True)
        self._thread.start()

    def call(self, function: str, *args: Any) -> None:
        encoded = ", ".join(msgspec.json.encode(arg).decode() for arg in args)
        # The page may not have loaded bridge.js yet (or is reloading): then there is no one to
        # tell, and the call is a no-op rather than an error.
        script = f"void (window.{function} && window.{function}({encoded}))"
        while True:
            try:
                self._queue.put_nowait(script)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def close(self) -> None:
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    def _run(self) -> None:
        while (script := self._queue.get()) is not None:
            try:
                self._window.evaluate_js(script)
            except Exception:
                log.exception("could not deliver to the page")


class NativePicker:
    """``pick_files``: the native dialog of the window (set once the window exists). It opens in
    the folder of the last pick, else the home folder, as file dialogs of other apps do."""

    def __init__(self) -> None:
        self.window: webview.Window | None = None
        self.directory = str(Path.home())

    def __call__(self, folders: bool) -> list[str]:
        import webview

        if self.window is None:
            return []
        if folders:
            chosen = self.window.create_file_dialog(
                webview.FileDialog.FOLDER, directory=self.directory
            )
        else:
            chosen = self.window.create_file_dialog(
                webview.FileDialog.OPEN, directory=self.directory, allow_multiple=True,
                file_types=FILE_TYPES,
            )
        paths = [str(path) for path in chosen or ()]
        if paths:
            self.directory = paths[0] if folders else str(Path(paths[0]).parent)
        return paths


class DesktopApi:
    """``window.pywebview.api``. Thin on purpose; attributes starting with ``_`` stay hidden."""

    def __init__(self, context: commands.AppContext) -> None:
        self._context = context

    def invoke(self, command: str, args: Any = None) -> Any:
        # pywebview runs each call on its own thread; commands.invoke is thread-safe.
        return msgspec.to_builtins(commands.invoke(command, args, self._context))


def _prepare_environment() -> None:
    if os.geteuid() == 0 and "QTWEBENGINE_CHROMIUM_FLAGS" not in os.environ:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu"


def _watch_drops(window: webview.Window, recorder: DropRecorder, pump: PagePump) -> None:
    """Subscribe the DOM ``drop`` handler; runs on every page load (a reload drops it)."""
    from webview.dom import DOMEventHandler

    def on_drop(event: dict[str, Any]) -> None:
        pump.call("__bridgeDropped", pair_drop(event, recorder.take()))

    window.dom.document.events.drop += DOMEventHandler(on_drop, prevent_default=True)


def run(workers: int | None = None) -> int:
    """Open the window; block until it is closed; leave no worker process behind."""
    _prepare_environment()
    import webview

    prepared = launch.prepare(workers)
    if prepared is None:
        return 2
    ui, optimizer = prepared
    optimizer.start(wait=False)
    watch = WatchManager(optimizer)  # the saved watch folders, watched while the window is open
    watch.start()
    picker = NativePicker()
    context = commands.AppContext(
        optimizer=optimizer, settings=SettingsStore(), shell="desktop", pick_files=picker,
        watch=watch,
    )
    window = webview.create_window(
        WINDOW_TITLE,
        url=f"{ui / 'index.html'}#desktop",  # tells bridge.js to wait for pywebview's API
        js_api=DesktopApi(context),
        width=WINDOW_SIZE[0],
        height=WINDOW_SIZE[1],
        min_size=MIN_SIZE,
        background_color=BACKGROUND,
    )
    assert window is not None
    picker.window = window
    pump = PagePump(window)

    def emit(event: ProgressEvent) -> None:
        pump.call("__bridgeEmit", PROGRESS_EVENT, event)

    unsubscribe = optimizer.subscribe(emit)
    recorder = DropRecorder()
    window.events.before_show += lambda: recorder.install(window)
    window.events.loaded += lambda: _watch_drops(window, recorder, pump)

    def close_window(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=window.destroy, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, close_window)
    try:
        webview.start(gui="qt", http_server=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        unsubscribe()
        pump.close()
        watch.stop()
        optimizer.shutdown()
    return 0

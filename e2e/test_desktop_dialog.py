"""The native file dialog of the real desktop window, driven the way a person drives it.

The app runs under Xvfb (the ``desktop`` fixture of ``test_desktop_window``: real pywebview, Qt
WebEngine, real worker pool; at teardown it checks that the app exits cleanly and leaves no
process behind). A real left click is dispatched on the drop zone over CDP; the page calls
``pick_files``, which opens Qt's multi-file dialog ("Open files": Qt's own widget dialog, since no
desktop platform theme runs under Xvfb). xdotool types into the dialog's file-name field through
XTest — real key events, the way a keyboard sends them — and presses Enter or Escape.

Decisions:
- Several files are typed the way Qt's dialog takes them: each full path in double quotes,
  separated by spaces. Full paths, so the folder the dialog opens in does not matter.
- The page's ``pick_files`` replies are observed by wrapping ``window.pywebview.api.invoke`` in
  the page (the wrapper records the reply and hands it on unchanged), so the tests assert what
  the dialog gave Python as well as what the UI drew from it.
- No window manager runs on the test display, so nothing gives the dialog the keyboard: the test
  focuses it with ``xdotool windowfocus`` (XSetInputFocus), as a window manager would.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from desktop_app import ROOT, Desktop, sample_photos
from PIL import Image

FAILURE_SHOT = ROOT / "test-artifacts" / "desktop-dialog-failure.png"
DIALOG_TITLE = "Open files"  # pywebview's title for a multi-file open dialog on Linux
DIALOG_TIMEOUT = 20.0
RESULT_TIMEOUT = 30.0
# xwininfo -id: "  Absolute upper-left X:  300" … "  Width: 632"
GEOMETRY_FIELD = re.compile(r"^\s*(Absolute upper-left [XY]|Width|Height):\s+(-?\d+)", re.M)

# Keeps every pick_files reply the page receives; the bridge still gets the reply unchanged.
RECORD_PICKS = """(() => {
    window.__picks = [];
    const api = window.pywebview.api;
    const invoke = api.invoke.bind(api);
    api.invoke = async (command, args) => {
        const reply = await invoke(command, args);
        if (command === 'pick_files') window.__picks.push(reply);
        return reply;
    };
    return true;
})()"""

DROPZONE_CENTER = """(() => {
    const box = document.querySelector('[data-testid="dropzone"]').getBoundingClientRect();
    return {x: box.x + box.width / 2, y: box.y + box.height / 2};
})()"""

RESULT_ROWS = """(() => {
    const rows = [...document.querySelectorAll('[data-testid="result-row"]')];
    return rows.length === %d && rows.map((row) => ({
        path: row.querySelector('.result__name').title, status: row.dataset.status,
    }));
})()"""


def _x(display: str, *args: str) -> str:
    """Run an X client (xdotool, xwininfo, import) on the test display; its stdout."""
    done = subprocess.run(
        args, env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=30
    )
    return done.stdout


def _dialogs(display: str) -> list[str]:
    # xdotool search exits 1 when nothing matches: an empty list, not an error.
    return _x(display, "xdotool", "search", "--onlyvisible", "--name", f"^{DIALOG_TITLE}$").split()


def _wait_for_dialog(display: str, *, shown: bool) -> list[str]:
    deadline = time.monotonic() + DIALOG_TIMEOUT
    while time.monotonic() < deadline:
        windows = _dialogs(display)
        if bool(windows) == shown:
            return windows
        time.sleep(0.1)
    FAILURE_SHOT.parent.mkdir(exist_ok=True)
    _x(display, "import", "-window", "root", str(FAILURE_SHOT))
    state = "never shown" if shown else "never closed"
    raise AssertionError(f"the file dialog was {state}; the screen: {FAILURE_SHOT}")


def _click_dropzone(app: Desktop) -> None:
    """A real left click (press, release) on the middle of the drop zone."""
    point = app.cdp.evaluate(DROPZONE_CENTER)
    for kind, buttons in (("mousePressed", 1), ("mouseReleased", 0)):
        app.cdp.call(
            "Input.dispatchMouseEvent", type=kind, x=point["x"], y=point["y"],
            button="left", buttons=buttons, clickCount=1,
        )


def _open_dialog(app: Desktop) -> str:
    """Click the drop zone; the X window id of the dialog it opened, focused for typing."""
    _click_dropzone(app)
    windows = _wait_for_dialog(app.display, shown=True)
    assert len(windows) == 1, f"one click opened {len(windows)} dialogs"
    _x(app.display, "xdotool", "windowfocus", "--sync", windows[0])
    return windows[0]


def _press(app: Desktop, key: str) -> None:
    _x(app.display, "xdotool", "key", key)
    _wait_for_dialog(app.display, shown=False)


def _wait_for_picks(app: Desktop, count: int) -> list[dict[str, object]]:
    return app.cdp.wait_for(
        f"window.__picks.length === {count} && window.__picks",
        f"{count} pick_files repl{'y' if count == 1 else 'ies'}", DIALOG_TIMEOUT,
    )


def _save_screen_with_dialog(app: Desktop, window: str, path: Path) -> None:
    """Screenshot the whole display once the dialog has been drawn (not a blank new window)."""
    geometry = dict(GEOMETRY_FIELD.findall(_x(app.display, "xwininfo", "-id", window)))
    left, top = int(geometry["Absolute upper-left X"]), int(geometry["Absolute upper-left Y"])
    box = (left, top, left + int(geometry["Width"]), top + int(geometry["Height"]))
    deadline = time.monotonic() + DIALOG_TIMEOUT
    while time.monotonic() < deadline:
        _x(app.display, "import", "-window", "root", str(path))
        with Image.open(path) as shot:
            low, high = shot.convert("L").crop(box).getextrema()
        if high - low > 100:  # text and frames on the dialog's face
            return
        time.sleep(0.2)
    raise AssertionError(f"the dialog at {box} was never drawn; see {path}")


def test_files_typed_into_the_native_dialog_are_optimized_beside_their_sources(
    desktop: Desktop, tmp_path: Path, artifacts: Path
) -> None:
    photos = sample_photos(tmp_path / "photos")
    notes = tmp_path / "photos" / "notes.txt"
    notes.write_text("not a picture")
    assert desktop.cdp.evaluate(RECORD_PICKS) is True

    window = _open_dialog(desktop)
    typed = " ".join(f'"{path}"' for path in [*photos, notes])
    _x(desktop.display, "xdotool", "type", "--delay", "5", "--", typed)
    _save_screen_with_dialog(desktop, window, artifacts / "desktop-dialog.png")
    _press(desktop, "Return")

    (reply,) = _wait_for_picks(desktop, 1)
    assert reply["ok"] is True, reply
    assert reply["result"] == {
        "paths": [str(path) for path in photos],
        "skipped": [{"path": str(notes), "reason": reply["result"]["skipped"][0]["reason"]}],
        "bytes": sum(path.stat().st_size for path in photos),
        "roots": [str(path) for path in [*photos, notes]],
    }
    rows = desktop.cdp.wait_for(RESULT_ROWS % len(photos), "a result row per photo", RESULT_TIMEOUT)
    assert rows == [{"path": str(path), "status": "ok"} for path in photos]
    toast = desktop.cdp.evaluate("document.querySelector('[data-testid=\"toast\"]')?.textContent")
    assert "notes.txt" in toast
    for photo in photos:
        out = photo.parent / "optimized" / photo.name
        assert out.stat().st_size < photo.stat().st_size, out
        with Image.open(out) as image, Image.open(photo) as original:
            image.load()  # decodes every byte: a truncated file fails here
            assert (image.format, image.size) == (original.format, original.size)
    assert sorted(p.name for p in (tmp_path / "photos" / "optimized").iterdir()) == sorted(
        p.name for p in photos
    )


def test_cancelling_the_native_dialog_leaves_the_drop_zone_ready(desktop: Desktop) -> None:
    assert desktop.cdp.evaluate(RECORD_PICKS) is True
    for attempt in (1, 2):  # the second dialog proves the first cancel left nothing stuck
        _open_dialog(desktop)
        _press(desktop, "Escape")
        picks = _wait_for_picks(desktop, attempt)
        assert picks[-1] == {"ok": True, "result": {"paths": [], "skipped": []}, "error": None}

    page = desktop.cdp.evaluate(
        """(() => {
            const zone = document.querySelector('[data-testid="dropzone"]');
            return {
                state: document.querySelector('#app').dataset.state,
                zoneShown: zone.checkVisibility(),
                zoneEnabled: zone.getAttribute('aria-disabled') !== 'true',
                title: zone.querySelector('.dropzone__title').textContent,
                toasts: document.querySelectorAll('[data-testid="toast"]').length,
                rows: document.querySelectorAll('[data-testid="result-row"]').length,
            };
        })()"""
    )
    assert page == {
        "state": "idle", "zoneShown": True, "zoneEnabled": True, "title": "Drop images here",
        "toasts": 0, "rows": 0,
    }

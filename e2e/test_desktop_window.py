"""The real desktop window under Xvfb: ``python -m backend desktop`` (pywebview, Qt WebEngine),
driven through Qt WebEngine's remote-debugging port with raw CDP (Playwright cannot attach to it).

What a person gets is checked end to end: the window titled "Image Optimizer", the UI loaded and
ready, ``window.pywebview.api.invoke('optimize_images', …)`` writing valid, smaller files into
``optimized/`` beside real photos while progress events reach the page's ``listen`` handlers, and
no process left behind after the window closes.

Drops are real X drag and drops: a small Qt drag source on the same display offers file URLs
and the pointer is driven through XTest (libXtst, via ctypes), so the files travel the whole way a
person's drop does — X11 XDND, Qt's drop event, Chromium, the page, Python and back.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import skimage.data
from conftest import RESULTS_SETTLED
from desktop_app import Desktop, sample_photos
from PIL import Image

# xwininfo -tree: '"Image Optimizer": ("__main__.py" "__main__.py")  1200x900+40+46  +40+46'
WINDOW_GEOMETRY = re.compile(r'"Image Optimizer": \(.*\)\s+(\d+)x(\d+)\S*\s+\+(-?\d+)\+(-?\d+)')

# A drag source on the X display: a small window offering file URLs; XTest presses the button on
# it, moves the pointer onto the target and releases. Prints the drop action Qt reports.
DRAG_SOURCE = """
import ctypes, sys, threading, time
from PySide6.QtCore import QMimeData, Qt, QTimer, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QWidget

target_x, target_y, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
xtst = ctypes.cdll.LoadLibrary("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
display = ctypes.c_void_p(x11.XOpenDisplay(None))

def move(x, y, pause=0.05):
    xtst.XTestFakeMotionEvent(display, -1, x, y, 0)
    x11.XFlush(display)
    time.sleep(pause)

def button(down):
    xtst.XTestFakeButtonEvent(display, 1, down, 0)
    x11.XFlush(display)
    time.sleep(0.2)

def drive():
    move(15, 15)
    button(True)
    for step in range(1, 21):
        move(15 + (target_x - 15) * step // 20, 15 + (target_y - 15) * step // 20)
    for _ in range(20):  # linger so the target can answer the XDND handshake
        move(target_x, target_y)
    button(False)

class Source(QWidget):
    def showEvent(self, event):
        QTimer.singleShot(500, lambda: threading.Thread(target=drive, daemon=True).start())

    def mousePressEvent(self, event):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        drag = QDrag(self)
        drag.setMimeData(mime)
        print(drag.exec(Qt.DropAction.CopyAction).name, flush=True)
        QTimer.singleShot(100, app.quit)

app = QApplication([])
source = Source()
source.setGeometry(0, 0, 30, 30)
source.show()
QTimer.singleShot(30000, app.quit)
app.exec()
"""


def test_window_is_titled_image_optimizer(desktop: Desktop) -> None:
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env={**os.environ, "DISPLAY": desktop.display},
        capture_output=True, text=True, check=True,
    ).stdout
    assert re.search(r'"Image Optimizer": \(.*\)\s+\d+x\d+', tree), tree
    assert desktop.cdp.evaluate("document.title") == "Image Optimizer"


def test_optimize_images_through_the_js_bridge_with_progress_events(
    desktop: Desktop, tmp_path: Path, artifacts: Path
) -> None:
    photos = sample_photos(tmp_path / "photos")
    cdp = desktop.cdp
    assert cdp.evaluate("import('./js/bridge.js').then(b => b.ready())") == "desktop"
    cdp.evaluate(
        """import('./js/bridge.js').then(async (bridge) => {
            window.__seen = [];
            const seen = (e) => window.__seen.push(e.payload);
            await bridge.listen('image_optimization_progress', seen);
            return true;
        })"""
    )
    tasks = [{"input_path": str(p), "output_path": None} for p in photos]
    reply = cdp.evaluate(
        f"window.pywebview.api.invoke('optimize_images', {json.dumps({'tasks': tasks})})"
    )
    assert reply["ok"] is True, reply
    results = reply["result"]
    assert [r["original_path"] for r in results] == [str(p) for p in photos]
    for photo, result in zip(photos, results, strict=True):
        out = Path(result["optimized_path"])
        assert out.parent == photo.parent / "optimized"
        assert result["success"] is True, result["error"]
        assert out.stat().st_size == result["optimized_size"] < photo.stat().st_size
        with Image.open(out) as im, Image.open(photo) as original:
            im.load()
            assert im.size == original.size

    seen = cdp.wait_for(
        "window.__seen.length && window.__seen.at(-1).status === 'complete' && window.__seen",
        "the final progress event",
    )
    assert seen[-1]["completedTasks"] == seen[-1]["totalTasks"] == 3
    assert seen[-1]["progressPercentage"] == 100
    assert [e["completedTasks"] for e in seen] == sorted(e["completedTasks"] for e in seen)

    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    (artifacts / "desktop-window.png").write_bytes(shot)
    with Image.open(io.BytesIO(shot)) as im:
        assert im.size == (1200, 900)
        low, high = im.convert("L").getextrema()
        assert high - low > 50  # something was drawn, not a blank surface
    subprocess.run(
        ["import", "-window", "root", str(artifacts / "desktop-screen.png")],
        env={**os.environ, "DISPLAY": desktop.display}, check=True, timeout=60,
    )


def test_bridge_errors_carry_the_backend_kind(desktop: Desktop) -> None:
    outcome = desktop.cdp.evaluate(
        """import('./js/bridge.js').then((bridge) =>
            bridge.invoke('optimize_images', {tasks: [{input_path: ''}]})
                .then(() => 'resolved', (err) => ({kind: err.kind, message: err.message})))"""
    )
    assert outcome["kind"] == "validation"
    assert "tasks[0]" in outcome["message"]
    info = desktop.cdp.evaluate("import('./js/bridge.js').then((b) => b.invoke('get_app_info'))")
    assert (info["shell"], info["workers"]) == ("desktop", 2)
    assert desktop.cdp.evaluate("import('./js/bridge.js').then((b) => b.canDownload())") is False


def _window_center(display: str) -> tuple[int, int]:
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env={**os.environ, "DISPLAY": display},
        capture_output=True, text=True, check=True,
    ).stdout
    match = WINDOW_GEOMETRY.search(tree)
    assert match, tree
    width, height, x, y = map(int, match.groups())
    return x + width // 2, y + height // 2


def drag_and_drop(display: str, paths: list[Path]) -> str:
    """Drop ``paths`` on the window with a real X drag; the drop action the source saw."""
    x, y = _window_center(display)
    for _ in range(3):  # a drop the busy target did not acknowledge in time is simply redone
        proc = subprocess.run(
            [sys.executable, "-c", DRAG_SOURCE, str(x), str(y), *map(str, paths)],
            env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=60,
        )
        action = proc.stdout.strip()
        if action == "CopyAction":
            return action
    return f"{action} {proc.stderr[-500:]}"


def test_real_drop_of_same_named_photos_from_two_folders(
    desktop: Desktop, tmp_path: Path, artifacts: Path
) -> None:
    first, second = tmp_path / "a" / "photo.jpg", tmp_path / "b" / "photo.jpg"
    notes = tmp_path / "a" / "notes.txt"
    for path, array in ((first, skimage.data.chelsea()), (second, skimage.data.coffee())):
        path.parent.mkdir()
        Image.fromarray(array).save(path, quality=95)
    notes.write_text("not a picture")

    assert drag_and_drop(desktop.display, [first, second, notes]) == "CopyAction"

    rows = desktop.cdp.wait_for(
        """(() => {
            const rows = [...document.querySelectorAll('[data-testid="result-row"]')];
            return rows.length === 2 && rows.map((row) => row.textContent);
        })()""",
        "a result row for each photo",
    )
    assert all("photo.jpg" in row for row in rows)
    toast = desktop.cdp.evaluate("document.getElementById('toast-host').textContent")
    assert "notes.txt" in toast
    for source in (first, second):
        out = source.parent / "optimized" / "photo.jpg"
        assert out.stat().st_size < source.stat().st_size
        with Image.open(out) as im, Image.open(source) as original:
            assert im.size == original.size  # each output is its own source's image
    # The results panel slides open: the picture is of the window once it is still.
    desktop.cdp.wait_for(RESULTS_SETTLED, "the results panel fully open")
    shot = base64.b64decode(desktop.cdp.call("Page.captureScreenshot", format="png")["data"])
    (artifacts / "desktop-real-drop.png").write_bytes(shot)


def test_settings_panel_replace_a_dropped_folder_tree_then_revert(
    desktop: Desktop, tmp_path: Path, artifacts: Path
) -> None:
    cdp = desktop.cdp
    cdp.evaluate("document.getElementById('settings-button').click()")
    cdp.wait_for("document.getElementById('settings-panel').open", "the settings panel")
    cdp.wait_for("!document.getElementById('output-select').closest('.panel__row').hidden",
                 "the placement row (desktop only)")
    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    (artifacts / "desktop-settings-panel.png").write_bytes(shot)
    cdp.evaluate("""(() => {
        const select = document.getElementById('output-select');
        select.value = 'replace';
        select.dispatchEvent(new Event('change'));
        document.getElementById('settings-close').click();
    })()""")
    cdp.wait_for("!document.getElementById('settings-panel').open", "the panel closed")

    album = tmp_path / "album"
    originals = {}
    for name, array in (("cat.jpg", skimage.data.chelsea()), ("sub/coffee.jpg",
                                                              skimage.data.coffee())):
        path = album / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(path, quality=97)
        originals[path] = path.read_bytes()

    # A folder dropped on the window: its sub-folder too (recursive drops are on by default).
    assert drag_and_drop(desktop.display, [album]) == "CopyAction"
    cdp.wait_for("document.querySelectorAll('[data-testid=\"result-row\"]').length === 2",
                 "a result row for each photo")
    for path, data in originals.items():
        assert path.stat().st_size < len(data)  # replaced in place by the smaller file
    assert not (album / "optimized").exists()
    cdp.wait_for("!document.getElementById('revert-batch').hidden", "the Revert button")

    cdp.evaluate("document.getElementById('revert-batch').click()")
    cdp.wait_for("document.getElementById('revert-batch').hidden", "the batch reverted")
    assert {path: path.read_bytes() for path in originals} == originals
    notes = cdp.evaluate(
        "[...document.querySelectorAll('.result__note')].map((n) => n.textContent)")
    assert notes == ["Original restored", "Original restored"]


def test_a_large_dropped_tree_asks_first_then_mirrors_into_one_folder(
    desktop: Desktop, tmp_path: Path, artifacts: Path
) -> None:
    cdp = desktop.cdp
    shoot, out = tmp_path / "shoot", tmp_path / "web"
    names = [f"day1/{i:03}.png" for i in range(60)] + [f"day2/{i:03}.png" for i in range(45)]
    for i, name in enumerate(names):
        path = shoot / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (24, 16), (i, 255 - i, 80)).save(path)
    cdp.evaluate(f"""(() => {{
        document.getElementById('settings-button').click();
        const folder = document.getElementById('output-folder');
        folder.value = {json.dumps(str(out))};
        folder.dispatchEvent(new Event('change'));
        const select = document.getElementById('output-select');
        select.value = 'folder';
        select.dispatchEvent(new Event('change'));
        document.getElementById('settings-close').click();
    }})()""")
    cdp.wait_for("!document.getElementById('settings-panel').open", "the panel closed")

    ask = "document.querySelector('[data-testid=\"batch-confirm\"]')"
    assert drag_and_drop(desktop.display, [shoot]) == "CopyAction"
    found = cdp.wait_for(f"{ask}?.open && {ask}.textContent", "the question before the batch")
    assert "Found 105 images in 3 folders" in found
    assert f"saved in {out}" in found
    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    (artifacts / "desktop-large-drop-confirm.png").write_bytes(shot)
    cdp.evaluate(f"{ask}.querySelector('[data-testid=\"batch-confirm-cancel\"]').click()")
    cdp.wait_for(f"!{ask}.open && document.getElementById('app').dataset.state === 'idle'",
                 "the question declined")
    assert not out.exists()  # declined: nothing written

    assert drag_and_drop(desktop.display, [shoot]) == "CopyAction"
    cdp.wait_for(f"{ask}.open", "the question again")
    cdp.evaluate(f"{ask}.querySelector('[data-testid=\"batch-confirm-start\"]').click()")
    cdp.wait_for("document.querySelectorAll('[data-testid=\"result-row\"]').length === 105",
                 "a result row for each image")
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert written == sorted(names)  # the tree below the dropped folder, no -2 suffixes

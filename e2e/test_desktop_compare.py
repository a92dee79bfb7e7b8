"""The compare view in the real desktop window (pywebview, Qt WebEngine, under Xvfb), driven over
its remote-debugging port: a real X drop of a photo, the row opened, the divider moved with real
key events, 400 % zoom, a quality change whose readout equals a direct ``preview_image`` call
through ``window.pywebview.api.invoke``, and Save writing that file beside the photo."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import skimage.data
from desktop_app import Desktop
from PIL import Image
from test_desktop_window import drag_and_drop

IDLE = "document.querySelector('[data-testid=compare-view]')?.dataset.busy === 'false'"


def key(desktop: Desktop, name: str, code: int) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        desktop.cdp.call("Input.dispatchKeyEvent", type=kind, key=name, code=name,
                         windowsVirtualKeyCode=code)


def test_compare_view_in_the_desktop_window(
    desktop: Desktop, tmp_path: Path, artifacts: Path,
) -> None:
    source = tmp_path / "photos" / "coffee.jpg"
    source.parent.mkdir()
    Image.fromarray(skimage.data.coffee()).save(source, quality=95)
    assert drag_and_drop(desktop.display, [source]) == "CopyAction"
    cdp = desktop.cdp
    cdp.wait_for("document.querySelectorAll('[data-testid=result-row]').length === 1",
                 "the result row", timeout=120)

    cdp.evaluate("document.querySelector('[data-testid=result-row]').click()")
    cdp.wait_for(IDLE, "the first preview", timeout=60)
    assert cdp.evaluate("document.activeElement.dataset.testid") == "compare-divider"
    for _ in range(3):
        key(desktop, "ArrowRight", 39)
    assert cdp.evaluate("document.querySelector('[data-testid=compare-divider]')"
                        ".getAttribute('aria-valuenow')") == "53"

    cdp.evaluate("document.querySelector('[data-testid=compare-zoom-400]').click()")
    transforms = cdp.evaluate("""['compare-original', 'compare-result'].map((id) =>
        getComputedStyle(document.querySelector(`[data-testid=${id}]`)).transform)""")
    assert transforms[0] == transforms[1] and transforms[0].startswith("matrix(4, 0, 0, 4,")
    cdp.evaluate("document.querySelector('[data-testid=compare-zoom-fit]').click()")

    settings = cdp.evaluate("window.pywebview.api.invoke('load_settings', {})")["result"]
    settings["quality"] = {"global": 40}
    args = json.dumps({"input_path": str(source), "settings": settings})
    direct = cdp.evaluate(f"window.pywebview.api.invoke('preview_image', {args})")
    assert direct["ok"] is True, direct
    expected = direct["result"]["size"]
    cdp.evaluate("""(() => {
        const slider = document.querySelector('[data-testid=compare-quality]');
        slider.value = '40';
        slider.dispatchEvent(new Event('input', { bubbles: true }));
    })()""")
    cdp.wait_for("document.querySelector('[data-testid=compare-after]').dataset.bytes === "
                 f"'{expected}'", "the readout of quality 40", timeout=60)
    cdp.wait_for(IDLE, "the preview shown", timeout=60)
    shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    (artifacts / "compare-desktop.png").write_bytes(shot)

    cdp.evaluate("document.querySelector('[data-testid=compare-save]').click()")
    cdp.wait_for("document.querySelector('[data-testid=compare-status]').textContent"
                 ".startsWith('Saved as')", "the save", timeout=60)
    output = source.parent / "optimized" / "coffee.jpg"
    assert output.stat().st_size == expected
    key(desktop, "Escape", 27)
    cdp.wait_for("!document.querySelector('[data-testid=compare-view]').open", "the view closed")
    assert cdp.evaluate("document.activeElement.dataset.testid") == "result-row"

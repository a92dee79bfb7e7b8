"""The language in the real desktop window (pywebview, Qt WebEngine, under Xvfb), over raw CDP:
the settings panel's choice switches the window live, every visible text is then the chosen
catalogue's (the same walk as e2e/test_i18n.py), a photo dropped through X shows its result row
in that language, a large dropped folder asks first in it, and the choice is saved as the app
preference the next launch opens in."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import skimage.data
from desktop_app import Desktop
from page_words import UNTRANSLATED, catalogue, walk_args
from PIL import Image
from test_desktop_window import drag_and_drop

REPO = Path(__file__).resolve().parent.parent


def test_the_window_switches_to_russian_live_and_remembers_it(
    desktop: Desktop, tmp_path: Path, artifacts: Path
) -> None:
    cdp, ru = desktop.cdp, catalogue("ru")
    assert cdp.evaluate("document.documentElement.lang") == "en"
    cdp.evaluate("window.__sameDocument = true")
    cdp.evaluate("document.getElementById('settings-button').click()")
    cdp.evaluate("""(() => {
      const select = document.getElementById('language-select');
      select.value = 'ru';
      select.dispatchEvent(new Event('change'));
    })()""")
    cdp.wait_for("document.documentElement.lang === 'ru'", "the switch to Russian")
    title = cdp.evaluate("document.getElementById('settings-title').textContent")
    assert title == ru["settings.title"]
    assert cdp.evaluate("window.__sameDocument") is True  # live: the page was not reloaded
    walk = f"({UNTRANSLATED})({json.dumps(walk_args('ru'))})"
    assert cdp.evaluate(walk) == []
    # The changelog is served by the window's own server as by `serve`.
    cdp.evaluate("document.querySelector('[data-testid=changelog] summary').click()")
    heading = next(line[3:] for line in (REPO / "CHANGELOG.md").read_text(
        encoding="utf-8").splitlines() if line.startswith("## "))
    cdp.wait_for(f"document.querySelector('#changelog-text h4')?.textContent === "
                 f"{json.dumps(heading)}", "the rendered changelog")
    cdp.wait_for(
        "window.pywebview.api.invoke('load_preferences', {})"
        ".then((reply) => reply.result.language === 'ru')", "the saved language")

    cdp.evaluate("document.getElementById('settings-panel').close()")
    assert cdp.evaluate("document.querySelector('.dropzone__title').textContent") == ru[
        "dropzone.title"]
    photo = tmp_path / "photos" / "coffee.jpg"
    photo.parent.mkdir()
    Image.fromarray(skimage.data.coffee()).save(photo, quality=95)
    assert drag_and_drop(desktop.display, [photo]) == "CopyAction"
    cdp.wait_for("document.querySelectorAll('[data-testid=result-row]').length === 1",
                 "the result row", timeout=120)
    cdp.wait_for("document.getElementById('app').dataset.state === 'done'", "the batch's end")
    summary = cdp.evaluate("document.getElementById('results-summary').textContent")
    assert summary.startswith("1 изображение оптимизировано"), summary
    assert cdp.evaluate(walk) == []
    shot = cdp.call("Page.captureScreenshot", format="png")["data"]
    (artifacts / "i18n-desktop-ru.png").write_bytes(base64.b64decode(shot))

    # A dropped folder of 101 images asks first, in Russian: "101 изображение в 1 папке".
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(101):
        Image.new("RGB", (16, 12), (i, 90, 200)).save(tree / f"{i:03}.png")
    ask = "document.querySelector('[data-testid=\"batch-confirm\"]')"
    assert drag_and_drop(desktop.display, [tree]) == "CopyAction"
    found = cdp.wait_for(f"{ask}?.open && {ask}.querySelector('.confirm__found').textContent",
                         "the question before the batch")
    assert found.startswith("Найдено: 101 изображение в 1 папке"), found
    assert cdp.evaluate(walk) == []
    shot = cdp.call("Page.captureScreenshot", format="png")["data"]
    (artifacts / "i18n-desktop-ru-confirm.png").write_bytes(base64.b64decode(shot))
    cdp.evaluate(f"{ask}.querySelector('[data-testid=\"batch-confirm-cancel\"]').click()")
    cdp.wait_for(f"!{ask}.open", "the question declined")

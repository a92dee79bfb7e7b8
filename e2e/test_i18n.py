"""The page in each language, in a real Chromium with that locale against a real ``serve``.

Every `data-i18n*` element shows its catalogue value, `<html lang>` follows the locale, a switch
in the settings panel is live and remembered, and de/ru screenshots at the desktop's minimum
window size go to test-artifacts/ to be looked at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect
from test_ui_browser import open_app

if TYPE_CHECKING:
    from conftest import Served

I18N = Path(__file__).resolve().parents[1] / "frontend" / "i18n"
LANGUAGES = ("en", "nl", "de", "fr", "es", "ru")
MIN_WINDOW = {"width": 640, "height": 560}  # backend/shells/desktop.py MIN_SIZE

# Static texts that should read as in the catalogue: [text, attribute name or "", key].
RENDERED = """(root) => Array.from(root.querySelectorAll(
  "[data-i18n], [data-i18n-aria-label], [data-i18n-title], [data-i18n-placeholder]",
)).flatMap((el) => [
    ["", "i18n"], ["aria-label", "i18n-aria-label"], ["title", "i18n-title"],
    ["placeholder", "i18n-placeholder"],
  ].filter(([, data]) => el.hasAttribute(`data-${data}`)).map(([attr, data]) =>
    [attr ? el.getAttribute(attr) : el.textContent, attr, el.getAttribute(`data-${data}`)]))"""

# The menu and panel fade in: screenshots wait for their transitions to end.
SETTLED = "() => document.getAnimations().every((anim) => anim.playState !== 'running')"


def catalogue(code: str) -> dict[str, str]:
    return json.loads((I18N / f"{code}.json").read_text(encoding="utf-8"))


@pytest.fixture
def localized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale=request.param, viewport=MIN_WINDOW)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("localized", LANGUAGES, indirect=True)
def test_every_static_text_comes_from_the_locales_catalogue(
    localized: Page, server: Served, artifacts: Path
) -> None:
    page = localized
    code = page.evaluate("navigator.language").split("-")[0]
    open_app(page, server)
    expect(page.locator("html")).to_have_attribute("lang", code)
    words = catalogue(code)
    rendered = page.evaluate(RENDERED, page.locator("body").element_handle())
    rendered += [[page.title(), "", "app.title"]]
    assert len(rendered) > 35
    assert [r for r in rendered if r[0].strip() != words[r[2]]] == []
    quality = page.locator("#quality-label").text_content()
    assert quality in {words[k] for k in words if k.startswith("quality.")}
    if code in ("de", "ru"):
        page.screenshot(path=str(artifacts / f"i18n-{code}-main.png"))
        page.get_by_test_id("options-button").click()
        page.wait_for_function(SETTLED)
        page.screenshot(path=str(artifacts / f"i18n-{code}-options.png"))
        page.keyboard.press("Escape")
        page.get_by_test_id("settings-button").click()
        page.wait_for_function(SETTLED)
        page.screenshot(path=str(artifacts / f"i18n-{code}-settings.png"))


def test_a_switch_in_the_panel_is_live_and_remembered(page: Page, server: Served) -> None:
    open_app(page, server)
    expect(page.locator(".dropzone__title")).to_have_text(catalogue("en")["dropzone.title"])
    page.get_by_test_id("settings-button").click()
    page.get_by_test_id("language-select").select_option("ru")
    ru = catalogue("ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#settings-title")).to_have_text(ru["settings.title"])
    expect(page.get_by_test_id("output-note")).to_have_text(ru["settings.browserNote"])
    assert page.get_by_test_id("metadata-select").evaluate(
        "(s) => s.options[0].textContent") == ru["choice.metadata.strip"]
    deadline = time.monotonic() + 10
    while server.invoke("load_preferences").get("language") != "ru":
        assert time.monotonic() < deadline, "the language was not saved"
        time.sleep(0.05)
    page.reload()
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")
    expect(page.locator(".dropzone__title")).to_have_text(ru["dropzone.title"])

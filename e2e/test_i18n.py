"""The page in each language, in a real Chromium against a real ``serve``.

For each language the page is opened in English, switched in the settings panel (live, no
reload), and then every visible text of every state a person reaches is checked against that
language's catalogue (``page_words.UNTRANSLATED``): the main window, the Options menu, the
settings panel with its changelog, an error toast from Python, a watched folder with a failed
file, a real batch's results list with a skipped-file toast and a failed image, and the compare
view; then a second switch redraws the results and the compare view. The first start follows
the browser's locale, the choice is remembered after a reload, Russian counts take their three
forms, and de/ru screenshots at the desktop's minimum window size go to test-artifacts/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from page_words import LANGUAGES, UNTRANSLATED, catalogue, walk_args
from playwright.sync_api import Browser, Page, expect
from test_ui_browser import BATCH_TIMEOUT_MS, open_app, photo, pick

if TYPE_CHECKING:
    from conftest import Served

# The rendered changelog opens with CHANGELOG.md's first "## " heading (the newest version).
FIRST_RELEASE_HEADING = next(
    line[3:] for line in (Path(__file__).resolve().parent.parent / "CHANGELOG.md").read_text(
        encoding="utf-8").splitlines() if line.startswith("## "))

MIN_WINDOW = {"width": 640, "height": 560}  # backend/shells/desktop.py MIN_SIZE

# The menu and panel fade in: screenshots wait for their transitions to end.
SETTLED = "() => document.getAnimations().every((anim) => anim.playState !== 'running')"
T_OF = "([key, params]) => import('/js/i18n.js').then((m) => m.t(key, params))"


@pytest.fixture
def small_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport=MIN_WINDOW)
    page = context.new_page()
    page.on("filechooser", lambda _chooser: None)
    yield page
    context.close()


def untranslated(page: Page, code: str) -> list[list[str]]:
    return page.evaluate(UNTRANSLATED, walk_args(code))


def switch_language(page: Page, code: str) -> None:
    page.get_by_test_id("settings-button").click()
    page.get_by_test_id("language-select").select_option(code)
    expect(page.locator("html")).to_have_attribute("lang", code)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("settings-panel")).to_be_hidden()


def shoot(page: Page, artifacts: Path, code: str, state: str) -> None:
    if code in ("de", "ru"):
        page.wait_for_function(SETTLED)
        page.screenshot(path=str(artifacts / f"i18n-{code}-{state}.png"))


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_visible_text_in_every_state_is_from_the_languages_catalogue(
    small_page: Page, server: Served, artifacts: Path, tmp_path: Path, code: str
) -> None:
    page, words = small_page, catalogue(code)
    open_app(page, server)
    switch_language(page, code)
    expect(page.locator(".dropzone__title")).to_have_text(words["dropzone.title"])
    assert untranslated(page, code) == []
    shoot(page, artifacts, code, "main")

    page.get_by_test_id("options-button").click()
    expect(page.get_by_test_id("options-menu")).to_be_visible()
    assert untranslated(page, code) == []
    shoot(page, artifacts, code, "options")
    page.keyboard.press("Escape")

    page.get_by_test_id("settings-button").click()
    expect(page.get_by_test_id("settings-panel")).to_be_visible()
    shoot(page, artifacts, code, "settings")
    page.get_by_test_id("changelog").locator("summary").click()
    changelog = page.get_by_test_id("changelog-text")
    expect(changelog.locator("h4").first).to_have_text(FIRST_RELEASE_HEADING)
    expect(changelog).to_contain_text("Languages")
    version = server.invoke("get_app_info")["version"]
    expect(page.get_by_test_id("about-version")).to_have_text(
        page.evaluate(T_OF, ["settings.version", {"version": version}]))
    assert untranslated(page, code) == []
    changelog.evaluate("(box) => box.scrollIntoView({block: 'end'})")
    shoot(page, artifacts, code, "about")

    # Python's refusal: a translated sentence for its kind, Python's reason below it as data.
    page.get_by_test_id("watch-path").fill(str(tmp_path / "nowhere"))
    page.get_by_test_id("watch-submit").click()
    toast = page.get_by_test_id("toast")
    expect(toast.locator(".toast__line").first).to_have_text(words["watch.addFailed"])
    expect(toast.locator(".toast__line").nth(1)).to_have_text(words["kind.validation"])
    expect(toast.locator(".toast__detail")).to_contain_text("nowhere")
    expect(toast.locator(".toast__detail")).to_have_attribute("lang", "en")
    assert untranslated(page, code) == []
    shoot(page, artifacts, code, "error-toast")

    # A watched folder with a broken image in it: its state, counts and a failed item (the
    # sentence for the error's kind, Python's reason as data) in the panel and the title bar.
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    page.get_by_test_id("watch-path").fill(str(watched))
    page.get_by_test_id("watch-submit").click()
    failed = page.locator('[data-testid="watch-item"][data-status="failed"]')
    expect(failed).to_contain_text(words["kind.decode"], timeout=60_000)
    expect(page.get_by_test_id("watch-folder")).to_contain_text(
        page.evaluate(T_OF, ["progress.failedCount", {"count": 1}]))
    assert untranslated(page, code) == []
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("watch-summary")).to_have_text(" · ".join([
        page.evaluate(T_OF, ["watch.summary", {"count": 1}]),
        page.evaluate(T_OF, ["watch.optimized", {"count": 0}])]))

    # A real batch: two photos, a truncated JPEG and a text file that is skipped.
    good = [photo(tmp_path, "chelsea.png", "chelsea.jpg"),
            photo(tmp_path, "coffee.png", "coffee.png")]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(good[0].read_bytes()[:4000])
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    pick(page, [*good, broken, notes])
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(3, timeout=BATCH_TIMEOUT_MS)
    expect(page.get_by_test_id("toast").locator(".toast__line")).to_have_text(
        page.evaluate(T_OF, ["app.skipped", {"count": 1}]))
    expect(rows.nth(2).locator(".result__note")).to_contain_text(words["kind.decode"])
    expect(page.locator("#app")).to_have_attribute("data-state", "done")
    assert untranslated(page, code) == []
    shoot(page, artifacts, code, "results")

    rows.first.click()
    compare = page.get_by_test_id("compare-view")
    expect(compare).to_be_visible()
    expect(page.get_by_test_id("compare-status")).not_to_be_empty(timeout=60_000)
    assert untranslated(page, code) == []
    shoot(page, artifacts, code, "compare")

    # A switch with the results on screen redraws them (and the compare view) in the new words.
    page.keyboard.press("Escape")
    expect(compare).to_be_hidden()
    page.locator(".toast__close").evaluate_all("(buttons) => buttons.forEach((b) => b.click())")
    expect(page.get_by_test_id("toast")).to_have_count(0)
    other = "de" if code == "en" else "en"
    switch_language(page, other)
    expect(rows.nth(2).locator(".result__note")).to_contain_text(catalogue(other)["kind.decode"])
    assert untranslated(page, other) == []
    rows.first.click()
    expect(page.get_by_test_id("compare-status")).not_to_be_empty(timeout=60_000)
    assert untranslated(page, other) == []


def test_the_walk_catches_an_english_word_in_another_language(page: Page, server: Served) -> None:
    open_app(page, server)
    switch_language(page, "de")
    page.evaluate("document.querySelector('.dropzone__title').textContent = 'Drop images here'")
    assert untranslated(page, "de") == [["h2", "Drop images here"]]


def test_first_start_follows_the_browser_locale(browser: Browser, server: Served) -> None:
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        open_app(page, server)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator(".dropzone__title")).to_have_text(catalogue("de")["dropzone.title"])
        expect(page.get_by_test_id("language-select")).to_have_value("de")
    finally:
        context.close()


def test_a_switch_in_the_panel_is_live_and_remembered(page: Page, server: Served) -> None:
    open_app(page, server)
    expect(page.locator(".dropzone__title")).to_have_text(catalogue("en")["dropzone.title"])
    page.evaluate("window.__sameDocument = true")
    page.get_by_test_id("settings-button").click()
    page.get_by_test_id("language-select").select_option("ru")
    ru = catalogue("ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#settings-title")).to_have_text(ru["settings.title"])
    expect(page.get_by_test_id("output-note")).to_have_text(ru["settings.browserNote"])
    expect(page.locator("#watch-title")).to_have_text(ru["watch.heading"])
    assert page.get_by_test_id("metadata-select").evaluate(
        "(s) => s.options[0].textContent") == ru["choice.metadata.strip"]
    assert page.evaluate("window.__sameDocument") is True  # live: no reload happened
    deadline = time.monotonic() + 10
    while server.invoke("load_preferences").get("language") != "ru":
        assert time.monotonic() < deadline, "the language was not saved"
        time.sleep(0.05)
    page.reload()
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")
    expect(page.locator(".dropzone__title")).to_have_text(ru["dropzone.title"])
    expect(page.get_by_test_id("language-select")).to_have_value("ru")


def test_russian_counts_take_one_few_and_many_and_german_numbers_read_german(
    page: Page, server: Served
) -> None:
    open_app(page, server)
    switch_language(page, "ru")
    counted = [page.evaluate(T_OF, ["app.skipped", {"count": n}]) for n in (1, 2, 5, 21, 1000)]
    assert counted == ["Пропущен 1 файл", "Пропущено 2 файла", "Пропущено 5 файлов",
                       "Пропущен 21 файл", "Пропущено 1\u00a0000 файлов"]
    sizes = "(n) => import('/js/i18n.js').then((m) => [m.formatSize(n), m.formatDuration(125.5)])"
    assert page.evaluate(sizes, 1572864) == ["1,50 МБ", "2 мин 5,5 \u0441"]  # Cyrillic es
    switch_language(page, "de")
    assert page.evaluate(sizes, 1572864)[0] == "1,50 MB"
    assert page.evaluate(T_OF, ["batch.found", {
        "images": page.evaluate(T_OF, ["batch.images", {"count": 2341}]),
        "folders": page.evaluate(T_OF, ["batch.folders", {"count": 57}]),
        "size": "3,10 GB"}]) == "2.341 Bilder in 57 Ordnern gefunden (3,10 GB)."

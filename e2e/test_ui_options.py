"""The Options menu and the keyboard, in a real Chromium against a real ``image-optimizer serve``:
every control reachable with Tab, visible focus, Escape closes the menu, Enter on the drop zone
opens the file picker, and the options survive a reload and a relaunch of the app.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import Served, start_server
from PIL import Image
from playwright.sync_api import Page, expect

_SKIMAGE = importlib.util.find_spec("skimage")
assert _SKIMAGE is not None and _SKIMAGE.submodule_search_locations
SAMPLES = Path(next(iter(_SKIMAGE.submodule_search_locations))) / "data"


def open_app(page: Page, served: Served) -> None:
    page.goto(served.url)
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")


def expect_focus_ring(page: Page, testid: str) -> None:
    control = page.get_by_test_id(testid)
    expect(control).to_be_focused()
    expect(control).to_have_css("outline-style", "solid")


def test_keyboard_reaches_dropzone_and_options_and_escape_closes_the_menu(
    page: Page, server: Served, tmp_path: Path, artifacts: Path
) -> None:
    open_app(page, server)
    page.keyboard.press("Tab")
    expect_focus_ring(page, "settings-button")  # the cog in the title bar comes first
    page.keyboard.press("Tab")
    expect_focus_ring(page, "dropzone")
    page.keyboard.press("Tab")
    expect_focus_ring(page, "options-button")

    page.keyboard.press("Enter")
    menu = page.get_by_test_id("options-menu")
    expect(menu).to_be_visible()
    expect(page.get_by_test_id("options-button")).to_have_attribute("aria-expanded", "true")
    expect_focus_ring(page, "quality-slider")
    label = page.get_by_test_id("quality-label")
    page.keyboard.press("End")
    expect(label).to_have_text("Lossless")
    page.keyboard.press("Home")
    expect(label).to_have_text("Very poor")
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    expect(label).to_have_text("Poor")
    expect(page.get_by_test_id("quality-slider")).to_have_attribute("aria-valuetext", "10%, Poor")
    page.keyboard.press("Tab")
    expect_focus_ring(page, "auto-quality")
    page.keyboard.press("Tab")
    expect_focus_ring(page, "resize-mode")
    page.keyboard.press("Tab")
    expect_focus_ring(page, "format-select")
    expect(menu).to_have_css("opacity", "1")
    page.screenshot(path=str(artifacts / "ui-options-open.png"))

    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(page.get_by_test_id("options-button")).to_be_focused()
    expect(page.get_by_test_id("options-button")).to_have_attribute("aria-expanded", "false")

    # Enter on the focused drop zone opens the picker; the picked photo is optimized.
    page.keyboard.press("Shift+Tab")
    expect_focus_ring(page, "dropzone")
    picked = tmp_path / "chelsea.png"
    with Image.open(SAMPLES / "chelsea.png") as sample:
        sample.save(picked)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(picked))
    expect(page.get_by_test_id("result-row")).to_have_count(1, timeout=60_000)
    expect(page.get_by_test_id("result-row")).to_have_attribute("data-status", "ok")


def test_options_survive_a_reload_and_a_relaunch(page: Page, tmp_path: Path) -> None:
    def expect_saved_options() -> None:
        expect(page.get_by_test_id("quality-slider")).to_have_value("55")
        expect(page.get_by_test_id("quality-label")).to_have_text("Good")
        expect(page.get_by_test_id("resize-mode")).to_have_value("width")
        expect(page.get_by_test_id("resize-size")).to_have_value("640")
        expect(page.get_by_test_id("format-select")).to_have_value("avif")

    first = tmp_path / "first"
    with start_server(first) as served:
        open_app(page, served)
        page.get_by_test_id("options-button").click()
        slider = page.get_by_test_id("quality-slider")
        slider.focus()
        page.keyboard.press("Home")
        for _ in range(54):
            page.keyboard.press("ArrowRight")
        page.get_by_test_id("resize-mode").select_option("width")
        page.get_by_test_id("resize-size").fill("640")
        with page.expect_response(
            lambda r: (
                r.url.endswith("/api/invoke/save_settings")
                and '"avif"' in (r.request.post_data or "")
            )
        ) as saved:
            page.get_by_test_id("format-select").select_option("avif")
        assert saved.value.ok
        assert saved.value.json()["quality"]["global"] == 55

        page.reload()
        expect(page.locator("#app")).to_have_attribute("data-ready", "true")
        page.get_by_test_id("options-button").click()
        expect_saved_options()

    with start_server(tmp_path / "second", config_dir=first / "config") as relaunched:
        open_app(page, relaunched)
        page.get_by_test_id("options-button").click()
        expect_saved_options()


def test_the_workers_choice_resizes_the_pool_and_is_used_at_the_next_launch(
    page: Page, tmp_path: Path, artifacts: Path
) -> None:
    first = tmp_path / "first"
    with start_server(first, workers=None) as served:
        info = served.invoke("get_app_info")
        auto = min(info["cpuCount"], info["maxWorkers"])
        assert info["workers"] == auto
        open_app(page, served)
        page.get_by_test_id("options-button").click()
        workers = page.get_by_test_id("workers-select")
        expect(workers).to_have_value("")
        expect(workers.locator("option").first).to_have_text(f"Auto ({auto})")
        expect(page.get_by_test_id("options-menu")).to_have_css("opacity", "1")
        page.screenshot(path=str(artifacts / "ui-options-workers.png"))
        with page.expect_response(
            lambda r: r.url.endswith("/api/invoke/save_preferences")
        ) as saved:
            workers.select_option("3")
        assert saved.value.ok and saved.value.json() == {
            "workers": 3, "recursiveDrops": True, "language": None}
        info = served.invoke("get_app_info")
        assert info["workers"] == 3

        # The same page still optimizes on the resized pool.
        page.get_by_test_id("options-button").click()  # close the menu
        with Image.open(SAMPLES / "chelsea.png") as sample:
            sample.save(tmp_path / "chelsea.png")
        with page.expect_file_chooser() as chooser:
            page.get_by_test_id("dropzone").click()
        chooser.value.set_files(str(tmp_path / "chelsea.png"))
        expect(page.get_by_test_id("result-row")).to_have_attribute("data-status", "ok",
                                                                    timeout=60_000)

    with start_server(tmp_path / "second", config_dir=first / "config",
                      workers=None) as relaunched:
        assert relaunched.invoke("get_app_info")["workers"] == 3
        open_app(page, relaunched)
        page.get_by_test_id("options-button").click()
        expect(page.get_by_test_id("workers-select")).to_have_value("3")

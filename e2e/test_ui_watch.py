"""Watch folders in the settings panel, in a real Chromium against a real ``serve``: a folder
added in the page is watched, and a photo copied into it shows up in the activity list and the
title bar's summary, optimized on disk; removing it stops the watch."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from playwright.sync_api import Page, expect
from test_ui_browser import open_app, photo

if TYPE_CHECKING:
    from conftest import Served

WATCH_TIMEOUT_MS = 30_000  # settle (1 s) + a poll + the encode, on a busy 2-core machine


def test_a_folder_added_in_the_panel_is_watched_and_its_new_photo_listed(
    page: Page, server: Served, tmp_path: Path, artifacts: Path
) -> None:
    watched = tmp_path / "screenshots"
    watched.mkdir()
    source = photo(tmp_path, "coffee.png", "coffee.jpg", quality=97)
    (watched / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")

    open_app(page, server)
    page.get_by_test_id("settings-button").click()
    section = page.get_by_test_id("watch-section")
    expect(section.get_by_test_id("watch-folders")).to_have_text("No folders are watched.")
    section.get_by_test_id("watch-path").fill(str(watched))
    section.get_by_test_id("watch-submit").click()
    folder = section.get_by_test_id("watch-folder")
    expect(folder).to_have_count(1)
    expect(folder).to_have_attribute("data-state", "watching")
    expect(folder).to_contain_text(str(watched))

    shutil.copy(source, watched / "coffee.jpg")  # appears after the watch started
    done = section.locator('[data-testid="watch-item"][data-status="optimized"]')
    expect(done).to_contain_text("coffee.jpg", timeout=WATCH_TIMEOUT_MS)
    failed = section.locator('[data-testid="watch-item"][data-status="failed"]')
    expect(failed).to_contain_text("broken.jpg", timeout=WATCH_TIMEOUT_MS)  # there at start
    out = watched / "optimized" / "coffee.jpg"
    assert out.stat().st_size < source.stat().st_size
    with Image.open(out) as im, Image.open(source) as original:
        assert im.size == original.size
    expect(folder).to_contain_text("1 optimized · 1 failed")
    page.screenshot(path=str(artifacts / "watch-panel.png"))

    page.keyboard.press("Escape")
    expect(page.get_by_test_id("watch-summary")).to_have_text("Watching 1 folder · 1 optimized")
    page.get_by_test_id("settings-button").click()
    section.get_by_role("button", name=f"Stop watching: {watched}").click()
    expect(section.get_by_test_id("watch-folders")).to_have_text("No folders are watched.")
    expect(page.get_by_test_id("watch-summary")).to_be_hidden()


def test_a_folder_that_does_not_exist_is_refused_with_the_reason(
    page: Page, server: Served, tmp_path: Path
) -> None:
    open_app(page, server)
    page.get_by_test_id("settings-button").click()
    path = page.get_by_test_id("watch-path")
    path.fill(str(tmp_path / "nowhere"))
    page.get_by_test_id("watch-submit").click()
    expect(page.get_by_test_id("toast")).to_contain_text("Could not watch the folder")
    expect(path).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("watch-folder")).to_have_count(0)

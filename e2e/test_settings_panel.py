"""The settings panel in a real Chromium against a real ``serve``: opened from the cog by the
keyboard, built from the contract, its choices saved and used by the next batch."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import piexif
from PIL import Image, JpegImagePlugin
from playwright.sync_api import Page, expect
from test_ui_browser import SAMPLES, open_app, pick, wait_for_results

from backend.contract import CHOICE_LABELS

if TYPE_CHECKING:
    from conftest import Served


def gps_photo(folder: Path) -> Path:
    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"PanelCam"},
                        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N",
                                piexif.GPSIFD.GPSLatitude: ((1, 1), (2, 1), (3, 1))}})
    with Image.open(SAMPLES / "chelsea.png") as sample:
        path = folder / "gps.jpg"
        sample.convert("RGB").save(path, "JPEG", quality=95, exif=exif)
    return path


def choices(page: Page, testid: str) -> list[list[str]]:
    return page.get_by_test_id(testid).evaluate(
        "(select) => Array.from(select.options, (o) => [o.value, o.textContent])")


def test_panel_opens_from_the_cog_by_keyboard_and_escape_returns_focus(
    page: Page, server: Served, artifacts: Path
) -> None:
    open_app(page, server)
    panel = page.get_by_test_id("settings-panel")
    expect(panel).to_be_hidden()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("settings-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    # In the browser the first control is "keep file dates" (placement is for local files).
    expect(page.get_by_test_id("keep-dates")).to_be_focused()
    expect(page.get_by_test_id("output-note")).to_have_text(
        "In the browser, results are downloaded from the results list.")
    expect(page.get_by_test_id("output-select")).to_be_hidden()
    for field in ("metadata", "icc", "chroma"):
        assert choices(page, f"{field}-select") == [list(c) for c in CHOICE_LABELS[field].items()]
    page.screenshot(path=str(artifacts / "settings-panel-browser.png"))
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("settings-button")).to_be_focused()


def test_panel_choices_are_saved_and_used_by_the_next_batch(
    page: Page, server: Served, tmp_path: Path
) -> None:
    source = gps_photo(tmp_path)
    open_app(page, server)
    page.get_by_test_id("settings-button").click()
    page.get_by_test_id("metadata-select").select_option("keep-no-location")
    page.get_by_test_id("chroma-select").select_option("4:4:4")
    page.get_by_test_id("icc-select").select_option("srgb")
    page.get_by_test_id("keep-dates").uncheck()
    page.get_by_role("button", name="Close settings").click()
    expect(page.get_by_test_id("settings-panel")).to_be_hidden()

    page.reload()  # the saver is debounced; leaving the page flushes it
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")
    settings = server.invoke("load_settings")
    assert (settings["metadata"], settings["chroma"], settings["keepDates"], settings["icc"]) == (
        "keep-no-location", "4:4:4", False, "srgb")
    page.get_by_test_id("settings-button").click()
    expect(page.get_by_test_id("metadata-select")).to_have_value("keep-no-location")
    expect(page.get_by_test_id("keep-dates")).not_to_be_checked()
    page.keyboard.press("Escape")

    pick(page, [source])
    wait_for_results(page, 1)
    expect(page.get_by_test_id("download-all")).to_be_visible()
    with page.expect_download() as zipped:
        page.get_by_test_id("download-all").click()
    with zipfile.ZipFile(zipped.value.path()) as archive:
        data = archive.read(archive.namelist()[0])
    exif = piexif.load(data)
    assert exif["0th"][piexif.ImageIFD.Make] == b"PanelCam" and exif["GPS"] == {}
    with Image.open(io.BytesIO(data)) as image:
        assert JpegImagePlugin.get_sampling(image) == 0


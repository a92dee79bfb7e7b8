"""The page keeps no copy of the contract: its controls, read back in a real Chromium, equal what
``get_app_info`` declares and what the Python definitions (the Structs, the format registry, the
labels) say; and the page's byte formatter gives Python's text for the same numbers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from conftest import Served
from playwright.sync_api import Page, expect

from backend.contract import QUALITY_BANDS, RESIZE_MODE_LABELS
from backend.core.formats.registry import FORMATS, OUTPUT_FORMATS
from backend.human_bytes import format_bytes
from backend.types import DEFAULT_QUALITY, ResizeMode

INDEX = Path(__file__).resolve().parents[1] / "frontend" / "index.html"
BYTE_COUNTS = [0, 1, 512, 1023, 1024, 1152, 1536, 10_240, 1_048_575, 1_048_576, 1_180_000,
               5 * 1024**3, 3 * 1024**4, -2048, -5_000_000]


def open_app(page: Page, served: Served) -> None:
    page.goto(served.url)
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")


def options_of(page: Page, testid: str) -> list[list[str]]:
    return page.get_by_test_id(testid).evaluate(
        "(select) => Array.from(select.options, (o) => [o.value, o.textContent])")


def test_index_html_declares_no_option_list_or_limit() -> None:
    html = INDEX.read_text()
    assert "<option" not in html
    slider = re.search(r"<input[^>]*quality-slider[^>]*>", html, re.S)
    size = re.search(r"<input[^>]*resize-size[^>]*>", html, re.S)
    assert slider and size
    for tag in (slider.group(0), size.group(0)):
        assert not re.search(r"\b(min|max|value)=", tag), tag
    assert "accept=" not in html


def test_options_controls_equal_what_get_app_info_declares(page: Page, server: Served) -> None:
    open_app(page, server)
    info = server.invoke("get_app_info")
    contract = info["contract"]
    schema = contract["settingsSchema"]["$defs"]
    global_quality = schema["QualitySettings"]["properties"]["global"]

    slider = page.get_by_test_id("quality-slider")
    assert slider.evaluate("(s) => [Number(s.min), Number(s.max), Number(s.value)]") == [
        global_quality["minimum"], global_quality["maximum"], global_quality["default"]]
    assert global_quality["default"] == DEFAULT_QUALITY == contract["defaults"]["quality"]["global"]
    assert (global_quality["minimum"], global_quality["maximum"]) == (1, 100)

    size = page.get_by_test_id("resize-size")
    size_schema = next(option for option in schema["ResizeSettings"]["properties"]["size"]["anyOf"]
                       if option["type"] == "integer")
    assert size.evaluate("(s) => [Number(s.min), Number(s.max)]") == [
        size_schema["minimum"], size_schema["maximum"]]

    modes = list(get_args(ResizeMode))
    assert options_of(page, "resize-mode") == [[m, RESIZE_MODE_LABELS[m]] for m in modes]
    assert sorted(schema["ResizeSettings"]["properties"]["mode"]["enum"]) == sorted(modes)
    assert contract["resizeModeLabels"] == RESIZE_MODE_LABELS

    outputs = [fmt for fmt in contract["formats"] if fmt["output"]]
    assert [fmt["id"] for fmt in outputs] == [fmt.id for fmt in OUTPUT_FORMATS] == info[
        "outputFormats"]
    assert options_of(page, "format-select") == [["original", "Original"]] + [
        [fmt.id, fmt.label.upper()] for fmt in OUTPUT_FORMATS]
    accepted = set(schema["ImageSettings"]["properties"]["outputFormat"]["enum"])
    assert accepted == {"original"} | {n for fmt in OUTPUT_FORMATS for n in (fmt.id, *fmt.aliases)}

    accept = page.get_by_test_id("file-input").get_attribute("accept") or ""
    assert set(accept.split(",")) == {
        item for fmt in FORMATS for item in (fmt.mime, *fmt.extensions)}


def test_quality_labels_follow_the_served_bands(page: Page, server: Served) -> None:
    open_app(page, server)
    page.get_by_test_id("options-button").click()
    slider = page.get_by_test_id("quality-slider")
    label = page.get_by_test_id("quality-label")
    for quality in (1, 9, 10, 29, 30, 49, 50, 69, 70, 89, 90, 99, 100):
        slider.fill(str(quality))
        expected = next(word for low, word in QUALITY_BANDS if quality >= low)
        expect(label).to_have_text(expected)
        expect(slider).to_have_attribute("aria-valuetext", f"{quality}%, {expected}")


def test_page_formats_bytes_as_python_does(page: Page, server: Served) -> None:
    open_app(page, server)
    shown = page.evaluate(
        "(counts) => import('/js/i18n.js').then((m) => counts.map(m.formatSize))",
        BYTE_COUNTS)
    assert shown == [format_bytes(n) for n in BYTE_COUNTS]
    assert shown[:7] == ["0 B", "1 B", "512 B", "1023 B", "1.00 KB", "1.13 KB", "1.50 KB"]

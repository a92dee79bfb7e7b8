"""Browser mode with the formats of issue 12 (real server, real Chromium): a dropped .heic is
taken and optimized to JPEG with no skipped-file toast; the picker offers HEIC and JPEG XL, and
"JPEG XL" is a "Convert to" choice that writes .jxl files. All of it comes from the registry."""

from __future__ import annotations

import base64
from pathlib import Path

from conftest import Served
from playwright.sync_api import Page, expect

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "heic" / "camera-rotated.heic"
BATCH_TIMEOUT_MS = 60_000

DROP_SCRIPT = """
([name, mime, base64]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: mime }));
  for (const type of ["dragenter", "dragover", "drop"]) {
    const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
    document.getElementById("dropzone").dispatchEvent(new DragEvent(type, init));
  }
}
"""


def open_app(page: Page, served: Served) -> None:
    page.goto(served.url)
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")


def test_jpeg_xl_is_a_convert_to_choice_and_the_picker_offers_heic(
    page: Page, server: Served
) -> None:
    open_app(page, server)
    expect(page.get_by_test_id("format-select").locator("option[value=jxl]")).to_have_text(
        "JPEG XL")
    accept = (page.get_by_test_id("file-input").get_attribute("accept") or "").split(",")
    for entry in ("image/heic", ".heic", ".heif", ".hif", "image/jxl", ".jxl"):
        assert entry in accept, entry


def test_a_dropped_heic_is_optimized_to_jpeg_without_a_skip_toast(
    page: Page, server: Served
) -> None:
    open_app(page, server)
    page.evaluate(DROP_SCRIPT, [SAMPLE.name, "image/heic",
                                base64.b64encode(SAMPLE.read_bytes()).decode()])
    row = page.get_by_test_id("result-row")
    expect(row).to_have_count(1, timeout=BATCH_TIMEOUT_MS)
    expect(row).to_have_attribute("data-status", "ok")
    expect(row.get_by_test_id("download-file")).to_have_attribute(
        "aria-label", "Download camera-rotated.jpg")
    expect(page.locator("[data-testid=toast][data-type=warning]")).to_have_count(0)


def test_convert_to_jpeg_xl_writes_a_jxl_file(page: Page, server: Served) -> None:
    open_app(page, server)
    page.get_by_test_id("options-button").click()
    page.get_by_test_id("format-select").select_option("jxl")
    page.keyboard.press("Escape")
    page.evaluate(DROP_SCRIPT, [SAMPLE.name, "image/heic",
                                base64.b64encode(SAMPLE.read_bytes()).decode()])
    row = page.get_by_test_id("result-row")
    expect(row).to_have_count(1, timeout=BATCH_TIMEOUT_MS)
    expect(row).to_have_attribute("data-status", "ok")
    expect(row.get_by_test_id("download-file")).to_have_attribute(
        "aria-label", "Download camera-rotated.jxl")

"""Browser mode end to end (real server subprocess, real Chromium): a dropped .heic file is taken
and optimized to JPEG without a skipped-file toast, the file picker offers HEIC and JPEG XL, and
"JPEG XL" is a "Convert to" choice, all from the registry."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SAMPLE = Path(__file__).parent / "data" / "heic" / "camera-rotated.heic"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")


@pytest.fixture
def server_url() -> Iterator[str]:
    with subprocess.Popen([sys.executable, "-m", "backend", "serve", "--workers", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:"), url
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture
def page(server_url: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page()
        page.goto(server_url)
        yield page
        browser.close()


def drop_file(page: Page, path: Path, mime: str) -> None:
    """A real drop event on the drop zone carrying ``path`` as a File."""
    data = base64.b64encode(path.read_bytes()).decode()
    page.evaluate(
        """([name, mime, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const zone = document.getElementById("dropzone");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true,
                                                         cancelable: true }));
            }
        }""",
        [path.name, mime, data])


def test_jpeg_xl_is_a_convert_to_choice_and_the_picker_offers_heic(page: Page) -> None:
    select = page.get_by_test_id("format-select")
    expect(select.locator("option[value=jxl]")).to_have_text("JPEG XL")
    accept = page.get_by_test_id("file-input").get_attribute("accept") or ""
    for entry in ("image/heic", ".heic", ".heif", ".hif", "image/jxl", ".jxl"):
        assert entry in accept.split(","), entry


def test_a_dropped_heic_is_optimized_to_jpeg_without_a_skip_toast(page: Page) -> None:
    expect(page.get_by_test_id("format-select").locator("option[value=jxl]")).to_have_count(1)
    drop_file(page, SAMPLE, "image/heic")
    row = page.get_by_test_id("result-row")
    expect(row).to_have_count(1, timeout=60_000)
    expect(row).to_have_attribute("data-status", "ok")
    expect(row.get_by_test_id("download-file")).to_have_attribute(
        "aria-label", "Download camera-rotated.jpg")
    expect(page.locator("[data-testid=toast][data-type=warning]")).to_have_count(0)

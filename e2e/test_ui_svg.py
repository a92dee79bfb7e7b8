"""SVG in the browser UI: the picker accepts .svg/.svgz, a dropped SVG gets its result row, and
the download is the optimized SVG; a bad SVG gets an error row with its reason."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Served

SVG_DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "svg"
BATCH_TIMEOUT_MS = 120_000

DROP_SCRIPT = """
(files) => {
  const transfer = new DataTransfer();
  for (const [name, base64] of files) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type: "image/svg+xml" }));
  }
  const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
  document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", init));
}
"""


def open_app(page: Page, served: Served) -> None:
    page.goto(served.url)
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")


def test_the_picker_accepts_svg_and_a_dropped_svg_gets_an_ok_row_and_a_smaller_download(
    page: Page, server: Served,
) -> None:
    open_app(page, server)
    accept = page.get_by_test_id("file-input").get_attribute("accept") or ""
    assert {"image/svg+xml", ".svg", ".svgz"} <= set(accept.split(","))

    names = ["tango-edit-copy.svg", "illustrator-style.svg"]
    files = [[n, base64.b64encode((SVG_DATA / n).read_bytes()).decode()] for n in names]
    page.evaluate(DROP_SCRIPT, files)
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(2, timeout=BATCH_TIMEOUT_MS)
    for index, name in enumerate(names):
        expect(rows.nth(index)).to_have_attribute("data-status", "ok")
        expect(rows.nth(index)).to_contain_text(name)
        expect(rows.nth(index)).to_contain_text(re.compile("\u2212" + r"\d+%"))

    with page.expect_download() as single:
        rows.nth(0).get_by_test_id("download-file").click()
    assert single.value.suggested_filename == "tango-edit-copy.svg"
    data = Path(single.value.path()).read_bytes()
    assert data.startswith(b"<svg") and len(data) < (SVG_DATA / names[0]).stat().st_size


def test_a_picked_svgz_and_a_bad_svg_get_their_rows(
    page: Page, server: Served, tmp_path: Path,
) -> None:
    svgz = Path(shutil.copy(SVG_DATA / "tango-edit-copy.svgz", tmp_path / "copy.svgz"))
    bomb = Path(shutil.copy(SVG_DATA / "bad" / "billion-laughs.svg", tmp_path / "laughs.svg"))
    open_app(page, server)
    page.get_by_test_id("file-input").set_input_files([str(svgz), str(bomb)])
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(2, timeout=BATCH_TIMEOUT_MS)
    expect(rows.nth(0)).to_have_attribute("data-status", "ok")
    expect(rows.nth(0)).to_contain_text("copy.svgz")
    expect(rows.nth(1)).to_have_attribute("data-status", "error")
    expect(rows.nth(1)).to_contain_text("entity-expansion bombs")

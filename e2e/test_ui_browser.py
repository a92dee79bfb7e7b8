"""The UI in a real Chromium against a real ``image-optimizer serve``: pick, watch, download.

Real photos (scikit-image's bundled samples) are converted to JPEG/PNG into the test's folder,
picked through the page's file input, uploaded, optimized by the real pool, and the downloads
are opened with Pillow. Screenshots of each state go to ``test-artifacts/``.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import RESULTS_SETTLED, expect_still
from PIL import Image
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Served

BATCH_TIMEOUT_MS = 120_000
MINUS = "\u2212"  # the UI writes savings with a true minus sign, as typography wants
_SKIMAGE = importlib.util.find_spec("skimage")
assert _SKIMAGE is not None and _SKIMAGE.submodule_search_locations
SAMPLES = Path(next(iter(_SKIMAGE.submodule_search_locations))) / "data"


def photo(folder: Path, sample: str, name: str, *, scale: float = 1.0, quality: int = 95) -> Path:
    """A real photo from scikit-image's samples, saved as ``name`` (format from its suffix)."""
    with Image.open(SAMPLES / sample) as sample_image:
        image = sample_image.convert("RGB")
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    path = folder / name
    if path.suffix == ".png":
        image.save(path, "PNG")
    else:
        # optimize=True: a JPEG with libjpeg's default Huffman tables gets a lossless rewrite,
        # while an optimized one at or below our quality is kept as the original.
        image.save(
            path, "JPEG", quality=quality, subsampling=0 if quality > 90 else 2, optimize=True
        )
    return path


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def three_photos(folder: Path) -> list[Path]:
    return [
        photo(folder, "chelsea.png", "chelsea.jpg"),
        photo(folder, "coffee.png", "coffee.png"),
        photo(folder, "rocket.jpg", "rocket.jpg"),
    ]


def open_app(page: Page, served: Served) -> None:
    page.goto(served.url)
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")


def pick(page: Page, paths: list[Path]) -> None:
    page.get_by_test_id("file-input").set_input_files([str(p) for p in paths])


def wait_for_results(page: Page, count: int) -> None:
    expect(page.get_by_test_id("result-row")).to_have_count(count, timeout=BATCH_TIMEOUT_MS)


def open_options(page: Page) -> None:
    page.get_by_test_id("options-button").click()
    expect(page.get_by_test_id("options-menu")).to_be_visible()


DROP_SCRIPT = """
([type, files]) => {
  const transfer = new DataTransfer();
  for (const [name, base64] of files) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
  }
  const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
  document.getElementById("dropzone").dispatchEvent(new DragEvent(type, init));
}
"""


def test_picked_photos_show_progress_savings_completion_and_one_row_each(
    page: Page, server: Served, tmp_path: Path, artifacts: Path
) -> None:
    open_app(page, server)
    expect(page.get_by_test_id("dropzone")).to_contain_text("Drop images here")
    expect(page.get_by_test_id("dropzone-hint")).to_contain_text("download")
    expect(page.get_by_test_id("progress")).to_be_hidden()
    page.screenshot(path=str(artifacts / "ui-idle.png"))

    pick(page, three_photos(tmp_path))
    wait_for_results(page, 3)
    # The results panel slides open: the picture is of the window once it is still.
    expect_still(page, RESULTS_SETTLED)
    page.screenshot(path=str(artifacts / "ui-complete.png"))

    expect(page.get_by_test_id("progress-percent")).to_have_text("Optimization complete")
    expect(page.get_by_test_id("progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("progress-saved")).to_have_text(
        re.compile(r"^\d+(\.\d+)? (B|KB|MB) / [1-9]\d?% saved$")
    )
    expect(page.get_by_test_id("progress-summary")).to_have_text(
        re.compile(r"^3 images optimized in \d+\.\ds$")
    )
    expect(page.get_by_test_id("status-text")).to_contain_text("Optimization complete")
    rows = page.get_by_test_id("result-row")
    expect(rows.and_(page.locator("[data-status=ok]"))).to_have_count(3)
    for index, name in enumerate(["chelsea.jpg", "coffee.png", "rocket.jpg"]):
        expect(rows.nth(index)).to_contain_text(name)
        expect(rows.nth(index)).to_contain_text(re.compile(r"\d (B|KB|MB) → \d"))
        expect(rows.nth(index)).to_contain_text(re.compile(MINUS + r"\d+%"))

    # After a few seconds the window fades back to the drop zone; the results stay.
    expect(page.locator("#app")).to_have_attribute("data-state", "idle", timeout=15_000)
    expect(page.get_by_test_id("progress")).to_be_hidden()
    expect(page.get_by_text("Drop images here")).to_be_visible()
    expect(page.get_by_test_id("results-list")).to_be_visible()
    expect(rows).to_have_count(3)


def test_dropped_photos_light_up_the_zone_then_get_optimized(
    page: Page, server: Served, tmp_path: Path
) -> None:
    sources = [photo(tmp_path, "chelsea.png", "cat.jpg"), photo(tmp_path, "rocket.jpg", "r.jpg")]
    files = [[p.name, base64.b64encode(p.read_bytes()).decode()] for p in sources]
    open_app(page, server)

    page.evaluate(DROP_SCRIPT, ["dragenter", files])
    expect(page.locator("#stage")).to_have_class(re.compile(r"\bis-dragging\b"))
    page.evaluate(DROP_SCRIPT, ["drop", files])
    expect(page.locator("#stage")).not_to_have_class(re.compile(r"\bis-dragging\b"))
    wait_for_results(page, 2)
    expect(page.get_by_test_id("result-row").nth(0)).to_contain_text("cat.jpg")
    expect(page.get_by_test_id("result-row").nth(1)).to_have_attribute("data-status", "ok")


def test_download_all_zip_and_single_download_hold_valid_smaller_images(
    page: Page, server: Served, tmp_path: Path
) -> None:
    sources = {p.name: p for p in three_photos(tmp_path)}
    open_app(page, server)
    pick(page, list(sources.values()))
    wait_for_results(page, 3)

    with page.expect_download() as zipped:
        page.get_by_test_id("download-all").click()
    with zipfile.ZipFile(zipped.value.path()) as archive:
        names = sorted(archive.namelist())
        assert [Path(n).name for n in names] == sorted(sources)
        for name in names:
            data = archive.read(name)
            original = sources[Path(name).name]
            assert len(data) < original.stat().st_size, f"{name} is not smaller"
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                assert image.size == size_of(original)

    with page.expect_download() as single:
        page.get_by_test_id("result-row").nth(1).get_by_test_id("download-file").click()
    assert single.value.suggested_filename == "coffee.png"
    with Image.open(single.value.path()) as image:
        assert image.format == "PNG"
        image.load()
    assert Path(single.value.path()).stat().st_size < sources["coffee.png"].stat().st_size


def test_webp_and_longest_edge_options_give_webp_outputs_of_that_size(
    page: Page, server: Served, tmp_path: Path
) -> None:
    sources = three_photos(tmp_path)
    open_app(page, server)
    open_options(page)
    page.get_by_test_id("format-select").select_option("webp")
    page.get_by_test_id("resize-mode").select_option("longest")
    page.get_by_test_id("resize-size").fill("200")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("options-menu")).to_be_hidden()

    pick(page, sources)
    wait_for_results(page, 3)
    expect(page.get_by_test_id("result-row").first).to_contain_text("Saved as chelsea.webp")

    with page.expect_download() as zipped:
        page.get_by_test_id("download-all").click()
    with zipfile.ZipFile(zipped.value.path()) as archive:
        names = sorted(Path(n).name for n in archive.namelist())
        assert names == ["chelsea.webp", "coffee.webp", "rocket.webp"]
        for member in archive.namelist():
            with Image.open(io.BytesIO(archive.read(member))) as image:
                assert image.format == "WEBP"
                assert max(image.size) == 200
                source = size_of(next(p for p in sources if p.stem == Path(member).stem))
                # The aspect ratio is kept (to the pixel rounding of the short edge).
                assert abs(min(image.size) - 200 * min(source) / max(source)) <= 1


def test_truncated_jpeg_gets_an_error_row_while_the_others_succeed_or_keep_their_original(
    page: Page, server: Served, tmp_path: Path
) -> None:
    good = three_photos(tmp_path)[:2]
    whole = photo(tmp_path, "astronaut.png", "astronaut.jpg").read_bytes()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(whole[: len(whole) * 3 // 5])
    # Already saved at quality 60: a re-encode at 90 cannot be smaller, so the original is kept.
    lean = photo(tmp_path, "coffee.png", "lean.jpg", quality=60)
    open_app(page, server)
    pick(page, [good[0], broken, good[1], lean])
    wait_for_results(page, 4)

    rows = page.get_by_test_id("result-row")
    expect(rows.nth(0)).to_have_attribute("data-status", "ok")
    expect(rows.nth(2)).to_have_attribute("data-status", "ok")
    bad = rows.nth(1)
    expect(bad).to_have_attribute("data-status", "error")
    expect(bad).to_contain_text("broken.jpg")
    expect(bad).to_contain_text(re.compile("truncated", re.IGNORECASE))
    expect(bad.locator(".result__note")).to_have_css("color", "rgba(224, 83, 63, 0.85)")
    expect(bad.get_by_test_id("download-file")).to_have_count(0)
    kept = rows.nth(3)
    expect(kept).to_have_attribute("data-status", "ok")
    expect(kept).to_contain_text("Kept original")
    expect(kept.locator(".result__saved")).to_have_text("0%")
    summary = page.get_by_test_id("progress-summary")
    expect(summary).to_have_text(re.compile(r"^3 images optimized in \d+\.\ds · 1 failed$"))


def test_unsupported_file_is_named_in_a_toast_and_not_optimized(
    page: Page, server: Served, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: milk, eggs\n")
    open_app(page, server)
    pick(page, [notes, photo(tmp_path, "chelsea.png", "chelsea.jpg")])

    toast = page.get_by_test_id("toast")
    expect(toast).to_be_visible()
    expect(toast.locator(".toast__line")).to_have_text("1 file skipped")
    expect(toast.locator(".toast__detail")).to_have_text("notes.txt (not an image)")
    wait_for_results(page, 1)
    expect(page.get_by_test_id("result-row")).to_contain_text("chelsea.jpg")

    # Only unsupported files: the toast, and the window stays at the drop zone.
    page.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)
    pick(page, [notes])
    expect(page.get_by_test_id("toast")).to_contain_text("notes.txt")
    expect(page.locator("#app")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("result-row")).to_have_count(1)


def test_server_gone_gives_an_error_toast_and_the_drop_zone_back(
    page: Page, server: Served, tmp_path: Path
) -> None:
    open_app(page, server)
    assert server.stop() == 0
    pick(page, [photo(tmp_path, "chelsea.png", "chelsea.jpg")])

    toast = page.get_by_test_id("toast")
    expect(toast).to_have_attribute("role", "alert")
    expect(toast).to_contain_text("Could not read the files")
    expect(toast).to_contain_text("cannot be reached")
    expect(page.locator("#app")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("options-button")).to_be_enabled()
    expect(page.get_by_test_id("result-row")).to_have_count(0)


def test_options_are_disabled_while_working_and_cancel_stops_the_batch(
    page: Page, server: Served, tmp_path: Path, artifacts: Path
) -> None:
    # Large photos to AVIF keep the two workers busy long enough to press Cancel mid-batch.
    big = [photo(tmp_path, "astronaut.png", f"astronaut-{i:02}.jpg", scale=3.5) for i in range(14)]
    open_app(page, server)
    open_options(page)
    page.get_by_test_id("format-select").select_option("avif")
    page.keyboard.press("Escape")

    pick(page, big)
    expect(page.locator("#app")).to_have_attribute("data-state", "working", timeout=60_000)
    expect(page.get_by_test_id("progress")).to_be_visible()
    options = page.get_by_test_id("options-button")
    expect(options).to_be_disabled()
    expect(page.get_by_test_id("settings-button")).to_be_disabled()
    options.click(force=True)
    expect(page.get_by_test_id("options-menu")).to_be_hidden()
    # A first image finished, the batch is still running.
    expect(page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", re.compile(r"^[1-9]\d?$"), timeout=BATCH_TIMEOUT_MS
    )
    expect(page.get_by_test_id("progress-percent")).to_have_text(re.compile(r"^\d{1,2}%$"))
    expect(page.get_by_test_id("progress-summary")).to_contain_text("optimized in")
    page.screenshot(path=str(artifacts / "ui-working.png"))

    page.get_by_test_id("cancel-button").click()
    wait_for_results(page, len(big))
    expect(page.get_by_test_id("progress-percent")).to_have_text("Optimization cancelled")
    rows = page.get_by_test_id("result-row")
    cancelled = page.locator("[data-testid=result-row][data-status=cancelled]")
    done = page.locator("[data-testid=result-row][data-status=ok]")
    expect(cancelled.first).to_contain_text("Cancelled")
    assert cancelled.count() >= 1
    assert done.count() + cancelled.count() == rows.count()
    expect(options).to_be_enabled()

    # Nothing half-written: the outputs on disk are exactly the finished, valid images.
    outputs = [p for d in server.session_dirs() for p in d.rglob("optimized/*") if p.is_file()]
    assert len(outputs) == done.count()
    for output in outputs:
        with Image.open(output) as image:
            assert image.format == "AVIF"
            image.load()

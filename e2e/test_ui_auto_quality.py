"""Auto quality and max size from the Options menu, in a real Chromium against a real
``image-optimizer serve``: the choices come from the contract, the slider steps aside while Auto
is on, and what was chosen reaches the engine and comes back into the results list."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from playwright.sync_api import Page, expect

from backend.contract import BYTE_UNITS, CHOICE_LABELS
from backend.core.quality_targets import LEVELS

if TYPE_CHECKING:
    from conftest import Served

BATCH_TIMEOUT_MS = 120_000
_SKIMAGE = importlib.util.find_spec("skimage")
assert _SKIMAGE is not None and _SKIMAGE.submodule_search_locations
SAMPLES = Path(next(iter(_SKIMAGE.submodule_search_locations))) / "data"


def open_app(page: Page, served: Served) -> None:
    page.goto(served.url)
    expect(page.locator("#app")).to_have_attribute("data-ready", "true")
    page.get_by_test_id("options-button").click()
    expect(page.get_by_test_id("options-menu")).to_be_visible()


def saved_size_limit(server: Served, want: tuple[int, bool]) -> tuple[int, bool]:
    """(maxSize, allowResize) as saved, once the page's debounced save (400 ms) has reached the
    file or 5 s have passed: a quick batch can finish before it does."""
    deadline = time.monotonic() + 5.0
    while True:
        saved = server.invoke("load_settings")
        got = (saved["maxSize"], saved["allowResize"])
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def coffee(folder: Path) -> Path:
    path = folder / "coffee.png"
    with Image.open(SAMPLES / "coffee.png") as sample:
        sample.convert("RGB").save(path)
    return path


def test_auto_quality_choices_come_from_the_contract_and_disable_the_slider(
    page: Page, server: Served, artifacts: Path,
) -> None:
    open_app(page, server)
    choices = page.get_by_test_id("auto-quality").evaluate(
        "(s) => Array.from(s.options, (o) => [o.value, o.textContent])")
    labels = CHOICE_LABELS["autoQuality"]
    assert choices == [["off", "Off"]] + [
        [level, f"{labels[level]} ({score:g})"] for level, score in LEVELS.items()]
    units = page.get_by_test_id("max-size-unit").evaluate(
        "(s) => Array.from(s.options, (o) => [o.textContent, Number(o.value)])")
    assert units == [list(item) for item in BYTE_UNITS.items()]

    slider = page.get_by_test_id("quality-slider")
    expect(slider).to_be_enabled()
    page.get_by_test_id("auto-quality").select_option("balanced")
    expect(slider).to_be_disabled()
    expect(page.get_by_test_id("quality-label")).to_have_text("Auto")
    expect(page.locator("#quality-value")).to_have_text(f"≥ {LEVELS['balanced']:g}")
    page.get_by_test_id("max-size").fill("200")
    expect(page.locator("#allow-resize-row")).to_be_visible()
    page.screenshot(path=str(artifacts / "ui-auto-quality.png"))
    page.get_by_test_id("auto-quality").select_option("off")
    expect(slider).to_be_enabled()
    expect(page.get_by_test_id("quality-label")).to_have_text("Near-lossless")


def test_auto_quality_reaches_the_engine_and_the_result_shows_quality_and_score(
    page: Page, server: Served, tmp_path: Path,
) -> None:
    open_app(page, server)
    page.get_by_test_id("auto-quality").select_option("high")
    page.get_by_test_id("format-select").select_option("webp")
    page.get_by_test_id("file-input").set_input_files(str(coffee(tmp_path)))
    row = page.get_by_test_id("result-row")
    expect(row).to_have_count(1, timeout=BATCH_TIMEOUT_MS)
    expect(row).to_have_attribute("data-status", "ok")
    text = page.get_by_test_id("result-search").text_content() or ""
    match = re.fullmatch(r"Quality (\d+) · SSIMULACRA2 (\d+\.\d)", text)
    assert match, text
    assert float(match.group(2)) >= LEVELS["high"]
    assert server.invoke("load_settings")["autoQuality"] == "high"


def test_max_size_reaches_the_engine_and_an_unmet_target_is_shown(
    page: Page, server: Served, tmp_path: Path, artifacts: Path,
) -> None:
    open_app(page, server)
    resize_row = page.locator("#allow-resize-row")
    expect(resize_row).to_be_hidden()
    page.get_by_test_id("max-size-unit").select_option(label="KB")
    page.get_by_test_id("max-size").fill("0.1")  # 100 bytes: no photo fits
    expect(resize_row).to_be_visible()
    page.get_by_test_id("format-select").select_option("jpeg")
    page.get_by_test_id("file-input").set_input_files(str(coffee(tmp_path)))
    row = page.get_by_test_id("result-row")
    expect(row).to_have_count(1, timeout=BATCH_TIMEOUT_MS)
    expect(row).to_have_attribute("data-target", "unmet")
    expect(page.get_by_test_id("result-target")).to_have_text(re.compile(
        r"^Target not met: cannot fit in 100 bytes: the smallest file is [\d,]+ bytes "
        r"\(at quality 1\); allow resizing to go smaller$"))
    page.screenshot(path=str(artifacts / "ui-target-not-met.png"))
    assert saved_size_limit(server, (100, False)) == (100, False)

    # Allowed to downscale, 20 KB fits: the row says which quality, and no target warning.
    page.get_by_test_id("options-button").click()
    page.get_by_test_id("max-size").fill("20")
    page.get_by_test_id("allow-resize").check()
    page.get_by_test_id("file-input").set_input_files(str(coffee(tmp_path)))
    # Quality 1 was the first run's; the second one keeps a quality of at least 50.
    expect(page.get_by_test_id("result-search")).to_have_text(
        re.compile(r"^Quality ([5-9]\d|100)$"), timeout=BATCH_TIMEOUT_MS)
    expect(row).not_to_have_attribute("data-target", "unmet")
    expect(page.get_by_test_id("result-target")).to_have_count(0)
    assert saved_size_limit(server, (20_000, True)) == (20_000, True)


def test_an_invalid_max_size_is_marked_and_sent_as_no_limit(page: Page, server: Served) -> None:
    open_app(page, server)
    field = page.get_by_test_id("max-size")
    field.fill("-3")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("250")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#allow-resize-row")).to_be_visible()
    field.fill("")
    expect(page.locator("#allow-resize-row")).to_be_hidden()

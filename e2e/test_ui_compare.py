"""The compare view in a real Chromium on a real ``image-optimizer serve``: open it from a result
row, move the divider by keyboard, zoom to 400 %, re-tune the quality and check the readout
against a direct ``preview_image`` call, Save and check the file on disk, "Apply to all", and
clear messages for a vanished and a corrupt file. Screenshots of each state go to
``test-artifacts/compare-*.png``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import expect_still
from PIL import Image
from playwright.sync_api import Page, Route, expect
from test_ui_browser import SAMPLES as SKIMAGE_DATA
from test_ui_browser import open_app, photo, pick, wait_for_results

if TYPE_CHECKING:
    from conftest import Served

IDLE = "document.querySelector('[data-testid=compare-view]')?.dataset.busy === 'false'"
TRANSFORMS = """() => ['compare-original', 'compare-result'].map((id) =>
    getComputedStyle(document.querySelector(`[data-testid=${id}]`)).transform)"""


def open_compare(page: Page, row: int = 0) -> None:
    page.get_by_test_id("result-row").nth(row).click()
    expect(page.get_by_test_id("compare-view")).to_be_visible()
    expect_still(page, IDLE, timeout=60)


def test_compare_divider_zoom_retune_and_save(
    page: Page, server: Served, tmp_path: Path, artifacts: Path,
) -> None:
    open_app(page, server)
    pick(page, [photo(tmp_path, "coffee.png", "coffee.jpg", scale=2.0)])  # 1200x800
    wait_for_results(page, 1)
    row = page.get_by_test_id("result-row")
    input_path = row.get_attribute("data-original")
    open_compare(page)
    view = page.get_by_test_id("compare-view")
    expect(page.get_by_test_id("compare-divider")).to_be_focused()
    expect(page.get_by_test_id("compare-facts")).to_contain_text("1200\u00d7800")
    expect(page.get_by_test_id("compare-facts")).to_contain_text("SSIMULACRA2")
    page.screenshot(path=str(artifacts / "compare-open.png"))

    # The divider by keyboard: five steps right, then a 10 % step left.
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    divider = page.get_by_test_id("compare-divider")
    expect(divider).to_have_attribute("aria-valuenow", "55")
    clip = page.evaluate("getComputedStyle(document.querySelector("
                         "'[data-testid=compare-result-side]')).clipPath")
    assert clip == "inset(0px 0px 0px 55%)", clip
    page.keyboard.press("Shift+ArrowLeft")
    expect(divider).to_have_attribute("aria-valuenow", "45")
    assert divider.evaluate("(d) => d.style.left") == "45%"
    page.screenshot(path=str(artifacts / "compare-divider.png"))

    # 400 %: both sides under the same transform, drawn pixelated; panning keeps them together.
    page.get_by_test_id("compare-zoom-400").click()
    expect(page.get_by_test_id("compare-zoom-400")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("compare-zoom-value")).to_have_text("400%")
    original, result = page.evaluate(TRANSFORMS)
    assert original == result and original.startswith("matrix(4, 0, 0, 4,"), (original, result)
    rendering = page.evaluate("getComputedStyle(document.querySelector("
                              "'[data-testid=compare-result]')).imageRendering")
    assert rendering == "pixelated"
    page.get_by_test_id("compare-viewport").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    panned = page.evaluate(TRANSFORMS)
    assert panned[0] == panned[1] != original
    page.screenshot(path=str(artifacts / "compare-zoom-400.png"))
    page.get_by_test_id("compare-zoom-fit").click()

    # Re-tune: the readout becomes exactly what preview_image says for these settings.
    settings = server.invoke("load_settings")
    settings["quality"] = {"global": 30}
    expected = server.invoke("preview_image", {"input_path": input_path, "settings": settings})
    page.get_by_test_id("compare-quality").fill("30")
    expect(page.get_by_test_id("compare-after")).to_have_attribute(
        "data-bytes", str(expected["size"]), timeout=60_000)
    expect_still(page, IDLE, timeout=60)
    expect(page.get_by_test_id("compare-quality-value")).to_contain_text("30%")
    page.screenshot(path=str(artifacts / "compare-quality-30.png"))
    page.get_by_test_id("compare-zoom-200").click()
    page.wait_for_timeout(300)  # the zoom buttons' highlight fades in 0.15 s
    page.screenshot(path=str(artifacts / "compare-quality-30-200.png"))
    page.get_by_test_id("compare-zoom-fit").click()

    # Save: the file on disk is that preview, the row says so.
    page.get_by_test_id("compare-save").click()
    expect(page.get_by_test_id("compare-status")).to_contain_text("Saved as coffee.jpg")
    output = Path(input_path).parent / "optimized" / "coffee.jpg"
    assert output.stat().st_size == expected["size"]
    with Image.open(output) as saved:
        assert saved.format == "JPEG" and saved.size == (1200, 800)
    assert not list(output.parent.glob(".*io-partial"))
    page.screenshot(path=str(artifacts / "compare-saved.png"))

    # Escape closes; focus is back on the row, which shows the saved size.
    page.keyboard.press("Escape")
    expect(view).to_be_hidden()
    expect(page.get_by_test_id("result-row")).to_be_focused()
    kb = f"{expected['size'] / 1024:.2f} KB"
    expect(page.get_by_test_id("result-row")).to_contain_text(kb)


def test_enter_opens_and_apply_to_all_reruns_the_batch(
    page: Page, server: Served, tmp_path: Path, artifacts: Path,
) -> None:
    open_app(page, server)
    pick(page, [photo(tmp_path, "chelsea.png", "chelsea.jpg"),
                photo(tmp_path, "rocket.jpg", "rocket.jpg")])
    wait_for_results(page, 2)
    page.get_by_test_id("result-row").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("compare-view")).to_be_visible()
    expect_still(page, IDLE, timeout=60)
    page.get_by_test_id("compare-format").select_option("webp")
    expect(page.get_by_test_id("compare-facts")).to_contain_text("JPEG → WEBP", timeout=60_000)
    page.screenshot(path=str(artifacts / "compare-webp.png"))
    page.get_by_test_id("compare-apply-all").click()
    expect(page.get_by_test_id("compare-view")).to_be_hidden()
    rows = page.get_by_test_id("result-row")
    expect(rows.filter(has_text="JPEG → WEBP")).to_have_count(2, timeout=60_000)
    expect(page.get_by_test_id("format-select")).to_have_value("webp")


def test_vanished_and_corrupt_files_show_a_clear_message(
    page: Page, server: Served, tmp_path: Path, artifacts: Path,
) -> None:
    open_app(page, server)
    pick(page, [photo(tmp_path, "chelsea.png", "gone.jpg"),
                photo(tmp_path, "coffee.png", "broken.jpg")])
    wait_for_results(page, 2)
    rows = page.get_by_test_id("result-row")
    paths = {Path(p).name: Path(p) for p in
             (rows.nth(i).get_attribute("data-original") for i in range(2))}
    paths["gone.jpg"].unlink()
    paths["broken.jpg"].write_bytes(paths["broken.jpg"].read_bytes()[:2000])

    index = [rows.nth(i).get_attribute("data-original") for i in range(2)].index(
        str(paths["gone.jpg"]))
    open_compare(page, index)
    message = page.get_by_test_id("compare-error")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Cannot preview gone.jpg: file not found")
    expect(page.get_by_test_id("compare-save")).to_be_disabled()
    page.screenshot(path=str(artifacts / "compare-vanished.png"))
    page.keyboard.press("Escape")

    open_compare(page, 1 - index)
    expect(message).to_contain_text("Cannot preview broken.jpg")
    expect(message).to_contain_text("truncated")
    page.screenshot(path=str(artifacts / "compare-corrupt.png"))


RECORD_SIZES = """() => {
    window.__sizes = [];
    const after = document.querySelector('[data-testid=compare-after]');
    new MutationObserver(() => window.__sizes.push(after.dataset.bytes))
        .observe(after, { attributes: true, attributeFilter: ['data-bytes'] });
}"""


def test_a_stale_preview_never_replaces_a_newer_one_and_the_mouse_drives_the_view(
    page: Page, server: Served, tmp_path: Path, artifacts: Path,
) -> None:
    open_app(page, server)
    pick(page, [photo(tmp_path, "astronaut.png", "astronaut.jpg", scale=2.0)])  # 1024x1024
    wait_for_results(page, 1)
    input_path = page.get_by_test_id("result-row").get_attribute("data-original")
    open_compare(page)
    settings = server.invoke("load_settings")
    sizes = {q: server.invoke("preview_image", {"input_path": input_path, "settings": {
        **settings, "quality": {"global": q}}})["size"] for q in (10, 80)}

    # Quality 10's answer is held back until 80 has been asked for (a fast preview would
    # otherwise be back first), then let through: only 80's answer may show.
    held: list[Route] = []

    def hold_quality_10(route: Route) -> None:
        args = route.request.post_data_json or {}
        if args.get("settings", {}).get("quality", {}).get("global") == 10:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/invoke/preview_image", hold_quality_10)
    page.evaluate(RECORD_SIZES)
    slider = page.get_by_test_id("compare-quality")
    slider.fill("10")
    for _ in range(300):  # the request for 10 is out (route handlers run while we wait)
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    slider.fill("80")
    page.wait_for_timeout(500)  # past the debounce: 80 is asked for while 10 is out
    for route in held:
        route.continue_()
    expect(page.get_by_test_id("compare-after")).to_have_attribute(
        "data-bytes", str(sizes[80]), timeout=60_000)
    expect_still(page, IDLE, timeout=60)
    page.wait_for_timeout(500)
    page.unroute("**/api/invoke/preview_image")
    assert page.evaluate("window.__sizes") == [str(sizes[80])]

    # Mouse: drag the divider to a quarter, wheel-zoom in, drag the picture to pan.
    box = page.get_by_test_id("compare-viewport").bounding_box()
    assert box is not None
    handle = page.get_by_test_id("compare-divider").bounding_box()
    assert handle is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 4, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    now = float(page.get_by_test_id("compare-divider").get_attribute("aria-valuenow") or 0)
    assert abs(now - 25) < 1.5, now
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    for _ in range(5):
        page.mouse.wheel(0, -200)
    zoomed = page.evaluate(TRANSFORMS)
    assert zoomed[0] == zoomed[1]
    scale = float(zoomed[0].removeprefix("matrix(").split(",")[0])
    assert scale > 1.5, zoomed
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3, steps=5)
    page.mouse.up()
    panned = page.evaluate(TRANSFORMS)
    assert panned[0] == panned[1] != zoomed[0]
    expect(page.get_by_test_id("compare-divider")).to_have_attribute("aria-valuenow", str(now)
                                                                     .removesuffix(".0"))
    page.screenshot(path=str(artifacts / "compare-mouse.png"))


def test_a_finger_drags_the_divider(
    page: Page, server: Served, tmp_path: Path,
) -> None:
    open_app(page, server)
    pick(page, [photo(tmp_path, "chelsea.png", "chelsea.jpg")])
    wait_for_results(page, 1)
    open_compare(page)
    box = page.get_by_test_id("compare-viewport").bounding_box()
    handle = page.get_by_test_id("compare-divider").bounding_box()
    assert box is not None and handle is not None
    y = box["y"] + box["height"] / 2
    start, end = handle["x"] + handle["width"] / 2, box["x"] + box["width"] * 0.8
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": start, "y": y}]})
    for step in range(1, 6):
        x = start + (end - start) * step / 5
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    now = float(page.get_by_test_id("compare-divider").get_attribute("aria-valuenow") or 0)
    assert abs(now - 80) < 1.5, now


NATURAL = """() => ['compare-original', 'compare-result'].map((id) => {
    const img = document.querySelector(`[data-testid=${id}]`);
    return [img.src.slice(0, 30), img.naturalWidth];
})"""


def test_svg_is_drawn_by_the_page_and_an_animation_by_its_first_frame(
    page: Page, server: Served, tmp_path: Path, artifacts: Path,
) -> None:
    svg_data = Path(__file__).resolve().parent.parent / "tests" / "data" / "svg"
    svg = Path(shutil.copy(svg_data / "tango-edit-copy.svg", tmp_path / "icon.svg"))
    gif = Path(shutil.copy(SKIMAGE_DATA / "no_time_for_that_tiny.gif", tmp_path / "anim.gif"))
    open_app(page, server)
    pick(page, [svg, gif])
    wait_for_results(page, 2)
    rows = page.get_by_test_id("result-row")
    names = [Path(rows.nth(i).get_attribute("data-original") or "").name for i in range(2)]

    open_compare(page, names.index("icon.svg"))
    sides = page.evaluate(NATURAL)
    assert all(src.startswith("data:image/svg+xml") and width > 0 for src, width in sides), sides
    expect(page.get_by_test_id("compare-facts")).to_contain_text("No score")
    page.screenshot(path=str(artifacts / "compare-svg.png"))
    page.keyboard.press("Escape")

    open_compare(page, names.index("anim.gif"))
    expect(page.get_by_test_id("compare-notes")).to_contain_text("both sides show the first frame")
    sides = page.evaluate(NATURAL)
    assert all(src.startswith("data:image/png") and width > 0 for src, width in sides), sides
    page.screenshot(path=str(artifacts / "compare-animation.png"))

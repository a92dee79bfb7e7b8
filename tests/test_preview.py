"""``preview_image`` through ``invoke`` on a real two-worker pool: real images encoded in the
workers, the reply's bytes decoded back, nothing written on disk."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PIL import Image

from backend.commands import AppContext, Reply, invoke
from backend.core.in_process import InProcessExecutor
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.settings_store import SettingsStore
from backend.types import ImageSettings


@pytest.fixture(scope="module")
def pool_optimizer() -> Iterator[ImageOptimizer]:
    opt = ImageOptimizer(ProcessPool(2))
    opt.start(wait=True)
    yield opt
    opt.shutdown()


@pytest.fixture
def context(pool_optimizer: ImageOptimizer, tmp_path: Path) -> AppContext:
    return AppContext(optimizer=pool_optimizer, settings=SettingsStore(tmp_path / "config"),
                      shell="desktop")


def wire(reply: Reply) -> Any:
    return msgspec.json.decode(msgspec.json.encode(reply))


def preview(context: AppContext, path: Path, **args: Any) -> dict[str, Any]:
    body = wire(invoke("preview_image", {"input_path": str(path), **args}, context))
    assert body["ok"] is True, body["error"]
    return body["result"]


def refused(context: AppContext, path: Path | str, kind: str) -> str:
    body = wire(invoke("preview_image", {"input_path": str(path)}, context))
    assert body["ok"] is False
    assert body["error"]["kind"] == kind, body["error"]
    return body["error"]["message"]


def decoded(side: dict[str, Any]) -> Image.Image:
    with Image.open(io.BytesIO(base64.b64decode(side["data"]))) as image:
        image.load()
        copy = image.copy()
        copy.format = image.format  # copy() drops it
        return copy


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_webp_preview_decodes_to_its_reported_size_and_writes_nothing(
    context: AppContext, real_photo: Path,
) -> None:
    before = tree(real_photo.parent)
    settings = {"outputFormat": "webp", "quality": {"global": 70}}
    result = preview(context, real_photo, settings=settings, original=True)
    data = base64.b64decode(result["result"]["data"])
    assert result["size"] == len(data) < result["original_size"] == real_photo.stat().st_size
    assert result["savedBytes"] == result["original_size"] - result["size"]
    image = decoded(result["result"])
    assert image.format == "WEBP" and result["format"] == "webp"
    assert image.size == (result["width"], result["height"]) == (451, 300)
    assert result["result"]["mime"] == "image/webp" and result["result"]["shownAs"] is None
    # The original goes to the page as the file itself: a browser draws JPEG.
    assert base64.b64decode(result["original"]["data"]) == real_photo.read_bytes()
    assert 40 < result["score"] < 100 and "SSIMULACRA2" in result["scoreMetric"]
    assert result["scoreBasis"] in ("whole", "tiles")
    assert result["output_path"] == str(real_photo.parent / "optimized" / "chelsea.webp")
    assert tree(real_photo.parent) == before  # no output, no optimized/ folder, no temp file


def test_preview_bytes_are_what_save_writes(context: AppContext, real_photo: Path) -> None:
    settings = {"outputFormat": "jpeg", "quality": {"global": 55}}
    result = preview(context, real_photo, settings=settings)
    assert result["original"] is None  # only sent when asked for
    out = real_photo.parent / "saved.jpg"
    saved = wire(invoke("optimize_image", {"input_path": str(real_photo),
                                           "output_path": str(out), "settings": settings},
                        context))["result"]
    assert out.read_bytes() == base64.b64decode(result["result"]["data"])
    assert saved["optimized_size"] == result["size"]


def test_lower_quality_gives_a_smaller_file_and_a_lower_score(
    context: AppContext, real_photo: Path,
) -> None:
    high = preview(context, real_photo, settings={"quality": {"global": 90}})
    low = preview(context, real_photo, settings={"quality": {"global": 20}})
    assert low["size"] < high["size"] and low["score"] < high["score"]


def test_resize_is_previewed_at_the_new_size(context: AppContext, real_photo: Path) -> None:
    settings = {"resize": {"mode": "width", "size": 200}}
    result = preview(context, real_photo, settings=settings)
    assert (result["width"], result["height"]) == (200, 133)
    assert (result["originalWidth"], result["originalHeight"]) == (451, 300)
    assert decoded(result["result"]).size == (200, 133)
    assert result["score"] is not None


def test_auto_quality_reports_the_chosen_quality(context: AppContext, real_photo: Path) -> None:
    result = preview(context, real_photo, settings={"autoQuality": "high"})
    assert 1 <= result["chosenQuality"] <= 100
    assert "Auto quality" in result["scoreMetric"] and result["scoreBasis"] == "search"


def test_formats_a_browser_cannot_draw_come_as_png(
    context: AppContext, tmp_images: Callable[..., Path],
) -> None:
    tiff = tmp_images("scan.tif", source="coffee", size=(300, 200))
    result = preview(context, tiff, settings={"outputFormat": "jxl", "quality": {"global": 80}},
                     original=True)
    assert result["original"]["mime"] == "image/png"
    assert "TIFF" in result["original"]["shownAs"]
    assert decoded(result["original"]).size == (300, 200)
    assert result["result"]["mime"] == "image/png" and "JPEG XL" in result["result"]["shownAs"]
    assert (result["original"]["shownReason"], result["result"]["shownReason"]) == (
        "not_drawable", "not_drawable")
    assert decoded(result["result"]).size == (300, 200)
    assert result["format"] == "jxl" and result["size"] > 0  # the JPEG XL file's own size


def test_an_animation_is_shown_by_its_first_frame(context: AppContext, edge_cases: Any) -> None:
    gif = edge_cases.animated_gif()
    result = preview(context, gif, settings={"outputFormat": "webp"}, original=True)
    assert result["frames"] > 1
    assert result["original"]["shownAs"].startswith("first frame of")
    assert result["result"]["shownAs"].startswith("first frame of")
    assert result["result"]["shownReason"] == "first_frame"
    assert decoded(result["result"]).format == "PNG"


def test_svg_both_sides_are_svg_for_the_page(context: AppContext, tmp_path: Path) -> None:
    svg = tmp_path / "shape.svg"
    svg.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" '
                   'height="30">  <!-- a comment -->\n  <rect x="1.000" y="1" width="30" '
                   'height="20" fill="#ff0000"/>\n</svg>\n')
    result = preview(context, svg, original=True)
    assert result["format"] == "svg"
    assert result["original"]["mime"] == result["result"]["mime"] == "image/svg+xml"
    assert b"<svg" in base64.b64decode(result["result"]["data"])
    assert result["score"] is None and result["size"] < svg.stat().st_size


def test_a_photo_above_the_limit_is_previewed_downscaled(
    context: AppContext, tmp_images: Callable[..., Path],
) -> None:
    big = tmp_images("big.jpg", size=(4900, 3400), quality=80)  # 16.7 MP
    result = preview(context, big, original=True)
    assert result["downscaled"].startswith("downscaled for preview")
    assert result["width"] * result["height"] <= 16_000_000
    assert (result["originalWidth"], result["originalHeight"]) == (4900, 3400)
    assert decoded(result["result"]).size == (result["width"], result["height"])
    assert "PNG copy" in result["original"]["shownAs"]
    assert result["original"]["shownReason"] == "copy"


def test_a_truncated_file_is_a_clear_error(context: AppContext, edge_cases: Any) -> None:
    message = refused(context, edge_cases.truncated_jpeg(), "decode")
    assert "truncated" in message


def test_a_vanished_file_is_a_clear_error(context: AppContext, tmp_path: Path) -> None:
    gone = tmp_path / "gone.jpg"
    assert "file not found" in refused(context, gone, "io")


def test_not_an_image_is_a_clear_error(context: AppContext, edge_cases: Any) -> None:
    assert "not an image" in refused(context, edge_cases.text_named_jpg(), "unsupported_format")


def test_browser_previews_are_confined_to_the_session(
    pool_optimizer: ImageOptimizer, tmp_path: Path, real_photo: Path,
) -> None:
    session = tmp_path / "session"
    session.mkdir()
    browser = AppContext(optimizer=pool_optimizer, settings=SettingsStore(tmp_path / "c"),
                         shell="browser", path_root=str(session))
    message = refused(browser, real_photo, "forbidden")
    assert "outside this session" in message
    assert not os.listdir(session)


def test_the_in_process_executor_previews_too(real_photo: Path) -> None:
    with ImageOptimizer(InProcessExecutor()) as optimizer:
        result = optimizer.preview_image(str(real_photo), ImageSettings(outputFormat="png"))
    assert result.format == "png" and result.size == len(result.result.data)
    assert not (real_photo.parent / "optimized").exists()


def test_a_preview_sends_no_progress_event(
    pool_optimizer: ImageOptimizer, context: AppContext, real_photo: Path,
) -> None:
    events: list[Any] = []
    unsubscribe = pool_optimizer.subscribe(events.append)
    try:
        preview(context, real_photo)
    finally:
        unsubscribe()
    assert events == []  # the page's progress arc belongs to batches


def test_bad_arguments_are_refused_naming_the_field(context: AppContext, real_photo: Path) -> None:
    body = wire(invoke("preview_image", {"input_path": str(real_photo),
                                         "settings": {"quality": {"global": 0}}}, context))
    assert body["ok"] is False and body["error"]["kind"] == "validation"
    assert "global" in body["error"]["message"]
    body = wire(invoke("preview_image", {"input_path": str(real_photo), "orginal": True}, context))
    assert body["error"]["kind"] == "validation" and "orginal" in body["error"]["message"]

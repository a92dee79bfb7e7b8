"""Every command through ``invoke``, with real images and a real two-worker optimizer."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import skimage.data
from PIL import Image

from backend.commands import COMMANDS, AppContext, Reply, invoke
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool
from backend.settings_store import SettingsStore
from backend.types import ImageSettings


@pytest.fixture(scope="module")
def optimizer() -> Iterator[ImageOptimizer]:
    opt = ImageOptimizer(ProcessPool(2))
    opt.start(wait=True)
    yield opt
    opt.shutdown()


@pytest.fixture
def context(optimizer: ImageOptimizer, tmp_path: Path) -> AppContext:
    return AppContext(
        optimizer=optimizer, settings=SettingsStore(tmp_path / "config"), shell="desktop"
    )


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    src = tmp_path / "photos"
    src.mkdir()
    cat = src / "chelsea.jpg"
    Image.fromarray(skimage.data.chelsea()).save(cat, quality=98)
    astronaut = src / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).resize((256, 256)).save(astronaut)
    return [cat, astronaut]


def wire(reply: Reply) -> Any:
    """The reply exactly as a transport sends it (JSON round trip)."""
    return msgspec.json.decode(msgspec.json.encode(reply))


def ok(reply: Reply) -> Any:
    body = wire(reply)
    assert body["ok"] is True, body["error"]
    return body["result"]


def refused(reply: Reply, kind: str) -> str:
    body = wire(reply)
    assert body["ok"] is False
    assert body["error"]["kind"] == kind, body["error"]
    return body["error"]["message"]


def assert_smaller_valid_image(result: dict[str, Any], fmt: str | None = None) -> None:
    out = Path(result["optimized_path"])
    assert result["success"] is True, result["error"]
    assert out.stat().st_size == result["optimized_size"] < result["original_size"]
    assert result["savedBytes"] == result["original_size"] - result["optimized_size"]
    with Image.open(out) as im:
        im.load()
        if fmt is not None:
            assert im.format == fmt


# ---- optimize_image / optimize_images -----------------------------------------------------------


def test_optimize_image_writes_smaller_file_in_optimized_folder(
    context: AppContext, photos: list[Path]
) -> None:
    result = ok(invoke("optimize_image", {"input_path": str(photos[0])}, context))
    assert result["optimized_path"] == str(photos[0].parent / "optimized" / "chelsea.jpg")
    assert_smaller_valid_image(result, "JPEG")


def test_optimize_image_accepts_tauri_camel_case_names(
    context: AppContext, photos: list[Path], tmp_path: Path
) -> None:
    target = tmp_path / "out" / "cat.jpg"
    args = {"inputPath": str(photos[0]), "outputPath": str(target), "settings": {}}
    result = ok(invoke("optimize_image", args, context))
    assert result["optimized_path"] == str(target)
    assert_smaller_valid_image(result, "JPEG")


def test_optimize_images_array_form_of_the_original_ui(
    context: AppContext, photos: list[Path], tmp_path: Path
) -> None:
    settings = msgspec.to_builtins(ImageSettings())
    explicit = tmp_path / "chosen" / "cat.jpg"
    tasks = [[str(photos[0]), str(explicit), settings], [str(photos[1]), None, settings]]
    results = ok(invoke("optimize_images", {"tasks": tasks}, context))
    assert [r["original_path"] for r in results] == [str(p) for p in photos]
    assert results[0]["optimized_path"] == str(explicit)
    assert results[1]["optimized_path"] == str(photos[1].parent / "optimized" / "astronaut.png")
    for result in results:
        assert_smaller_valid_image(result)


def test_optimize_images_object_form_converts_and_resizes(
    context: AppContext, photos: list[Path]
) -> None:
    settings = {"outputFormat": "webp", "resize": {"mode": "longest", "size": 200}}
    tasks = [{"input_path": str(p), "output_path": None, "settings": settings} for p in photos]
    results = ok(invoke("optimize_images", {"tasks": tasks}, context))
    assert [Path(r["optimized_path"]).name for r in results] == ["chelsea.webp", "astronaut.webp"]
    for result in results:
        assert_smaller_valid_image(result, "WEBP")
        with Image.open(result["optimized_path"]) as im:
            assert max(im.size) == 200


def test_optimize_images_reports_a_broken_file_and_finishes_the_batch(
    context: AppContext, photos: list[Path]
) -> None:
    broken = photos[0].parent / "broken.jpg"
    broken.write_bytes(photos[0].read_bytes()[:2000])
    tasks = [{"input_path": str(p)} for p in (photos[0], broken, photos[1])]
    results = ok(invoke("optimize_images", {"tasks": tasks}, context))
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["error"]


def test_optimize_images_with_no_tasks_returns_an_empty_list(context: AppContext) -> None:
    assert ok(invoke("optimize_images", {"tasks": []}, context)) == []


# ---- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        (
            "optimize_images",
            {"tasks": [{"input_path": "a.jpg", "settings": {"quality": {"global": 0}}}]},
            ["tasks[0]", "quality.global", "0"],
        ),
        (
            "optimize_images",
            {"tasks": [["a.jpg", None, {"outputFormat": "gif"}]]},
            ["tasks[0]", "outputFormat", '"gif"'],
        ),
        ("optimize_images", {"tasks": "a.jpg"}, ["tasks", "array"]),
        ("optimize_images", {"taskz": []}, ["unknown field", "taskz"]),
        ("optimize_image", {}, ["input_path"]),
        ("optimize_image", {"input_path": 42}, ["input_path", "42"]),
        (
            "save_settings",
            {"settings": {"resize": {"mode": "diagonal"}}},
            ["resize.mode", "diagonal"],
        ),
        ("expand_paths", {"paths": "photos"}, ["paths", '"photos"']),
        ("get_active_tasks", [1, 2], ["expected an object", "[1,2]"]),
    ],
)
def test_bad_arguments_are_refused_naming_field_and_value(
    context: AppContext, command: str, args: Any, expected: list[str]
) -> None:
    message = refused(invoke(command, args, context), "validation")
    for part in expected:
        assert part in message, message


def test_refused_batch_touches_nothing(context: AppContext, photos: list[Path]) -> None:
    tasks = [{"input_path": str(photos[0])}, {"input_path": str(photos[1]), "settings": "fast"}]
    refused(invoke("optimize_images", {"tasks": tasks}, context), "validation")
    assert not (photos[0].parent / "optimized").exists()


def test_unknown_command_is_named_and_known_ones_listed(context: AppContext) -> None:
    message = refused(invoke("optimise_images", {}, context), "unknown_command")
    assert "'optimise_images'" in message
    assert "optimize_images" in message


def test_every_command_has_a_no_argument_or_validation_answer(context: AppContext) -> None:
    """No command crashes on an empty argument object: it answers or names what is missing."""
    for name in COMMANDS:
        if name == "optimize_images":
            continue  # needs tasks; covered above
        body = wire(invoke(name, {}, context))
        assert body["ok"] or body["error"]["kind"] in {"validation", "unsupported"}, (name, body)


# ---- active tasks and cancel --------------------------------------------------------------------


def _many_photos(folder: Path, count: int) -> list[str]:
    folder.mkdir()
    base = Image.fromarray(skimage.data.astronaut())
    paths = []
    for i in range(count):
        path = folder / f"astronaut-{i}.png"
        base.rotate(i * 7).save(path)
        paths.append(str(path))
    return paths


def _run_in_thread(
    context: AppContext, tasks: list[dict[str, Any]]
) -> tuple[threading.Thread, list[Reply]]:
    replies: list[Reply] = []
    thread = threading.Thread(
        target=lambda: replies.append(invoke("optimize_images", {"tasks": tasks}, context))
    )
    thread.start()
    return thread, replies


def _wait_for_active(context: AppContext, thread: threading.Thread) -> list[str]:
    while thread.is_alive():
        active = ok(invoke("get_active_tasks", {}, context))
        if active:
            return active
        time.sleep(0.005)
    return []


def test_active_tasks_lists_inputs_of_the_running_batch(
    context: AppContext, tmp_path: Path
) -> None:
    inputs = _many_photos(tmp_path / "many", 6)
    thread, replies = _run_in_thread(context, [{"input_path": p} for p in inputs])
    active = _wait_for_active(context, thread)
    thread.join()
    assert active, "the batch finished before get_active_tasks saw it"
    assert set(active) <= set(inputs)
    assert ok(invoke("get_active_tasks", {}, context)) == []
    assert all(r["success"] for r in ok(replies[0]))


def test_cancel_stops_the_running_batch(context: AppContext, tmp_path: Path) -> None:
    inputs = _many_photos(tmp_path / "many", 8)
    settings = {"outputFormat": "avif", "quality": {"global": 95}}
    thread, replies = _run_in_thread(
        context, [{"input_path": p, "settings": settings} for p in inputs]
    )
    assert _wait_for_active(context, thread)
    cancelled = ok(invoke("cancel_optimization", {}, context))["cancelled"]
    thread.join()
    results = ok(replies[0])
    assert cancelled >= 1
    statuses = [r["status"] for r in results]
    assert statuses.count("cancelled") == cancelled
    for result in results:
        if result["status"] == "cancelled":
            assert not Path(result["optimized_path"]).exists()


def test_cancel_with_nothing_running_cancels_nothing(context: AppContext) -> None:
    assert ok(invoke("cancel_optimization", {}, context)) == {"cancelled": 0}


# ---- files --------------------------------------------------------------------------------------


def test_expand_paths_keeps_images_and_reports_the_rest(
    context: AppContext, photos: list[Path]
) -> None:
    folder = photos[0].parent
    (folder / "notes.txt").write_text("not a picture")
    nested = folder / "nested"
    nested.mkdir()
    Image.new("RGB", (8, 8)).save(nested / "tiny.png")

    flat = ok(invoke("expand_paths", {"paths": [str(folder)]}, context))
    assert flat["paths"] == [str(photos[1]), str(photos[0])]  # sorted by name
    assert flat["skipped"] == [{"path": str(folder / "notes.txt"), "reason": "not an image"}]

    deep = ok(invoke("expand_paths", {"paths": [str(folder)], "recursive": True}, context))
    assert str(nested / "tiny.png") in deep["paths"]


def test_pick_files_in_the_browser_is_unsupported(
    optimizer: ImageOptimizer, tmp_path: Path
) -> None:
    browser = AppContext(optimizer=optimizer, settings=SettingsStore(tmp_path), shell="browser")
    assert "desktop" in refused(invoke("pick_files", {}, browser), "unsupported")


def test_pick_files_expands_what_the_dialog_returned(
    optimizer: ImageOptimizer, photos: list[Path], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    asked: list[bool] = []

    def dialog(folders: bool) -> list[str]:  # stands in for the native dialog the person uses
        asked.append(folders)
        return [str(photos[0].parent), str(notes)] if folders else []

    desktop = AppContext(
        optimizer=optimizer, settings=SettingsStore(tmp_path), shell="desktop", pick_files=dialog
    )
    assert ok(invoke("pick_files", {}, desktop)) == {"paths": [], "skipped": []}
    chosen = ok(invoke("pick_files", {"folders": True}, desktop))
    assert asked == [False, True]
    assert chosen["paths"] == [str(photos[1]), str(photos[0])]
    assert chosen["skipped"] == [{"path": str(notes), "reason": "not an image"}]
    assert chosen["roots"] == [str(photos[0].parent), str(notes)]
    assert chosen["folders"] == 1
    assert chosen["bytes"] == sum(os.path.getsize(p) for p in chosen["paths"])


def test_pick_files_walks_sub_folders_when_asked_and_skips_earlier_outputs(
    optimizer: ImageOptimizer, tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    top = tmp_images("tree/top.png", size=(8, 8))
    deep = tmp_images("tree/sub/deep.jpg", size=(8, 8))
    tmp_images("tree/sub/deep-small.jpg", size=(8, 8))  # named like an earlier "beside" output
    desktop = AppContext(optimizer=optimizer, settings=SettingsStore(tmp_path), shell="desktop",
                         pick_files=lambda _folders: [str(top.parent)])
    beside = {"output": "beside", "suffix": "-small"}
    flat = ok(invoke("pick_files", {"folders": True}, desktop))
    tree = ok(invoke("pick_files", {"folders": True, "recursive": True, "settings": beside},
                     desktop))
    assert flat["paths"] == [str(top)]
    assert tree["paths"] == [str(deep), str(top)]
    assert tree["folders"] == 2


def test_browser_context_refuses_paths_outside_its_session(
    optimizer: ImageOptimizer, photos: list[Path], tmp_path: Path
) -> None:
    session = tmp_path / "session"
    session.mkdir()
    inside = session / "cat.jpg"
    inside.write_bytes(photos[0].read_bytes())
    browser = AppContext(
        optimizer=optimizer, settings=SettingsStore(tmp_path), shell="browser",
        path_root=str(session),
    )
    outside = {"input_path": str(photos[0])}
    assert str(photos[0]) in refused(invoke("optimize_image", outside, browser), "forbidden")
    escape = {"input_path": str(inside), "output_path": str(session / ".." / "escaped.jpg")}
    refused(invoke("optimize_images", {"tasks": [escape]}, browser), "forbidden")
    refused(invoke("expand_paths", {"paths": [str(tmp_path)]}, browser), "forbidden")
    assert not (photos[0].parent / "optimized").exists()
    assert not (tmp_path / "escaped.jpg").exists()
    assert_smaller_valid_image(ok(invoke("optimize_image", {"input_path": str(inside)}, browser)))


# ---- settings and info --------------------------------------------------------------------------


def test_settings_round_trip_through_commands(context: AppContext) -> None:
    assert ok(invoke("load_settings", {}, context)) == msgspec.to_builtins(ImageSettings())
    wanted = {"quality": {"global": 70}, "outputFormat": "avif"}
    saved = ok(invoke("save_settings", {"settings": wanted}, context))
    assert saved["quality"]["global"] == 70
    assert saved["outputFormat"] == "avif"
    assert ok(invoke("load_settings", {}, context)) == saved


def test_invalid_settings_are_not_saved(context: AppContext) -> None:
    ok(invoke("save_settings", {"settings": {"quality": {"global": 60}}}, context))
    too_high = {"settings": {"quality": {"global": 101}}}
    refused(invoke("save_settings", too_high, context), "validation")
    assert ok(invoke("load_settings", {}, context))["quality"]["global"] == 60


@pytest.fixture
def unwritable(optimizer: ImageOptimizer, tmp_path: Path) -> AppContext:
    """A context whose config folder cannot be created: a file stands where it should be."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the config folder should be")
    return AppContext(
        optimizer=optimizer, settings=SettingsStore(blocker / "config"), shell="desktop"
    )


def test_unwritable_settings_folder_is_an_io_error(unwritable: AppContext) -> None:
    message = refused(invoke("save_settings", {"settings": {}}, unwritable), "io")
    assert "cannot save settings" in message


def test_app_info_describes_shell_pool_and_formats(context: AppContext) -> None:
    info = ok(invoke("get_app_info", {}, context))
    assert info["name"] == "Image Optimizer"
    assert info["version"] == "0.2.0"
    assert info["shell"] == "desktop"
    assert info["workers"] == 2
    assert info["alive"] == 2
    assert info["cpuCount"] >= 1 and info["maxWorkers"] == min(64, 8 * info["cpuCount"])
    assert {"jpeg", "png", "webp", "avif", "gif", "tiff", "bmp", "heic", "jxl"} <= set(
        info["supportedInputs"])
    assert info["outputFormats"] == ["jpeg", "png", "webp", "avif", "jxl"]


# ---- preferences (worker count) -----------------------------------------------------------------


@pytest.fixture
def own_pool(tmp_path: Path) -> Iterator[AppContext]:
    """A context with a one-worker pool of its own: these tests resize it."""
    with ImageOptimizer(ProcessPool(1)) as opt:
        opt.start(wait=True)
        yield AppContext(optimizer=opt, settings=SettingsStore(tmp_path / "config"),
                         shell="desktop")


def test_saved_worker_count_resizes_the_pool_and_is_kept(own_pool: AppContext) -> None:
    # language None: the page follows the system's until the person picks one.
    assert ok(invoke("load_preferences", {}, own_pool)) == {"workers": None,
                                                            "recursiveDrops": True,
                                                            "language": None}
    assert ok(invoke("save_preferences", {"preferences": {"workers": 3}}, own_pool)) == {
        "workers": 3, "recursiveDrops": True, "language": None}
    own_pool.optimizer.start(wait=True)
    info = ok(invoke("get_app_info", {}, own_pool))
    assert (info["workers"], info["alive"]) == (3, 3)
    assert ok(invoke("load_preferences", {}, own_pool))["workers"] == 3
    on_disk = msgspec.json.decode((own_pool.settings.path.parent / "preferences.json").read_bytes())
    assert on_disk == {"workers": 3, "recursiveDrops": True, "language": None}
    ok(invoke("save_preferences", {"preferences": {"workers": None}}, own_pool))
    assert ok(invoke("get_app_info", {}, own_pool))["workers"] == min(
        info["cpuCount"], info["maxWorkers"])


@pytest.mark.parametrize(("preferences", "needle"), [
    ({"workers": 0}, "workers = 0: Expected `int` >= 1"),
    ({"workers": -2}, "workers = -2: Expected `int` >= 1"),
    ({"workers": 65}, "workers = 65: Expected `int` <= 64"),
    ({"workers": 2.5}, "workers = 2.5: Expected `int | null`, got `float`"),
    ({"workers": "2"}, "workers = \"2\": Expected `int | null`, got `str`"),
    ({"threads": 2}, "Object contains unknown field `threads`"),
])
def test_bad_worker_preferences_change_nothing(
    own_pool: AppContext, preferences: dict, needle: str
) -> None:
    ok(invoke("save_preferences", {"preferences": {"workers": 2}}, own_pool))
    message = refused(invoke("save_preferences", {"preferences": preferences}, own_pool),
                      "validation")
    assert needle in message
    assert ok(invoke("load_preferences", {}, own_pool))["workers"] == 2
    assert own_pool.optimizer.info().workers == 2


def test_a_worker_count_beyond_this_machine_is_refused_naming_its_limit(
    own_pool: AppContext,
) -> None:
    info = ok(invoke("get_app_info", {}, own_pool))
    too_many = info["maxWorkers"] + 1
    if too_many > 64:
        pytest.skip("this machine accepts the absolute maximum")
    message = refused(invoke("save_preferences", {"preferences": {"workers": too_many}},
                             own_pool), "validation")
    assert f"this machine takes 1 to {info['maxWorkers']}" in message
    assert own_pool.optimizer.info().workers == 1


def test_unwritable_preferences_leave_the_pool_alone(unwritable: AppContext) -> None:
    message = refused(invoke("save_preferences", {"preferences": {"workers": 1}}, unwritable),
                      "io")
    assert "cannot save preferences" in message
    assert unwritable.optimizer.info().workers == 2

"""Output naming: formats, default folder, extension correction, collisions, temp files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.core.paths import (
    PARTIAL_SUFFIX,
    assign_output_paths,
    default_output_path,
    output_extension,
    partial_files,
    resolve_output_format,
)
from backend.core.pipeline import optimize_file
from backend.types import Task
from backend.validation import decode_settings


def task(path: Path | str, fmt: str = "original", output_path: str | None = None,
         **settings: Any) -> Task:
    return Task(input_path=str(path), output_path=output_path,
                settings=decode_settings({"outputFormat": fmt, **settings}))


def into(folder: str) -> dict[str, str]:
    return {"output": "folder", "outputFolder": folder}


@pytest.mark.parametrize(("fmt", "ext"), [("jpeg", ".jpg"), ("jpg", ".jpg"), ("png", ".png"),
                                          ("webp", ".webp"), ("avif", ".avif")])
def test_output_extension_is_canonical(fmt: str, ext: str) -> None:
    assert output_extension(fmt) == ext


def test_output_extension_refuses_a_non_output_format() -> None:
    with pytest.raises(ValueError, match="gif"):
        output_extension("gif")


@pytest.mark.parametrize(("input_format", "wanted", "expected"), [
    ("jpeg", "original", "jpeg"), ("png", "original", "png"), ("webp", "original", "webp"),
    ("avif", "original", "avif"), ("gif", "original", "png"), ("tiff", "original", "png"),
    ("bmp", "original", "png"), ("png", "jpg", "jpeg"), ("gif", "webp", "webp"),
    ("jpeg", "avif", "avif"),
])
def test_resolve_output_format_follows_the_original_rules(
    input_format: str, wanted: str, expected: str
) -> None:
    cfg = decode_settings({"outputFormat": wanted})
    assert resolve_output_format(input_format, cfg) == expected


def test_default_output_path_is_the_optimized_folder_beside_the_input() -> None:
    assert default_output_path("/photos/trip/cat.png", "webp") == "/photos/trip/optimized/cat.webp"
    assert default_output_path("/photos/cat.jpeg", "jpeg", "/out") == "/out/cat.jpg"
    assert default_output_path("/p/archive.tar.png", "avif") == "/p/optimized/archive.tar.avif"


def test_assign_output_paths_fills_defaults_and_corrects_extensions(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    png = tmp_images("photo.png", size=(20, 20))
    jpg = tmp_images("shot.JPEG", size=(20, 20))
    paths = assign_output_paths([
        task(png, "webp"),  # default folder, .png → .webp
        task(png, "jpeg", str(tmp_path / "custom" / "result.png")),  # explicit, wrong extension
        task(jpg, "original"),  # keeps its own spelling of a JPEG extension
        task(jpg, "original", str(tmp_path / "named.jpg")),
    ])
    assert paths == [
        str(tmp_path / "optimized" / "photo.webp"),
        str(tmp_path / "custom" / "result.jpg"),
        str(tmp_path / "optimized" / "shot.jpg"),
        str(tmp_path / "named.jpg"),
    ]


def test_assign_output_paths_uses_content_not_extension(edge_cases: Any) -> None:
    src = edge_cases.png_named_jpg()
    [out] = assign_output_paths([task(src)])
    assert out == str(src.parent / "optimized" / "really-a-png.png")


def test_unreadable_input_falls_back_to_its_extension(tmp_path: Path) -> None:
    [out] = assign_output_paths([task(tmp_path / "missing.webp")])
    assert out == str(tmp_path / "optimized" / "missing.webp")


def test_folder_output_mirrors_the_tree_below_the_common_root(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    a = tmp_images("a.jpg", size=(20, 20))
    b = tmp_images("sub/b.png", size=(20, 20))
    target = tmp_path / "exports"
    target.mkdir()
    out = str(tmp_path / "all")
    assert assign_output_paths([task(a, **into(out)),
                                task(b, **into(out))]) == [
        str(tmp_path / "all" / "a.jpg"), str(tmp_path / "all" / "sub" / "b.png")]
    assert assign_output_paths([task(a, "webp", str(target))]) == [str(target / "a.webp")]
    assert assign_output_paths([task(b, "webp", str(tmp_path / "new") + os.sep)]) == [
        str(tmp_path / "new" / "b.webp")]


def test_collisions_in_one_batch_get_numbered_in_task_order(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    sources = [tmp_images(name, size=(20, 20)) for name in
               ("photo.png", "photo.jpg", "photo.webp", "photo-2.bmp")]
    tasks = [task(p, "webp") for p in sources]
    expected = [str(tmp_path / "optimized" / n) for n in
                ("photo.webp", "photo-2.webp", "photo-3.webp", "photo-2-2.webp")]
    assert assign_output_paths(tasks) == expected
    assert assign_output_paths(tasks) == expected  # deterministic


def test_two_outputs_never_overwrite_each_other_on_disk(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    sources = [tmp_images("dup.png", size=(30, 20)), tmp_images("dup.jpg", size=(20, 30))]
    tasks = [task(p, "avif") for p in sources]
    outs = assign_output_paths(tasks)
    results = [optimize_file(t.input_path, o, t.settings)[0] for t, o in zip(tasks, outs,
                                                                              strict=True)]
    assert [(r.width, r.height) for r in results] == [(30, 20), (20, 30)]
    assert sorted(p.name for p in (tmp_path / "optimized").iterdir()) == ["dup-2.avif", "dup.avif"]


def test_output_landing_on_another_input_is_renamed(tmp_images: Callable[..., Path]) -> None:
    png = tmp_images("pic.png", size=(20, 20))
    webp = tmp_images("pic.webp", size=(20, 20))
    folder = str(png.parent)
    # Both converted to WebP into their own folder: pic.png → pic.webp would be the 2nd input.
    outs = assign_output_paths([task(png, "webp", **into(folder)),
                                task(webp, "webp", **into(folder))])
    assert outs[0] == os.path.join(folder, "pic-2.webp")
    assert outs[1] == str(webp)  # its own input: left for the pipeline to refuse


def test_output_equal_to_own_input_is_not_renamed(real_photo: Path) -> None:
    assert assign_output_paths([task(real_photo, "jpeg", str(real_photo))]) == [str(real_photo)]


def test_partial_files_finds_only_this_outputs_temp_files(tmp_path: Path) -> None:
    mine = [tmp_path / f".photo.webp.{token}{PARTIAL_SUFFIX}" for token in ("a1b2", "ffff")]
    others = [tmp_path / f".photo.webp.x.y{PARTIAL_SUFFIX}",
              tmp_path / f".photo.a1{PARTIAL_SUFFIX}", tmp_path / "photo.webp",
              tmp_path / f".photo.webp.a1b2{PARTIAL_SUFFIX}.bak"]
    for path in mine + others:
        path.write_bytes(b"x")
    assert partial_files(str(tmp_path / "photo.webp")) == sorted(str(p) for p in mine)
    assert partial_files(str(tmp_path / "nowhere" / "photo.webp")) == []

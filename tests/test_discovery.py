"""Content sniffing and expanding dropped files/folders into images + skipped entries."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.core.discovery import (
    SUPPORTED_INPUTS,
    Skipped,
    expand_paths,
    sniff_bytes,
    sniff_format,
)

EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif", "tiff": "tif",
       "bmp": "bmp", "heic": "heic", "jxl": "jxl"}


@pytest.mark.parametrize("fmt", sorted(SUPPORTED_INPUTS - {"svg"}))  # SVG: tests/test_svg_read.py
def test_sniff_recognises_every_supported_format_by_content(
    tmp_images: Callable[..., Path], fmt: str
) -> None:
    # Written under a misleading name: only the bytes count.
    path = tmp_images(f"x.{EXT[fmt]}", size=(16, 16))
    disguised = path.with_name("disguised.dat")
    path.rename(disguised)
    assert sniff_format(str(disguised)) == fmt


def test_sniff_recognises_avif_listed_only_as_a_compatible_brand() -> None:
    ftyp = (b"\x00\x00\x00\x1cftyp" + b"mif1" + b"\x00\x00\x00\x00" + b"mif1" + b"avif"
            + b"miaf")
    assert sniff_bytes(ftyp) == "avif"
    heic = b"\x00\x00\x00\x18ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1" + b"heic"
    assert sniff_bytes(heic) == "heic"


def test_sniff_rejects_text_empty_and_missing_files(edge_cases: Any, tmp_path: Path) -> None:
    assert sniff_format(str(edge_cases.text_named_jpg())) is None
    assert sniff_format(str(edge_cases.empty())) is None
    assert sniff_format(str(tmp_path / "missing.png")) is None


def make_folder(root: Path, tmp_images: Callable[..., Path]) -> Path:
    """album/ with images, junk, a hidden file, an optimized/ folder and a nested folder."""
    album = root / "album"
    for name in ("b.png", "a.jpg", "c.webp", "optimized/a.jpg", "nested/deep.gif",
                 ".hidden.png"):
        tmp_images(f"album/{name}", size=(8, 8))
    (album / "notes.txt").write_text("hello")
    (album / "layers.psd").write_bytes(b"8BPS\x00\x01")
    (album / "broken.jpg").write_bytes(b"")  # claims to be a JPEG: the pipeline will explain
    return album


def test_folder_is_expanded_sorted_without_subfolders(
    tmp_path: Path, tmp_images: Callable[..., Path]
) -> None:
    album = make_folder(tmp_path, tmp_images)
    found = expand_paths([str(album)])
    images, skipped = found.paths, found.skipped
    assert images == [str(album / n) for n in ("a.jpg", "b.png", "broken.jpg", "c.webp")]
    assert skipped == [Skipped(path=str(album / "layers.psd"), reason="unsupported format: .psd"),
                       Skipped(path=str(album / "notes.txt"), reason="not an image")]


def test_recursive_expansion_includes_subfolders_but_not_our_outputs(
    tmp_path: Path, tmp_images: Callable[..., Path]
) -> None:
    album = make_folder(tmp_path, tmp_images)
    found = expand_paths([str(album)], recursive=True)
    images = found.paths
    assert str(album / "nested" / "deep.gif") in images
    assert not any("optimized" in p or ".hidden" in p for p in images)


def test_expansion_counts_the_folders_walked_and_the_bytes_found(
    tmp_path: Path, tmp_images: Callable[..., Path]
) -> None:
    album = make_folder(tmp_path, tmp_images)
    loose = tmp_images("loose.png", size=(8, 8))
    flat = expand_paths([str(album), str(loose)])
    deep = expand_paths([str(album), str(loose)], recursive=True)
    # album/ and album/nested/ (optimized/ and hidden entries are not walked).
    assert (flat.folders, deep.folders) == (1, 2)
    for found in (flat, deep):
        assert found.bytes == sum(os.path.getsize(p) for p in found.paths)
        assert found.bytes > 0
    assert deep.bytes - flat.bytes == os.path.getsize(album / "nested" / "deep.gif")


def test_files_keep_their_order_and_duplicates_are_dropped(
    tmp_path: Path, tmp_images: Callable[..., Path]
) -> None:
    album = make_folder(tmp_path, tmp_images)
    os.symlink(album / "b.png", tmp_path / "link.png")
    given = [str(album / "c.webp"), str(album / "a.jpg"), str(album / "c.webp"),
             str(tmp_path / "link.png"), str(album)]
    found = expand_paths(given)
    images, skipped = found.paths, found.skipped
    assert images == [str(album / "c.webp"), str(album / "a.jpg"), str(tmp_path / "link.png"),
                      str(album / "broken.jpg")]
    assert len(skipped) == 2


def test_explicit_files_are_judged_by_content_then_extension(
    tmp_path: Path, edge_cases: Any
) -> None:
    png_as_jpg = edge_cases.png_named_jpg()
    text_as_jpg = edge_cases.text_named_jpg()
    unknown = tmp_path / "data.bin"
    unknown.write_bytes(b"\x00\x01binary")
    real_png_named_bin = tmp_path / "image.bin"
    real_png_named_bin.write_bytes(png_as_jpg.read_bytes())
    psd = tmp_path / "Layers.PSD"
    psd.write_bytes(b"8BPS\x00\x01")
    found = expand_paths([str(p) for p in (png_as_jpg, text_as_jpg, unknown,
                                                    real_png_named_bin, psd)])
    images, skipped = found.paths, found.skipped
    assert images == [str(png_as_jpg), str(text_as_jpg), str(real_png_named_bin)]
    assert skipped == [Skipped(path=str(unknown), reason="not an image"),
                       Skipped(path=str(psd), reason="unsupported format: .psd")]


def test_missing_and_unreadable_paths_are_skipped_with_reasons(
    tmp_path: Path, unprivileged: Any
) -> None:
    os.symlink(tmp_path / "nowhere.png", tmp_path / "dangling.png")
    found = expand_paths([str(tmp_path / "gone.jpg"), str(tmp_path / "dangling.png")])
    images, skipped = found.paths, found.skipped
    assert images == []
    assert [s.reason for s in skipped] == ["not found", "not found (broken link)"]

    # Root reads everything: check "permission denied" as user nobody in a forked child.
    secret = unprivileged.folder / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    secret.chmod(0o000)
    closed = unprivileged.folder / "closed"
    closed.mkdir(mode=0o700)
    found = unprivileged(lambda: expand_paths([str(secret), str(closed)]))
    images, skipped = found.paths, found.skipped
    assert images == []
    assert skipped == [Skipped(path=str(secret), reason="permission denied"),
                       Skipped(path=str(closed), reason="permission denied")]

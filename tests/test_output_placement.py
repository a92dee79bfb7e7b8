"""Where outputs land: ``folder`` mirroring the dropped tree, ``beside`` with a suffix, and the
batch's own earlier outputs never taken for inputs. Real files through the CLI and commands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.core.discovery import expand_paths
from backend.core.paths import assign_output_paths, mirrored_folder
from backend.errors import ValidationError
from backend.types import Task
from backend.validation import decode_settings


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backend", "optimize", *args, "--workers", "1"],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def album(tmp_images: Callable[..., Path], tmp_path: Path) -> Path:
    """in/x.jpg, in/a/x.jpg, in/b/c/x.png: the same name in three folders."""
    tmp_images("in/x.jpg", size=(64, 48), quality=95)
    tmp_images("in/a/x.jpg", size=(48, 64), quality=95)
    tmp_images("in/b/c/x.png", size=(40, 40))
    return tmp_path / "in"


def files_below(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_cli_out_mirrors_the_tree_of_a_named_folder(album: Path, tmp_path: Path) -> None:
    run = cli(str(album), "--recursive", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert files_below(tmp_path / "out") == ["a/x.jpg", "b/c/x.png", "x.jpg"]


def test_the_named_folder_is_the_root_even_when_all_files_sit_deeper(
    album: Path, tmp_path: Path
) -> None:
    run = cli(str(album / "b"), "--recursive", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert files_below(tmp_path / "out") == ["c/x.png"]


def test_an_output_folder_inside_the_input_tree_is_not_optimized_again(album: Path) -> None:
    out = album / "exports"
    for _ in range(2):
        run = cli(str(album), "--recursive", "--out", str(out))
        assert run.returncode == 0, run.stderr
    assert files_below(out) == ["a/x.jpg", "b/c/x.png", "x.jpg"]  # no exports/exports/…


def test_beside_writes_next_to_the_source_with_a_suffix_and_skips_it_next_time(
    album: Path,
) -> None:
    for _ in range(2):
        run = cli(str(album), "--recursive", "--beside", "--format", "webp")
        assert run.returncode == 0, run.stderr
    assert files_below(album) == ["a/x-optimized.webp", "a/x.jpg", "b/c/x-optimized.webp",
                                  "b/c/x.png", "x-optimized.webp", "x.jpg"]


def test_beside_with_a_custom_suffix(album: Path) -> None:
    run = cli(str(album / "x.jpg"), "--beside", "--suffix", ".min")
    assert run.returncode == 0, run.stderr
    assert (album / "x.min.jpg").is_file()


@pytest.mark.parametrize(("flags", "message"), [
    (["--suffix=-small"], "--suffix needs --beside"),
    (["--beside", "--suffix", "a/b"], "suffix"),
    (["--beside", "--out", "x"], "not allowed with argument"),
])
def test_bad_placement_flags_are_usage_errors(album: Path, flags: list[str], message: str) -> None:
    run = cli(str(album), *flags)
    assert run.returncode == 2 and message in run.stderr


def test_folder_output_needs_a_folder() -> None:
    with pytest.raises(ValidationError, match='output "folder" needs outputFolder'):
        decode_settings({"output": "folder"})


def test_files_from_unrelated_folders_keep_their_whole_path_below_the_root() -> None:
    # The drive-root pitfall: a common root of "/" mirrors the tree below it, never flattens.
    assert mirrored_folder("/home/ann/a.jpg", "/", "/out") == "/out/home/ann"
    assert mirrored_folder("/mnt/b/a.jpg", "/", "/out") == "/out/mnt/b"
    # No common root at all (Windows drives): the whole path, drive included.
    assert mirrored_folder("/srv/a.jpg", None, "/out") == "/out/srv"


def test_same_names_from_different_folders_never_become_numbered_copies(album: Path,
                                                                        tmp_path: Path) -> None:
    settings = decode_settings({"output": "folder", "outputFolder": str(tmp_path / "o")})
    found = expand_paths([str(album)], recursive=True, settings=settings)
    paths = found.paths
    outs = assign_output_paths([Task(input_path=p, settings=settings) for p in paths],
                               roots=[str(album)])
    assert sorted(os.path.relpath(o, tmp_path / "o") for o in outs) == [
        "a/x.jpg", "b/c/x.png", "x.jpg"]


def test_a_whole_drive_is_not_walked_recursively() -> None:
    found = expand_paths(["/"], recursive=True)
    images, skipped = found.paths, found.skipped
    assert images == []
    assert [s.path for s in skipped] == ["/"] and "a whole drive" in skipped[0].reason

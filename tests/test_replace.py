"""``output: replace`` and revert on real files: bytes, permissions and dates restored exactly, and
a process killed between the steps (SIGKILL, in a child) never leaves the original's path empty.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from backend.app_dirs import DATA_DIR_ENV
from backend.commands import AppContext, invoke
from backend.core import replace
from backend.core.in_process import InProcessExecutor
from backend.core.optimizer import ImageOptimizer
from backend.settings_store import SettingsStore
from backend.types import Task, to_builtins
from backend.validation import decode_settings

MTIME_NS = 1_000_000_000_000_000_000  # 2001-09-09
ATIME_NS = 1_100_000_000_000_000_000


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def photos(tmp_images: Callable[..., Path]) -> list[Path]:
    made = [tmp_images("album/cat.jpg", size=(320, 240), quality=97),
            tmp_images("album/coffee.png", source="coffee", size=(160, 120))]
    for path in made:
        path.chmod(0o640)
        os.utime(path, ns=(ATIME_NS, MTIME_NS))
    return made


def wire(reply: object) -> dict:
    return to_builtins(reply)


def snapshot(paths: list[Path]) -> dict[str, tuple[bytes, int, int, int]]:
    """Bytes, mode and dates, leaving the dates as they were (reading sets the atime)."""
    shot = {}
    for path in paths:
        stat = path.stat()
        shot[str(path)] = (path.read_bytes(), stat.st_mode & 0o7777, stat.st_atime_ns,
                           stat.st_mtime_ns)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return shot


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backend", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_replace_then_revert_restores_bytes_mode_and_dates(
    photos: list[Path], data_dir: Path
) -> None:
    before = snapshot(photos)
    run = cli("optimize", str(photos[0].parent), "--replace", "--quality", "70", "--workers", "1")
    assert run.returncode == 0, run.stderr
    assert "undo with `image-optimizer revert" in run.stdout
    for path in photos:
        assert path.stat().st_size < len(before[str(path)][0])  # replaced by the smaller file
        assert path.stat().st_mtime_ns == MTIME_NS  # keepDates applies to replacements too
    assert not (photos[0].parent / "optimized").exists()

    listed = cli("revert", "--list")
    assert listed.returncode == 0 and "2 image(s)" in listed.stdout
    reverted = cli("revert")
    assert reverted.returncode == 0, reverted.stderr
    assert "2 original(s)" in reverted.stdout
    assert snapshot(photos) == before
    assert replace.batches() == []  # a fully reverted batch is gone


def test_replace_with_a_format_change_removes_the_old_name_and_revert_brings_it_back(
    photos: list[Path], data_dir: Path
) -> None:
    png = photos[1]
    before = snapshot([png])
    unrelated = png.with_suffix(".webp")
    unrelated.write_bytes(b"someone else's file")
    with ImageOptimizer(InProcessExecutor()) as optimizer:
        [result] = optimizer.optimize_images([Task(input_path=str(png), settings=decode_settings(
            {"output": "replace", "outputFormat": "webp"}))])
    assert result.success and result.backupBatch
    assert result.optimized_path == str(png.with_name("coffee-2.webp"))  # never over a stranger
    assert unrelated.read_bytes() == b"someone else's file"
    assert not png.exists()
    with Image.open(result.optimized_path) as image:
        assert image.format == "WEBP"
    report = replace.revert(result.backupBatch)
    assert report.restored == [str(png)] and report.failed == []
    assert snapshot([png]) == before
    assert not Path(result.optimized_path).exists()


def test_a_result_that_is_not_smaller_leaves_the_original_alone(
    tmp_images: Callable[..., Path], data_dir: Path
) -> None:
    small = tmp_images("small.jpg", size=(64, 48), quality=40, optimize=True, progressive=True)
    before = small.read_bytes()
    with ImageOptimizer(InProcessExecutor()) as optimizer:
        [result] = optimizer.optimize_images([Task(input_path=str(small), settings=decode_settings(
            {"output": "replace"}))])
    assert result.success and result.keptOriginal and result.backupBatch is None
    assert result.optimized_path == str(small) and small.read_bytes() == before
    assert replace.batches() == [] and list((data_dir / "backups").iterdir()) == []


def test_revert_whose_backup_is_gone_changes_nothing_and_says_so(
    photos: list[Path], data_dir: Path
) -> None:
    with ImageOptimizer(InProcessExecutor()) as optimizer:
        results = optimizer.optimize_images([Task(input_path=str(p), settings=decode_settings(
            {"output": "replace"})) for p in photos])
    batch = data_dir / "backups" / results[0].backupBatch
    next(batch.glob("000000-*")).unlink()
    optimized = photos[0].read_bytes()
    report = replace.revert()
    assert [f.path for f in report.failed] == [str(photos[0])]
    assert "its backup is gone" in report.failed[0].error
    assert photos[0].read_bytes() == optimized  # nothing lost: the optimized file stays
    assert report.restored == [str(photos[1])]
    assert batch.exists()  # the failed entry is kept


def test_revert_leaves_a_file_changed_since_the_batch_alone(
    photos: list[Path], data_dir: Path
) -> None:
    with ImageOptimizer(InProcessExecutor()) as optimizer:
        optimizer.optimize_images([Task(input_path=str(photos[0]), settings=decode_settings(
            {"output": "replace"}))])
    photos[0].write_bytes(b"edited later")
    report = replace.revert()
    assert report.restored == [] and "changed after it was optimized" in report.failed[0].error
    assert photos[0].read_bytes() == b"edited later"


def test_revert_with_nothing_to_revert_is_a_clear_error(data_dir: Path) -> None:
    run = cli("revert")
    assert run.returncode == 1 and "nothing to revert" in run.stderr
    run = cli("revert", "nope")
    assert run.returncode == 1 and "no such batch to revert: nope" in run.stderr


def test_an_unwritable_backup_folder_fails_the_image_and_keeps_the_original(
    unprivileged: object, tmp_images: Callable[..., Path]
) -> None:
    work = unprivileged.folder / "work"  # type: ignore[attr-defined]
    work.mkdir()
    work.chmod(0o777)
    source = work / "cat.jpg"
    Image.open(tmp_images("cat.jpg", size=(200, 150), quality=97)).save(source, quality=97)
    source.chmod(0o666)
    before = source.read_bytes()
    locked = unprivileged.folder / "backups" / "batch"  # type: ignore[attr-defined]
    locked.mkdir(parents=True)  # root's, 0755: "nobody" cannot write into it

    def attempt() -> tuple[bool, str | None, str | None]:
        from backend.core.pipeline import optimize_file

        result, _ = optimize_file(str(source), str(source), decode_settings({"output": "replace"}),
                                  backup=replace.backup_prefix(locked, 0))
        return result.success, result.errorKind, result.error

    success, kind, error = unprivileged(attempt)  # type: ignore[operator]
    assert (success, kind) == (False, "io")
    assert error is not None and "cannot back up the original" in error
    assert "permission denied" in error.lower() and "left as it is" in error
    assert source.read_bytes() == before


# A child process runs the pipeline and SIGKILLs itself right after one step: what a crash or a
# killed worker leaves on disk, with nothing of this process in the way.
CRASH_CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import backend.core.pipeline as pipeline
    from backend.core import paths, replace
    from backend.validation import decode_settings

    step, source, output, batch = sys.argv[1:5]
    def after(fn):
        def wrapped(*args, **kwargs):
            result = fn(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapped
    def before(fn):
        def wrapped(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        return wrapped
    if step == "after-backup":
        pipeline.back_up = after(pipeline.back_up)
    elif step == "mid-write":  # the result's temporary file is written, the rename not done
        def half_write(path, data, dates=None):
            folder = os.path.dirname(path)
            with open(os.path.join(folder, paths.partial_name_prefix(path) + "x"
                                   + paths.PARTIAL_SUFFIX), "wb") as fh:
                fh.write(data)
            os.kill(os.getpid(), signal.SIGKILL)
        pipeline.write_atomic = half_write
    elif step == "after-install":
        pipeline.remove_replaced_source = before(pipeline.remove_replaced_source)
    settings = decode_settings({"output": "replace", "outputFormat": "webp"})
    pipeline.optimize_file(source, output, settings, backup=replace.backup_prefix(Path(batch), 0))
    sys.exit("the step was never reached")
""")


@pytest.fixture
def crash(tmp_path: Path) -> Iterator[Callable[[str, Path], tuple[Path, Path]]]:
    def run(step: str, source: Path) -> tuple[Path, Path]:
        batch = replace.new_batch(tmp_path / "backups")
        output = source.with_suffix(".webp")
        child = subprocess.run(
            [sys.executable, "-c", CRASH_CHILD, step, str(source), str(output), str(batch)],
            capture_output=True, text=True, timeout=60, check=False)
        assert child.returncode == -signal.SIGKILL, child.stderr
        return output, batch
    yield run


def readable_image(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except (OSError, ValueError):
        return False


@pytest.mark.parametrize("step", ["after-backup", "mid-write", "after-install"])
def test_a_kill_between_the_steps_never_leaves_neither_file(
    photos: list[Path], crash: Callable[[str, Path], tuple[Path, Path]], step: str
) -> None:
    source = photos[1]
    original = source.read_bytes()
    output, batch = crash(step, source)
    if step == "after-install":
        assert source.read_bytes() == original and readable_image(output)  # both in place
    else:
        assert source.read_bytes() == original and not output.exists()
    # The backup is complete before the original is touched, and revert gets back to the start.
    assert (batch / "000000-coffee.png").read_bytes() == original
    report = replace.revert(batch.name, batch.parent)
    assert report.restored == [str(source)] and report.failed == []
    assert source.read_bytes() == original and not output.exists()
    assert hashlib.sha256(source.read_bytes()).digest() == hashlib.sha256(original).digest()


def test_revert_command_for_the_desktop_and_refused_in_the_browser(
    photos: list[Path], data_dir: Path, tmp_path: Path
) -> None:
    before = snapshot(photos[:1])
    with ImageOptimizer(InProcessExecutor()) as optimizer:
        desktop = AppContext(optimizer=optimizer, settings=SettingsStore(tmp_path / "cfg"),
                             shell="desktop")
        [result] = wire(invoke("optimize_images", {"tasks": [
            {"input_path": str(photos[0]), "settings": {"output": "replace"}}]}, desktop))["result"]
        assert result["backupBatch"]
        report = wire(invoke("revert_batch", {"batch": result["backupBatch"]}, desktop))["result"]
        assert report["restored"] == [str(photos[0])]
        assert snapshot(photos[:1]) == before

        browser = AppContext(optimizer=optimizer, settings=SettingsStore(tmp_path / "cfg"),
                             shell="browser", path_root=str(photos[0].parent))
        refused = wire(invoke("revert_batch", {}, browser))
        assert refused["error"]["kind"] == "unsupported"
        refused = wire(invoke("optimize_images", {"tasks": [
            {"input_path": str(photos[0]), "settings": {"output": "replace"}}]}, browser))
        assert refused["error"]["kind"] == "validation"
        assert 'output = "replace"' in refused["error"]["message"]

"""The CLI as a script would use it: a real subprocess, real images, the real pool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import skimage.data
from PIL import Image

from backend.human_bytes import format_bytes

ENV = {**os.environ, "PYTHONWARNINGS": "error"}


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=ENV,
    )


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    """Two real photographs (JPEG, generous quality so there is something to save) and a PNG."""
    src = tmp_path / "in"
    src.mkdir()
    cat = src / "chelsea.jpg"
    Image.fromarray(skimage.data.chelsea()).save(cat, quality=98)
    coffee = src / "coffee.jpg"
    Image.fromarray(skimage.data.coffee()).save(coffee, quality=98)
    astronaut = src / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(astronaut)
    return [cat, coffee, astronaut]


def test_json_prints_one_result_per_input_in_input_order(photos: list[Path]) -> None:
    proc = run_cli("optimize", *photos, "--json", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["original_path"] for r in results] == [str(p) for p in photos]
    for photo, result in zip(photos, results, strict=True):
        out = Path(result["optimized_path"])
        assert out.parent == photo.parent / "optimized"
        assert result["success"] is True
        assert result["optimized_size"] == out.stat().st_size
        assert result["savedBytes"] == result["original_size"] - result["optimized_size"]
        with Image.open(out) as im, Image.open(photo) as original:
            assert im.size == original.size


def test_summary_reports_files_bytes_and_savings(photos: list[Path]) -> None:
    proc = run_cli("optimize", photos[0])
    assert proc.returncode == 0, proc.stderr
    assert "1 of 1 images optimized in" in proc.stdout
    assert "% saved" in proc.stdout


def test_flags_convert_and_resize_into_out_dir(photos: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(
        "optimize", photos[0], photos[2], "--format", "webp", "--resize", "longest",
        "--size", "200", "--quality", "70", "--out", out, "--json",
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["astronaut.webp", "chelsea.webp"]
    for path in out.iterdir():
        with Image.open(path) as im:
            assert im.format == "WEBP"
            assert max(im.size) == 200


def test_settings_json_is_used_and_flags_override_it(photos: list[Path], tmp_path: Path) -> None:
    settings = {"outputFormat": "png", "resize": {"mode": "width", "size": 100}}
    proc = run_cli(
        "optimize", photos[0], "--settings", json.dumps(settings), "--format", "avif",
        "--out", tmp_path / "o", "--json",
    )
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    with Image.open(result["optimized_path"]) as im:
        assert im.format == "AVIF"
        assert im.width == 100


def test_folder_is_expanded_and_unsupported_files_are_listed_as_skipped(
    photos: list[Path],
) -> None:
    folder = photos[0].parent
    (folder / "notes.txt").write_text("not an image")
    proc = run_cli("optimize", folder, "--json")
    results = json.loads(proc.stdout)
    assert sorted(Path(r["original_path"]).name for r in results) == sorted(
        p.name for p in photos
    )
    assert "notes.txt" in proc.stderr
    assert "skipped" in proc.stderr
    size = format_bytes(sum(p.stat().st_size for p in photos))
    assert f"found {len(photos)} images in 1 folder ({size})" in proc.stderr
    assert proc.returncode == 1  # something asked for was not optimized


def test_one_bad_image_fails_alone_and_exit_status_is_1(photos: list[Path]) -> None:
    broken = photos[0].parent / "broken.jpg"
    broken.write_bytes(photos[0].read_bytes()[:2000])
    proc = run_cli("optimize", photos[0], broken, photos[1], "--json")
    assert proc.returncode == 1
    results = json.loads(proc.stdout)
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["error"]
    assert not list(broken.parent.glob("optimized/.*"))  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quality", "150"], "quality.global = 150"),
        (["--settings", "{not json"], "--settings is not valid JSON"),
        (["--settings", '{"outputFormat": "gif"}'], 'outputFormat = "gif"'),
        (["--resize", "width"], "--resize width needs --size"),
        (["--size", "100"], "--size needs --resize"),
        (["--workers", "0"], "worker"),
        (["--format", "bmp"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    photos: list[Path], args: list[str], message: str
) -> None:
    proc = run_cli("optimize", photos[0], *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (photos[0].parent / "optimized").exists()


def test_benchmark_prints_a_report(photos: list[Path]) -> None:
    proc = run_cli("optimize", *photos, "--benchmark", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout.lower()
    for word in ("encode", "worker", "images/s"):
        assert word in report


def test_long_tmpdir_still_starts_workers(photos: list[Path], tmp_path: Path) -> None:
    # forkserver's AF_UNIX socket lives under TMPDIR; a long one must not break the pool.
    long_tmp = tmp_path / ("t" * 100)
    long_tmp.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "optimize", str(photos[0]), "--json"],
        capture_output=True, text=True, timeout=120, env={**ENV, "TMPDIR": str(long_tmp)},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["success"] is True


LINGER_PROBE = """
import json, os, sys, threading, time
from pathlib import Path

from backend.cli import main

def descendants(root):
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
            except (OSError, IndexError):
                pass
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found

def alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    # A zombie of ours was never joined; one of a reaper that is gone is as good as dead.
    return stat[0] not in ("Z", "X") or int(stat[1]) == os.getpid()

seen, stop = set(), threading.Event()

def watch():
    while not stop.is_set():
        seen.update(descendants(os.getpid()))
        time.sleep(0.002)

if __name__ == "__main__":
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    code = main(sys.argv[1:])
    stop.set()
    watcher.join()
    print(json.dumps({"code": code, "seen": sorted(seen),
                      "alive": sorted(pid for pid in seen if alive(pid))}))
"""


def test_optimize_leaves_no_process_alive_when_it_returns(
    photos: list[Path], tmp_path: Path,
) -> None:
    """Workers, the forkserver and multiprocessing's resource tracker are all joined before
    ``main`` returns, not reaped later at interpreter exit."""
    probe = tmp_path / "probe.py"
    probe.write_text(LINGER_PROBE)
    env = {**ENV, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, str(probe), "optimize", *map(str, photos), "--workers", "2",
         "--out", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["code"] == 0
    assert len(report["seen"]) >= 3  # two workers and the forkserver at least
    assert report["alive"] == []

"""The bench harness end to end on three tiny real images (``python -m bench.run --smoke``).

One real run in a subprocess (real pool, real worker processes, real sharp when node/npm exist),
then every test reads what it wrote. Nothing here judges speed: timings on a shared test machine
mean nothing; the full bench does that.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ("scaling", "peer_sharp", "first_result", "many_small", "synthetic")
SMALL_IMAGES = 40


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench-results")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def load(results: Path, name: str) -> dict[str, Any]:
    return json.loads((results / f"{name}.json").read_text())


def speeds(data: dict[str, Any]) -> dict[tuple[str, int, str], dict[str, Any]]:
    return {(s["engine"], s["workers"], s["group"]): s for s in data["data"]["speeds"]}


def sharp_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def test_every_scenario_writes_json_and_markdown_and_latest_combines_them(results: Path) -> None:
    latest = (results / "latest.md").read_text()
    for name in SCENARIOS:
        data = load(results, name)
        assert data["name"] == name
        assert data["options"]["mode"] == "smoke"
        markdown = (results / f"{name}.md").read_text()
        assert markdown.startswith(f"# {data['title']}")
        assert f"## {data['title']}" in latest
    machine = load(results, "scaling")["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["versions"]["pillow"]


def test_scaling_times_loop_and_both_pools_on_each_format_without_failures(results: Path) -> None:
    data = load(results, "scaling")
    by_key = speeds(data)
    for engine, workers in (("loop", 1), ("pool", 1), ("pool", 2)):
        jpeg, png, both = (by_key[(engine, workers, g)] for g in ("jpeg", "png", "all"))
        assert (jpeg["images"], png["images"], both["images"]) == (1, 2, 3)
        for s in (jpeg, png):
            assert s["failed"] == 0, s["errors"]
            assert 0 < s["bytes_out"] < 2 * s["bytes_in"]
            assert s["mp_per_s"] > 0 and len(s["wall_s"]) == 1
    assert set(by_key[("pool", 2, "png")]["stages"]) == {"load", "resize", "encode", "optimize",
                                                          "write"}
    assert by_key[("pool", 2, "jpeg")]["benchmark"]["workers"] == 2
    ratios = data["data"]["ratios"]["all"]
    assert all(ratios[k] > 0 for k in ("pool_n_over_pool_1", "pool_1_over_loop"))
    assert [t["met"] in (True, False) for t in data["targets"]] == [True, True, True]
    assert "stays on one core" in data["targets"][2]["name"]
    # Cores busy is CPU over wall: a loop cannot use more than the two cores here.
    assert 0 <= by_key[("loop", 1, "all")]["cores_busy"] <= 2.5
    assert by_key[("pool", 2, "all")]["cores_busy"] is not None
    markdown = (results / "scaling.md").read_text()
    assert "| group | contender |" in markdown and "pool-2 / pool-1" in markdown


def test_corpus_records_size_source_and_licence_of_real_images(results: Path) -> None:
    corpus = load(results, "scaling")["corpus"]
    assert {im["name"] for im in corpus} == {"rocket.jpg", "chelsea.png", "skimage-logo.png"}
    rocket = next(im for im in corpus if im["name"] == "rocket.jpg")
    assert (rocket["format"], rocket["width"], rocket["height"]) == ("jpeg", 640, 427)
    assert rocket["bytes"] == Path(rocket["path"]).stat().st_size
    assert rocket["source"].startswith("pypi:scikit-image")
    assert all(im["licence"] and im["kind"] in ("photo", "artwork") for im in corpus)


def test_peer_compares_with_sharp_per_format_or_says_why_not(results: Path) -> None:
    data = load(results, "peer_sharp")
    if not sharp_available():
        assert "node/npm not found" in data["skipped"]
        return
    if data["skipped"] and "npm install" in data["skipped"]:
        pytest.skip(f"the npm registry is out of reach here: {data['skipped']}")
    assert data["skipped"] is None
    by_key = speeds(data)
    for workers in (1, 2):
        for fmt in ("jpeg", "png"):
            sharp = by_key[("sharp", workers, fmt)]
            assert sharp["failed"] == 0, sharp["errors"]
            assert sharp["bytes_out"] > 0
            assert sharp["cores_busy"] is not None and sharp["cores_busy"] >= 0
    ratios = {(r["format"], r["workers"]): r for r in data["data"]["ratios"]}
    assert set(ratios) == {("jpeg", 1), ("png", 1), ("jpeg", 2), ("png", 2)}
    assert all(r["speed_ratio"] > 0 and r["bytes_ratio"] > 0 for r in ratios.values())
    assert [t["name"].split()[0] for t in data["targets"]] == ["JPEG", "PNG"]
    assert data["machine"]["versions"]["sharp:sharp"] == "0.35.5"


def test_many_small_reports_memory_and_an_exact_final_event(results: Path) -> None:
    run = load(results, "many_small")["data"]["many_small"]
    assert (run["images"], run["failed"]) == (SMALL_IMAGES, 0)
    assert (run["final_status"], run["final_completed"], run["final_total"]) == (
        "complete", SMALL_IMAGES, SMALL_IMAGES)
    assert 1 <= run["events"] <= SMALL_IMAGES
    assert 0 < run["rss_baseline_mb"] <= run["rss_peak_mb"]
    assert run["rss_trace"]


def test_first_result_compares_warm_pool_with_the_same_image_in_process(results: Path) -> None:
    data = load(results, "first_result")
    latency = data["data"]["latency"]
    assert len(latency["pool_s"]) == len(latency["in_process_s"]) >= 3
    assert latency["cold_start_s"] > 0
    assert [im["name"] for im in data["corpus"]] == ["rocket.jpg"]

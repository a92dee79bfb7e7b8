"""SVG through the whole pipeline and the CLI: names, results, .svgz, raster outputs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from svg_renders import DATA, MAX_DIFFERING, differing, draw, svg_text

from backend.core.paths import assign_output_paths
from backend.core.pipeline import optimize_file
from backend.types import OptimizationResult, Task
from backend.validation import decode_settings


def run(src: Path, **settings: object) -> OptimizationResult:
    cfg = decode_settings(settings)
    [out] = assign_output_paths([Task(input_path=str(src), settings=cfg)])
    return optimize_file(str(src), out, cfg)[0]


def copy(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    return Path(shutil.copy(DATA / name, tmp_path / (as_name or name)))


def test_an_svg_is_optimized_into_optimized_as_svg_with_its_size_in_the_result(
    tmp_path: Path,
) -> None:
    src = copy(tmp_path, "written-text-mask-clip.svg")
    result = run(src)
    assert result.success, result.error
    out = Path(result.optimized_path)
    assert out == tmp_path / "optimized" / "written-text-mask-clip.svg"
    assert (result.format, result.inputFormat) == ("svg", "svg")
    assert (result.width, result.height) == (240, 160)
    assert result.optimized_size == out.stat().st_size < result.original_size
    assert differing(src.read_text(), out.read_text()) <= MAX_DIFFERING


def test_svgz_stays_svgz_gzipped_and_an_svg_named_png_is_optimized_as_the_svg_it_is(
    tmp_path: Path,
) -> None:
    result = run(copy(tmp_path, "tango-edit-copy.svgz"))
    assert result.success, result.error
    out = Path(result.optimized_path)
    assert out.name == "tango-edit-copy.svgz"
    assert gzip.decompress(out.read_bytes()).startswith(b"<svg")
    assert result.optimized_size < result.original_size

    disguised = run(copy(tmp_path, "tango-undo.svg", "undo.png"))
    assert disguised.success and disguised.format == "svg", disguised.error
    assert Path(disguised.optimized_path).name == "undo.svg"


def test_an_svg_already_optimized_is_kept_byte_for_byte(tmp_path: Path) -> None:
    lossless = {"quality": {"global": 100}}
    first = run(copy(tmp_path, "tango-undo.svg"), **lossless)
    again_src = tmp_path / "again.svg"
    shutil.copy(first.optimized_path, again_src)
    again = run(again_src, **lossless)
    assert again.success and again.keptOriginal, again.error
    assert Path(again.optimized_path).read_bytes() == again_src.read_bytes()


def test_auto_quality_and_max_size_do_not_search_an_svg_and_a_missed_size_is_said(
    tmp_path: Path,
) -> None:
    src = copy(tmp_path, "tango-edit-copy.svg")
    plain = Path(run(src).optimized_path).read_bytes()
    auto = run(src, autoQuality="compact", output="beside", suffix="-auto")
    assert auto.success, auto.error
    assert Path(auto.optimized_path).read_bytes() == plain  # the slider's 90, as without Auto
    assert (auto.chosenQuality, auto.score, auto.targetMet) == (None, None, None)

    fits = run(src, maxSize=len(plain), output="beside", suffix="-fits")
    assert (fits.targetMet, fits.targetMessage, fits.optimized_size) == (True, None, len(plain))
    missed = run(src, maxSize=1000, output="beside", suffix="-missed")
    assert missed.success and missed.targetMet is False
    assert missed.optimized_size == len(plain)
    assert missed.targetMessage == (f"cannot fit in 1,000 bytes: the optimized SVG is "
                                    f"{len(plain):,} bytes (an SVG is only made as small as "
                                    "still renders the same)")

def test_format_png_draws_the_svg_at_its_intrinsic_size(tmp_path: Path) -> None:
    src = copy(tmp_path, "written-text-mask-clip.svg")
    result = run(src, outputFormat="png", quality={"global": 100})
    assert result.success, result.error
    assert (result.format, result.inputFormat) == ("png", "svg")
    with Image.open(result.optimized_path) as png:
        assert png.size == (240, 160)
        drawn = np.asarray(png.convert("RGBA"), dtype=np.float64)
    drawn[..., :3] *= drawn[..., 3:] / 255
    reference = draw(src.read_text(), (240, 160))
    assert np.abs(drawn - reference).max() <= 1  # lossless PNG of resvg's own drawing


def test_format_webp_with_a_resize_draws_the_svg_at_the_target_size(tmp_path: Path) -> None:
    src = copy(tmp_path, "illustrator-style.svg")  # 200 x 200 px
    result = run(src, outputFormat="webp", resize={"mode": "width", "size": 800})
    assert result.success, result.error
    with Image.open(result.optimized_path) as webp:
        assert webp.format == "WEBP" and webp.size == (800, 800)
    assert Path(result.optimized_path).name == "illustrator-style.webp"


def test_an_svg_too_large_to_draw_is_refused_before_drawing(tmp_path: Path) -> None:
    src = tmp_path / "huge.svg"
    src.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000">'
                   '<rect width="10" height="10"/></svg>')
    result = run(src, outputFormat="png")
    assert result.errorKind == "too_large", result.error
    assert "10000 megapixels to draw" in (result.error or "")
    assert run(src).success  # as SVG it is only text: optimized as usual


def test_cli_optimizes_a_folder_of_svgs_and_reports_bad_ones(tmp_path: Path) -> None:
    for name in ("tango-edit-copy.svg", "tango-edit-copy.svgz", "illustrator-style.svg"):
        copy(tmp_path, name)
    shutil.copy(DATA / "bad" / "xxe.svg", tmp_path / "xxe.svg")
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "optimize", str(tmp_path), "--json", "--workers", "1"],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    results = {Path(r["original_path"]).name: r for r in json.loads(proc.stdout)}
    assert proc.returncode != 0  # one file failed
    assert results["xxe.svg"]["errorKind"] == "unsupported_format"
    assert "external entity" in results["xxe.svg"]["error"]
    for name in ("tango-edit-copy.svg", "tango-edit-copy.svgz", "illustrator-style.svg"):
        r = results[name]
        assert r["success"] and r["format"] == "svg", r
        out = Path(r["optimized_path"])
        assert out == tmp_path / "optimized" / name
        assert differing(svg_text((DATA / name).read_bytes()), svg_text(out.read_bytes())) \
            <= MAX_DIFFERING

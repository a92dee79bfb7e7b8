"""SVG: our optimizer vs SVGO 4's default preset (npm) on real SVGs: bytes, render, time.

Every output is drawn with resvg beside its input at 512 px on its longer side
(``backend.core.formats.svg_render``); a pixel differs when a premultiplied channel moves by more
than 32 of 255, and an output renders the same when at most 0.1 % of its pixels differ. The
largest channel difference is reported too, for the anti-aliasing noise under that line.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from PIL import Image, ImageChops

from backend.core.formats.svg_read import read_svg
from backend.core.formats.svg_render import (
    AREA_TOLERANCE,
    check_size,
    differing_fraction,
    render,
)
from backend.errors import OptimizerError
from bench.context import Context
from bench.report import kb
from bench.scenarios.base import Scenario, no_needs
from bench.schema import ScenarioResult, Table, TargetCheck
from bench.svg_corpus import SvgFile, build_svg_corpus
from bench.svg_peer import (
    PYTHON_CONTENDERS,
    Output,
    PeerUnavailable,
    ensure_svgo,
    read_text,
    run_python,
    run_svgo,
)


class Judged(msgspec.Struct, kw_only=True):
    contender: str
    file: str
    bytes: int
    seconds: float
    differing: float | None  # fraction of pixels beyond the pixel tolerance; None: not drawn
    max_delta: int | None
    error: str | None = None

    @property
    def same(self) -> bool:
        return self.differing is not None and self.differing <= AREA_TOLERANCE


def build(ctx: Context, result: ScenarioResult) -> None:
    files, notes = build_svg_corpus(ctx.cache_dir, ctx.options.mode)
    result.notes.extend(notes)
    out_dir = ctx.scratch / "svg"
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs: list[tuple[SvgFile, str]] = []
    for f in files:
        try:
            inputs.append((f, read_svg(Path(f.path).read_bytes(), f.path).text))
        except OptimizerError as exc:
            result.notes.append(f"{f.name} refused by our reader: {exc.message}")
    outputs: list[Output] = []
    try:
        outputs += run_svgo(ensure_svgo(ctx.cache_dir), [f for f, _ in inputs], out_dir)
    except PeerUnavailable as exc:
        result.notes.append(f"SVGO peer skipped: {exc}")
    for name in PYTHON_CONTENDERS:
        try:
            outputs += run_python(name, inputs, out_dir)
        except ImportError as exc:
            result.notes.append(f"{name} skipped: {exc}")
    judged = _judge(inputs, outputs, result.notes)
    result.data = {"files": [msgspec.to_builtins(f) for f, _ in inputs],
                   "outputs": [msgspec.to_builtins(j) for j in judged]}
    _tables(result, inputs, judged)


def _judge(inputs: list[tuple[SvgFile, str]], outputs: list[Output],
           notes: list[str]) -> list[Judged]:
    by_file = {f.name: text for f, text in inputs}
    references: dict[str, tuple[Image.Image, tuple[int, int]]] = {}
    judged = []
    for out in outputs:
        if out.text_path is None:
            judged.append(Judged(contender=out.contender, file=out.file, bytes=0, seconds=0.0,
                                 differing=None, max_delta=None, error=out.error))
            continue
        text = by_file[out.file]
        if out.file not in references:
            size = check_size(read_svg(text.encode()).root)
            references[out.file] = render(text, size), size
        reference, size = references[out.file]
        try:
            drawn = render(read_text(Path(out.text_path)), size)
        except ValueError as exc:
            judged.append(Judged(contender=out.contender, file=out.file, bytes=out.bytes,
                                 seconds=out.seconds, differing=None, max_delta=None,
                                 error=f"resvg cannot draw the output: {exc}"))
            continue
        if drawn.size != reference.size:
            # Every pixel then counts as differing: say why, it is not a picture changed.
            notes.append(f"{out.contender}'s {out.file} is drawn by resvg at {drawn.size[0]} x "
                         f"{drawn.size[1]} px instead of {size[0]} x {size[1]}: its root "
                         "width/height/viewBox changed the intrinsic size resvg reads")
        delta = ImageChops.difference(reference.convert("RGBa"), drawn.convert("RGBa"))
        judged.append(Judged(contender=out.contender, file=out.file, bytes=out.bytes,
                             seconds=out.seconds, differing=differing_fraction(reference, drawn),
                             max_delta=max(high for _, high in delta.getextrema())))
    return judged


def _pct(x: float) -> str:
    return f"{x * 100:.3f} %"


def _tables(result: ScenarioResult, inputs: list[tuple[SvgFile, str]],
            judged: list[Judged]) -> None:
    names = [f.name for f, _ in inputs]
    size_in = {f.name: len(text.encode()) for f, text in inputs}
    by = {(j.contender, j.file): j for j in judged}
    contenders = list(dict.fromkeys(j.contender for j in judged))
    svgo_total = sum(by[("svgo", n)].bytes for n in names if ("svgo", n) in by) or None
    svgo_time = sum(by[("svgo", n)].seconds for n in names if ("svgo", n) in by) or None
    rows = []
    for c in contenders:
        mine = [by[(c, n)] for n in names if (c, n) in by]
        ok = [j for j in mine if j.error is None]
        total = sum(j.bytes for j in ok)
        seconds = sum(j.seconds for j in ok)
        worst = max((j.differing for j in ok if j.differing is not None), default=0.0)
        rows.append([c, str(len(ok)), kb(sum(size_in[j.file] for j in ok)), kb(total),
                     f"{total / svgo_total * 100:.2f} %" if svgo_total else "n/a",
                     f"{sum(j.same for j in ok)} / {len(ok)}", _pct(worst),
                     f"{seconds:.2f}", f"{seconds / svgo_time:.2f}" if svgo_time else "n/a",
                     str(len(mine) - len(ok))])
    result.tables.append(Table(
        title="Totals over the corpus", columns=[
            "contender", "files", "bytes in", "bytes out", "vs SVGO", "render same",
            "worst differing px", "seconds", "time vs SVGO", "failed"], rows=rows,
        note="bytes: SVG text (a .svgz uncompressed). Render same: at most 0.1 % of the pixels "
             "move by more than 32/255 at 512 px. Seconds: summed per file, text in memory to "
             "text out; ours includes its render checks. Ratios are within this one run."))
    per_file = []
    for n in names:
        row = [n, str(size_in[n])]
        for c in contenders:
            j = by.get((c, n))
            if j is None or j.error is not None:
                row += ["error" if j else "n/a", ""]
                continue
            mark = "" if j.same else " ✗"
            row += [str(j.bytes), "n/a" if j.differing is None else _pct(j.differing) + mark]
        per_file.append(row)
    result.tables.append(Table(
        title="Per file: bytes and pixels differing (✗: does not render the same)",
        columns=["file", "bytes in", *(h for c in contenders for h in (c, f"{c} diff"))],
        rows=per_file))
    _targets(result, names, by, svgo_total)


def _targets(result: ScenarioResult, names: list[str], by: dict[tuple[str, str], Judged],
             svgo_total: int | None) -> None:
    ours = [by[("ours", n)] for n in names if ("ours", n) in by]
    ours_total = sum(j.bytes for j in ours if j.error is None)
    result.targets.append(TargetCheck(
        name="SVG bytes vs SVGO 4 default preset", target="ours <= SVGO (total)",
        measured=(f"{ours_total} vs {svgo_total} bytes ({ours_total / svgo_total * 100:.2f} %)"
                  if svgo_total else f"{ours_total} bytes; SVGO not measured"),
        met=None if not svgo_total else ours_total <= svgo_total))
    fair = [n for n in names if ("svgo", n) in by and by[("svgo", n)].same and ("ours", n) in by]
    if fair:
        over = [n for n in fair if by[("ours", n)].bytes > by[("svgo", n)].bytes]
        result.targets.append(TargetCheck(
            name="SVG bytes where SVGO's output renders the same",
            target="ours <= SVGO on each such file",
            measured=f"{len(fair) - len(over)} of {len(fair)} files"
                     + (f" (over: {', '.join(over[:5])})" if over else ""),
            met=not over))
    same = sum(j.same for j in ours)
    result.targets.append(TargetCheck(
        name="every SVG output renders as its input", target=f"{len(ours)} of {len(ours)}",
        measured=f"{same} of {len(ours)}", met=same == len(ours) if ours else None))


SCENARIO = Scenario(
    name="svg_peer",
    title="SVG: ours vs SVGO 4 (npm)",
    description=(
        "Real SVGs (Tango icons, Open Clip Art, Inkscape's examples, the tests' files) through "
        "SVGO 4.1's default preset from npm and our SVG path at quality 90, with svgo-py and "
        "scour as the Python options it was chosen from: bytes, render against the input with "
        "resvg at 512 px, time."
    ),
    needs=no_needs,
    build=build,
)

"""Writing results: ``<name>.json`` (the source of truth), ``<name>.md``, and ``latest.md``.

``latest.md`` is rebuilt from every scenario JSON in the results folder, so running one scenario
with ``--scenario`` refreshes its section and keeps the others (each section says when and how
it was measured).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench.schema import CorpusImage, ScenarioResult, Table, TargetCheck

LATEST = "latest.md"
NOISY_SHARE = 0.05  # other processes' share of the CPU above which timings are flagged


def write_result(result: ScenarioResult, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{result.name}.json"
    md_path = out_dir / f"{result.name}.md"
    _atomic_write(json_path, msgspec.json.format(msgspec.json.encode(result)) + b"\n")
    _atomic_write(md_path, render_scenario(result, level=1).encode())
    return json_path, md_path


def write_latest(out_dir: Path, order: list[str]) -> Path:
    """``latest.md`` from every ``<scenario>.json`` present, in registry order."""
    results = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            results.append(msgspec.json.decode(path.read_bytes(), type=ScenarioResult))
        except msgspec.DecodeError:
            continue  # another tool's JSON (bench.rd's quality.json): linked below, not merged
    results.sort(key=lambda r: order.index(r.name) if r.name in order else len(order))
    parts = ["# Image Optimizer bench: latest results\n",
             "Produced by `python -m bench.run` (`make bench`). The JSON next to this file is the "
             "source of truth; see `bench/README.md` for what each scenario measures.\n"]
    if results:
        parts.append(_machine_lines(results[0]))
        parts.append(_summary(results))
    parts.extend(render_scenario(r, level=2) for r in results)
    own = {f"{r.name}.md" for r in results} | {LATEST}
    others = sorted(p.name for p in out_dir.glob("*.md") if p.name not in own)
    if others:
        parts.append("## Other reports in this folder\n\n"
                     + "\n".join(f"- [{name}]({name})" for name in others) + "\n")
    corpus = _union_corpus(results)
    if corpus:
        parts.append("## Corpus\n\n" + corpus_table(corpus))
    path = out_dir / LATEST
    _atomic_write(path, "\n".join(parts).encode())
    return path


def render_scenario(result: ScenarioResult, *, level: int) -> str:
    h = "#" * level
    o = result.options
    lines = [
        f"{h} {result.title}\n",
        result.description + "\n",
        f"_Measured {result.started} (bench run of {result.duration_s:.0f} s); mode `{o.mode}`, "
        f"{o.repeat} repetition(s), workers {', '.join(map(str, o.workers))}._\n",
    ]
    if level == 1:
        lines.append(_machine_lines(result))
    if result.skipped:
        lines.append(f"**Skipped:** {result.skipped}\n")
    if result.targets:
        lines.append(targets_table(result.targets))
    lines.extend(table_md(t, level + 1) for t in result.tables)
    lines.extend(f"{h}# {b.title}\n\n```text\n{b.text.rstrip()}\n```\n" for b in result.blocks)
    if result.notes:
        lines.append("Notes:\n\n" + "\n".join(f"- {n}" for n in result.notes) + "\n")
    if level == 1 and result.corpus:
        lines.append(f"{h}# Corpus\n\n" + corpus_table(result.corpus))
    return "\n".join(lines)


def table_md(table: Table, level: int) -> str:
    out = [f"{'#' * level} {table.title}\n", "| " + " | ".join(table.columns) + " |",
           "|" + "|".join("---" for _ in table.columns) + "|"]
    out.extend("| " + " | ".join(row) + " |" for row in table.rows)
    if table.note:
        out.append(f"\n{table.note}")
    return "\n".join(out) + "\n"


def targets_table(targets: list[TargetCheck]) -> str:
    rows = [[t.name, t.target, t.measured, _verdict(t.met)] for t in targets]
    return table_md(Table(title="Targets", columns=["what", "target", "measured", "met"],
                          rows=rows), 3).replace("### Targets\n", "**Targets**\n")


def corpus_table(images: list[CorpusImage]) -> str:
    rows = [[im.name, im.format.upper(), im.kind, f"{im.width}x{im.height}",
             f"{im.megapixels:.1f}", kb(im.bytes), im.source, im.licence] for im in images]
    total_mp = sum(im.megapixels for im in images)
    note = f"{len(images)} images, {total_mp:.1f} MP, {mb(sum(im.bytes for im in images))}."
    return table_md(Table(title="Images", columns=["name", "format", "kind", "size", "MP",
                                                   "bytes", "source", "licence"],
                          rows=rows, note=note), 3)


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


def mb(n: float) -> str:
    """Bytes as MB, or as KB below one MB so small outputs do not read as 0.0."""
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else kb(int(n))


def ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "**NO**", None: "not measured"}[met]


def _summary(results: list[ScenarioResult]) -> str:
    rows = [[r.name, t.name, t.target, t.measured, _verdict(t.met)]
            for r in results for t in r.targets]
    if not rows:
        return ""
    return table_md(Table(title="All targets", columns=["scenario", "what", "target",
                                                        "measured", "met"], rows=rows), 2)


def _machine_lines(result: ScenarioResult) -> str:
    m = result.machine
    v = m.versions
    engines = ", ".join(f"{k} {v[k]}" for k in ("pillow", "libjpeg_turbo", "pyoxipng",
                                               "sharp:sharp", "sharp:vips", "node") if k in v)
    load = " / ".join(f"{x:.2f}" for x in m.load_average_start)
    other = ""
    if m.other_cpu_share is not None:
        other = f" Other processes used {100 * m.other_cpu_share:.0f}% of the CPU during the run."
        if m.other_cpu_share > NOISY_SHARE:
            other += " **The machine was shared: these timings are noisy.**"
    return (f"Machine: {m.cpu_count} CPUs ({m.cpu_model}), {m.memory_gb:.0f} GB, {m.platform}; "
            f"Python {m.python}; {engines}. Load average at start (1/5/15 min): {load}.{other}\n")


def _union_corpus(results: list[ScenarioResult]) -> list[CorpusImage]:
    seen: dict[str, CorpusImage] = {}
    for r in results:
        for im in r.corpus:
            seen.setdefault(im.name, im)
    return list(seen.values())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)

"""The engine's import graph: no cycle anywhere in backend/, and the command layer and the
scheduler load no codec (they run in the main process, which only dispatches)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"
# The image codecs this project uses: Pillow (its decoders and encoders are in PIL._imaging,
# loaded by PIL.Image), libvips (pyvips: decode + shrink for resizes), oxipng, libimagequant and
# mozjpeg. None of them belongs in a process that only validates commands and hands images to
# workers.
CODECS = ("PIL", "pyvips", "oxipng", "imagequant", "mozjpeg_lossless_optimization")


@pytest.mark.parametrize("module", ["backend.commands", "backend.core.scheduler"])
def test_importing_it_loads_no_codec(module: str) -> None:
    probe = (f"import sys, {module}\n"
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {CODECS!r}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]", f"{module} loads codecs: {out.stdout}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """backend modules ``path`` imports anywhere: at the top, inside functions and under
    TYPE_CHECKING too, so a cycle cannot hide behind a late or a typing-only import."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from backend.core import pool`` imports the module backend.core.pool.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def test_there_is_no_import_cycle_in_backend() -> None:
    files = {_module_name(p): p for p in BACKEND.rglob("*.py")}
    graph = {name: _imports(path, set(files)) - {name} for name, path in files.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
    assert "backend.core.scheduler" in graph  # the walk saw the engine

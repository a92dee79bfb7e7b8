"""The built wheel and sdist carry the UI, and an installed wheel serves it without the checkout.

Builds run on a copy of what the build reads (pyproject.toml, README.md, backend/, frontend/) in a
temp folder, so setuptools' build/ and egg-info never land in the shared work tree; they run
without build isolation and offline, on the venv's own setuptools (a dev dependency).

The install is a real one: a fresh venv (no pip, no site-packages of its own) gets the wheel from
pip, and its ``image-optimizer`` script runs from a folder outside the repository. The project's
dependencies come from the dev venv through a ``.pth`` line; a path added that way is not scanned
for ``.pth`` files itself, so the dev venv's editable install stays invisible.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.shells.frontend_files import frontend_dir

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
BUILD_INPUTS = ("pyproject.toml", "README.md", "backend", "frontend")
URL_LINE = re.compile(r"http://127\.0\.0\.1:(?P<port>\d+)/\?token=(?P<token>[\w-]+)$")
TIMEOUT = 60
IGNORED = shutil.ignore_patterns("__pycache__")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _repo_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, hidden ones (which no glob ships) left out."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("IMAGE_OPTIMIZER_WORKERS", None)
    env.update(IMAGE_OPTIMIZER_CONFIG_DIR=str(tmp / "config"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


@pytest.fixture(scope="module")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, source / name)
    return root


@pytest.fixture(scope="module")
def wheel(build_root: Path) -> Path:
    out = build_root / "wheel"
    _run(sys.executable, "-m", "pip", "wheel", build_root / "source", "--no-deps",
         "--no-build-isolation", "--no-index", "-q", "-w", out, cwd=build_root,
         env=_clean_env(build_root))
    (built,) = out.glob("image_optimizer-*.whl")
    return built


@dataclass
class Installed:
    bin: Path  # the venv's bin/: python and the image-optimizer script
    site: Path  # its site-packages, where the wheel went


@pytest.fixture(scope="module")
def installed(build_root: Path, wheel: Path) -> Installed:
    """A fresh venv with the wheel installed."""
    venv = build_root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=build_root)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "-q", wheel, cwd=build_root, env=_clean_env(build_root))
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=build_root).strip())
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "dev_venv_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(deps)))
    return Installed(bin=venv / "bin", site=site)


def _wheel_files(wheel: Path, prefix: str) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            name.removeprefix(prefix): archive.read(name)
            for name in archive.namelist()
            if name.startswith(prefix) and not name.endswith("/")
        }


def test_wheel_carries_every_frontend_file_and_every_backend_module(wheel: Path) -> None:
    shipped = _wheel_files(wheel, "backend/frontend/")
    repo = _repo_files(FRONTEND)
    assert {"index.html", "js/bridge.js", "js/app.js"} <= repo.keys()
    assert any(re.fullmatch(r"css/[^/]+\.css", name) for name in repo)
    assert any(re.fullmatch(r"js/ui/[^/]+\.js", name) for name in repo)
    assert sorted(shipped) == sorted(repo)
    assert shipped == repo
    # frontend/CHANGELOG.md links to the repository's: the wheel carries its text.
    assert shipped["CHANGELOG.md"] == (ROOT / "CHANGELOG.md").read_bytes()

    modules = {name for name in _repo_files(ROOT / "backend") if name.endswith(".py")}
    assert modules <= set(_wheel_files(wheel, "backend/")), "a backend package is not listed in "\
        "[tool.setuptools] packages in pyproject.toml"
    # The C sources the workers compile on first use (the jpegli shim, SSIMULACRA2's kernels).
    sources = {name for name in _repo_files(ROOT / "backend") if name.endswith(".c")}
    assert {"core/ssimulacra2_kernels.c", "core/formats/jpegli_shim.c"} <= sources
    assert sources <= set(_wheel_files(wheel, "backend/")), "a C source is not in package-data"


def test_sdist_carries_the_frontend_and_its_wheel_ships_it(build_root: Path) -> None:
    out = build_root / "sdist"
    name = _run(sys.executable, "-c",
                f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))",
                cwd=build_root / "source").strip().splitlines()[-1]
    sdist = out / name
    with tarfile.open(sdist) as archive:
        archive.extractall(out / "unpacked", filter="data")
    unpacked = out / "unpacked" / name.removesuffix(".tar.gz")
    assert _repo_files(unpacked / "frontend") == _repo_files(FRONTEND)

    _run(sys.executable, "-m", "pip", "wheel", sdist, "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", out, cwd=build_root, env=_clean_env(build_root))
    (from_sdist,) = out.glob("image_optimizer-*.whl")
    assert _wheel_files(from_sdist, "backend/frontend/") == _repo_files(FRONTEND)


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    line = process.stdout.readline().strip() if ready else ""
    if not line:
        process.kill()
        raise AssertionError(f"serve printed nothing; stderr:\n{process.communicate()[1]}")
    return line


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    # http.client sends "Host: 127.0.0.1:PORT", the only Host (with localhost) the guard lets in.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def _serving(bin_dir: Path, cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [str(bin_dir / "image-optimizer"), "serve", "--port", "0", "--workers", "1"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)


def test_installed_wheel_serves_the_ui_from_its_own_copy(installed: Installed) -> None:
    site = installed.site
    # Short on purpose: the worker pool puts a Unix socket in TMPDIR (108-byte path limit).
    with tempfile.TemporaryDirectory(prefix="io-pkg-", dir="/tmp") as temp:
        elsewhere = Path(temp)
        env = {**_clean_env(elsewhere), "TMPDIR": temp}
        probe = _run(installed.bin / "python", "-c",
                     "import backend; from backend.shells.frontend_files import frontend_dir; "
                     "print(backend.__file__); print(frontend_dir())",
                     cwd=elsewhere, env=env).splitlines()
        assert probe == [str(site / "backend" / "__init__.py"), str(site / "backend" / "frontend")]

        with _serving(installed.bin, elsewhere, env) as process:
            match = URL_LINE.match(_first_line(process))
            assert match is not None
            port, token = int(match["port"]), match["token"]

            status, _, page = _get(port, f"/?token={token}")
            assert status == 200
            assert page == (FRONTEND / "index.html").read_bytes()
            assert b"<title>" in page
            status, content_type, script = _get(port, "/js/bridge.js")
            assert status == 200
            assert "javascript" in content_type
            assert script == (FRONTEND / "js" / "bridge.js").read_bytes()

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=TIMEOUT) == 0


def test_install_without_the_ui_fails_naming_both_places(
    installed: Installed, wheel: Path
) -> None:
    with tempfile.TemporaryDirectory(prefix="io-pkg-", dir="/tmp") as temp:
        broken = Path(temp) / "site"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(broken)
        shutil.rmtree(broken / "backend" / "frontend")
        env = {**_clean_env(Path(temp)), "PYTHONPATH": str(broken)}
        done = subprocess.run(
            [str(installed.bin / "python"), "-m", "backend", "serve", "--port", "0"],
            cwd=temp, env=env, capture_output=True, text=True, timeout=TIMEOUT,
        )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("image-optimizer: error: The UI files are missing")
    assert "Traceback" not in done.stderr
    assert f"no index.html in {broken / 'backend' / 'frontend'} (installed package)" in last
    assert f"nor in {broken / 'frontend'} (source checkout)" in last


def test_checkout_serves_the_repository_frontend() -> None:
    assert frontend_dir() == FRONTEND

"""Where the UI's files are: the copy inside the installed package, else the checkout's.

The repository keeps the UI at its top level (``frontend/``); a wheel carries the same files as
package data in ``backend/frontend/`` (see ``[tool.setuptools]`` in pyproject.toml). So an
installed package finds them beside its own modules, and a checkout or editable install finds
them two levels up, beside ``backend/``.

Decision: a plain path beside the package's modules, not ``importlib.resources``. Both servers
(Flask's ``send_from_directory``, pywebview's own HTTP server) need a real folder on disk, which
``importlib.resources`` guarantees only for one file at a time (``as_file`` of a folder needs
3.12), and the packaged copy, having no ``__init__.py``, would come back as a namespace package's
``MultiplexedPath``. The packaged copy is tried first: beside an installed package, "two levels
up" is site-packages, where an unrelated ``frontend`` folder may sit.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
PACKAGED_DIR = _PACKAGE_DIR / "frontend"
CHECKOUT_DIR = _PACKAGE_DIR.parent / "frontend"


def frontend_dir() -> Path:
    """The folder holding ``index.html``, ``css/`` and ``js/``."""
    for folder in (PACKAGED_DIR, CHECKOUT_DIR):
        if (folder / "index.html").is_file():
            return folder
    raise FileNotFoundError(
        f"The UI files are missing: no index.html in {PACKAGED_DIR} (installed package) "
        f"nor in {CHECKOUT_DIR} (source checkout). Reinstall the package, or run from a "
        "checkout that has frontend/."
    )

"""What both app shells need before they open: the UI files and a worker pool sized by
``--workers``, then $IMAGE_OPTIMIZER_WORKERS, then the saved preference, then one per CPU
(``backend.worker_count.resolve``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from backend.errors import OptimizerError
from backend.settings_store import PreferencesStore
from backend.shells.frontend_files import frontend_dir
from backend.worker_count import resolve

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer


def prepare(workers: int | None) -> tuple[Path, ImageOptimizer] | None:
    """The UI folder and an unstarted optimizer; None, after one line on stderr, when the app
    cannot start (a broken install, a bad worker count)."""
    # Imported here: the desktop shell sets Qt's environment before anything imports the engine.
    from backend.core.optimizer import ImageOptimizer
    from backend.core.pool import ProcessPool

    try:
        ui = frontend_dir()
        count = resolve(workers, saved=PreferencesStore().load().workers)
        optimizer = ImageOptimizer(ProcessPool(count))
    except FileNotFoundError as exc:  # a broken install: the UI files are not there
        message = str(exc)
    except OptimizerError as exc:
        message = exc.message
    else:
        return ui, optimizer
    print(f"image-optimizer: error: {message}", file=sys.stderr)
    return None

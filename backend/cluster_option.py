"""``--cluster``/``IMAGE_OPTIMIZER_CLUSTER``: which executor a CLI batch runs on.

Kept apart from ``backend/cluster/`` so that choosing costs nothing: only when an address is
given is ``backend.cluster.executor`` imported, and with it ``distributed`` (the optional
``[cluster]`` extra). A plain run never loads Dask (tests/test_engine_imports.py).

Decisions:
- The flag wins over the environment; an empty variable means "no cluster".
- ``--workers`` with a cluster is refused: the cluster's workers are the cluster's
  (``dask worker --nworkers N``), and silently ignoring the flag would mislead.
- Without the extra installed, the error says which package to install.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from backend.cluster.connect import check_address, connect_timeout
from backend.errors import ClusterError, ValidationError

if TYPE_CHECKING:
    from backend.cluster.executor import DaskExecutor

CLUSTER_ENV = "IMAGE_OPTIMIZER_CLUSTER"


def resolve(flag: str | None, workers: int | None) -> str | None:
    """The checked scheduler address (``tcp://HOST:PORT``), or None for the local pool."""
    raw = flag if flag is not None else os.environ.get(CLUSTER_ENV, "")
    if not raw.strip():
        return None
    if workers is not None:
        raise ValidationError("--workers does not apply with a cluster: its size is set by "
                              "`dask worker --nworkers N --nthreads 1` on each machine")
    return check_address(raw)


def executor(address: str) -> DaskExecutor:
    """An unstarted executor for the scheduler at ``address`` (it connects on ``start``)."""
    timeout = connect_timeout()
    try:
        from backend.cluster.executor import DaskExecutor
    except ImportError as exc:
        raise ClusterError(f"--cluster needs Dask ({exc}): pip install "
                           "'image-optimizer[cluster]'") from None
    return DaskExecutor(address, timeout)

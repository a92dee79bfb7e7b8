"""The scheduler address and the connection: the one place Dask's connection errors become ours.

Decisions:
- An address is ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` (TLS certificates come from Dask's
  own configuration, ``distributed.comm.tls.*``); a bare ``HOST:PORT`` means tcp, as in Dask.
  Anything else is refused before any connection is tried, naming the value.
- Connecting waits ``IMAGE_OPTIMIZER_CLUSTER_TIMEOUT`` seconds (default 10; Dask retries a
  refused connection until then), then fails with a :class:`~backend.errors.ClusterError` that
  names the address and says what to check. The CLI exits 2 on it: nothing was optimized.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from backend.errors import ClusterError, ValidationError

if TYPE_CHECKING:
    from distributed import Client

TIMEOUT_ENV = "IMAGE_OPTIMIZER_CLUSTER_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


def check_address(text: str) -> str:
    """``text`` as a Dask scheduler address with its scheme (``tcp://`` when none is given)."""
    match = _ADDRESS.match(text.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ValidationError(f"cluster address {text!r}: expected tcp://HOST:PORT or "
                              "tls://HOST:PORT (a Dask scheduler, e.g. tcp://10.0.0.5:8786)")
    scheme = match.group(1) or "tcp"
    return f"{scheme}://{match.group(2)}:{match.group(3)}"


def connect_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ValidationError(f"{TIMEOUT_ENV}={raw!r}: expected seconds, more than 0 and at "
                              "most 3600")
    return value


def open_client(address: str, timeout: float) -> Client:
    """A connected client of the scheduler at ``address`` (checked by :func:`check_address`)."""
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                           f"({exc}): is `dask scheduler` running there and the port "
                           "open?") from None


def wait_for_workers(client: Client, address: str, timeout: float) -> None:
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        raise ClusterError(f"no Dask worker joined the scheduler at {address} within "
                           f"{timeout:g} s: start some with `dask worker {address}`") from None

"""The parent's handle on one worker process: the process, its three pipes, what it holds.

The bookkeeping of what a worker holds (:class:`~backend.core.pool_state.Seat`) is plain state,
unit-tested without processes; this class adds the process and its pipes.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext

import msgspec

from backend.core.pool_state import Seat
from backend.core.protocol import WorkItem
from backend.core.worker_process import worker_main


class WorkerHandle(Seat):
    def __init__(self, ctx: BaseContext, slot: int) -> None:
        task_r, task_w = ctx.Pipe(duplex=False)
        result_r, result_w = ctx.Pipe(duplex=False)
        life_r, life_w = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=worker_main, args=(task_r, result_w, life_r),
            name=f"image-optimizer-worker-{slot}", daemon=True,
        )
        try:
            self.process.start()
        finally:
            # The child has its own copies now; ours must go, or EOF would never be seen.
            task_r.close()
            result_w.close()
            life_r.close()
        super().__init__(slot, self.process.pid)
        self.tasks: Connection = task_w
        self.results: Connection = result_r
        self.lifeline: Connection = life_w  # never written: closing it (or dying) ends the worker
        self.eof = False
        self._encoder = msgspec.msgpack.Encoder()

    def send(self, items: list[WorkItem]) -> None:
        self.tasks.send_bytes(self._encoder.encode(items))

    def exit_description(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            return f"signal {-code}"
        return f"exit code {code}"

    def retire(self) -> None:
        """Ask the worker to exit once it has reported what it holds: EOF on its task pipe."""
        super().retire()
        self.tasks.close()

    def close(self) -> None:
        self.tasks.close()
        self.results.close()
        self.lifeline.close()

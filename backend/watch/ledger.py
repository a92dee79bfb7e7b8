"""What the watch has done, kept in SQLite: a restart redoes nothing finished.

Decisions:
- One row per path (``files``): size, mtime (ns), inode, SHA-256 of the content, the result
  (``optimized``, ``failed`` or ``skipped``, the output path, the error) and its role: ``input``
  (a file the watch processed) or ``output`` (a file it wrote). A file whose size, mtime and
  inode match its row is finished: not redone, whether it succeeded or failed (a broken image
  stays broken until it changes; retrying it each start would only repeat the error).
- A file whose stat differs but whose content hash matches (touched, copied back with the same
  bytes) is finished too: its row takes the new stat. Different content is redone.
- Outputs are rows too, with the stat they had when written: output ``replace`` writes over the
  input's own path (or a new name when the format changes) and that write must not look like a
  new image, or the watch would loop, re-encoding its own results.
- Cancelled images (the watch stopped mid-batch) leave no row: the next start does them.
- The database lives in the user data folder (``watch.sqlite3``), WAL mode, one connection
  shared by the service's threads under a lock. One process at a time owns it: an exclusive
  ``flock`` on ``watch.sqlite3.lock``; a second process gets :class:`LedgerBusyError` naming
  the holder, so the window and ``image-optimizer watch`` never optimize the same file twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

from msgspec import Struct

from backend.app_dirs import data_dir
from backend.errors import OptimizerError

LEDGER_FILE = "watch.sqlite3"
HASH_CHUNK = 1 << 20
Role = Literal["input", "output"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    output_path TEXT,
    error TEXT,
    finished_at REAL NOT NULL
)
"""


class LedgerBusyError(OptimizerError):
    kind = "busy"
    http_status = 409


class Stat(Struct, frozen=True):
    """What tells a file's version apart without reading it."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: str) -> Stat:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


def content_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def default_path() -> Path:
    return data_dir() / LEDGER_FILE


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(f"{self.path}.lock", "a+")  # noqa: SIM115 (held until close)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            raise LedgerBusyError(
                f"the watch ledger {self.path} is in use by Image Optimizer process {holder}: "
                "one process watches at a time (stop it, or give this one another --db)"
            ) from None
        self._lock_file.truncate(0)
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._mutex = threading.Lock()

    def close(self) -> None:
        with self._mutex:
            self._db.close()
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    def is_finished(self, path: str, stat: Stat) -> bool:
        """Whether this version of ``path`` (by its stat alone) was done or written by us."""
        with self._mutex:
            row = self._db.execute(
                "SELECT size, mtime_ns, inode FROM files WHERE path = ?", (path,)).fetchone()
        return row is not None and Stat(*row) == stat

    def same_content(self, path: str, stat: Stat, sha256: str) -> bool:
        """Whether ``path`` holds the bytes its row knows; if so the row takes the new stat."""
        with self._mutex:
            row = self._db.execute("SELECT sha256 FROM files WHERE path = ?", (path,)).fetchone()
            if row is None or row[0] != sha256:
                return False
            self._db.execute("UPDATE files SET size = ?, mtime_ns = ?, inode = ? WHERE path = ?",
                             (stat.size, stat.mtime_ns, stat.inode, path))
        return True

    def record(self, path: str, stat: Stat, sha256: str, role: Role, status: str,
               output_path: str | None = None, error: str | None = None) -> None:
        with self._mutex:
            self._db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (path, stat.size, stat.mtime_ns, stat.inode, sha256, role, status, output_path,
                 error, time.time()))

    def record_output(self, path: str) -> None:
        """A file we wrote, as it is now (gone already: nothing to remember)."""
        try:
            stat = Stat.of(path)
            sha256 = content_hash(path)
        except OSError:
            return
        self.record(path, stat, sha256, "output", "written")

    def status_of(self, path: str) -> str | None:
        with self._mutex:
            row = self._db.execute("SELECT status FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else str(row[0])

    def count(self, role: Role = "input") -> int:
        with self._mutex:
            return int(self._db.execute(
                "SELECT COUNT(*) FROM files WHERE role = ?", (role,)).fetchone()[0])

"""``output: replace``: the optimized file takes the original's place, the original is backed up
first, and a batch can be reverted.

Decisions:

- Backups live in the user data folder (``~/.local/share/image-optimizer/backups`` on Linux;
  ``$IMAGE_OPTIMIZER_DATA_DIR`` overrides), one folder per batch named by its start time
  (``20261202-153000-1a2b3c``), never in the trash: a revert must find the bytes where it left
  them, and a trash can be emptied by anyone. Each image adds ``<n>-<name>`` (the original's
  bytes, mode and dates) and ``<n>.json`` (where it came from, where the result went, the result's
  SHA-256).
- The order of steps makes every crash safe: (1) the backup is written and fsynced, then its
  entry; (2) the result is written to a temporary file beside the original, given the original's
  dates, and renamed over it (or over its new name when the format changes); (3) only then, for a
  format change, is the original's old name removed. Killed after (1) the original is untouched;
  after (2) the result is in place and the backup knows it; the source path is never empty.
- The original is copied, not moved, to the backup: a move across filesystems is a copy anyway,
  and a copy leaves the original in place until the result replaces it atomically.
- A result that is not smaller leaves the original untouched (no backup, nothing to revert).
- Revert restores bytes, permissions and dates exactly (temporary file + rename, like any write)
  and removes a result written under another name. A result that changed since the batch (its
  SHA-256 differs) is left alone and reported, so a revert never destroys later work; an entry
  whose backup is gone is reported and nothing is touched for it. Entries restored are removed
  from the batch; a fully reverted batch's folder is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec
from msgspec import Struct

from backend.app_dirs import data_dir
from backend.core.atomic_write import write_atomically
from backend.errors import OutputError, ValidationError

ENTRY_SUFFIX = ".json"


class BackupEntry(Struct, kw_only=True):
    """One replaced image, as written beside its backup."""

    original_path: str
    optimized_path: str
    backup_file: str  # a name inside the batch folder
    size: int
    mode: int
    atime_ns: int
    mtime_ns: int
    optimized_sha256: str


class RevertFailure(Struct, kw_only=True):
    path: str
    error: str


class RevertReport(Struct, kw_only=True):
    batch: str
    restored: list[str]
    failed: list[RevertFailure]


class BatchSummary(Struct, kw_only=True):
    batch: str
    images: int
    created: float  # seconds since the epoch


def backups_root() -> Path:
    return data_dir() / "backups"


def new_batch(root: Path | None = None) -> Path:
    """A fresh, empty batch folder; an OutputError naming it when it cannot be made."""
    root = root or backups_root()
    name = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    folder = root / name
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise OutputError(f"cannot create the backup folder {folder}: {exc.strerror or exc}",
                          path=str(folder)) from exc
    return folder


def backup_prefix(batch: Path, index: int) -> str:
    return str(batch / f"{index:06d}")


@dataclass(frozen=True, slots=True)
class Original:
    """What a revert must give back."""

    path: str
    data: bytes
    mode: int
    atime_ns: int
    mtime_ns: int


def back_up(prefix: str, original: Original, optimized_path: str, optimized: bytes) -> None:
    """Step 1: the original's bytes and its entry, on disk before the original is touched."""
    backup_file = f"{os.path.basename(prefix)}-{os.path.basename(original.path)}"
    folder = os.path.dirname(prefix)
    entry = BackupEntry(
        original_path=original.path, optimized_path=optimized_path, backup_file=backup_file,
        size=len(original.data), mode=original.mode, atime_ns=original.atime_ns,
        mtime_ns=original.mtime_ns, optimized_sha256=hashlib.sha256(optimized).hexdigest())
    try:
        write_atomically(os.path.join(folder, backup_file), original.data, mode=0o600, sync=True)
        write_atomically(prefix + ENTRY_SUFFIX, msgspec.json.encode(entry), mode=0o600, sync=True)
    except OSError as exc:
        raise OutputError(
            f"cannot back up the original into {folder}: {exc.strerror or exc} (the original "
            "was left as it is)", path=original.path) from exc


def remove_replaced_source(original_path: str, optimized_path: str) -> None:
    """Step 3, after a format change: the original's old name goes (its backup is safe)."""
    if os.path.normcase(os.path.abspath(original_path)) != os.path.normcase(
            os.path.abspath(optimized_path)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(original_path)


# ---- listing and reverting --------------------------------------------------------------------


def batches(root: Path | None = None) -> list[BatchSummary]:
    """Batches that can be reverted, newest first."""
    root = root or backups_root()
    found = []
    with contextlib.suppress(FileNotFoundError):
        for folder in root.iterdir():
            entries = list(folder.glob(f"*{ENTRY_SUFFIX}")) if folder.is_dir() else []
            if entries:
                found.append(BatchSummary(batch=folder.name, images=len(entries),
                                          created=folder.stat().st_mtime))
    return sorted(found, key=lambda b: b.batch, reverse=True)


def batch_folder(batch: str | None, root: Path | None = None) -> Path:
    """The folder of ``batch`` (None: the newest); a ValidationError when there is none."""
    root = root or backups_root()
    if batch is None:
        known = batches(root)
        if not known:
            raise ValidationError(f"nothing to revert: no replaced originals in {root}")
        batch = known[0].batch
    if not batch or os.sep in batch or batch.startswith(".") or (os.altsep and os.altsep in batch):
        raise ValidationError(f"Invalid batch: {batch!r}")
    folder = root / batch
    if not folder.is_dir():
        raise ValidationError(f"no such batch to revert: {batch} (in {root})")
    return folder


def revert(batch: str | None = None, root: Path | None = None) -> RevertReport:
    """Put every original of ``batch`` (None: the newest) back; see the module docstring."""
    folder = batch_folder(batch, root)
    restored: list[str] = []
    failed: list[RevertFailure] = []
    for entry_path in sorted(folder.glob(f"*{ENTRY_SUFFIX}")):
        try:
            entry = msgspec.json.decode(entry_path.read_bytes(), type=BackupEntry)
        except (OSError, msgspec.DecodeError) as exc:
            failed.append(RevertFailure(path=str(entry_path), error=f"unreadable entry: {exc}"))
            continue
        problem = _restore(folder, entry)
        if problem is None:
            restored.append(entry.original_path)
            with contextlib.suppress(OSError):
                os.unlink(folder / entry.backup_file)
                entry_path.unlink()
        else:
            failed.append(RevertFailure(path=entry.original_path, error=problem))
    if not failed:
        with contextlib.suppress(OSError):
            for leftover in folder.iterdir():
                leftover.unlink()
            folder.rmdir()
    return RevertReport(batch=folder.name, restored=restored, failed=failed)


def _restore(folder: Path, entry: BackupEntry) -> str | None:
    """Restore one original; the problem as a sentence, or None."""
    try:
        data = (folder / entry.backup_file).read_bytes()
    except FileNotFoundError:
        return f"its backup is gone ({folder / entry.backup_file}); nothing was changed"
    except OSError as exc:
        return f"cannot read its backup: {exc.strerror or exc}; nothing was changed"
    if len(data) != entry.size:
        return "its backup is incomplete; nothing was changed"
    try:
        current = Path(entry.optimized_path).read_bytes()
    except FileNotFoundError:
        current = None
    except OSError as exc:
        return f"cannot read {entry.optimized_path}: {exc.strerror or exc}; nothing was changed"
    if current is not None and hashlib.sha256(current).hexdigest() != entry.optimized_sha256:
        return (f"{entry.optimized_path} changed after it was optimized; left as it is (its "
                f"original is still in {folder})")
    target = entry.original_path
    try:
        write_atomically(target, data, dates=(entry.atime_ns, entry.mtime_ns), mode=entry.mode)
    except OSError as exc:
        return f"cannot write {target}: {exc.strerror or exc}; nothing was changed"
    if current is not None:
        remove_replaced_source(entry.optimized_path, target)
    return None

"""Where each output goes: output format, default path, extension, collisions, temp files.

Decisions:

- "original" keeps each input's format where we can write it, else the registry's
  ``original_output`` for it (GIF, TIFF and BMP become PNG; see ``formats/registry.py``).
- Placement (``output``) when a task names no output path:
  - ``subfolder`` (default): ``<input folder>/optimized/<stem>.<ext>``.
  - ``folder``: ``<outputFolder>/<the input's folder below the batch's root>/<stem>.<ext>``, so
    ``in/a/x.jpg`` and ``in/b/x.jpg`` dropped as ``in`` become ``out/a/x.jpg`` and ``out/b/x.jpg``.
    The root is the common folder of what was dropped or named (``roots``: a named folder is its
    own root, a named file its folder), else of the inputs' folders. Drive-root pitfall: when
    that common folder is the filesystem root (files from ``/home`` and ``/mnt``), the tree below
    ``/`` is mirrored (``out/home/…``, ``out/mnt/…``), never flattened; inputs on different
    Windows drives get a folder per drive (``out/C/…``).
  - ``beside``: ``<input folder>/<stem><suffix>.<ext>``, default suffix ``-optimized``
    (``photo.jpg`` → ``photo-optimized.jpg``).
  - ``replace``: the input's own path, its extension corrected when the format changes; a file
    already on disk under that new name is never overwritten (``-2`` … as for collisions). The
    original is backed up first (``replace.py``).
  An explicit output path that is an existing folder (or ends with a path separator) is treated
  as ``<that folder>/<stem>.<ext>``.
- An input of a vector format keeps its own extension when it stays in that format: ``.svgz``
  stays ``.svgz``, since the output is stored gzipped as its input was.
- The extension always matches the output format, also for an explicit output path
  (``photo.png`` → webp gives ``photo.webp``). An extension that already names the output format
  is kept as written (``.jpeg``, ``.JPG``), otherwise the canonical one is used (``.jpg`` for JPEG).
- Two tasks of one batch never write the same file: the first keeps the name, later ones get
  ``-2``, ``-3``, … before the extension, in task order, so the result is deterministic. Files that
  already exist on disk from an earlier run are overwritten (a re-run refreshes its results).
- An output that would land on another task's input is renamed the same way; an output equal to
  the task's own input is not renamed here: the pipeline refuses that image.
- Temporary files are ``.<final name>.<random>.io-partial`` in the target folder, hidden and
  recognisable, so :func:`partial_files` can find what a killed worker left.
"""

from __future__ import annotations

import os

from backend.core.discovery import OUTPUT_FOLDER_NAME, sniff_format
from backend.core.formats.registry import (
    ORIGINAL,
    canonical,
    format_for_extension,
    output_for_input,
    output_format,
)
from backend.types import ImageSettings, Task

PARTIAL_SUFFIX = ".io-partial"


def output_extension(fmt: str) -> str:
    """The canonical file extension, with its dot, of output format ``fmt`` (``jpg`` → ``.jpg``)."""
    return output_format(fmt).extension


def resolve_output_format(input_format: str, settings: ImageSettings) -> str:
    """The output format for an input of content format ``input_format`` under ``settings``."""
    wanted = canonical(settings.outputFormat)
    return output_for_input(input_format) if wanted == ORIGINAL else wanted


def with_extension(path: str, output_format: str) -> str:
    """``path`` with its extension corrected to ``output_format`` (kept if it already names it)."""
    root, ext = os.path.splitext(path)
    claimed = format_for_extension(ext)
    if claimed is not None and claimed.id == canonical(output_format):
        return path
    return root + output_extension(output_format)


def _extension_for(input_path: str, output_format: str) -> str:
    ext = os.path.splitext(input_path)[1]
    claimed = format_for_extension(ext)
    if claimed is not None and claimed.vector and claimed.id == canonical(output_format):
        return ext
    return output_extension(output_format)


def default_output_path(input_path: str, output_format: str, out_dir: str | None = None) -> str:
    """``<input dir>/optimized/<stem>.<ext>``, or ``<out_dir>/<stem>.<ext>``."""
    folder = out_dir or os.path.join(os.path.dirname(input_path), OUTPUT_FOLDER_NAME)
    stem = os.path.splitext(os.path.basename(input_path))[0]
    return os.path.join(folder, stem + _extension_for(input_path, output_format))


def batch_root(tasks: list[Task], roots: list[str] | None = None) -> str | None:
    """The folder whose tree ``folder`` placement mirrors: the common folder of ``roots`` (named
    folders as themselves, named files as their folder), else of the inputs' folders."""
    if roots:
        folders = [os.path.abspath(r if os.path.isdir(r) else os.path.dirname(r) or ".")
                   for r in roots]
    else:
        folders = [os.path.dirname(os.path.abspath(t.input_path)) for t in tasks
                   if t.settings.output == "folder"]
    if not folders:
        return None
    try:
        return os.path.commonpath(folders)
    except ValueError:  # different drives (Windows): each keeps its drive as a folder
        return None


def mirrored_folder(input_path: str, root: str | None, out_dir: str) -> str:
    """The folder in ``out_dir`` that stands for ``input_path``'s folder below ``root``."""
    folder = os.path.dirname(os.path.abspath(input_path))
    if root is not None:
        relative = os.path.relpath(folder, root)
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            return os.path.normpath(os.path.join(out_dir, relative))
    # Outside the root (or no common root): the whole path, its drive as a plain folder name.
    drive, rest = os.path.splitdrive(folder)
    parts = [drive.rstrip(":\\/")] if drive else []
    return os.path.join(out_dir, *parts, rest.lstrip("\\/"))


def input_format_guess(input_path: str) -> str:
    """The input's content format, from its first bytes, else its extension, else "png".

    Cheap on purpose: this runs in the main process for every task before dispatch; a file that
    cannot be read here gets its real error from the pipeline later.
    """
    sniffed = sniff_format(input_path)
    if sniffed is not None:
        return sniffed
    claimed = format_for_extension(os.path.splitext(input_path)[1])
    return claimed.id if claimed is not None else "png"


def _wanted_path(task: Task, root: str | None) -> str:
    settings = task.settings
    output_format = resolve_output_format(input_format_guess(task.input_path), settings)
    explicit = task.output_path
    if explicit:
        if explicit.endswith(("/", os.sep)) or os.path.isdir(explicit):
            return default_output_path(task.input_path, output_format, explicit)
        return with_extension(explicit, output_format)
    if settings.output == "folder" and settings.outputFolder:
        out_dir = mirrored_folder(task.input_path, root, settings.outputFolder)
        return default_output_path(task.input_path, output_format, out_dir)
    if settings.output == "beside":
        stem, _ = os.path.splitext(task.input_path)
        return stem + settings.suffix + _extension_for(task.input_path, output_format)
    if settings.output == "replace":
        return with_extension(task.input_path, output_format)
    return default_output_path(task.input_path, output_format)


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _taken(candidate: str, own: str, taken: set[str], inputs: set[str], replacing: bool) -> bool:
    key = _key(candidate)
    if key in taken or (key in inputs and key != own):
        return True
    # Replacing photo.png by photo.webp must not overwrite a photo.webp the batch knows nothing of.
    return replacing and key != own and os.path.lexists(candidate)


def assign_output_paths(tasks: list[Task], roots: list[str] | None = None) -> list[str]:
    """The final output path of every task, in task order, no two the same.

    An output is also renamed when it would land on *another* task's input (``photo.png`` and
    ``photo.webp`` both converted to WebP into their own folder), so a batch never overwrites
    one of its inputs. An output equal to the task's own input is left for the pipeline to
    refuse (with ``replace``: to replace, after its backup).
    """
    root = batch_root(tasks, roots)
    inputs = {_key(task.input_path) for task in tasks}
    taken: set[str] = set()
    assigned: list[str] = []
    for task in tasks:
        own = _key(task.input_path)
        path = _wanted_path(task, root)
        stem, ext = os.path.splitext(path)
        candidate, n = path, 1
        while _taken(candidate, own, taken, inputs, task.settings.output == "replace"):
            n += 1
            candidate = f"{stem}-{n}{ext}"
        taken.add(_key(candidate))
        assigned.append(candidate)
    return assigned


def partial_name_prefix(output_path: str) -> str:
    return f".{os.path.basename(output_path)}."


def partial_files(output_path: str) -> list[str]:
    """Temporary files that belong to ``output_path`` (left by a worker killed mid-write)."""
    folder = os.path.dirname(output_path) or "."
    prefix = partial_name_prefix(output_path)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(prefix) and name.endswith(PARTIAL_SUFFIX):
            token = name[len(prefix) : -len(PARTIAL_SUFFIX)]
            # The random part has no dot, so "photo" never claims "photo.webp"'s temp files.
            if token and "." not in token:
                found.append(os.path.join(folder, name))
    return sorted(found)


def remove_partial_files(output_path: str) -> list[str]:
    """Delete the temporary files of ``output_path``; the paths removed."""
    removed = []
    for path in partial_files(output_path):
        try:
            os.unlink(path)
        except OSError:
            continue  # gone already, or not ours to remove: nothing is left to clean
        removed.append(path)
    return removed

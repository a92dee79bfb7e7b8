"""The command registry and ``invoke(command, args, context)``: the only door into the app.

Both shells (the pywebview window and the HTTP bridge) call :func:`invoke` with the command name
and the JSON object of named arguments, exactly as Tauri's ``invoke`` takes them. Every command
validates its arguments with msgspec into a Struct, and every outcome — a result or an error — is
wrapped here, in one place, into a :class:`Reply`, so both transports return the same shapes.

Decisions:
- Argument objects refuse unknown names (a typo is an error naming it, not an ignored option).
- ``optimize_image`` also accepts Tauri's camelCase names (``inputPath``, ``outputPath``): the
  original frontend would have sent those, since Tauri renames Rust's snake_case arguments.
- ``optimize_images`` with an empty task list returns ``[]`` without touching the pool.
- The browser shell confines every path argument to its session folder (``path_root``): the page
  only ever needs its uploads, so a leaked token could not read or write elsewhere on the disk.
- ``pick_files`` with ``folders: true`` expands the chosen folders like a drop (``recursive``
  as the page's "Include sub-folders" says).
- ``save_preferences`` saves first and then resizes the running pool (a batch in progress goes on;
  see ProcessPool.resize), so a refused save changes nothing. This is where a worker count from
  the page enters, so it is checked here (msgspec's bounds, then this machine's); null ("Auto")
  means one per CPU. The saved worker count applies at
  the next launch too, unless ``--workers`` or $IMAGE_OPTIMIZER_WORKERS is given there.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, field

from backend.contract import Contract, contract
from backend.core.discovery import SUPPORTED_INPUTS, Skipped, expand_paths
from backend.core.formats.registry import OUTPUT_IDS
from backend.core.replace import RevertReport, revert
from backend.core.sizing import cpu_count, default_workers, max_workers
from backend.errors import (
    ForbiddenPathError,
    OptimizerError,
    UnknownCommandError,
    UnsupportedCommandError,
    ValidationError,
    error_envelope,
)
from backend.preview_command import PreviewImageArgs, preview_image
from backend.settings_store import PreferencesStore, SettingsStore
from backend.types import AppPreferences, ImageSettings, OptimizationResult, PreviewResult, Task
from backend.validation import convert, decode_tasks
from backend.watch.commands import WATCH_COMMANDS

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer
    from backend.watch.manager import WatchManager

log = logging.getLogger(__name__)

APP_NAME = "Image Optimizer"
Shell = Literal["desktop", "browser"]


@dataclass(frozen=True)
class AppContext:
    """What the commands act on; built once by a shell."""

    optimizer: ImageOptimizer
    settings: SettingsStore
    shell: Shell
    # Desktop only: open the native dialog, return the chosen paths (empty when cancelled).
    pick_files: Callable[[bool], list[str]] | None = None
    # Browser only: every path argument must resolve inside this folder.
    path_root: str | None = None
    # Where replace batches keep their originals (None: replace.backups_root()); the optimizer
    # must be built with the same folder.
    backups: Path | None = None
    # The watched folders (backend/watch/); None: this shell runs no watch service.
    watch: WatchManager | None = None

    @cached_property
    def preferences(self) -> PreferencesStore:
        """Kept next to the settings file."""
        return PreferencesStore(self.settings.path.parent)


class ErrorBody(Struct):
    kind: str
    message: str


class Reply(Struct):
    """One command's outcome, the same for every transport."""

    ok: bool
    result: Any = None
    error: ErrorBody | None = None


# ---- argument and result shapes ---------------------------------------------------------------


class NoArgs(Struct, forbid_unknown_fields=True):
    pass


class OptimizeImageArgs(Struct, forbid_unknown_fields=True, kw_only=True):
    input_path: Annotated[str, Meta(min_length=1)]
    output_path: str | None = None
    settings: ImageSettings = field(default_factory=ImageSettings)


class OptimizeImagesArgs(Struct, forbid_unknown_fields=True):
    # Items are decoded by validation.decode_tasks, which names the failing task's index.
    tasks: list[Any]
    # What was dropped (files and folders): the tree that output "folder" mirrors.
    roots: list[str] | None = None


class PickFilesArgs(Struct, forbid_unknown_fields=True):
    folders: bool = False
    # As for a drop: chosen folders with their sub-folders, skipping what a batch with
    # ``settings`` wrote before.
    recursive: bool = False
    settings: ImageSettings | None = None


class RevertArgs(Struct, forbid_unknown_fields=True):
    batch: str | None = None  # None: the newest batch


class FolderResult(Struct):
    path: str | None  # None: the dialog was cancelled


class ExpandPathsArgs(Struct, forbid_unknown_fields=True):
    paths: list[str]
    recursive: bool = False
    # The batch's settings: its own earlier outputs (output folder, beside suffix) are skipped.
    settings: ImageSettings | None = None


class SaveSettingsArgs(Struct, forbid_unknown_fields=True):
    settings: ImageSettings


class SavePreferencesArgs(Struct, forbid_unknown_fields=True):
    preferences: AppPreferences


class PathsResult(Struct, omit_defaults=True):
    paths: list[str]
    skipped: list[Skipped]
    folders: int = 0  # folders walked: the window asks before a large tree's batch
    bytes: int = 0  # total size of ``paths``
    roots: list[str] | None = None  # what was chosen: the tree a "folder" output mirrors


class CancelResult(Struct):
    cancelled: int


class AppInfo(Struct):
    name: str
    version: str
    shell: Shell
    workers: int
    alive: int
    cpuCount: int
    maxWorkers: int  # the largest worker count this machine accepts
    supportedInputs: list[str]
    outputFormats: list[str]
    contract: Contract  # what the page builds its Options controls from


# ---- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str
    args_type: type[Struct]
    handler: Callable[[AppContext, Any], Any]
    aliases: dict[str, str]


COMMANDS: dict[str, Command] = {}


def register_command(
    name: str, args_type: type[Struct], *, aliases: dict[str, str] | None = None
) -> Callable[[Callable[[AppContext, Any], Any]], Callable[[AppContext, Any], Any]]:
    def register(handler: Callable[[AppContext, Any], Any]) -> Callable[[AppContext, Any], Any]:
        COMMANDS[name] = Command(name, args_type, handler, aliases or {})
        return handler

    return register


def invoke(command: str, args: Any, context: AppContext) -> Reply:
    """Validate, run and wrap one command. Never raises."""
    started = time.perf_counter()
    try:
        spec = COMMANDS.get(command)
        if spec is None:
            raise UnknownCommandError(
                f"Unknown command {command!r}; known commands: {', '.join(sorted(COMMANDS))}"
            )
        result = spec.handler(context, _decode_args(spec, args))
    except OptimizerError as exc:
        log.warning("command refused: command=%s kind=%s message=%s", command, exc.kind, exc)
        return Reply(ok=False, error=ErrorBody(**error_envelope(exc)))
    except Exception as exc:
        log.exception("command failed: command=%s", command)
        return Reply(ok=False, error=ErrorBody(**error_envelope(exc)))
    log.debug("command done: command=%s ms=%.1f", command, (time.perf_counter() - started) * 1e3)
    return Reply(ok=True, result=result)


def _decode_args(spec: Command, args: Any) -> Struct:
    if args is None:
        args = {}
    if not isinstance(args, dict):
        shown = msgspec.json.encode(args).decode()[:80]
        raise ValidationError(
            f"Invalid {spec.name} arguments: expected an object of named arguments, got {shown}"
        )
    if spec.aliases:
        args = {spec.aliases.get(key, key): value for key, value in args.items()}
    return convert(args, spec.args_type, what=f"{spec.name} arguments")


def _confine(context: AppContext, path: str | None) -> None:
    if context.path_root is None or path is None:
        return
    root = os.path.realpath(context.path_root)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise ForbiddenPathError(f"Path outside this session's folder is not allowed: {path}")


def _confined_tasks(context: AppContext, tasks: list[Task]) -> list[Task]:
    for task in tasks:
        _confine(context, task.input_path)
        _confine(context, task.output_path)
        _confine(context, task.settings.outputFolder)
        if context.path_root is not None and task.settings.output == "replace":
            raise ValidationError('Invalid settings: output = "replace": the browser works on '
                                  "uploaded copies; replacing originals is for the desktop window "
                                  "and the command line")
    return tasks


# ---- the commands -----------------------------------------------------------------------------


@register_command(
    "optimize_image",
    OptimizeImageArgs,
    aliases={"inputPath": "input_path", "outputPath": "output_path"},
)
def _optimize_image(context: AppContext, args: OptimizeImageArgs) -> OptimizationResult:
    task = Task(input_path=args.input_path, output_path=args.output_path, settings=args.settings)
    return context.optimizer.optimize_image(_confined_tasks(context, [task])[0])


@register_command("optimize_images", OptimizeImagesArgs)
def _optimize_images(context: AppContext, args: OptimizeImagesArgs) -> list[OptimizationResult]:
    tasks = _confined_tasks(context, decode_tasks(args.tasks))
    if not tasks:
        return []
    for root in args.roots or ():
        _confine(context, root)
    return context.optimizer.optimize_images(tasks, roots=args.roots)


@register_command("preview_image", PreviewImageArgs, aliases={"inputPath": "input_path"})
def _preview_image(context: AppContext, args: PreviewImageArgs) -> PreviewResult:
    """Encode one image in the pool, write nothing (``backend/preview_command.py``)."""
    _confine(context, args.input_path)
    return preview_image(context.optimizer, args)


@register_command("get_active_tasks", NoArgs)
def _get_active_tasks(context: AppContext, _args: NoArgs) -> list[str]:
    return context.optimizer.active_tasks()


@register_command("cancel_optimization", NoArgs)
def _cancel_optimization(context: AppContext, _args: NoArgs) -> CancelResult:
    return CancelResult(cancelled=context.optimizer.cancel())


@register_command("pick_files", PickFilesArgs)
def _pick_files(context: AppContext, args: PickFilesArgs) -> PathsResult:
    if context.pick_files is None:
        raise UnsupportedCommandError(
            "pick_files needs the desktop window; in a browser, choose files with the page's picker"
        )
    chosen = context.pick_files(args.folders)
    found = expand_paths(chosen, recursive=args.recursive, settings=args.settings)
    return PathsResult(paths=found.paths, skipped=found.skipped, folders=found.folders,
                       bytes=found.bytes, roots=chosen or None)


@register_command("revert_batch", RevertArgs)
def _revert_batch(context: AppContext, args: RevertArgs) -> RevertReport:
    """Put back the originals of a ``replace`` batch (see ``core/replace.py``)."""
    if context.path_root is not None:
        raise UnsupportedCommandError("revert_batch is for the desktop window: the browser's files "
                                      "are uploaded copies")
    return revert(args.batch, context.backups)


@register_command("pick_folder", NoArgs)
def _pick_folder(context: AppContext, _args: NoArgs) -> FolderResult:
    """The native folder dialog, for the output folder (its images are not listed)."""
    if context.pick_files is None:
        raise UnsupportedCommandError("pick_folder needs the desktop window")
    chosen = context.pick_files(True)
    return FolderResult(path=chosen[0] if chosen else None)


@register_command("expand_paths", ExpandPathsArgs)
def _expand_paths(context: AppContext, args: ExpandPathsArgs) -> PathsResult:
    for path in args.paths:
        _confine(context, path)
    found = expand_paths(args.paths, recursive=args.recursive, settings=args.settings)
    return PathsResult(paths=found.paths, skipped=found.skipped, folders=found.folders,
                       bytes=found.bytes)


@register_command("load_settings", NoArgs)
def _load_settings(context: AppContext, _args: NoArgs) -> ImageSettings:
    return context.settings.load()


@register_command("save_settings", SaveSettingsArgs)
def _save_settings(context: AppContext, args: SaveSettingsArgs) -> ImageSettings:
    return context.settings.save(args.settings)


@register_command("load_preferences", NoArgs)
def _load_preferences(context: AppContext, _args: NoArgs) -> AppPreferences:
    return context.preferences.load()


@register_command("save_preferences", SavePreferencesArgs)
def _save_preferences(context: AppContext, args: SavePreferencesArgs) -> AppPreferences:
    workers = args.preferences.workers
    limit = max_workers()
    if workers is not None and workers > limit:
        raise ValidationError(
            f"Invalid preferences: workers = {workers}: this machine takes 1 to {limit} "
            f"(8 per CPU, {cpu_count()} CPUs), or null for one per CPU")
    saved = context.preferences.save(args.preferences)
    # "Auto" (null) is one per CPU, whatever the environment said at launch.
    context.optimizer.set_workers(default_workers() if workers is None else workers)
    return saved


for _watch_command in WATCH_COMMANDS:  # add/remove_watch_folder, get_watch_status
    register_command(_watch_command.name, _watch_command.args_type)(_watch_command.handler)


@register_command("get_app_info", NoArgs)
def _get_app_info(context: AppContext, _args: NoArgs) -> AppInfo:
    pool = context.optimizer.info()
    return AppInfo(
        name=APP_NAME,
        version=app_version(),
        shell=context.shell,
        workers=pool.workers,
        alive=pool.alive,
        cpuCount=cpu_count(),
        maxWorkers=max_workers(),
        supportedInputs=sorted(SUPPORTED_INPUTS),
        outputFormats=list(OUTPUT_IDS),
        contract=contract(),
    )


def app_version() -> str:
    try:
        return metadata.version("image-optimizer")
    except metadata.PackageNotFoundError:
        return "0+unknown"

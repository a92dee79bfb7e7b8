"""The watch commands, declared here and registered by ``backend/commands.py`` (which imports
this module, never the other way round: the registry stays the one door in).

Browser mode: the page may add and remove watched folders by path too. The HTTP bridge answers
only the person at this computer (loopback, the per-launch token, Host/Origin checks), the same
user who could run ``image-optimizer watch``; so watching a local folder is the one thing the
browser may do outside its session folder. As for batches, ``replace`` is refused there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from msgspec import Meta, Struct, field

from backend.errors import UnsupportedCommandError, ValidationError
from backend.types import ImageSettings
from backend.watch.model import WatchStatus

if TYPE_CHECKING:
    from backend.watch.manager import WatchManager


class WatchContext(Protocol):
    """What these commands need of ``commands.AppContext``."""

    @property
    def watch(self) -> WatchManager | None: ...

    @property
    def shell(self) -> str: ...


class AddWatchFolderArgs(Struct, forbid_unknown_fields=True, kw_only=True):
    path: Annotated[str, Meta(min_length=1)]
    recursive: bool = False
    # The options its images get: the page sends the Options menu's at the time it is added.
    settings: ImageSettings = field(default_factory=ImageSettings)


class RemoveWatchFolderArgs(Struct, forbid_unknown_fields=True):
    id: Annotated[str, Meta(min_length=1)]


class NoWatchArgs(Struct, forbid_unknown_fields=True):
    pass


def _manager(context: WatchContext) -> WatchManager:
    if context.watch is None:
        raise UnsupportedCommandError("watch folders are not available in this app")
    return context.watch


def _add(context: WatchContext, args: AddWatchFolderArgs) -> WatchStatus:
    if context.shell == "browser" and args.settings.output == "replace":
        raise ValidationError('Invalid settings: output = "replace": replacing originals is for '
                              "the desktop window and the command line")
    return _manager(context).add(args.path, args.recursive, args.settings)


def _remove(context: WatchContext, args: RemoveWatchFolderArgs) -> WatchStatus:
    return _manager(context).remove(args.id)


def _status(context: WatchContext, _args: NoWatchArgs) -> WatchStatus:
    manager = context.watch
    if manager is None:
        return WatchStatus(running=False, message="watch folders are not available in this app",
                           folders=[], recent=[])
    return manager.status()


@dataclass(frozen=True)
class WatchCommand:
    name: str
    args_type: type[Struct]
    handler: Callable[[Any, Any], Any]


WATCH_COMMANDS = (
    WatchCommand("add_watch_folder", AddWatchFolderArgs, _add),
    WatchCommand("remove_watch_folder", RemoveWatchFolderArgs, _remove),
    WatchCommand("get_watch_status", NoWatchArgs, _status),
)

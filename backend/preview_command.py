"""``preview_image(input_path, settings, original=false)``: the compare view's command.

Encodes one image in the worker pool with ``settings`` and writes nothing; returns a
:class:`~backend.types.PreviewResult` (the encoded bytes, base64 on the wire, with size,
dimensions, format and an SSIMULACRA2 score; with ``original: true`` also the original as the page
can draw it). The page asks for the original once, when the view opens, not on every re-tune.

Decisions:
- Bytes travel inside the reply (base64), in both shells: one shape for the window's JS bridge
  and the HTTP one, no second URL to guard, and nothing kept on the server between calls. It
  costs a third more bytes than a download; a 12 MP JPEG result is ~2-4 MB, well within what
  both bridges carry in a fraction of a second.
- ``output: replace`` previews as the default placement: the preview writes nothing, and the
  compare view saves to the row's own output path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta, Struct, field

from backend.types import ImageSettings, PreviewResult

if TYPE_CHECKING:
    from backend.core.optimizer import ImageOptimizer


class PreviewImageArgs(Struct, forbid_unknown_fields=True, kw_only=True):
    input_path: Annotated[str, Meta(min_length=1)]
    settings: ImageSettings = field(default_factory=ImageSettings)
    original: bool = False  # also send the original, as the page can draw it


def preview_image(optimizer: ImageOptimizer, args: PreviewImageArgs) -> PreviewResult:
    settings = args.settings
    if settings.output == "replace":
        settings = msgspec.structs.replace(settings, output="subfolder")
    return optimizer.preview_image(args.input_path, settings, original=args.original)

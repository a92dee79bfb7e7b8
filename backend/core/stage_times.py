"""Seconds per pipeline stage of one image: measured in a worker, reported to the parent.

A leaf module (msgspec only) so the message protocol can carry it without importing the pipeline
and its codecs."""

from __future__ import annotations

from msgspec import Struct


class StageTimes(Struct, kw_only=True):
    """Seconds spent in each stage of one image, for benchmark mode."""

    load: float = 0.0
    resize: float = 0.0
    encode: float = 0.0
    optimize: float = 0.0
    write: float = 0.0

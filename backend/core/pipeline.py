"""One image: load → orient → resize → encode → optimize → atomic write.

PLACEHOLDER (being replaced by the full pipeline): the signature below is the contract the pool
and the CLI rely on.
"""

from __future__ import annotations

import os
import tempfile
import time

from msgspec import Struct
from PIL import Image

from backend.types import ImageSettings, OptimizationResult, savings


class StageTimes(Struct, kw_only=True):
    """Seconds spent in each stage of one image, for benchmark mode."""

    load: float = 0.0
    resize: float = 0.0
    encode: float = 0.0
    optimize: float = 0.0
    write: float = 0.0


def warm_up() -> None:
    """Import and exercise every codec once so a worker's first real image pays nothing extra."""


def optimize_file(
    input_path: str, output_path: str, settings: ImageSettings
) -> tuple[OptimizationResult, StageTimes]:
    """Never raises for a problem with this image: it comes back as ``success=False``."""
    times = StageTimes()
    t0 = time.perf_counter()
    try:
        original_size = os.path.getsize(input_path)
        with Image.open(input_path) as im:
            im.load()
            fmt = (im.format or "png").lower()
            os.makedirs(os.path.dirname(output_path) or ".", exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(output_path) or ".", suffix=".io-partial")
            with os.fdopen(fd, "wb") as fh:
                im.save(fh, format=fmt)
            os.replace(tmp, output_path)
            size = os.path.getsize(output_path)
            saved, ratio = savings(original_size, size)
            times.write = time.perf_counter() - t0
            return OptimizationResult(
                original_path=input_path, optimized_path=output_path, original_size=original_size,
                optimized_size=size, success=True, savedBytes=saved, compressionRatio=ratio,
                width=im.width, height=im.height, format=fmt,
            ), times
    except Exception as exc:
        return OptimizationResult(
            original_path=input_path, optimized_path=output_path, original_size=0,
            optimized_size=0, success=False, error=str(exc), status="error",
        ), times

"""Scoring encoded candidates against the image they were made from, for Auto quality.

``Scorer(image, keeps_alpha)`` holds the reference once. ``sample_image()`` is a small stand-in
for the image that the search encodes instead of the whole picture, ``sample(data)`` scores such
an encode (the search's metric), ``fast(data)`` scores a whole-image file on the same sample
(the bench's measure of how well the sample follows), ``full(data)`` scores a file on every
pixel (the confirmation).

Decisions:

- The sample is a grid of 128-px tiles, every third tile along each axis (a ninth of the
  pixels; fewer above 4.5 MP, so a sample stays near 0.5 MP), cut from the same places and
  joined edge to edge into one mosaic. Images up to ``SAMPLE_ABOVE`` pixels are not sampled:
  the search then encodes and scores the whole image. 128 px is a multiple of every codec's
  block (JPEG 16, WebP 16, AVIF 64), so a tile is coded about as in the whole image.
- The search encodes the mosaic, not the picture: a trial then costs a ninth of an encode,
  decode and score, and Auto quality stays near one full score per image (``quality_search``).
  Encoding the mosaic rather than cutting it out of a whole-image encode reads 0-1 point off
  on the corpus (adaptive quantization and WebP's segments see the tile seams); the search
  measures that offset with its first full score and corrects for it. How closely the sample
  follows the whole image is measured by ``python -m bench.auto_quality``.
- The reference is what the encoder is asked to reproduce: for a format without alpha the
  image composited on white, as the encoders do (``jpeg.flatten``); with alpha, the RGBA pixels
  (SSIMULACRA2 then scores on a dark and a light background and keeps the worse).
- Only the first frame of an animation is scored; every frame gets the quality it chose.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from backend.core.ssimulacra2 import Reference

SAMPLE_ABOVE = 500_000
SAMPLE_PIXELS = 500_000  # at most about this many pixels in a sample
TILE = 128


def _reference_pixels(image: Image.Image, keeps_alpha: bool) -> np.ndarray:
    has_alpha = image.mode in ("LA", "RGBA")
    if has_alpha and keeps_alpha:
        return np.asarray(image.convert("RGBA"))
    if has_alpha:
        white = Image.new("RGB", image.size, (255, 255, 255))
        white.paste(image.convert("RGB"), mask=image.getchannel("A"))
        return np.asarray(white)
    return np.asarray(image.convert("RGB"))


def _step(pixels: int) -> int:
    """Every how many tiles along each axis one is sampled: every third one, or fewer so that
    the sample stays near ``SAMPLE_PIXELS``."""
    return max(3, math.ceil(math.sqrt(pixels / SAMPLE_PIXELS)))


def _sample_index(length: int, step: int) -> np.ndarray | None:
    """Indices of every ``step``-th tile along one axis (None: too short to sample)."""
    tiles = length // TILE
    if tiles < 2:
        return None
    starts = np.arange(0, tiles, step) * TILE
    return (starts[:, None] + np.arange(TILE)[None, :]).ravel()


class Scorer:
    """SSIMULACRA2 of candidate files against one reference image."""

    def __init__(self, image: Image.Image, pillow_format: str, *, keeps_alpha: bool) -> None:
        self._pixels = _reference_pixels(image, keeps_alpha)
        self._mode = "RGBA" if self._pixels.shape[2] == 4 else "RGB"
        self._pillow = pillow_format
        height, width = self._pixels.shape[:2]
        rows = cols = None
        if height * width > SAMPLE_ABOVE:
            step = _step(height * width)
            rows, cols = _sample_index(height, step), _sample_index(width, step)
        self._grid = None if rows is None or cols is None else np.ix_(rows, cols)
        self._full: Reference | None = None
        self._fast = None if self._grid is None else Reference(self._pixels[self._grid])

    def sample_image(self, image: Image.Image) -> Image.Image | None:
        """The sample's tiles of ``image`` (the picture's own mode) as one mosaic; None when
        the image is not sampled."""
        if self._grid is None:
            return None
        mode = image.mode if image.mode in ("L", "LA", "RGB", "RGBA") else "RGBA"
        return Image.fromarray(np.ascontiguousarray(np.asarray(image.convert(mode))[self._grid]))

    def sample(self, data: bytes) -> float:
        """The score of an encode of ``sample_image`` (or, unsampled, of the whole image)."""
        if self._fast is None:
            return self.full(data)
        return self._fast.score(self._decoded(data))

    @property
    def sampled(self) -> bool:
        """Whether ``fast`` looks at a sample (otherwise it is ``full``)."""
        return self._grid is not None

    def _decoded(self, data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data), formats=[self._pillow]) as decoded:
            return np.asarray(decoded.convert(self._mode))

    def _full_reference(self) -> Reference:
        if self._full is None:
            self._full = Reference(self._pixels)
        return self._full

    def fast(self, data: bytes) -> float:
        if self._fast is None or self._grid is None:
            return self.full(data)
        return self._fast.score(self._decoded(data)[self._grid])

    def full(self, data: bytes) -> float:
        return self._full_reference().score(self._decoded(data))

"""Shared fixtures: real images (scikit-image's bundled photographs and artwork) and edge cases.

Real images come from scikit-image's ``data`` folder (a dev dependency; the files are public
domain or CC-licensed, see skimage/data/README.txt and scikit-image's docs), converted at test
time into whatever format a test needs, so no image is committed here.

Fixtures for everyone:
- ``real_photo``: chelsea (a cat photograph, 451x300) as a JPEG file.
- ``real_png``: scikit-image's logo cut out of its white background (RGBA artwork with
  transparency and anti-aliased edges, 500x500) as a PNG file.
- ``tmp_images(name, source=..., size=..., mode=..., **save_options)``: any real image, resized,
  converted and saved under the name (the format follows the extension unless ``fmt`` is given).
- ``edge_cases``: one method per awkward input (empty, truncated, text named .jpg, pixel bomb,
  CMYK, 16-bit, palette with transparency, animated GIF, EXIF-rotated, ICC-tagged ...).
- ``pixels(path)`` → numpy array; ``similarity(a, b)`` → SSIM on luma (alpha over white).
- ``unprivileged``: runs a function in a forked child as user "nobody" (tests run as root, and
  root ignores file modes, so a real "permission denied" needs another user), in a folder
  ``unprivileged.folder`` that such a user can reach.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skimage
from PIL import Image, ImageCms
from skimage.metrics import structural_similarity

from backend.core.formats.registry import get_format
from backend.core.optimizer import ImageOptimizer
from backend.core.pool import ProcessPool

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
_EXT_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP",
                ".avif": "AVIF", ".gif": "GIF", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP",
                ".heic": "HEIF", ".jxl": "JXL"}


def load_real(source: str) -> Image.Image:
    """A scikit-image data file by name (``chelsea``, ``logo``, ``rocket.jpg``), loaded."""
    name = source if "." in source else f"{source}.png"
    with Image.open(SKIMAGE_DATA / name) as im:
        im.load()
        return im.copy()


def save_image(image: Image.Image, path: Path, fmt: str | None = None, **options: Any) -> Path:
    fmt = fmt or _EXT_FORMATS[path.suffix.lower()]
    if fmt in ("HEIF", "JXL"):  # Pillow plugins the app registers when it reads such a file
        importlib.import_module(get_format("heic" if fmt == "HEIF" else "jxl").plugin or "")
    if fmt == "JPEG" and image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt, **options)
    return path


@pytest.fixture
def tmp_images(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``tmp_images("a.webp", source="coffee", size=(120, 80), mode="RGB")``."""

    def make(name: str, *, source: str = "chelsea", size: tuple[int, int] | None = None,
             mode: str | None = None, fmt: str | None = None, **options: Any) -> Path:
        image = load_real(source)
        if size is not None:
            image = image.resize(size, Image.Resampling.LANCZOS)
        if mode is not None:
            image = image.convert(mode)
        return save_image(image, tmp_path / name, fmt, **options)

    return make


@pytest.fixture
def real_photo(tmp_images: Callable[..., Path]) -> Path:
    return tmp_images("chelsea.jpg", source="chelsea", quality=92)


def transparent_logo() -> Image.Image:
    """scikit-image's logo (a disc on white) cut out: transparent outside the disc, with an
    anti-aliased edge, as artwork with transparency is usually delivered."""
    logo = load_real("logo").convert("RGBA")
    w, h = logo.size
    y, x = np.mgrid[0:h, 0:w]
    distance = np.hypot(x - (w - 1) / 2, y - (h - 1) / 2)
    alpha = np.clip((min(w, h) / 2 - 2 - distance) * 255, 0, 255).astype(np.uint8)
    logo.putalpha(Image.fromarray(alpha))
    return logo


@pytest.fixture
def real_png(tmp_path: Path) -> Path:
    return save_image(transparent_logo(), tmp_path / "logo.png")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class EdgeCases:
    """Awkward inputs, each written into the test's temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def _encoded(self, image: Image.Image, fmt: str, **options: Any) -> bytes:
        out = io.BytesIO()
        image.save(out, fmt, **options)
        return out.getvalue()

    def empty(self, name: str = "empty.jpg") -> Path:
        return self._write(name, b"")

    def truncated_jpeg(self, name: str = "truncated.jpg") -> Path:
        data = self._encoded(load_real("chelsea").convert("RGB"), "JPEG", quality=90)
        return self._write(name, data[: len(data) // 2])

    def truncated_png(self, name: str = "truncated.png") -> Path:
        data = self._encoded(load_real("chelsea"), "PNG")
        return self._write(name, data[: len(data) // 2])

    def text_named_jpg(self, name: str = "notes.jpg") -> Path:
        return self._write(name, b"These are my holiday notes, not a photo.\n" * 20)

    def png_named_jpg(self, name: str = "really-a-png.jpg") -> Path:
        return self._write(name, self._encoded(transparent_logo().resize((100, 100)), "PNG"))

    def one_pixel(self, name: str = "dot.png", colour: tuple[int, ...] = (200, 30, 60)) -> Path:
        return self._write(name, self._encoded(Image.new("RGB", (1, 1), colour), "PNG"))

    def pixel_bomb(self, name: str = "bomb.png", side: int = 30000) -> Path:
        """A tiny PNG that claims side x side pixels (900 MP by default): header + one IDAT."""
        header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit grey
        row = b"\x00" + b"\x00" * ((side + 7) // 8)
        data = zlib.compress(row * 64)
        png = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
               + _png_chunk(b"IEND", b""))
        return self._write(name, png)

    def cmyk_jpeg(self, name: str = "cmyk.jpg") -> Path:
        return self._write(name, self._encoded(load_real("coffee").convert("CMYK"), "JPEG",
                                               quality=95))

    def png16_grey(self, name: str = "grey16.png") -> Path:
        ramp = np.linspace(0, 65535, 128 * 96).reshape(96, 128).astype(np.uint16)
        return self._write(name, self._encoded(Image.fromarray(ramp), "PNG"))

    def palette_with_transparency(self, name: str = "palette.png") -> Path:
        image = transparent_logo().resize((100, 100)).quantize(64)
        image.info["transparency"] = 0
        return self._write(name, self._encoded(image, "PNG", transparency=0))

    def grey(self, name: str = "camera.png") -> Path:
        return self._write(name, self._encoded(load_real("camera").resize((128, 128)), "PNG"))

    def animated_gif(self, name: str = "anim.gif") -> Path:
        shutil.copyfile(SKIMAGE_DATA / "no_time_for_that_tiny.gif", self.folder / name)
        return self.folder / name

    def oriented_jpeg(self, orientation: int = 6, name: str = "rotated.jpg") -> Path:
        """A 120x80 photo stored sideways-agnostic, tagged with an EXIF orientation."""
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "TestCam"  # a second tag, to see that other EXIF is dropped
        image = load_real("chelsea").convert("RGB").resize((120, 80))
        return self._write(name, self._encoded(image, "JPEG", quality=95, exif=exif.tobytes()))

    def with_icc(self, name: str, icc: bytes | None = None, source: str = "chelsea",
                 **options: Any) -> Path:
        """An image carrying an ICC profile (:meth:`custom_icc` by default)."""
        icc = icc or self.custom_icc()
        image = load_real(source).resize((96, 64))
        fmt = _EXT_FORMATS[Path(name).suffix.lower()]
        if fmt == "JPEG":
            image = image.convert("RGB")
        return self._write(name, self._encoded(image, fmt, icc_profile=icc, **options))

    @staticmethod
    def custom_icc() -> bytes:
        """LittleCMS's sRGB profile with its own creation date: a real profile whose exact
        bytes no encoder would write by itself, so finding them in the output proves a copy."""
        icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
        icc[24:36] = struct.pack(">6H", 2021, 7, 14, 12, 34, 56)
        return bytes(icc)


@pytest.fixture
def edge_cases(tmp_path: Path) -> EdgeCases:
    folder = tmp_path / "edge"
    folder.mkdir()
    return EdgeCases(folder)


def image_pixels(path: Path | str | Image.Image, mode: str | None = None) -> np.ndarray:
    if isinstance(path, Image.Image):
        image = path
    else:
        with Image.open(path) as opened:
            opened.load()
            image = opened.copy()
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    return np.asarray(image)


def luma_on_white(path: Path | str | Image.Image) -> np.ndarray:
    image = path if isinstance(path, Image.Image) else Image.open(path)
    image = image.convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, image).convert("L"), dtype=np.float64)


@pytest.fixture
def pixels() -> Callable[..., np.ndarray]:
    return image_pixels


@pytest.fixture
def similarity() -> Callable[[Any, Any], float]:
    """SSIM of two images' luma (Gaussian window, Wang 2004), alpha composited on white."""

    def ssim(a: Any, b: Any) -> float:
        return float(structural_similarity(luma_on_white(a), luma_on_white(b), data_range=255,
                                           gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False))

    return ssim


NOBODY = 65534


class Unprivileged:
    """Run ``fn()`` in a forked child without root's powers; returns what it returned."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, fn: Callable[[], Any]) -> Any:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: drop privileges, run, send the pickled outcome, exit hard
            os.close(read_end)
            status = 0
            try:
                if os.geteuid() == 0:
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                payload = pickle.dumps(("ok", fn()))
            except BaseException as exc:
                payload = pickle.dumps(("raised", repr(exc)))
                status = 1
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            outcome, value = pickle.loads(pipe.read())
        os.waitpid(pid, 0)
        if outcome != "ok":
            raise AssertionError(f"unprivileged call raised: {value}")
        return value


@pytest.fixture
def unprivileged() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="io-unprivileged-"))
    folder.chmod(0o755)
    try:
        yield Unprivileged(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def optimizer() -> Iterator[ImageOptimizer]:
    """A real, warm two-worker pool (this machine has two cores)."""
    with ImageOptimizer(ProcessPool(2)) as opt:
        opt.start(wait=True)
        yield opt

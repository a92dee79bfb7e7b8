"""PNG at quality 100: every pixel kept, for every kind of PNG, and the options chosen by kind.

Images are real (scikit-image's photographs and artwork) turned into each kind of PNG a person
has: truecolour photo, RGBA artwork, palette with transparency, grey, grey with alpha of few
levels, an RGB screenshot-like image of few colours, and 16-bit colour (written here by hand:
Pillow neither writes nor reads 16-bit RGB, so the test decodes it with ``_raw_samples``).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import oxipng
import pytest
from PIL import Image

from backend.core.formats import png, png_filter_probe
from backend.core.pipeline import optimize_file
from backend.types import ImageSettings, QualitySettings
from tests.conftest import load_real, transparent_logo


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body))


def _png16_rgb(samples: np.ndarray) -> bytes:
    """A 16-bit RGB PNG of ``samples`` (h x w x 3, uint16), rows unfiltered."""
    h, w, _ = samples.shape
    rows = samples.astype(">u2").reshape(h, w * 6 // 2).view(np.uint8).reshape(h, w * 6)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))


def _raw_samples(data: bytes) -> np.ndarray:
    """The samples of a non-interlaced 8- or 16-bit grey/RGB(A) PNG, every filter undone."""
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    w, h, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert interlace == 0 and depth in (8, 16) and colour_type in (0, 2, 4, 6)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type] * depth // 8
    stride = w * bpp
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, stride + 1)
    out = np.zeros((h, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        row = np.zeros(stride, np.int32)
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = (0, a, b, (a + b) // 2, a if pa <= pb and pa <= pc else b if pb <= pc else c)
            row[x] = (line[x] + pred[kind]) & 0xFF
        out[y], prev = row, row
    samples = out.astype(np.uint8)
    if depth == 16:
        return samples.reshape(h, -1, 2).view(">u2")[..., 0].astype(np.uint16).reshape(h, w, -1)
    return samples.reshape(h, w, -1)


def _few_colour_screen() -> Image.Image:
    """Flat artwork stored as RGB: the logo reduced to 200 colours, undithered."""
    logo = load_real("logo").convert("RGB").resize((240, 240))
    return logo.quantize(200, dither=Image.Dither.NONE).convert("RGB")


def _grey_alpha_few_levels() -> Image.Image:
    """A grey photograph with a soft alpha edge, both reduced to a few levels (as the
    wallpaper ``stripes-grey-alpha.png``)."""
    grey = load_real("camera").resize((200, 200)).point(lambda v: v // 32 * 32)
    alpha = transparent_logo().resize((200, 200)).getchannel("A").point(lambda v: v // 64 * 85)
    image = Image.merge("LA", (grey, alpha))
    return image


KINDS: dict[str, Callable[[], Image.Image]] = {
    "photo": lambda: load_real("astronaut").resize((256, 256)),
    "rgba artwork": lambda: transparent_logo().resize((200, 200)),
    "palette with transparency": lambda: transparent_logo().resize((120, 120)).quantize(64),
    "grey": lambda: load_real("camera").resize((160, 160)),
    "grey alpha, few levels": _grey_alpha_few_levels,
    "rgb, few colours": _few_colour_screen,
}


def _optimize(src: Path, quality: int = 100) -> bytes:
    out = src.parent / "out" / src.name
    settings = ImageSettings(quality=QualitySettings(global_=quality), outputFormat="png")
    result, _ = optimize_file(str(src), str(out), settings)
    assert result.success, result.error
    assert result.optimized_size <= result.original_size
    return out.read_bytes()


def _decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.mark.parametrize("kind", list(KINDS))
def test_quality_100_keeps_every_pixel_of_each_kind_of_png(tmp_path: Path, kind: str) -> None:
    src = tmp_path / "in.png"
    KINDS[kind]().save(src, "PNG")
    out = _optimize(src)
    assert np.array_equal(_decoded(out), _decoded(src.read_bytes()))


def test_quality_100_keeps_every_sample_of_a_16_bit_colour_photo(tmp_path: Path) -> None:
    photo = np.asarray(load_real("coffee").resize((96, 64)), dtype=np.uint16)
    rng = np.random.default_rng(13)
    samples = (photo * 257 + rng.integers(0, 256, photo.shape)).astype(np.uint16)
    src = tmp_path / "deep.png"
    src.write_bytes(_png16_rgb(samples))
    out = _optimize(src)
    assert out[24] == 16  # still 16 bits per sample
    assert np.array_equal(_raw_samples(out), samples)


def test_the_test_decoder_reads_what_oxipng_filters() -> None:
    samples = np.asarray(load_real("chelsea").resize((64, 48)), dtype=np.uint16) * 257 + 3
    filtered = oxipng.optimize_from_memory(_png16_rgb(samples), level=2, force=True)
    assert np.array_equal(_raw_samples(filtered), samples)


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("kind", "few"), [
    ("photo", False), ("rgba artwork", False), ("palette with transparency", True),
    ("grey", True), ("grey alpha, few levels", True), ("rgb, few colours", True)])
def test_the_sample_tells_palette_grey_and_few_colour_images_from_truecolour(
    kind: str, few: bool
) -> None:
    sample = png_filter_probe.sample_png(_png_bytes(KINDS[kind]()))
    assert sample is not None
    assert sample.few_colours is few


def test_a_tall_opaque_photos_sample_is_bands_of_its_rows_without_the_alpha() -> None:
    photo = load_real("astronaut").resize((300, 2048)).convert("RGBA")  # alpha all opaque
    sample = png_filter_probe.sample_png(_png_bytes(photo))
    assert sample is not None
    with Image.open(io.BytesIO(sample.png)) as im:
        assert im.mode == "RGB"  # as oxipng writes the whole image
        assert im.size == (300, 4 * png_filter_probe.BAND_ROWS)  # 1/16 of 2048 rows
        first_band = np.asarray(im)[: png_filter_probe.BAND_ROWS]
    top = np.asarray(photo.convert("RGB"))[: png_filter_probe.BAND_ROWS]
    assert np.array_equal(first_band, top)


def test_sixteen_bit_colour_gets_the_preset() -> None:
    photo = np.asarray(load_real("coffee").resize((64, 48)), dtype=np.uint16) * 257 + 5
    assert png.lossless_options(_png16_rgb(photo)) == {"level": png.LOSSLESS_PRESET}


@pytest.mark.parametrize("image", ["logo", "rocket.jpg"])
def test_the_probe_picks_the_filter_that_makes_the_whole_image_smallest(image: str) -> None:
    data = _png_bytes(load_real(image))
    sizes = {f: len(oxipng.optimize_from_memory(data, level=png.LOSSLESS_PRESET, filter=[f],
                                                deflate=png.LOSSLESS_DEFLATE))
             for f in png.LOSSLESS_FILTERS}
    assert png.lossless_options(data)["filter"] == [min(sizes, key=sizes.__getitem__)]


def test_a_few_colour_tie_between_bigent_and_brute_goes_to_bigent(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the grey-alpha wallpaper's sample BigEnt and Brute compress to the same bytes, and
    BigEnt (the cheaper filter) is 2 % smaller on the whole image at libdeflate 12."""
    sizes = {oxipng.RowFilter.BigEnt: 100, oxipng.RowFilter.Brute: 100}
    monkeypatch.setattr(png_filter_probe, "sample_size", lambda _s, f, _d: sizes.get(f, 200))
    data = _png_bytes(_grey_alpha_few_levels())
    assert png.lossless_options(data)["filter"] == [oxipng.RowFilter.BigEnt]


@pytest.mark.parametrize(("make", "at_most"), [
    (lambda: load_real("logo"), 0.985), (lambda: load_real("rocket.jpg"), 0.992),
    (_few_colour_screen, 0.95)])
def test_quality_100_is_smaller_than_the_preset_with_every_pixel_kept(
    make: Callable[[], Image.Image], at_most: float
) -> None:
    data = _png_bytes(make())
    options = png.lossless_options(data)
    assert options["deflate"] == png.LOSSLESS_DEFLATE
    ours = oxipng.optimize_from_memory(data, **options)
    preset = oxipng.optimize_from_memory(data, level=png.LOSSLESS_PRESET)
    assert len(ours) <= at_most * len(preset)
    assert np.array_equal(_decoded(ours), _decoded(data))

"""Writes the validation pairs of ``expected.json`` (run once; the PNGs are committed).

    PYTHONPATH=. python tests/data/ssimulacra2/make_pairs.py

Crops of scikit-image's bundled photographs (public domain / CC0) and synthetic images, through
the codecs and degradations the bench meets, decoded and stored as lossless PNG without colour
chunks (so libjxl reads them as sRGB, as we do). The scores in ``expected.json`` come from
libjxl's own ``ssimulacra2`` tool, not from this script: see README.md.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

HERE = Path(__file__).resolve().parent


def crop(array: np.ndarray, top: int, left: int, height: int, width: int) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(array[top : top + height, left : left + width]))


def gradient(width: int, height: int) -> Image.Image:
    """Smooth colour ramps: the content where banding shows."""
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    rgb = np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                    0.5 + 0.5 * np.sin(6.0 * x * y + 1.0)], axis=2)
    return Image.fromarray(np.round(rgb * 255).astype(np.uint8))


def line_art(width: int, height: int) -> Image.Image:
    """Thin coloured lines, boxes and text on white: the content where ringing shows."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 12):
        draw.line([(i, 0), (width - 1 - i // 2, height - 1)], fill=(20, 40, 160), width=1)
    draw.rectangle([10, 10, width // 2, height // 3], outline=(200, 30, 30), width=2)
    draw.ellipse([width // 2, height // 2, width - 8, height - 8], outline=(0, 120, 0), width=3)
    for row in range(4):
        draw.text((8, height // 2 + 14 * row), "SSIMULACRA 2 ok", fill=(0, 0, 0))
    return image


def noise(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(13)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def encoded(image: Image.Image, fmt: str, **options: object) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert(image.mode)


def jpeg(quality: int, subsampling: int = 2) -> Callable[[Image.Image], Image.Image]:
    return lambda im: encoded(im, "JPEG", quality=quality, subsampling=subsampling)


def webp(quality: int) -> Callable[[Image.Image], Image.Image]:
    return lambda im: encoded(im, "WEBP", quality=quality)


def avif(quality: int) -> Callable[[Image.Image], Image.Image]:
    return lambda im: encoded(im, "AVIF", quality=quality)


def palette(colours: int, dither: bool) -> Callable[[Image.Image], Image.Image]:
    dithering = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    return lambda im: im.quantize(colours, dither=dithering).convert("RGB")


def blur(radius: float) -> Callable[[Image.Image], Image.Image]:
    return lambda im: im.filter(ImageFilter.GaussianBlur(radius))


def down_up(factor: int) -> Callable[[Image.Image], Image.Image]:
    def apply(im: Image.Image) -> Image.Image:
        small = im.resize((im.width // factor, im.height // factor), Image.Resampling.LANCZOS)
        return small.resize(im.size, Image.Resampling.BICUBIC)

    return apply


def tinted(im: Image.Image) -> Image.Image:
    """A colour cast and a brightness shift: distortion with no structure lost."""
    rgb = np.asarray(im, dtype=np.float64)
    rgb = np.clip(rgb * [1.15, 0.95, 0.8] + 12.0, 0, 255)
    return Image.fromarray(np.round(rgb).astype(np.uint8))


def heavy_noise(im: Image.Image) -> Image.Image:
    rng = np.random.default_rng(7)
    rgb = np.asarray(im, dtype=np.float64) + rng.normal(0.0, 60.0, (im.height, im.width, 3))
    return Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8))


def identity(im: Image.Image) -> Image.Image:
    return im.copy()


def alpha_jpeg(im: Image.Image) -> Image.Image:
    """JPEG q40 of the colour, alpha kept: what a lossy encoder of RGBA does to the colour."""
    colour = encoded(im.convert("RGB"), "JPEG", quality=40)
    colour.putalpha(im.getchannel("A"))
    return colour


def references() -> dict[str, Image.Image]:
    astronaut = data.astronaut()
    return {
        "astronaut": crop(astronaut, 40, 160, 80, 80),
        "astronaut_large": crop(astronaut, 0, 160, 128, 128),
        "chelsea": crop(data.chelsea(), 50, 130, 80, 80),
        "coffee": crop(data.coffee(), 60, 200, 64, 80),
        "rocket": crop(data.rocket(), 150, 300, 80, 72),
        "odd": crop(data.coffee(), 150, 300, 67, 93),  # odd sides: edge-repeating downsampling
        "tiny": crop(data.chelsea(), 120, 200, 20, 24),  # 3 scales only
        "minimum": crop(data.astronaut(), 100, 200, 8, 8),  # the smallest size the tool takes
        "text": Image.fromarray(data.text()[20:148, 40:168]).convert("RGB"),
        "gradient": gradient(256, 128),
        "line_art": line_art(128, 128),
        "noise": noise(64, 64),
        "logo": Image.fromarray(data.logo()[100:228, 100:228]),  # RGBA with transparency
    }


PAIRS: dict[str, tuple[str, Callable[[Image.Image], Image.Image]]] = {
    "astronaut_jpeg_q95": ("astronaut", jpeg(95, 0)),
    "astronaut_jpeg_q30": ("astronaut", jpeg(30)),
    "astronaut_jpeg_q5": ("astronaut", jpeg(5)),
    "astronaut_large_avif_q60": ("astronaut_large", avif(60)),
    "astronaut_large_blur2": ("astronaut_large", blur(2.0)),
    "chelsea_jpeg_q60": ("chelsea", jpeg(60)),
    "chelsea_jpeg_q98": ("chelsea", jpeg(98, 0)),
    "chelsea_webp_q75": ("chelsea", webp(75)),
    "chelsea_down_up2": ("chelsea", down_up(2)),
    "coffee_webp_q20": ("coffee", webp(20)),
    "coffee_avif_q25": ("coffee", avif(25)),
    "coffee_down_up4": ("coffee", down_up(4)),
    "coffee_identical": ("coffee", identity),
    "rocket_palette64": ("rocket", palette(64, True)),
    "rocket_palette16_nodither": ("rocket", palette(16, False)),
    "rocket_tint": ("rocket", tinted),
    "odd_jpeg_q70": ("odd", jpeg(70)),
    "tiny_jpeg_q50": ("tiny", jpeg(50)),
    "minimum_jpeg_q20": ("minimum", jpeg(20)),
    "text_jpeg_q60": ("text", jpeg(60)),
    "text_webp_q90": ("text", webp(90)),
    "gradient_palette32": ("gradient", palette(32, False)),
    "gradient_jpeg_q20": ("gradient", jpeg(20)),
    "gradient_webp_q95": ("gradient", webp(95)),
    "line_art_jpeg_q85": ("line_art", jpeg(85, 0)),
    "line_art_webp_q50": ("line_art", webp(50)),
    "line_art_blur1": ("line_art", blur(1.0)),
    "noise_jpeg_q85": ("noise", jpeg(85)),
    "noise_heavy": ("astronaut", heavy_noise),
    "logo_alpha_jpeg_q40": ("logo", alpha_jpeg),
}


def main() -> None:
    refs = references()
    for name, image in refs.items():
        image.save(HERE / f"{name}.png", optimize=True)
    for name, (ref, distort) in PAIRS.items():
        distort(refs[ref]).save(HERE / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()

"""metadata strip|keep|keep-no-location, icc keep|srgb and chroma, on real files.

EXIF is read back with piexif (independent of Pillow, which writes it), IPTC with Pillow's IPTC
reader, XMP as the packet bytes the output carries, ICC conversions checked with LittleCMS.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image, ImageCms, IptcImagePlugin, JpegImagePlugin

from backend.core.formats.jpeg_source import insert_segment
from backend.core.pipeline import optimize_file
from backend.types import ImageSettings, OptimizationResult
from backend.validation import decode_settings

A98 = Path("/usr/share/color/icc/ghostscript/a98.icc")  # Adobe RGB (1998), from libgs-common
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
       b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
       b'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
       b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
       b'xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" '
       b'exif:GPSLatitude="52,22.1N" xmp:Rating="4" aux:SerialNumber="XMPSN1">'
       b'<exif:GPSLongitude>4,54.0E</exif:GPSLongitude><photoshop:City>Amsterdam</photoshop:City>'
       b'<xmp:CreatorTool>Camera 1.0</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>')
LOCATION_WORDS = (b"GPS", b"Amsterdam", b"XMPSN1")


def _exif() -> bytes:
    return piexif.dump({
        "0th": {piexif.ImageIFD.Make: b"TestCam", piexif.ImageIFD.Orientation: 1},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2021:07:14 12:34:56",
                 piexif.ExifIFD.BodySerialNumber: b"BODY123",
                 piexif.ExifIFD.LensSerialNumber: b"LENS456"},
        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: ((52, 1), (22, 1), (6, 1))},
    })


def _iptc_app13() -> bytes:
    datasets = [(25, b"cat"), (90, b"Amsterdam"), (101, b"Netherlands"), (80, b"Photographer")]
    record = b"".join(b"\x1c\x02" + bytes((n,)) + len(v).to_bytes(2, "big") + v
                      for n, v in datasets)
    irb = b"8BIM\x04\x04\x00\x00" + len(record).to_bytes(4, "big") + record
    irb += b"\x00" * (len(record) % 2)
    digest = b"8BIM\x04\x25\x00\x00" + (16).to_bytes(4, "big") + b"\x01" * 16
    return b"Photoshop 3.0\x00" + irb + digest


@pytest.fixture
def tagged_jpeg(tmp_images: Callable[..., Path], tmp_path: Path) -> Path:
    """A camera JPEG: EXIF with GPS and serials, XMP with GPS/city, IPTC with city/country."""
    plain = tmp_images("plain.jpg", size=(240, 160), quality=95)
    with Image.open(plain) as im:
        out = io.BytesIO()
        im.save(out, "JPEG", quality=95, exif=_exif(), xmp=XMP)
    path = tmp_path / "camera.jpg"
    path.write_bytes(insert_segment(out.getvalue(), 0xED, _iptc_app13()))
    return path


@pytest.fixture
def tagged_png(tmp_images: Callable[..., Path], tmp_path: Path) -> Path:
    """A PNG with an eXIf chunk holding GPS, an XMP iTXt chunk and a Comment text chunk."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Comment", "shot at 52.36N 4.90E")
    return tmp_images("screen.png", size=(160, 120), exif=_exif(), pnginfo=info)


def run(source: Path, out: Path, **settings: object) -> OptimizationResult:
    result, _ = optimize_file(str(source), str(out), decode_settings(settings))
    assert result.success, result.error
    return result


def exif_of(path: Path) -> dict:
    with Image.open(path) as im:
        raw = im.info.get("exif")
    return piexif.load(raw) if raw else {"0th": {}, "Exif": {}, "GPS": {}}


def xmp_of(path: Path) -> bytes:
    with Image.open(path) as im:
        xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    return xmp.encode() if isinstance(xmp, str) else xmp


def iptc_of(path: Path) -> dict:
    with Image.open(path) as im:
        return IptcImagePlugin.getiptcinfo(im) or {}


# Re-encoded (80), the lossless JPEG rewrite (100), and conversions.
CASES = [("jpeg", 80, "jpg"), ("jpeg", 100, "jpg"), ("webp", 80, "webp"), ("png", 100, "png"),
         ("avif", 70, "avif")]


@pytest.mark.parametrize(("fmt", "quality", "ext"), CASES)
def test_keep_carries_exif_gps_xmp_and_for_jpeg_iptc(
    tagged_jpeg: Path, tmp_path: Path, fmt: str, quality: int, ext: str
) -> None:
    out = tmp_path / f"out.{ext}"
    run(tagged_jpeg, out, outputFormat=fmt, quality={"global": quality}, metadata="keep")
    exif = exif_of(out)
    assert exif["0th"][piexif.ImageIFD.Make] == b"TestCam"
    assert exif["GPS"][piexif.GPSIFD.GPSLatitude] == ((52, 1), (22, 1), (6, 1))
    assert exif["Exif"][piexif.ExifIFD.BodySerialNumber] == b"BODY123"
    assert b"GPSLatitude" in xmp_of(out) and b"Amsterdam" in xmp_of(out)
    if fmt == "jpeg":
        assert iptc_of(out)[(2, 90)] == b"Amsterdam"


@pytest.mark.parametrize(("fmt", "quality", "ext"), CASES)
def test_keep_no_location_drops_gps_serials_and_places_but_keeps_the_rest(
    tagged_jpeg: Path, tmp_path: Path, fmt: str, quality: int, ext: str
) -> None:
    out = tmp_path / f"out.{ext}"
    run(tagged_jpeg, out, outputFormat=fmt, quality={"global": quality},
        metadata="keep-no-location")
    exif = exif_of(out)
    assert exif["0th"][piexif.ImageIFD.Make] == b"TestCam"
    assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == b"2021:07:14 12:34:56"
    assert exif["GPS"] == {}
    assert piexif.ExifIFD.BodySerialNumber not in exif["Exif"]
    assert piexif.ExifIFD.LensSerialNumber not in exif["Exif"]
    xmp = xmp_of(out)
    assert b'xmp:Rating="4"' in xmp and b"<xmp:CreatorTool>Camera 1.0<" in xmp
    assert not any(word in xmp for word in LOCATION_WORDS)
    assert b"GPS" not in out.read_bytes() and b"Amsterdam" not in out.read_bytes()
    if fmt == "jpeg":
        iptc = iptc_of(out)
        assert iptc[(2, 25)] == b"cat" and iptc[(2, 80)] == b"Photographer"
        assert (2, 90) not in iptc and (2, 101) not in iptc


@pytest.mark.parametrize(("fmt", "quality", "ext"), CASES)
def test_strip_keeps_no_exif_xmp_or_iptc(
    tagged_jpeg: Path, tmp_path: Path, fmt: str, quality: int, ext: str
) -> None:
    out = tmp_path / f"out.{ext}"
    run(tagged_jpeg, out, outputFormat=fmt, quality={"global": quality})
    data = out.read_bytes()
    assert b"TestCam" not in data and b"GPS" not in data and b"Amsterdam" not in data


def test_lossless_jpeg_rewrite_without_location_keeps_the_exact_pixels(
    tagged_jpeg: Path, tmp_path: Path, pixels: Callable
) -> None:
    out = tmp_path / "out.jpg"
    run(tagged_jpeg, out, quality={"global": 100}, metadata="keep-no-location")
    assert np.array_equal(pixels(out, "RGB"), pixels(tagged_jpeg, "RGB"))
    assert exif_of(out)["GPS"] == {}


def test_a_file_kept_as_it_is_is_still_cleaned_of_its_location(
    tmp_images: Callable[..., Path], tmp_path: Path, pixels: Callable
) -> None:
    # Already optimized below our quality: "keep" hands it through byte for byte...
    source = tmp_images("small.jpg", size=(200, 150), quality=60, optimize=True,
                        progressive=True, exif=_exif())
    kept = tmp_path / "kept.jpg"
    assert run(source, kept, metadata="keep").keptOriginal
    assert kept.read_bytes() == source.read_bytes()
    # ...but without location the bytes must change: same pixels, no GPS.
    clean = tmp_path / "clean.jpg"
    result = run(source, clean, metadata="keep-no-location")
    assert not result.keptOriginal
    assert exif_of(clean)["GPS"] == {} and exif_of(clean)["0th"][piexif.ImageIFD.Make] == b"TestCam"
    assert np.array_equal(pixels(clean, "RGB"), pixels(source, "RGB"))


@pytest.mark.parametrize("metadata", ["strip", "keep", "keep-no-location"])
def test_lossless_png_metadata_modes(
    tagged_png: Path, tmp_path: Path, pixels: Callable, metadata: str
) -> None:
    out = tmp_path / "out.png"
    run(tagged_png, out, quality={"global": 100}, metadata=metadata)
    assert np.array_equal(pixels(out, "RGBA"), pixels(tagged_png, "RGBA"))
    exif, xmp = exif_of(out), xmp_of(out)
    with Image.open(out) as im:
        text = dict(im.text)
    if metadata == "strip":
        assert exif["0th"] == {} and xmp == b"" and "Comment" not in text
    elif metadata == "keep":
        assert exif["GPS"] and b"Amsterdam" in xmp and "Comment" in text
    else:
        assert exif["GPS"] == {} and exif["0th"][piexif.ImageIFD.Make] == b"TestCam"
        assert b'xmp:Rating="4"' in xmp and b"Amsterdam" not in xmp
        assert "Comment" not in text  # a text chunk may copy the location in a form we don't parse


def _a98_photo(tmp_images: Callable[..., Path]) -> Path:
    return tmp_images("wide.png", source="astronaut", size=(128, 128), mode="RGB",
                      icc_profile=A98.read_bytes())


# Lossless outputs match LittleCMS's conversion to ±1 (rounding); JPEG adds its own error.
@pytest.mark.parametrize(("fmt", "quality", "mean_error", "max_error"), [
    ("png", 100, 0.3, 1), ("webp", 100, 0.3, 1), ("jpeg", 95, 4.5, 120)])
def test_icc_srgb_converts_pixels_and_drops_the_profile(
    tmp_images: Callable[..., Path], tmp_path: Path, fmt: str, quality: int, mean_error: float,
    max_error: int,
) -> None:
    source = _a98_photo(tmp_images)
    out = tmp_path / f"out.{fmt}"
    run(source, out, outputFormat=fmt, quality={"global": quality}, icc="srgb")
    with Image.open(source) as im:
        expected = ImageCms.profileToProfile(
            im, ImageCms.ImageCmsProfile(io.BytesIO(A98.read_bytes())),
            ImageCms.createProfile("sRGB"), outputMode="RGB",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
        untouched = np.asarray(im.convert("RGB"), dtype=int)
    with Image.open(out) as result:
        assert "icc_profile" not in result.info or not result.info["icc_profile"]
        got = np.asarray(result.convert("RGB"), dtype=int)
    want = np.asarray(expected, dtype=int)
    assert np.abs(got - want).mean() <= mean_error
    assert np.abs(got - want).max() <= max_error
    # The conversion is visible: Adobe RGB numbers read as sRGB would be far off.
    assert np.abs(untouched - want).mean() > 3 and np.abs(untouched - want).max() > 15


def test_icc_keep_writes_the_profile_back_byte_for_byte(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    source = _a98_photo(tmp_images)
    out = tmp_path / "out.webp"
    run(source, out, outputFormat="webp", quality={"global": 80})
    with Image.open(out) as result:
        assert result.info["icc_profile"] == A98.read_bytes()


def test_icc_srgb_on_a_tagged_jpeg_at_100_re_encodes_instead_of_the_lossless_rewrite(
    tmp_images: Callable[..., Path], tmp_path: Path
) -> None:
    source = tmp_images("wide.jpg", source="astronaut", size=(128, 128), quality=95,
                        icc_profile=A98.read_bytes())
    out = tmp_path / "out.jpg"
    result = run(source, out, quality={"global": 100}, icc="srgb")
    assert not result.keptOriginal
    with Image.open(out) as im:
        assert not im.info.get("icc_profile")
        assert JpegImagePlugin.get_sampling(im) == 0  # a fresh 4:4:4 encode at 100


@pytest.mark.parametrize(("chroma", "quality", "sampling"), [
    ("auto", 80, 2), ("4:4:4", 80, 0), ("4:2:0", 80, 2), ("auto", 100, 0), ("4:2:0", 100, 2)])
def test_jpeg_chroma_subsampling_follows_the_setting(
    tmp_images: Callable[..., Path], tmp_path: Path, chroma: str, quality: int, sampling: int
) -> None:
    source = tmp_images("in.png", size=(96, 64))
    out = tmp_path / "out.jpg"
    run(source, out, outputFormat="jpeg", quality={"global": quality}, chroma=chroma)
    with Image.open(out) as im:
        assert JpegImagePlugin.get_sampling(im) == sampling  # 0: 4:4:4, 2: 4:2:0


def _avif_subsampled(data: bytes) -> tuple[int, int]:
    at = data.index(b"av1C") + 4  # av1C: marker/version, profile/level, then the flags byte
    flags = data[at + 2]
    return (flags >> 3) & 1, (flags >> 2) & 1


@pytest.mark.parametrize(("chroma", "expected"), [("auto", (0, 0)), ("4:2:0", (1, 1))])
def test_avif_chroma_subsampling_follows_the_setting(
    tmp_images: Callable[..., Path], tmp_path: Path, chroma: str, expected: tuple[int, int]
) -> None:
    source = tmp_images("in.png", size=(96, 64))
    out = tmp_path / "out.avif"
    run(source, out, outputFormat="avif", quality={"global": 70}, chroma=chroma)
    assert _avif_subsampled(out.read_bytes()) == expected


def test_settings_saved_with_the_old_keep_metadata_flag_still_load() -> None:
    assert decode_settings({"keepMetadata": True}).metadata == "keep"
    assert decode_settings({"keepMetadata": False}).metadata == "strip"
    assert ImageSettings().metadata == "strip" and ImageSettings().icc == "keep"


def test_cli_flags_set_metadata_icc_and_chroma(tagged_jpeg: Path, tmp_path: Path) -> None:
    run_ = subprocess.run(
        [sys.executable, "-m", "backend", "optimize", str(tagged_jpeg), "--out",
         str(tmp_path / "o"), "--quality", "80", "--metadata", "keep-no-location",
         "--icc", "srgb", "--chroma", "444", "--workers", "1"],
        capture_output=True, text=True, timeout=120, check=False)
    assert run_.returncode == 0, run_.stderr
    out = tmp_path / "o" / "camera.jpg"
    assert exif_of(out)["GPS"] == {} and exif_of(out)["0th"][piexif.ImageIFD.Make] == b"TestCam"
    with Image.open(out) as im:
        assert JpegImagePlugin.get_sampling(im) == 0


def test_cli_refuses_an_unknown_metadata_mode(tagged_jpeg: Path) -> None:
    run_ = subprocess.run(
        [sys.executable, "-m", "backend", "optimize", str(tagged_jpeg), "--metadata", "some"],
        capture_output=True, text=True, timeout=60, check=False)
    assert run_.returncode == 2 and "invalid choice: 'some'" in run_.stderr

"""The format registry is the one list: every other view of the formats is derived from it."""

from __future__ import annotations

import pytest

from backend.cli import _build_parser
from backend.core.discovery import SUPPORTED_EXTENSIONS, SUPPORTED_INPUTS
from backend.core.formats.encoders import all_encoders, encoder_for
from backend.core.formats.registry import (
    FORMATS,
    OUTPUT_CHOICES,
    OUTPUT_IDS,
    canonical,
    format_for_extension,
    get_format,
    output_for_input,
    output_format,
)
from backend.core.paths import output_extension, with_extension
from backend.errors import ValidationError
from backend.types import ImageSettings, QualitySettings
from backend.validation import decode_settings


def test_aliases_fold_to_the_format_id_in_any_case() -> None:
    assert canonical("JPG") == canonical("jpeg") == "jpeg"
    assert canonical("Original") == "original"
    assert get_format("jpg") is get_format("JPEG")
    with pytest.raises(KeyError, match="not an image format: 'psd'"):
        get_format("psd")


def test_read_only_formats_are_not_output_formats_and_say_what_original_writes() -> None:
    with pytest.raises(ValueError, match="not an output format: 'gif'"):
        output_format("gif")
    assert [output_for_input(f) for f in ("gif", "tiff", "bmp", "webp", "jpeg", "heic", "jxl")] == [
        "png", "png", "png", "webp", "jpeg", "jpeg", "jxl"]
    for fmt in FORMATS:
        assert fmt.writable or fmt.vector or fmt.original_output in OUTPUT_IDS, fmt.id


def test_every_view_of_the_formats_is_the_registry() -> None:
    assert {fmt.id for fmt in FORMATS} == SUPPORTED_INPUTS
    assert {ext: fmt.id for fmt in FORMATS for ext in fmt.extensions} == SUPPORTED_EXTENSIONS
    assert OUTPUT_IDS == ("jpeg", "png", "webp", "avif", "jxl")
    assert OUTPUT_CHOICES == ("original", "jpeg", "jpg", "png", "webp", "avif", "jxl")
    # One optional quality per output format, beside "global".
    assert set(QualitySettings.__struct_fields__) == {"global_", *OUTPUT_IDS}
    assert [output_extension(fid) for fid in OUTPUT_IDS] == [
        ".jpg", ".png", ".webp", ".avif", ".jxl"]
    cli_format = next(a for a in _build_parser()._subparsers._group_actions[0].choices[
        "optimize"]._actions if a.dest == "format")
    assert tuple(cli_format.choices) == OUTPUT_CHOICES


def test_settings_accept_every_registered_output_name_and_refuse_others() -> None:
    for name in OUTPUT_CHOICES:
        assert decode_settings({"outputFormat": name}).outputFormat == name
    with pytest.raises(ValidationError, match=r"outputFormat = \"gif\""):
        decode_settings({"outputFormat": "gif"})
    quality = ImageSettings(quality=QualitySettings(jpeg=40)).quality
    assert (quality.for_format("jpg"), quality.for_format("jpeg"), quality.for_format("png")) == (
        40, 40, 90)


def test_extensions_are_recognised_and_kept_when_they_name_the_format() -> None:
    assert format_for_extension(".JPEG") is get_format("jpeg")
    assert format_for_extension(".txt") is None
    assert with_extension("/a/photo.JPG", "jpeg") == "/a/photo.JPG"
    assert with_extension("/a/photo.jpeg", "webp") == "/a/photo.webp"
    assert with_extension("/a/anim.gif", "png") == "/a/anim.png"


def test_each_output_format_has_an_encoder_module_matching_its_capabilities() -> None:
    encoders = all_encoders()
    assert [e.name for e in encoders] == list(OUTPUT_IDS)
    assert encoder_for("jpg") is encoder_for("jpeg")
    assert {e.name: e.animation for e in encoders} == {
        "jpeg": False, "png": True, "webp": True, "avif": True, "jxl": False}
    assert {e.name for e in encoders if e.from_source is not None} == {"jpeg", "png", "jxl"}
    assert [e.name for e in encoders if e.takes_source("jpeg")] == ["jpeg", "jxl"]
    with pytest.raises(ValueError, match="not an output format"):
        encoder_for("bmp")

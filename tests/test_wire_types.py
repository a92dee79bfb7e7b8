"""The wire contract: defaults, both task forms, and refusals that name the field and the value."""

from __future__ import annotations

import msgspec
import pytest

from backend.errors import ValidationError, error_envelope
from backend.types import ImageSettings, OptimizationResult, savings
from backend.validation import decode_settings, decode_task, decode_tasks

ORIGINAL_SETTINGS = {
    "quality": {"global": 90, "jpeg": None, "png": None, "webp": None, "avif": None},
    "resize": {"width": None, "height": None, "maintainAspect": True, "mode": "none", "size": None},
    "outputFormat": "original",
}


def test_defaults_match_the_spec() -> None:
    settings = decode_settings({})
    assert settings.quality.global_ == 90
    assert settings.resize.mode == "none"
    assert settings.outputFormat == "original"
    assert msgspec.to_builtins(settings)["quality"]["global"] == 90


def test_original_payload_round_trips_unchanged() -> None:
    settings = decode_settings(ORIGINAL_SETTINGS)
    encoded = msgspec.to_builtins(settings)
    # Formats the original did not have (JPEG XL) add their own empty quality field, nothing more.
    assert encoded["quality"].pop("jxl") is None
    for key, value in ORIGINAL_SETTINGS.items():
        assert encoded[key] == value


def test_per_format_quality_overrides_global() -> None:
    settings = decode_settings({"quality": {"global": 80, "webp": 60}})
    assert settings.quality.for_format("webp") == 60
    assert settings.quality.for_format("jpeg") == 80
    assert settings.quality.for_format("jpg") == 80


def test_array_and_object_task_forms_decode_to_the_same_task() -> None:
    as_array = decode_task(["/a/b.png", None, {"outputFormat": "webp"}])
    as_object = decode_task({"input_path": "/a/b.png", "settings": {"outputFormat": "webp"}})
    assert as_array == as_object
    assert as_array.settings.outputFormat == "webp"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"input_path": "a", "settings": {"quality": {"global": 150}}}, "quality.global = 150"),
        ({"input_path": "a", "settings": {"resize": {"mode": "diag"}}}, 'mode = "diag"'),
        ({"output_path": "x"}, "missing required field `input_path`"),
        ({"input_path": 3}, "input_path = 3"),
        ({"input_path": "a", "setings": {}}, "unknown field `setings`"),
        (["a", None, {"outputFormat": "gif"}], 'settings.outputFormat = "gif"'),
        ({"input_path": ""}, 'input_path = ""'),
    ],
)
def test_bad_task_is_refused_naming_field_and_value(payload: object, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_task(payload)
    assert expected in info.value.message
    assert error_envelope(info.value) == {"kind": "validation", "message": info.value.message}


def test_bad_task_in_a_batch_names_its_index() -> None:
    with pytest.raises(ValidationError, match=r"tasks\[1\]: settings.quality.global = 0"):
        decode_tasks(
            [{"input_path": "a"}, {"input_path": "b", "settings": {"quality": {"global": 0}}}]
        )


def test_tasks_must_be_an_array() -> None:
    with pytest.raises(ValidationError, match="expected an array of tasks, got dict"):
        decode_tasks({"input_path": "a"})


def test_result_uses_the_original_field_names() -> None:
    saved, ratio = savings(1000, 250)
    result = OptimizationResult(
        original_path="a", optimized_path="b", original_size=1000, optimized_size=250,
        success=True, savedBytes=saved, compressionRatio=ratio,
    )
    wire = msgspec.to_builtins(result)
    assert {"original_path", "optimized_path", "original_size", "optimized_size", "success",
            "error", "savedBytes", "compressionRatio"} <= wire.keys()
    assert (wire["savedBytes"], wire["compressionRatio"]) == (750, 75.0)


def test_unknown_exception_envelope_has_no_traceback() -> None:
    envelope = error_envelope(RuntimeError("boom"))
    assert envelope == {"kind": "internal", "message": "RuntimeError: boom"}


def test_image_settings_is_the_default_settings_object() -> None:
    assert decode_settings(None) == ImageSettings()

"""The catalogues (frontend/i18n/<lang>.json) agree with `en` and with what Python serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from backend.contract import contract
from backend.errors import ValidationError
from backend.validation import decode_preferences

I18N = Path(__file__).resolve().parents[1] / "frontend" / "i18n"
LANGUAGES = ("nl", "de", "fr", "es", "ru")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(code: str) -> dict[str, Any]:
    return json.loads((I18N / f"{code}.json").read_text(encoding="utf-8"))


def _placeholders(value: str | dict[str, str]) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


def test_the_folder_holds_exactly_the_six_catalogues() -> None:
    assert sorted(path.stem for path in I18N.glob("*.json")) == sorted(("en", *LANGUAGES))


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_catalogue_has_the_keys_and_placeholders_of_en(code: str) -> None:
    en, other = _load("en"), _load(code)
    assert sorted(set(en) - set(other)) == [], f"{code} lacks these keys"
    assert sorted(set(other) - set(en)) == [], f"{code} has keys en lacks"
    for key, value in en.items():
        assert _placeholders(other[key]) == _placeholders(value), f"{code}: {key}"
        assert str(other[key]).strip(), f"{code}: {key} is empty"


def test_en_has_every_word_the_backend_serves_under_its_key() -> None:
    en, served = _load("en"), contract()
    expected = {"format.original": served.originalLabel}
    expected |= {f"resize.{mode}": label for mode, label in served.resizeModeLabels.items()}
    for field, labels in served.choiceLabels.items():
        expected |= {f"choice.{field}.{value}": label for value, label in labels.items()}
    expected |= {f"quality.{low}": label for low, label in msgspec.to_builtins(served.qualityBands)}
    expected |= {f"unit.{unit}": unit for unit in served.byteUnits}
    assert {key: en.get(key) for key in expected} == expected


def test_the_language_preference_takes_a_catalogue_code_only() -> None:
    assert decode_preferences({"language": "ru"}).language == "ru"
    assert decode_preferences({}).language is None
    with pytest.raises(ValidationError):
        decode_preferences({"language": "xx"})


def test_every_counted_phrase_has_the_forms_its_language_counts_with() -> None:
    # CLDR plural categories for integers: Russian one (1, 21), few (2-4, 22), many (5-20, 0);
    # the other five languages one and other ("other" also covers Russian fractions).
    forms = {"ru": {"one", "few", "many", "other"}}
    for code in ("en", *LANGUAGES):
        for key, value in _load(code).items():
            if isinstance(value, dict):
                assert set(value) == forms.get(code, {"one", "other"}), f"{code}: {key}"

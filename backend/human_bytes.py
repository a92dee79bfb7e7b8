"""Byte counts as people read them; ``frontend/js/ui/format.js`` ``formatBytes`` is the same rule.

1024-based units, as the original showed them: whole bytes below 1 KB, then KB, MB and GB with two
decimals ("512 B", "12.35 KB", "20.40 MB"). A negative count (a file that grew) keeps its sign.
Rounding is half away from zero on the exact value, as JavaScript's ``toFixed`` does (Python's
``format`` rounds half to even: 1152 bytes would read "1.12 KB" here and "1.13 KB" on the page).
``e2e/test_contract.py`` runs both on the same numbers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_UNITS = ("KB", "MB", "GB")
_CENTS = Decimal("0.01")


def format_bytes(count: float) -> str:
    sign = "-" if count < 0 else ""
    size = abs(count)
    if size < 1024:
        return f"{sign}{Decimal(size).quantize(Decimal(1), rounding=ROUND_HALF_UP)} B"
    size /= 1024
    index = 0
    while size >= 1024 and index < len(_UNITS) - 1:
        size /= 1024
        index += 1
    return f"{sign}{Decimal(size).quantize(_CENTS, rounding=ROUND_HALF_UP)} {_UNITS[index]}"

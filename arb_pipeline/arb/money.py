"""Exact money helpers shared by every module of `arb/`: strict Decimal parsing and directed rounding.

Why a module of its own: rounding direction is a money rule (fees round *up*, payouts round *down*),
so it lives in one place with one spelling instead of ad-hoc `quantize` calls that could drift.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

CENT = Decimal("0.01")
TEN_THOUSANDTH = Decimal("0.0001")  # Kalshi's sub-penny fee/balance precision (kalshi-api.md §7.2)
ZERO = Decimal("0")
ONE = Decimal("1")


def to_decimal(value: object, what: str) -> Decimal:
    """Parse a money-like value exactly; `what` names the field so a bad value is easy to trace.

    Floats go through `str()` (shortest round-trip text), never `Decimal(float)`, so `0.1` is `0.1`
    and not the binary expansion. bool is rejected because `True` would silently become 1.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what}: expected a finite number, got {value!r}")
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what}: not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"{what}: expected a number or numeric string, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise ValueError(f"{what}: expected a finite number, got {value!r}")
    return result


def _quantize(amount: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    try:
        return amount.quantize(quantum, rounding=rounding)
    except InvalidOperation:  # more digits than Decimal's 28: no real price, stake or fee is that large
        raise ValueError(f"{amount} cannot be rounded to {quantum}: beyond 28 significant digits") from None


def ceil_to(amount: Decimal, quantum: Decimal) -> Decimal:
    """Round up to a multiple of `quantum` (fees: Kalshi never rounds a charge in our favour)."""
    return _quantize(amount, quantum, ROUND_CEILING)


def floor_to(amount: Decimal, quantum: Decimal) -> Decimal:
    """Round down to a multiple of `quantum` (payouts and sizes: never count money we may not get)."""
    return _quantize(amount, quantum, ROUND_FLOOR)


def decimal_text(value: Decimal) -> str:
    """The one way a Decimal is written to JSON: exact, no exponent, no trailing zeros.

    Why: values reach JSON from several sources with different scales ("150.00" from a payout,
    "150" from a count, "0.240000" from a stored NUMERIC(18, 6)); a reader comparing or summing them
    as text must not see one amount spelled three ways. Nothing is rounded: "6.6063" stays.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text

"""Exact odds values: JSON numbers → `Decimal`, American → decimal, and odds-format detection.

Odds become payouts, so they never pass through binary floats: providers' decimal numbers are read
from their JSON text (`json.loads(..., parse_float=Decimal)`), and American prices are converted with
the exact formula shared with `arb.odds` (only a repeating decimal such as 1 + 100/110 is rounded, at
the 28th significant digit and toward zero, so a payout is never overstated; the American integer is
kept beside it so the exact ratio stays recoverable).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Literal

from arb_pipeline.arb.odds import american_to_decimal_exact

OddsFormat = Literal["decimal", "american"]
# No bookmaker prices an outcome above this (exchanges stop at 1000, American +100000 is 1001): a larger
# price is a units or format error, and beyond ~1e28 it cannot even be rounded to a cent payout exactly.
MAX_DECIMAL_ODDS = Decimal("10000")



def json_number(value: object, what: str = "value") -> Decimal:
    """A JSON number as an exact `Decimal`; anything else (string, bool, null, NaN) is a ValueError.

    A `float` is accepted only for payloads built in memory: its `repr` is the shortest text that reads
    back as the same float, i.e. the text a JSON encoder writes for it.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{what} must be a JSON number, got {type(value).__name__} {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - Decimal(int) and Decimal(repr(float)) always parse
        raise ValueError(f"{what} {value!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return number


def to_decimal_odds(price: object, odds_format: OddsFormat) -> tuple[Decimal, int | None]:
    """`(decimal_odds, american_or_None)` for one provider price in the given format; ValueError if invalid."""
    number = json_number(price, "price")
    if odds_format == "american":
        if number != number.to_integral_value():
            raise ValueError(f"American price {number} is not an integer")
        if abs(number) > (MAX_DECIMAL_ODDS - 1) * 100:
            raise ValueError(f"American price {number} is implausible: beyond +/-{(MAX_DECIMAL_ODDS - 1) * 100:f}")
        american = int(number)
        return american_to_decimal_exact(american), american  # the one American → decimal conversion
    if number <= 1:
        raise ValueError(f"decimal price {number} is invalid: must be greater than 1")
    if number > MAX_DECIMAL_ODDS:
        raise ValueError(f"decimal price {number} is implausible: above {MAX_DECIMAL_ODDS} (a units or format error)")
    return number, None


def detect_odds_format(prices: Iterable[object]) -> OddsFormat | None:
    """Which format a whole response is in, judged on all its prices together.

    Each price is checked against both formats: American needs an integer with |x| >= 100, decimal
    needs x > 1. The format that fewer prices violate wins, so one malformed price is reported as a
    problem instead of flipping the whole response. A tie with violations on both sides raises
    ValueError rather than guessing (a wrong guess turns American +150 into decimal 150.0). When no
    price violates either format (every price an integer >= 100) it is American. None: no numeric price.
    """
    american_bad = decimal_bad = 0
    seen = False
    for price in prices:
        try:
            number = json_number(price)
        except ValueError:
            continue  # not a number at all: reported per outcome later
        seen = True
        if number != number.to_integral_value() or abs(number) < 100:
            american_bad += 1
        if number <= 1:
            decimal_bad += 1
    if not seen:
        return None
    if american_bad < decimal_bad or american_bad == decimal_bad == 0:
        return "american"
    if decimal_bad < american_bad:
        return "decimal"
    raise ValueError(
        f"odds format is ambiguous: {american_bad} price(s) cannot be American and {decimal_bad} cannot be "
        "decimal; pass odds_format explicitly"
    )

"""Odds conversions (sportsbook-odds.md §3).

Two families on purpose: float functions for probabilities and vectorized screening, and `*_exact`
functions returning `Decimal` for the money path (stakes and payouts are computed from them).
Every input is validated; a bad value raises `InvalidOdds` naming the value, never a silent number.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, localcontext
from fractions import Fraction

from arb_pipeline.arb.money import ONE

_HUNDRED = Decimal(100)
_FRACTION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class InvalidOdds(ValueError):
    """Odds that cannot describe a bet: American in (-100, 100), decimal ≤ 1, NaN/inf, malformed text."""


def _american_number(a: object) -> Decimal:
    """American odds as an exact Decimal, accepting int, Decimal, numeric str ("+150") or float (-322.0)."""
    if isinstance(a, bool) or a is None:
        raise InvalidOdds(f"American odds must be a number, got {a!r}")
    if isinstance(a, float):
        if not math.isfinite(a):
            raise InvalidOdds(f"American odds must be finite, got {a!r}")
        value = Decimal(str(a))
    elif isinstance(a, int | Decimal):
        value = Decimal(a)
    elif isinstance(a, str):
        text = a.strip()
        if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
            raise InvalidOdds(f"American odds are not a signed number: {a!r}")
        value = Decimal(text)
    else:
        raise InvalidOdds(f"American odds must be a number or string, got {type(a).__name__} {a!r}")
    if not value.is_finite():
        raise InvalidOdds(f"American odds must be finite, got {a!r}")
    if -100 < value < 100:
        raise InvalidOdds(f"American odds must be <= -100 or >= +100, got {a!r}")
    return value


def american_to_decimal_exact(a: int | str | Decimal) -> Decimal:
    """Exact-as-possible decimal odds for an American price.

    Positive prices are exact (1 + A/100 terminates). Negative prices (1 + 100/|A|) may not terminate
    (-110 → 1.9090…); they are computed at 28 significant digits with ROUND_FLOOR, so the odds — and
    every payout derived from them — are never overstated by the rounding (error < 1e-27).
    """
    value = _american_number(a)
    with localcontext() as ctx:
        ctx.prec = 28
        ctx.rounding = "ROUND_FLOOR"
        if value > 0:
            return ONE + value / _HUNDRED
        return ONE + _HUNDRED / -value


def american_to_decimal(a: float | int | str) -> float:
    """Float decimal odds for an American price (screening and probabilities only)."""
    return float(american_to_decimal_exact(a))  # type: ignore[arg-type]


def _check_decimal_float(d: object) -> float:
    if isinstance(d, bool) or not isinstance(d, int | float | Decimal):
        raise InvalidOdds(f"decimal odds must be a number, got {type(d).__name__} {d!r}")
    value = float(d)
    if not math.isfinite(value):
        raise InvalidOdds(f"decimal odds must be finite, got {d!r}")
    if value <= 1.0:
        raise InvalidOdds(f"decimal odds must be > 1, got {d!r}")
    return value


def decimal_to_american(d: float) -> float:
    """American odds for decimal odds; 2.0 → +100 by convention (a comparer treats ±100 as equal)."""
    value = _check_decimal_float(d)
    if value >= 2.0:
        return 100.0 * (value - 1.0)
    return -100.0 / (value - 1.0)


def fractional_to_decimal(s: str) -> float:
    """Decimal odds for UK fractional odds "a/b" (d = 1 + a/b); a must be > 0 and b > 0."""
    if not isinstance(s, str):
        raise InvalidOdds(f"fractional odds must be a string like '5/2', got {type(s).__name__} {s!r}")
    match = _FRACTION_RE.match(s)
    if not match:
        raise InvalidOdds(f"fractional odds are malformed (expected 'a/b'): {s!r}")
    num, den = Fraction(match.group(1)), Fraction(match.group(2))
    if den == 0 or num == 0:
        raise InvalidOdds(f"fractional odds need a > 0 and b > 0: {s!r}")
    return float(1 + num / den)


def implied_probability(d: float) -> float:
    """Raw implied probability 1/d (vig included; see `implied_prob.devig` to remove it)."""
    return 1.0 / _check_decimal_float(d)


def parse_decimal_odds(x: object) -> Decimal:
    """Exact decimal odds from a JSON number or string, going through `str()` so that 1.91 stays 1.91
    (never `Decimal(1.91)` = 1.9099999999999999200639422269887290894985198974609375)."""
    if isinstance(x, bool) or x is None:
        raise InvalidOdds(f"decimal odds must be a number, got {x!r}")
    if isinstance(x, Decimal):
        value = x
    elif isinstance(x, int | float):
        if isinstance(x, float) and not math.isfinite(x):
            raise InvalidOdds(f"decimal odds must be finite, got {x!r}")
        value = Decimal(str(x))
    elif isinstance(x, str):
        text = x.strip()
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise InvalidOdds(f"decimal odds are not a plain decimal number: {x!r}")
        value = Decimal(text)
    else:
        raise InvalidOdds(f"decimal odds must be a number or string, got {type(x).__name__} {x!r}")
    if not value.is_finite():
        raise InvalidOdds(f"decimal odds must be finite, got {x!r}")
    if value <= ONE:
        raise InvalidOdds(f"decimal odds must be > 1, got {x!r}")
    return value

"""Fixed-point money for the simulator: the wire strings Kalshi sends and the fee rounding it applies.

Kalshi prices are dollar strings with 4 decimals ("0.5600") and counts are strings with 2 decimals
("10.00"); both are parsed and computed with `Decimal` so that a simulated fee or balance is exactly
what the real exchange would charge, never a float approximation.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")
COUNT_QUANTUM = Decimal("0.01")
ONE = Decimal("1")
TAKER_COEFFICIENT = Decimal("0.07")
MAKER_SHARE = Decimal("0.25")  # maker fee = 0.25 x taker formula on quadratic_with_maker_fees


def dollars(value: Decimal) -> str:
    """A dollar amount as Kalshi writes it: 4 decimals ("0.5600")."""
    return str(value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP))


def count_fp(value: Decimal) -> str:
    """A contract count as Kalshi writes it: 2 decimals ("10.00")."""
    return str(value.quantize(COUNT_QUANTUM, rounding=ROUND_HALF_UP))


def ceil_to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


def floor_to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_FLOOR)


def to_cents(value: Decimal) -> int:
    """Integer cents (floored), for the few surviving integer-cent fields such as `balance`."""
    return int((value * 100).to_integral_value(rounding=ROUND_FLOOR))


def parse_decimal(text: object) -> Decimal | None:
    """Parse a wire string into a finite Decimal; None when it is not one."""
    if not isinstance(text, str | int) or isinstance(text, bool):
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def quadratic_fee_raw(count: Decimal, price: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """The unrounded taker formula 0.07 * M * C * P * (1 - P)."""
    return TAKER_COEFFICIENT * multiplier * count * price * (ONE - price)


def taker_fee(count: Decimal, price: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """Taker fee of one fill: ceil_to_cent(0.07 * M * C * P * (1 - P))."""
    return ceil_to_cent(quadratic_fee_raw(count, price, multiplier))


def maker_fee(count: Decimal, price: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """Maker fee of one fill on a `quadratic_with_maker_fees` series: 0.25 x the taker formula."""
    return ceil_to_cent(MAKER_SHARE * quadratic_fee_raw(count, price, multiplier))

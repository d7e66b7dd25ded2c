"""Fixed-point money for the simulator: the wire strings Kalshi sends and the fee rounding it applies.

Kalshi prices are dollar strings with 4 decimals ("0.5600") and counts are strings with 2 decimals
("10.00"); both are parsed and computed with `Decimal` so that a simulated fee or balance is exactly
what the real exchange would charge, never a float approximation. Fees are the project's own rule
(`arb.fees`: each fill's trade fee rounded up to $0.0001, the order's sum rounded up to the cent), so
the simulator can never charge differently from what detection and sizing assumed.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from arb_pipeline.arb.fees import fee_rate, raw_trade_fee
from arb_pipeline.arb.money import CENT, ONE, ceil_to, floor_to

PRICE_QUANTUM = Decimal("0.0001")
COUNT_QUANTUM = Decimal("0.01")
FEE_TYPE = "quadratic_with_maker_fees"


def dollars(value: Decimal) -> str:
    """A dollar amount as Kalshi writes it: 4 decimals ("0.5600")."""
    # zero skips the memo: Decimal("-0") == Decimal("0") (one key) but they print "-0.0000" / "0.0000"
    return _dollars(value) if value else str(value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP))


def count_fp(value: Decimal) -> str:
    """A contract count as Kalshi writes it: 2 decimals ("10.00")."""
    return _count_fp(value) if value else str(value.quantize(COUNT_QUANTUM, rounding=ROUND_HALF_UP))


# Memoized: equal non-zero Decimals (whatever their exponent) print the same, and a 1,000-game capture
# prints ~100,000 prices and sizes from a few thousand distinct values. typed=True keeps a float or int
# (which has no quantize) from sharing an equal Decimal's entry.
@lru_cache(maxsize=65_536, typed=True)
def _dollars(value: Decimal) -> str:
    return str(value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP))


@lru_cache(maxsize=65_536, typed=True)
def _count_fp(value: Decimal) -> str:
    return str(value.quantize(COUNT_QUANTUM, rounding=ROUND_HALF_UP))


def ceil_to_cent(value: Decimal) -> Decimal:
    return ceil_to(value, CENT)


def floor_to_cent(value: Decimal) -> Decimal:
    return floor_to(value, CENT)


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


def fill_fee_raw(count: Decimal, price: Decimal, multiplier: Decimal = ONE, *, maker: bool = False,
                 fee_type: str = FEE_TYPE) -> Decimal:
    """One fill's trade fee before the order's cent rounding: `arb.fees.raw_trade_fee` (k·C·P·(1−P) up
    to $0.0001, k = 0.07·M for takers, scaled by the fee type's maker share for makers)."""
    return raw_trade_fee(count, price, fee_rate(maker=maker, fee_multiplier=multiplier, fee_type=fee_type))


def taker_fee(count: Decimal, price: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """Taker fee of one fill: the fill's trade fee rounded up to the cent."""
    return ceil_to_cent(fill_fee_raw(count, price, multiplier))


def maker_fee(count: Decimal, price: Decimal, multiplier: Decimal = ONE, fee_type: str = FEE_TYPE) -> Decimal:
    """Maker fee of one fill (0.25 x the taker formula on `quadratic_with_maker_fees`)."""
    return ceil_to_cent(fill_fee_raw(count, price, multiplier, maker=True, fee_type=fee_type))

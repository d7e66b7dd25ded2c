"""Kalshi trading fees (kalshi-api.md §7.1–§7.2), exact in Decimal.

The fee is charged per order/fill, not per contract, and rounded up: callers always pass the whole
fill (there is deliberately no `fee_per_contract`, which would hide the rounding of small clips).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from arb_pipeline.arb.money import CENT, ONE, TEN_THOUSANDTH, ZERO, ceil_to, to_decimal

TAKER_RATE = Decimal("0.07")  # [3P] per kalshi-api.md §7.1; read fee_type/multiplier from the API
_MAKER_SHARE = {
    "quadratic_with_maker_fees": Decimal("0.25"),
    "quadratic_with_combo_maker_fees": Decimal("0.5"),
    "quadratic": ZERO,
}
KNOWN_FEE_TYPES = (*_MAKER_SHARE, "flat")


class UnsupportedFeeType(NotImplementedError):
    """A fee type whose formula we do not know; guessing would misprice every opportunity on it."""


def fee_rate(*, maker: bool, fee_multiplier: Decimal | int | str, fee_type: str) -> Decimal:
    """The coefficient k in fee = k × C × P × (1 − P): 0.07 × M for takers, scaled for makers."""
    if fee_type == "flat":
        raise UnsupportedFeeType(
            "fee_type 'flat' follows Kalshi's 'Specific Trading Fees' table, which is UNVERIFIED in our "
            "reference (kalshi-api.md §7.1); refusing to guess its fee"
        )
    if fee_type not in _MAKER_SHARE:
        raise ValueError(f"unknown Kalshi fee_type {fee_type!r}; known: {', '.join(KNOWN_FEE_TYPES)}")
    multiplier = to_decimal(fee_multiplier, "fee_multiplier")
    if multiplier < 0:
        raise ValueError(f"fee_multiplier must be >= 0, got {fee_multiplier!r}")
    rate = TAKER_RATE * multiplier
    return rate * _MAKER_SHARE[fee_type] if maker else rate


def check_contracts(contracts: object, where: str = "contracts") -> Decimal:
    """Contracts must be > 0 in steps of 0.01 (Kalshi's fractional-contract unit, §3.1)."""
    count = to_decimal(contracts, where)
    if count <= 0:
        raise ValueError(f"{where} must be > 0, got {contracts!r}")
    if count != count.quantize(CENT):
        raise ValueError(f"{where} must be a multiple of 0.01 contract, got {contracts!r}")
    return count


def check_price(price: object, where: str = "price") -> Decimal:
    """A Kalshi price in dollars must be strictly inside (0, 1)."""
    value = to_decimal(price, where)
    if not ZERO < value < ONE:
        raise ValueError(f"{where} must be strictly between 0 and 1 dollars, got {price!r}")
    return value


def raw_trade_fee(contracts: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """One fill's trade fee before balance rounding: k·C·P·(1−P) rounded up to $0.0001 (§7.2 step 1).

    The product is exact: P has ≤ 4 decimals and C ≤ 2, far inside Decimal's 28 digits.
    """
    return ceil_to(rate * contracts * price * (ONE - price), TEN_THOUSANDTH)


def kalshi_fee(
    contracts: Decimal | int | str,
    price: Decimal | str,
    *,
    maker: bool = False,
    fee_multiplier: Decimal | int | str = 1,
    fee_type: str = "quadratic_with_maker_fees",
    sub_penny: bool = False,
) -> Decimal:
    """The fee Kalshi charges for one fill of `contracts` at `price`.

    Regular accounts: rounded up to the cent (§7.2 item 4, e.g. 1 × $0.50 → $0.02). Direct members
    (`sub_penny=True`): rounded up to $0.0001.
    """
    count = check_contracts(contracts)
    p = check_price(price)
    return kalshi_order_fee(
        [(count, p)], maker=maker, fee_multiplier=fee_multiplier, fee_type=fee_type, sub_penny=sub_penny
    )


def kalshi_order_fee(
    fills: Iterable[tuple[Decimal, Decimal]],
    *,
    maker: bool = False,
    fee_multiplier: Decimal | int | str = 1,
    fee_type: str = "quadratic_with_maker_fees",
    sub_penny: bool = False,
) -> Decimal:
    """The fee of one order that filled at several price levels.

    Each fill's trade fee is rounded up to $0.0001 (§7.2 step 1); the per-order accumulator (step 3)
    means the whole order's balance rounding is taken once, so the sum is rounded up to the cent once.
    With a single level this is exactly `kalshi_fee`; with several it is never below Kalshi's charge.
    """
    rate = fee_rate(maker=maker, fee_multiplier=fee_multiplier, fee_type=fee_type)
    total = ZERO
    for count, price in fills:
        total += raw_trade_fee(count, price, rate)
    return total if sub_penny else ceil_to(total, CENT)

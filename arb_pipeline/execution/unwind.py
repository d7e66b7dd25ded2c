"""Unwinding a one-legged excess: IOC sells stepping down from the entry price within a loss limit.

When the legs of an arbitrage diverge (one filled, a sibling filled less or nothing), the contracts
the sibling did not match are naked risk. Selling `side` at p is buying the other side at 1 - p
with reduce-only on Kalshi (kalshi-api.md §6.1). The ladder starts at the price we paid (floored to
the market's tick) and steps down to the *floor*: the lowest price at which selling everything
still held keeps the unwind's total loss - cost of what was bought, minus what the sales bring in
net of their fees - within the limit. Each step is re-checked against what the earlier steps really
realized, assuming the worst (an IOC fills at its limit or better), so the limit can never be
exceeded whatever fills. What no step sells stays held and flagged.

Pure arithmetic: no I/O, money in Decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from arb_pipeline.arb.money import ZERO

FeeOf = Callable[[Decimal, Decimal], Decimal]  # (contracts, price) -> the taker fee of that sale


def sale_loss(held: Decimal, cost: Decimal, price: Decimal, fee_of: FeeOf) -> Decimal:
    """Loss of selling all `held` contracts (bought for `cost`, fees included) at `price`."""
    if held <= 0:
        return ZERO
    return cost - (held * price - fee_of(held, price))


def floor_price(held: Decimal, cost: Decimal, budget: Decimal, tick: Decimal, fee_of: FeeOf) -> Decimal | None:
    """The lowest price on the tick grid at which selling all `held` loses at most `budget`; None when
    even the highest sellable price (1 - tick) loses more."""
    if held <= 0 or tick <= 0:
        return None
    price = Decimal(1) - tick
    best: Decimal | None = None
    while price > 0 and sale_loss(held, cost, price, fee_of) <= budget:  # loss rises as the price falls
        best, price = price, price - tick
    return best


def ladder(start: Decimal, floor: Decimal, steps: int, tick: Decimal) -> list[Decimal]:
    """Up to `steps` distinct prices on the tick grid from `start` down to `floor` (both included when
    they differ), evenly spaced: the first sale asks what was paid, the last the worst acceptable."""
    if steps < 1 or tick <= 0:
        raise ValueError(f"need steps >= 1 and tick > 0, got {steps}, {tick}")
    top = (start / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
    bottom = (floor / tick).to_integral_value(rounding=ROUND_CEILING) * tick
    if top <= bottom or steps == 1:
        return [max(bottom, min(top, Decimal(1) - tick))]
    prices: list[Decimal] = []
    for k in range(steps):
        raw = top - (top - bottom) * k / (steps - 1)
        price = (raw / tick).to_integral_value(rounding=ROUND_CEILING) * tick
        if not prices or price < prices[-1]:
            prices.append(price)
    if prices[-1] != bottom:
        prices.append(bottom)
    return prices

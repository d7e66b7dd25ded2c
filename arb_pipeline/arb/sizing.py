"""Stake sizing: equal-payout arbitrage splits (sportsbook-odds.md §5.1), the binary-contract Kelly that
sizes value bets (§5.3; fractional and capped, `cover.price_value`), and the `SizingPolicy` caps that
bound every position. (Single-bet and simultaneous-outcome Kelly variants were removed: nothing called
them, and a value bet here is always one Kalshi binary.)

Kelly does not cap a riskless arbitrage (§5.3): limits, depth and execution risk do, which is why
the policy caps exist and why sizes are rounded (whole contracts, cents) and then recomputed by the
caller — a trade that rounding kills must be rejected, not reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from arb_pipeline.arb.commission import DEFAULT_BOOK_COMMISSION, check_rate, commission_rate
from arb_pipeline.arb.money import ONE, ZERO, to_decimal
from arb_pipeline.arb.odds import InvalidOdds


def _odds(d: float, where: str) -> float:
    if isinstance(d, bool) or not math.isfinite(float(d)) or float(d) <= 1.0:
        raise InvalidOdds(f"{where}: decimal odds must be finite and > 1, got {d!r}")
    return float(d)


def _prob(p: float, where: str) -> float:
    if isinstance(p, bool) or not math.isfinite(float(p)) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{where}: probability must be in [0, 1], got {p!r}")
    return float(p)


def equal_payout_stakes(decimal_odds: Sequence[float], total: float) -> list[float]:
    """Split `total` so every outcome returns the same amount: s_i = total·(1/d_i)/Σ(1/d_j) (§5.1)."""
    if not math.isfinite(total) or total <= 0:
        raise ValueError(f"total stake must be > 0, got {total!r}")
    inv = [1.0 / _odds(d, f"odds[{i}]") for i, d in enumerate(decimal_odds)]
    if not inv:
        raise ValueError("equal_payout_stakes needs at least one price")
    s = math.fsum(inv)
    return [total * x / s for x in inv]


def kelly_binary(prob: float, price: Decimal, fee_per_contract: Decimal) -> float:
    """Kelly for a $1 binary bought at all-in cost c = price + fee/contract: f* = (p − c)/(1 − c).

    `fee_per_contract` must come from the fee of the whole intended fill divided by its size
    (fees round per order, so the per-contract fee depends on the size).
    """
    p = _prob(prob, "prob")
    cost = to_decimal(price, "price") + to_decimal(fee_per_contract, "fee_per_contract")
    if not ZERO < cost < ONE:
        raise ValueError(f"all-in cost per contract must be in (0, 1), got {cost}")
    c = float(cost)
    return max(0.0, (p - c) / (1.0 - c))


def fractional_kelly(fraction: float, multiplier: float) -> float:
    """λ·f* (λ = 0.5 half Kelly, 0.25 quarter Kelly): full Kelly is too aggressive for noisy fair probs."""
    if not 0.0 < multiplier <= 1.0:
        raise ValueError(f"Kelly multiplier must be in (0, 1], got {multiplier!r}")
    if fraction < 0.0:
        raise ValueError(f"Kelly fraction must be >= 0, got {fraction!r}")
    return fraction * multiplier


@dataclass(frozen=True, slots=True)
class SizingPolicy:
    """Caps on one opportunity's outlay, in dollars unless stated. The smallest cap wins.

    Defaults are deliberately small (a $10k bankroll risking ≤ 2% per event) so a misconfigured
    scan cannot size anything large. `current_exposure` is what is already deployed; an opportunity
    may use at most `max_total_exposure − current_exposure`.
    """

    bankroll: Decimal = Decimal("10000")
    bankroll_fraction: Decimal = Decimal("0.02")  # of bankroll per opportunity
    max_per_event: Decimal = Decimal("500")
    max_per_market: Decimal = Decimal("250")  # outlay on one Kalshi market
    max_total_exposure: Decimal = Decimal("5000")
    current_exposure: Decimal = Decimal("0")
    max_sportsbook_stake: Decimal = Decimal("250")  # per bet, on top of any limit the book reports
    max_contracts: Decimal = Decimal("1000")  # available depth is checked separately by walking
    kelly_multiplier: float = 0.25  # value bets: quarter Kelly
    whole_contracts: bool = True
    sub_penny: bool = False  # direct members: fees rounded up to $0.0001 instead of the cent
    # per-book stake limit per bet (ARB_BOOK_STAKE_LIMITS), over `max_sportsbook_stake` for the others
    book_stake_limits: Mapping[str, Decimal] = field(default_factory=dict)
    # exchange commission on net winnings per book (ARB_BOOK_COMMISSION; arb.commission's UNVERIFIED defaults)
    book_commission: Mapping[str, Decimal] = field(default_factory=lambda: DEFAULT_BOOK_COMMISSION)

    def __post_init__(self) -> None:
        for name in ("bankroll", "bankroll_fraction", "max_per_event", "max_per_market", "max_total_exposure",
                     "max_sportsbook_stake", "max_contracts"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"SizingPolicy.{name} must be a positive Decimal, got {value!r}")
        if not isinstance(self.current_exposure, Decimal) or self.current_exposure < 0:
            raise ValueError(f"SizingPolicy.current_exposure must be a Decimal >= 0, got {self.current_exposure!r}")
        if self.bankroll_fraction > 1:
            raise ValueError(f"SizingPolicy.bankroll_fraction must be <= 1, got {self.bankroll_fraction}")
        if not 0.0 < self.kelly_multiplier <= 1.0:
            raise ValueError(f"SizingPolicy.kelly_multiplier must be in (0, 1], got {self.kelly_multiplier!r}")
        for book, limit in self.book_stake_limits.items():
            if not isinstance(limit, Decimal) or not limit.is_finite() or limit <= 0:
                raise ValueError(f"SizingPolicy.book_stake_limits[{book!r}] must be a positive Decimal, got {limit!r}")
        for book, rate in self.book_commission.items():
            check_rate(rate, book)

    def stake_limit(self, book: str) -> Decimal:
        """The most one bet at `book` may stake: its own limit, else the global sportsbook limit."""
        return self.book_stake_limits.get(book, self.max_sportsbook_stake)

    def commission(self, book: str) -> Decimal:
        """`book`'s commission on net winnings (0 for a traditional sportsbook)."""
        return commission_rate(book, self.book_commission)

    def max_outlay(self) -> Decimal:
        """Dollars one opportunity may spend in total (all legs, all fees)."""
        remaining = self.max_total_exposure - self.current_exposure
        return max(ZERO, min(self.bankroll * self.bankroll_fraction, self.max_per_event, remaining))


def largest_fitting(cap: Decimal, step: Decimal, fits: Callable[[Decimal], bool], guess: Decimal | None = None) -> Decimal:
    """Largest multiple of `step` ≤ cap for which the monotone predicate `fits` holds (0 if none).

    `guess` (e.g. a dollar cap divided by the unit cost) is usually within a step or two of the
    answer, so the search walks from it a few steps before falling back to bisection.
    """
    top = int((cap / step).to_integral_value(rounding="ROUND_FLOOR"))
    if top <= 0:
        return ZERO
    if fits(step * top):
        return step * top
    lo, hi = 0, top  # invariant: lo == 0 or fits(lo·step); never fits(hi·step)
    if guess is not None and top >= 2:
        g = min(max(int((guess / step).to_integral_value(rounding="ROUND_FLOOR")), 1), top - 1)
        if fits(step * g):
            lo = g
            for _ in range(4):
                if lo + 1 >= hi:
                    break
                if not fits(step * (lo + 1)):
                    hi = lo + 1
                    break
                lo += 1
        else:
            hi = g
            for _ in range(4):
                if hi - 1 <= lo:
                    break
                if fits(step * (hi - 1)):
                    lo = hi - 1
                    break
                hi -= 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(step * mid):
            lo = mid
        else:
            hi = mid
    return step * lo

"""Risk limits every opportunity must pass, each check returning a reason string when it fails.

Defaults are what a practitioner would start with, and why:
- an arbitrage is reported whenever its guaranteed profit after fees and rounding is > 0
  (`min_arb_profit` = 0, `min_arb_roi_bps` = 0): small arbs are the real ones;
- a value bet needs ≥ 200 bps of edge after fees: the consensus fair price itself is uncertain;
- `max_edge_bps` = 1500: real Kalshi/sportsbook arbs are a few percent; 15% is far above that yet
  well below the 20–30% that a stale quote, a wrong team mapping or a settled game produce;
- Kalshi books older than 30 s and sportsbook quotes older than 180 s are stale (feeds refresh about
  once a minute, sportsbook-odds.md §1.4);
- no pre-game trade within 300 s of the scheduled start: Kalshi keeps game markets `active` during
  play, so the start time — not the market status — is what stops us trading a live game as pre-game.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

from arb_pipeline.arb.implied_prob import check_method

_DEFAULT_WEIGHTS = MappingProxyType({"pinnacle": 3.0, "circasports": 2.0, "betfair_ex_eu": 2.0})


@dataclass(frozen=True, slots=True)
class Limits:
    min_arb_profit: Decimal = Decimal("0")  # strictly greater than this, in dollars
    min_arb_roi_bps: Decimal = Decimal("0")
    min_value_edge_bps: Decimal = Decimal("200")
    max_edge_bps: Decimal = Decimal("1500")
    max_kalshi_age_s: float = 30.0
    max_sportsbook_age_s: float = 180.0
    pregame_buffer_s: float = 300.0
    min_contracts: Decimal = Decimal("1")  # min liquidity: at least this many contracts at the edge
    devig_method: str = "multiplicative"
    consensus_min_books: int = 2
    book_weights: Mapping[str, float] = field(default_factory=lambda: _DEFAULT_WEIGHTS)
    screen_tolerance: float = 1e-9  # float screen slack so rounding can never hide a true candidate
    # Which books are which (`arb.accounts`): None means every book.
    account_books: frozenset[str] | None = None  # where the trader can place a hedge (ARB_ACCOUNT_BOOKS)
    consensus_books: frozenset[str] | None = None  # whose prices make the fair value (ARB_CONSENSUS_BOOKS)
    trade_value: bool = False  # value (+EV) opportunities are executable only when opted in (ARB_TRADE_VALUE)

    def __post_init__(self) -> None:
        check_method(self.devig_method)
        if self.max_kalshi_age_s <= 0 or self.max_sportsbook_age_s <= 0 or self.pregame_buffer_s < 0:
            raise ValueError("Limits: quote ages must be > 0 and the pre-game buffer >= 0")
        if self.min_contracts <= 0 or self.consensus_min_books < 1 or self.max_edge_bps <= 0:
            raise ValueError("Limits: min_contracts, consensus_min_books and max_edge_bps must be positive")
        for name in ("account_books", "consensus_books"):
            books = getattr(self, name)
            if books is not None and (not isinstance(books, frozenset) or not books):
                raise ValueError(f"Limits.{name} must be None (every book) or a non-empty frozenset, got {books!r}")
        if not 0 < self.screen_tolerance < 1e-3:
            raise ValueError(f"Limits.screen_tolerance must be in (0, 1e-3), got {self.screen_tolerance!r}")


def check_status(ticker: str, status: str) -> str | None:
    if status != "active":
        return f"market {ticker} status is {status!r}, not 'active'"
    return None


def check_exchange(trading_active: bool) -> str | None:
    return None if trading_active else "exchange trading_active is false"


def check_pregame(commence_time: datetime, as_of: datetime, limits: Limits) -> str | None:
    seconds_left = (commence_time - as_of).total_seconds()
    if seconds_left < limits.pregame_buffer_s:
        return (f"too close to or past the start ({seconds_left:.0f} s before commence_time, "
                f"buffer {limits.pregame_buffer_s:.0f} s)")
    return None


def check_age(what: str, age_s: float, max_age_s: float) -> str | None:
    if age_s < 0:
        return f"{what} quote is from the future ({-age_s:.1f} s ahead of as_of): clock skew"
    if age_s > max_age_s:
        return f"{what} quote is stale ({age_s:.1f} s old > {max_age_s:.0f} s)"
    return None


def check_max_edge(edge_bps: Decimal, limits: Limits) -> str | None:
    if edge_bps > limits.max_edge_bps:
        return (f"edge {edge_bps:.0f} bps exceeds max {limits.max_edge_bps} bps: too good to be true "
                "(stale quote, wrong mapping or settled game?)")
    return None


def check_min_contracts(contracts: Decimal, limits: Limits) -> str | None:
    if contracts < limits.min_contracts:
        return f"only {contracts} contracts fillable with the edge, min {limits.min_contracts}"
    return None


def check_arb_result(profit: Decimal, roi_bps: Decimal, limits: Limits) -> str | None:
    if profit <= limits.min_arb_profit:
        return f"guaranteed profit {profit} after fees and rounding is not > {limits.min_arb_profit}"
    if roi_bps < limits.min_arb_roi_bps:
        return f"ROI {roi_bps:.1f} bps below min {limits.min_arb_roi_bps} bps"
    return None


def check_value_edge(edge_bps: Decimal, limits: Limits) -> str | None:
    if edge_bps < limits.min_value_edge_bps:
        return f"edge {edge_bps:.1f} bps after fees below min {limits.min_value_edge_bps} bps"
    return None

"""Builders for `arb/` tests: Kalshi books, contracts, sportsbook quotes and games.

Exposed as fixtures returning plain functions (tests run with --import-mode=importlib, so a helper
module cannot be imported by name).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.market import GameLine, KalshiContract
from arb_pipeline.domain import Outcome, PriceRange, SeriesFees, SportsbookQuote

AS_OF = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
LINEAR_CENT = (PriceRange(Decimal("0"), Decimal("1"), Decimal("0.01")),)


def book(ticker: str, yes_bids=(), no_bids=()) -> OrderBook:
    return OrderBook.from_orderbook_fp(ticker, {
        "yes_dollars": [[str(p), str(c)] for p, c in yes_bids],
        "no_dollars": [[str(p), str(c)] for p, c in no_bids],
    })


def contract(ticker: str, outcome: Outcome, yes_bids=(), no_bids=(), *, status="active", age_s=2.0,
             fee_type="quadratic_with_maker_fees", multiplier="1") -> KalshiContract:
    return KalshiContract(ticker, outcome, outcome.value, book(ticker, yes_bids, no_bids),
                          SeriesFees("KXTEST", fee_type, Decimal(multiplier)), LINEAR_CENT, status,
                          AS_OF - timedelta(seconds=age_s))


def quote(bookmaker: str, outcome: Outcome, odds: str, *, age_s=20.0, max_stake: str | None = None) -> SportsbookQuote:
    ts = AS_OF - timedelta(seconds=age_s)
    return SportsbookQuote("test", bookmaker, bookmaker.title(), "basketball_nba", "NBA", "evt1", "Home Team",
                           "Away Team", AS_OF + timedelta(hours=3), "h2h", outcome.value, outcome.value,
                           Decimal(odds), ts, ts, None, None, Decimal(max_stake) if max_stake else None)


def game(kalshi: dict, quotes: list, *, outcomes=(Outcome.HOME, Outcome.AWAY), ticker="KXNBAGAME-26NOV24AAABBB",
         start_in_s=3 * 3600, tradable=True, blocked=()) -> GameLine:
    return GameLine(ticker, "NBA", AS_OF + timedelta(seconds=start_in_s), tuple(outcomes),
                    {o: o.value for o in outcomes}, kalshi, tuple(quotes), tradable, tuple(blocked))


@pytest.fixture(scope="session")
def builders():
    class B:
        pass

    b = B()
    b.book, b.contract, b.quote, b.game, b.as_of = book, contract, quote, game, AS_OF
    return b

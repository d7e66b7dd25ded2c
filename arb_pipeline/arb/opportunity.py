"""Opportunity detection: the entry point `detect` and the records it returns.

Two kinds (issue #2 §2):
- arbitrage: instruments that together pay exactly $1 per unit in every outcome of the game
  (`combos`), bought for less than they pay after every fee and all rounding, sized on the book;
- value (+EV): a Kalshi YES or NO priced below the de-vigged sportsbook consensus by a minimum
  edge after fees.

Speed: every scan screens every candidate of every game in NumPy (`screen`), then confirms only the
survivors exactly in Decimal (`confirm`). Cost is linear in games (one pass over the quote columns
plus a fixed number of array operations per covering structure).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from time import perf_counter

from arb_pipeline.arb.accounts import labelled
from arb_pipeline.arb.confirm import Context, confirm_arbitrage, confirm_value
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.market import GameColumns, GameLine, KalshiContract
from arb_pipeline.arb.quotes import QuoteTable
from arb_pipeline.arb.results import ARBITRAGE, VALUE, DetectionResult, Leg, Opportunity, Rejection
from arb_pipeline.arb.screen import screen
from arb_pipeline.arb.sizing import SizingPolicy

__all__ = [
    "ARBITRAGE",
    "VALUE",
    "DetectionResult",
    "GameColumns",
    "GameLine",
    "KalshiContract",
    "Leg",
    "Opportunity",
    "QuoteTable",
    "Rejection",
    "detect",
]


def detect(
    games: Sequence[GameLine],
    limits: Limits,
    sizing: SizingPolicy,
    *,
    as_of: datetime,
    exchange_trading_active: bool = True,
    quotes: QuoteTable | None = None,
    columns: GameColumns | None = None,
) -> DetectionResult:
    """Find arbitrage and value opportunities over `games` at time `as_of`.

    Quotes come from each `GameLine.quotes`, or — the fast path — from `quotes`, a `QuoteTable`
    whose game index is the position in `games` (then every `GameLine.quotes` must be empty, so no
    quote is ever silently ignored). `columns`: the games' Kalshi side as screen columns
    (`GameColumns.of(games)`, which a scan builds once when it assembles its games); built here when not
    given. Screen survivors that fail any check are in `rejected`.
    """
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise ValueError(f"as_of must be a timezone-aware datetime, got {as_of!r}")
    started = perf_counter()
    columns = GameColumns.of(games) if columns is None else columns.require_for(games)
    if quotes is None:
        table = QuoteTable.from_games(games)
    else:
        with_quotes = columns.quotes_on_lines
        if with_quotes:
            raise ValueError(f"quotes given both as a QuoteTable and on GameLines {with_quotes[:3]}")
        table = quotes
    built = perf_counter()
    arb_candidates, value_candidates = screen(games, table, limits, sizing.book_commission, columns)
    screened = perf_counter()
    ctx = Context(limits, sizing, as_of, exchange_trading_active, table)
    found: list[Opportunity] = []
    rejected: list[Rejection] = []
    for cand in arb_candidates:
        result = confirm_arbitrage(cand.game, games[cand.game], cand.combo, ctx)
        (found if isinstance(result, Opportunity) else rejected).append(result)  # type: ignore[arg-type]
    for vc in value_candidates:
        result = confirm_value(vc.game, games[vc.game], vc.outcome, vc.side, ctx)
        (found if isinstance(result, Opportunity) else rejected).append(result)  # type: ignore[arg-type]
    found = [labelled(o, limits.account_books, limits.trade_value) for o in found]
    done = perf_counter()
    found.sort(key=lambda o: (o.kind != ARBITRAGE, -o.profit))
    stats = {
        "games": len(games),
        "outcome_quotes": len(table),
        "arb_candidates": len(arb_candidates),
        "value_candidates": len(value_candidates),
        "opportunities": len(found),
        "rejected": len(rejected),
        "build_s": built - started,
        "screen_s": screened - built,
        "confirm_s": done - screened,
        "total_s": done - started,
    }
    return DetectionResult(tuple(found), tuple(rejected), stats)

"""Sanity guards: reasons a mapped market must not be executed, each reported, never silently dropped.

Why separate from the rules: a mapping can be right and still unsafe to trade (the market is not
active, the game has started, the price says YES is probably the other side). Guards never change a
mapping; they set `tradable=False` and say why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from arb_pipeline.domain import KalshiMarket, Outcome
from arb_pipeline.mapping.orientation import (
    check_orientation,
    consensus_probabilities,
    line_consensus,
    yes_mid,
)
from arb_pipeline.mapping.orientation_batch import consensus_of_games, consensus_of_rows
from arb_pipeline.mapping.quote_rows import QuoteRows
from arb_pipeline.mapping.results import ResolvedLine, ResolvedMarket
from arb_pipeline.mapping.rules import ResolverConfig
from arb_pipeline.mapping.sportsbook import SportsbookGame


class GuardContext:
    """Per-scan state for the guards (the book consensus is computed once per game)."""

    def __init__(self, as_of: datetime, config: ResolverConfig, prices: Mapping[str, Decimal]) -> None:
        self.as_of = as_of
        self.config = config
        self.prices = prices
        self._consensus: dict[str, dict[Outcome, float]] = {}
        self._line_consensus: dict[tuple[str, str, Outcome, Decimal], float | None] = {}

    def prime(self, games: Sequence[SportsbookGame], rows: QuoteRows | None = None) -> None:
        """Compute the consensus of all `games` at once (`orientation_batch`: the same floats as one by
        one), so `consensus` finds each there: a scan's games, before its markets are checked. With
        `rows` (the games were grouped from them) the quotes' fields are read from the parser's columns."""
        todo = [g for g in games if g.event_id not in self._consensus]
        quotes, outcomes = [g.quotes for g in todo], [_outcomes(g) for g in todo]
        if rows is None:
            found = consensus_of_games(quotes, outcomes)
        else:
            at, counts = rows.h2h_rows([g.event_id for g in todo])
            found = consensus_of_rows(rows.columns, at, counts, quotes, outcomes)
        for game, consensus in zip(todo, found, strict=True):
            self._consensus.setdefault(game.event_id, consensus)

    def consensus(self, game: SportsbookGame) -> dict[Outcome, float]:
        cached = self._consensus.get(game.event_id)
        if cached is None:
            cached = consensus_probabilities(game.quotes, _outcomes(game))
            self._consensus[game.event_id] = cached
        return cached

    def check(self, market: KalshiMarket, game: SportsbookGame, outcome: Outcome,
              kalshi_start: datetime | None) -> tuple[list[str], float | None, float | None]:
        """Guards for one mapped winner market, plus the YES price and fair probability they used."""
        return self._check(market, game, kalshi_start, self.consensus(game).get(outcome), "sportsbook consensus")

    def check_line(self, market: KalshiMarket, game: SportsbookGame, book_market: str, side: Outcome,
                   point: Decimal, kalshi_start: datetime | None) -> tuple[list[str], float | None, float | None]:
        """Guards for one mapped spread/total market: the orientation check compares its YES price with
        the books' consensus of the same side at exactly the same point."""
        key = (game.event_id, book_market, side, point)
        if key not in self._line_consensus:
            self._line_consensus[key] = line_consensus(game.line_quotes, book_market, side, point)
        return self._check(market, game, kalshi_start, self._line_consensus[key],
                           f"sportsbook {book_market} line at this point")

    def _check(self, market: KalshiMarket, game: SportsbookGame, kalshi_start: datetime | None,
               fair: float | None, consensus_name: str) -> tuple[list[str], float | None, float | None]:
        guards: list[str] = []
        if market.status != "active":
            guards.append(f"market status is {market.status!r}, not 'active'")
        start = min(game.commence_time, kalshi_start) if kalshi_start else game.commence_time
        if self.as_of >= start - self.config.start_buffer:
            guards.append(f"game started (or starts within {self.config.start_buffer}): start "
                          f"{start.isoformat()}, as of {self.as_of.isoformat()}; pre-game trading closed")
        price = self.prices.get(market.ticker)
        if price is None:
            price = yes_mid(market)
        result = check_orientation(price, fair, self.config.orientation_margin)
        if result.inverted or (result.reason and self.config.require_orientation_check):
            reason = result.reason or ""
            guards.append(reason.replace("sportsbook consensus", consensus_name) if fair is None else reason)
        return guards, result.yes_price, result.fair_probability


def _outcomes(game: SportsbookGame) -> frozenset[Outcome]:
    """The outcomes a book's h2h line must price for the orientation consensus of `game`."""
    return _THREE_WAY if game.league.three_way else _TWO_WAY


_TWO_WAY = frozenset({Outcome.HOME, Outcome.AWAY})
_THREE_WAY = frozenset({Outcome.HOME, Outcome.AWAY, Outcome.DRAW})


def flag_duplicate_lines(rows: list[ResolvedLine]) -> list[ResolvedLine]:
    """Several Kalshi markets on one side of one sportsbook line at one point are all excluded."""
    claims: dict[tuple[str, str, Outcome, Decimal], list[int]] = {}
    for i, row in enumerate(rows):
        claims.setdefault((row.sportsbook_event_id, row.book_market, row.yes_outcome, row.point), []).append(i)
    out = list(rows)
    for (event_id, market, side, point), indexes in claims.items():
        if len(indexes) > 1:
            tickers = sorted(rows[i].kalshi_market for i in indexes)
            reason = (f"duplicate mapping: sportsbook event {event_id} {market} {side.value} at {point} is mapped "
                      f"from {len(tickers)} Kalshi markets {tickers}; all excluded")
            for i in indexes:
                out[i] = replace(out[i], tradable=False, guards=(*out[i].guards, reason))
    return out


def flag_duplicates(rows: list[ResolvedMarket], weak: Set[int] = frozenset()) -> list[ResolvedMarket]:
    """Several Kalshi markets mapped to one sportsbook outcome are excluded, each with the reason.

    `weak` are indexes of rows matched despite a start-time disagreement (already untradable). If
    exactly one row of a group is on time, it keeps its status: a postponed Kalshi game that found
    tomorrow's game of the same teams must not block tomorrow's own, on-time market. Otherwise all
    rows of the group are excluded.
    """
    claims: dict[tuple[str, Outcome], list[int]] = {}
    for i, row in enumerate(rows):
        claims.setdefault((row.sportsbook_event_id, row.outcome), []).append(i)
    out = list(rows)
    for (event_id, outcome), indexes in claims.items():
        if len(indexes) < 2:
            continue
        tickers = sorted(rows[i].kalshi_market for i in indexes)
        reason = (f"duplicate mapping: sportsbook event {event_id} outcome {outcome.value} is mapped from "
                  f"{len(tickers)} Kalshi markets {tickers}; all excluded")
        on_time = [i for i in indexes if i not in weak]
        flagged = [i for i in indexes if i in weak] if len(on_time) == 1 else indexes
        for i in flagged:
            out[i] = replace(out[i], tradable=False, guards=(*out[i].guards, reason))
    return out

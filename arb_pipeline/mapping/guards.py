"""Sanity guards: reasons a mapped market must not be executed, each reported, never silently dropped.

Why separate from the rules: a mapping can be right and still unsafe to trade (the market is not
active, the game has started, the price says YES is probably the other side). Guards never change a
mapping; they set `tradable=False` and say why.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from arb_pipeline.domain import KalshiMarket, Outcome
from arb_pipeline.mapping.orientation import check_orientation, consensus_probabilities, yes_mid
from arb_pipeline.mapping.results import ResolvedMarket
from arb_pipeline.mapping.rules import ResolverConfig
from arb_pipeline.mapping.sportsbook import SportsbookGame


class GuardContext:
    """Per-scan state for the guards (the book consensus is computed once per game)."""

    def __init__(self, as_of: datetime, config: ResolverConfig, prices: Mapping[str, Decimal]) -> None:
        self.as_of = as_of
        self.config = config
        self.prices = prices
        self._consensus: dict[str, dict[Outcome, float]] = {}

    def consensus(self, game: SportsbookGame) -> dict[Outcome, float]:
        cached = self._consensus.get(game.event_id)
        if cached is None:
            outcomes = {Outcome.HOME, Outcome.AWAY} | ({Outcome.DRAW} if game.league.three_way else set())
            cached = consensus_probabilities(game.quotes, frozenset(outcomes))
            self._consensus[game.event_id] = cached
        return cached

    def check(self, market: KalshiMarket, game: SportsbookGame, outcome: Outcome,
              kalshi_start: datetime | None) -> tuple[list[str], float | None, float | None]:
        """Guards for one mapped market, plus the YES price and fair probability they used."""
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
        fair = self.consensus(game).get(outcome)
        result = check_orientation(price, fair, self.config.orientation_margin)
        if result.inverted or (result.reason and self.config.require_orientation_check):
            guards.append(result.reason or "")
        return guards, result.yes_price, result.fair_probability


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

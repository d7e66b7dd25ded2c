"""Game marks: each matched game outcome's Kalshi market, start, closing consensus and result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.arb.settlement import parse_result
from arb_pipeline.storage.models import GameMark
from arb_pipeline.storage.repositories._time import require_aware


class GameMarkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def mark(self, *, event_ticker: str, outcome: str, kalshi_ticker: str, league: str, commence_time: datetime,
             fair_probability: float | None, method: str, at: datetime) -> GameMark:
        """Record what a scan at `at` saw. Before the start it replaces the consensus (so after the start
        the row holds the last one before it: the closing line); from the start on it changes nothing
        but fills in a row never seen before (with no consensus: a post-start price is no closing line)."""
        at, commence_time = require_aware(at, "at"), require_aware(commence_time, "commence_time")
        row = self.session.scalars(select(GameMark).where(GameMark.event_ticker == event_ticker,
                                                          GameMark.outcome == outcome)).first()
        before_start = at < commence_time
        if row is None:
            row = GameMark(event_ticker=event_ticker, outcome=outcome, kalshi_ticker=kalshi_ticker, league=league,
                           commence_time=commence_time, fair_probability=fair_probability if before_start else None,
                           method=method, marked_at=at)
            self.session.add(row)
        elif before_start and at >= row.marked_at:
            row.kalshi_ticker, row.league, row.commence_time = kalshi_ticker, league, commence_time
            if fair_probability is not None:
                row.fair_probability, row.method = fair_probability, method
            row.marked_at = at
        self.session.flush()
        return row

    def set_result(self, kalshi_ticker: str, result: str, at: datetime) -> int:
        """The Kalshi market's settled result on every mark naming it; returns how many rows it set."""
        result = parse_result(result, f"result of {kalshi_ticker}")  # yes/no/void/a scalar value
        rows = list(self.session.scalars(select(GameMark).where(GameMark.kalshi_ticker == kalshi_ticker)))
        for row in rows:
            if row.result is None:
                row.result, row.result_at = result, require_aware(at, "at")
        self.session.flush()
        return len(rows)

    def for_event(self, event_ticker: str) -> list[GameMark]:
        return list(self.session.scalars(select(GameMark).where(GameMark.event_ticker == event_ticker)
                                         .order_by(GameMark.outcome)))

    def for_events(self, events: list[str]) -> dict[str, list[GameMark]]:
        out: dict[str, list[GameMark]] = {e: [] for e in events}
        if events:
            for row in self.session.scalars(select(GameMark).where(GameMark.event_ticker.in_(events))):
                out[row.event_ticker].append(row)
        return out

    def start_of(self, event_ticker: str) -> datetime | None:
        rows = self.for_event(event_ticker)
        return min((r.commence_time for r in rows), default=None)

"""What resolution returns: mapped rows, and everything that could not be mapped, with reasons.

Why every miss is a record rather than a log line: an operator must see *why* a market is not
traded (and what was proposed) to correct it, and a backfill must be able to replay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from arb_pipeline.domain import Outcome
from arb_pipeline.slotted import fast_init

YES_BACKS_OUTCOME = "yes_backs_outcome"


class MatchMethod(StrEnum):
    RULE = "rule"
    OVERRIDE = "override"
    FUZZY_PROPOSED = "fuzzy-proposed"


class UnresolvedKind(StrEnum):
    KALSHI_EVENT = "kalshi_event"
    KALSHI_MARKET = "kalshi_market"
    SPORTSBOOK_EVENT = "sportsbook_event"


@fast_init
@dataclass(frozen=True, slots=True)
class ResolvedMarket:
    """One Kalshi market mapped to one sportsbook game and the outcome its YES side backs."""

    kalshi_market: str
    kalshi_event: str
    league: str
    sportsbook_event_id: str
    sport_key: str
    outcome: Outcome
    team_id: str | None  # None for the draw
    team_name: str  # display name ("Draw" for the draw)
    home_team: str  # sportsbook spelling
    away_team: str
    method: MatchMethod
    confidence: float  # 0-1
    start_time: datetime  # sportsbook commence time, UTC
    kalshi_start: datetime | None  # milestone start (or ticker HHMM), UTC, when known
    tradable: bool
    guards: tuple[str, ...]  # every reason it is not tradable; empty when tradable
    yes_price: float | None = None  # the Kalshi YES price used by the orientation guard
    fair_probability: float | None = None  # book consensus of `outcome` used by the orientation guard
    orientation: str = YES_BACKS_OUTCOME

    def to_dict(self) -> dict[str, object]:
        return {
            "kalshi_market": self.kalshi_market,
            "kalshi_event": self.kalshi_event,
            "league": self.league,
            "sportsbook_event_id": self.sportsbook_event_id,
            "sport_key": self.sport_key,
            "outcome": self.outcome.value,
            "team_id": self.team_id,
            "team_name": self.team_name,
            "home_team": self.home_team,
            "away_team": self.away_team,
            "method": self.method.value,
            "confidence": self.confidence,
            "orientation": self.orientation,
            "start_time": self.start_time.isoformat(),
            "kalshi_start": self.kalshi_start.isoformat() if self.kalshi_start else None,
            "tradable": self.tradable,
            "guards": list(self.guards),
            "yes_price": self.yes_price,
            "fair_probability": self.fair_probability,
        }


@fast_init
@dataclass(frozen=True, slots=True)
class ResolvedLine:
    """One Kalshi spread or total market mapped to one sportsbook game and the line it trades.

    YES pays when the game's result lands on `yes_outcome`'s side of `point` on the line's axis
    (`domain.line_position`: home margin for a spread, total score for a total). The sportsbook
    selection paying in exactly the same outcomes is `book_market` / `yes_book_outcome` at
    `yes_book_point`; NO is the other side at the same point, plus the push on a whole-number point.
    """

    kalshi_market: str
    kalshi_event: str
    league: str
    sportsbook_event_id: str
    sport_key: str
    kind: str  # "spread" | "total"
    strike: Decimal  # Kalshi floor_strike: YES iff (team's winning margin | total) > strike
    team_id: str | None  # spread: the team whose margin must exceed the strike
    yes_outcome: Outcome  # HOME / AWAY (which team covers) or OVER
    point: Decimal  # the line's point on its axis
    book_market: str  # "spreads" | "totals"
    yes_book_outcome: str  # the sportsbook outcome equivalent to YES: "home", "away" or "over"
    yes_book_point: Decimal  # its point as the sportsbook quotes it (home −3.5 → -3.5)
    label: str  # e.g. "Boston Celtics -3.5" or "Over 227.5"
    home_team: str  # sportsbook spelling
    away_team: str
    method: MatchMethod
    confidence: float
    start_time: datetime
    kalshi_start: datetime | None
    tradable: bool
    guards: tuple[str, ...]
    yes_price: float | None = None
    fair_probability: float | None = None  # book consensus of YES's side at the same point

    def to_dict(self) -> dict[str, object]:
        return {
            "kalshi_market": self.kalshi_market, "kalshi_event": self.kalshi_event, "league": self.league,
            "sportsbook_event_id": self.sportsbook_event_id, "sport_key": self.sport_key, "kind": self.kind,
            "strike": str(self.strike), "team_id": self.team_id, "yes_outcome": self.yes_outcome.value,
            "point": str(self.point), "book_market": self.book_market, "yes_book_outcome": self.yes_book_outcome,
            "yes_book_point": str(self.yes_book_point), "label": self.label, "home_team": self.home_team,
            "away_team": self.away_team, "method": self.method.value, "confidence": self.confidence,
            "start_time": self.start_time.isoformat(),
            "kalshi_start": self.kalshi_start.isoformat() if self.kalshi_start else None,
            "tradable": self.tradable, "guards": list(self.guards), "yes_price": self.yes_price,
            "fair_probability": self.fair_probability,
        }


@fast_init
@dataclass(frozen=True, slots=True)
class Unresolved:
    """Something not mapped: its kind, id, the reason, and candidates/proposals with their scores."""

    kind: UnresolvedKind
    id: str
    reason: str
    candidates: tuple[Mapping[str, object], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind.value, "id": self.id, "reason": self.reason,
                "candidates": [dict(c) for c in self.candidates]}


@dataclass(frozen=True, slots=True)
class Resolution:
    rows: tuple[ResolvedMarket, ...]  # game-winner markets
    unresolved: tuple[Unresolved, ...]
    lines: tuple[ResolvedLine, ...] = ()  # spread and total markets

    def line_for(self, market_ticker: str) -> ResolvedLine | None:
        return next((r for r in self.lines if r.kalshi_market == market_ticker), None)

    def tradable(self) -> tuple[ResolvedMarket, ...]:
        return tuple(r for r in self.rows if r.tradable)

    def row_for(self, market_ticker: str) -> ResolvedMarket | None:
        return next((r for r in self.rows if r.kalshi_market == market_ticker), None)

    def unresolved_for(self, item_id: str) -> tuple[Unresolved, ...]:
        return tuple(u for u in self.unresolved if u.id == item_id)

    def to_dict(self) -> dict[str, object]:
        return {"rows": [r.to_dict() for r in self.rows], "lines": [r.to_dict() for r in self.lines],
                "unresolved": [u.to_dict() for u in self.unresolved]}

"""What resolution returns: mapped rows, and everything that could not be mapped, with reasons.

Why every miss is a record rather than a log line: an operator must see *why* a market is not
traded (and what was proposed) to correct it, and a backfill must be able to replay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from arb_pipeline.domain import Outcome

YES_BACKS_OUTCOME = "yes_backs_outcome"


class MatchMethod(StrEnum):
    RULE = "rule"
    OVERRIDE = "override"
    FUZZY_PROPOSED = "fuzzy-proposed"


class UnresolvedKind(StrEnum):
    KALSHI_EVENT = "kalshi_event"
    KALSHI_MARKET = "kalshi_market"
    SPORTSBOOK_EVENT = "sportsbook_event"


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
    rows: tuple[ResolvedMarket, ...]
    unresolved: tuple[Unresolved, ...]

    def tradable(self) -> tuple[ResolvedMarket, ...]:
        return tuple(r for r in self.rows if r.tradable)

    def row_for(self, market_ticker: str) -> ResolvedMarket | None:
        return next((r for r in self.rows if r.kalshi_market == market_ticker), None)

    def unresolved_for(self, item_id: str) -> tuple[Unresolved, ...]:
        return tuple(u for u in self.unresolved if u.id == item_id)

    def to_dict(self) -> dict[str, object]:
        return {"rows": [r.to_dict() for r in self.rows], "unresolved": [u.to_dict() for u in self.unresolved]}

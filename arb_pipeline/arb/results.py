"""What detection reports: opportunities with every number needed to audit them, and rejections
with their reasons (nothing a screen flagged is ever dropped silently)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from arb_pipeline.arb.money import decimal_text
from arb_pipeline.domain import Outcome

ARBITRAGE = "arbitrage"
VALUE = "value"
KALSHI = "kalshi"
SPORTSBOOK = "sportsbook"
BACK = "back"


def _json(value: object) -> object:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Outcome):
        return value.value
    if isinstance(value, Mapping):
        return {str(_json(k)): _json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Leg:
    """One order: a Kalshi buy (price = VWAP $/contract, size = contracts) or a sportsbook back
    (price = decimal odds, size = stake $). `cost` is exactly what it takes out of the account."""

    venue: str  # "kalshi" | "sportsbook"
    market: str  # Kalshi market ticker, or the bookmaker key
    outcome: Outcome  # structural outcome the instrument refers to
    outcome_label: str  # team name or "draw", for display
    side: str  # "yes" | "no" | "back"
    price: Decimal
    size: Decimal
    fee: Decimal
    cost: Decimal  # Kalshi: Σ level price × contracts + fee; sportsbook: the stake
    payout: Decimal  # paid if the leg wins: contracts × $1, or floor_to_cent(stake × odds)
    pays_in: tuple[Outcome, ...]
    quote_age_s: float
    levels: tuple[tuple[Decimal, Decimal], ...] = ()  # Kalshi fills per level: (price, contracts)
    refunded_in: tuple[Outcome, ...] = ()  # sportsbook: outcomes that refund the stake (a push on a line)
    # sportsbook: exchange commission on the net winnings if the back wins, already taken out of `payout`
    commission: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, object]:
        """JSON for people and tools: `outcome` names the team (or "draw") as the trader reads it,
        `outcome_side` keeps the structural home/away/draw, and a sportsbook leg names its `bookmaker`."""
        out = {name: _json(getattr(self, name)) for name in self.__dataclass_fields__}
        out["outcome"] = "draw" if self.outcome is Outcome.DRAW else self.outcome_label
        out["outcome_side"] = self.outcome.value
        if self.venue == SPORTSBOOK:
            out["bookmaker"] = self.market
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Leg:
        """The leg `to_dict` wrote (e.g. stored with an executed opportunity), exactly: money from its
        decimal strings, the structural outcome from `outcome_side`."""
        age = data.get("quote_age_s")
        return cls(
            venue=str(data["venue"]), market=str(data["market"]), outcome=Outcome(str(data["outcome_side"])),
            outcome_label=str(data.get("outcome_label") or data.get("outcome") or ""), side=str(data["side"]),
            price=Decimal(str(data["price"])), size=Decimal(str(data["size"])), fee=Decimal(str(data["fee"])),
            cost=Decimal(str(data["cost"])), payout=Decimal(str(data["payout"])),
            pays_in=tuple(Outcome(str(o)) for o in data["pays_in"]),  # type: ignore[union-attr]
            quote_age_s=float(age) if age is not None else float("nan"),  # type: ignore[arg-type]
            levels=tuple((Decimal(str(p)), Decimal(str(c))) for p, c in data.get("levels") or ()),  # type: ignore[union-attr]
            refunded_in=tuple(Outcome(str(o)) for o in data.get("refunded_in") or ()),  # type: ignore[union-attr]
            commission=Decimal(str(data.get("commission") or 0)),
        )


@dataclass(frozen=True, slots=True)
class Opportunity:
    kind: str  # "arbitrage" | "value"
    event: str  # Kalshi event ticker
    league: str
    legs: tuple[Leg, ...]
    cost: Decimal  # every leg's notional plus every fee
    profit: Decimal  # arbitrage: worst case over outcomes; value: expectation
    roi: Decimal  # profit / cost
    edge_bps: Decimal  # arbitrage: profit per $ of guaranteed payout; value: (fair − all-in price) per $1
    payouts: Mapping[Outcome, Decimal]  # arbitrage: what each outcome pays back
    quote_ages: Mapping[str, float]  # seconds, per input quote (leg or consensus book)
    reasons: tuple[str, ...]  # why it passed (checks, sizing caps that bound it)
    detected_at: datetime
    fair_probability: float | None = None  # value bets: de-vigged consensus for the leg's side
    consensus_books: tuple[str, ...] = field(default=())
    # why it cannot be executed ("PAPER: no account at ...", `arb.accounts.not_executable`); empty: it can
    not_executable: tuple[str, ...] = field(default=())
    # the sportsbook market the opportunity trades: "h2h" (game winner), or a line ("spreads" /
    # "totals") at `point` on its axis (`domain.line_position`: the home margin for a spread)
    market: str = "h2h"
    point: Decimal | None = None

    @property
    def executable(self) -> bool:
        return not self.not_executable

    def to_dict(self) -> dict[str, object]:
        out = {name: _json(getattr(self, name)) for name in self.__dataclass_fields__ if name != "legs"}
        out["legs"] = [leg.to_dict() for leg in self.legs]
        out["executable"] = self.executable
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Opportunity:
        """The opportunity `to_dict` wrote: what execution acted on, rebuilt exactly (reconciliation
        re-plans an execution a crashed process left unfinished)."""
        fair = data.get("fair_probability")
        return cls(
            kind=str(data["kind"]), event=str(data["event"]), league=str(data.get("league", "")),
            legs=tuple(Leg.from_dict(leg) for leg in data["legs"]),  # type: ignore[union-attr]
            cost=Decimal(str(data["cost"])), profit=Decimal(str(data["profit"])), roi=Decimal(str(data["roi"])),
            edge_bps=Decimal(str(data["edge_bps"])),
            payouts={Outcome(str(o)): Decimal(str(v)) for o, v in dict(data.get("payouts") or {}).items()},
            quote_ages={str(k): float(v) for k, v in dict(data.get("quote_ages") or {}).items() if v is not None},
            reasons=tuple(str(r) for r in data.get("reasons") or ()),  # type: ignore[union-attr]
            detected_at=datetime.fromisoformat(str(data["detected_at"])),
            fair_probability=float(fair) if fair is not None else None,  # type: ignore[arg-type]
            consensus_books=tuple(str(b) for b in data.get("consensus_books") or ()),  # type: ignore[union-attr]
            not_executable=tuple(str(r) for r in data.get("not_executable") or ()),  # type: ignore[union-attr]
            market=str(data.get("market") or "h2h"),
            point=Decimal(str(data["point"])) if data.get("point") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    kind: str
    event: str
    candidate: str  # e.g. "yes:home + book:away" or "no:draw"
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "event": self.event, "candidate": self.candidate, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class DetectionResult:
    opportunities: tuple[Opportunity, ...]
    rejected: tuple[Rejection, ...]
    stats: Mapping[str, float]

    def to_dict(self) -> dict[str, object]:
        return {
            "opportunities": [o.to_dict() for o in self.opportunities],
            "rejected": [r.to_dict() for r in self.rejected],
            "stats": dict(self.stats),
        }

"""What execution needs from a detected `arb.results.Opportunity`, checked and made explicit.

This is the one place that reads the detector's records, so a change there is adapted here. Kalshi
legs become IOC orders: the limit is the worst price level the detector walked (the order can never
fill beyond the depth the opportunity was sized on); sportsbook legs become hedge instructions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from arb_pipeline.domain import ContractSide
from arb_pipeline.execution.ids import DEFAULT_BUCKET_S, client_order_id, opportunity_id, opportunity_key

KALSHI, SPORTSBOOK = "kalshi", "sportsbook"
_PRICE_QUANTUM = Decimal("0.0001")  # Kalshi's finest price (kalshi-api.md §3.1)


@dataclass(frozen=True, slots=True)
class KalshiLegPlan:
    leg_index: int
    client_order_id: str
    ticker: str
    side: ContractSide  # the contract we buy
    count: Decimal
    limit_price: Decimal  # worst acceptable price of `side` (not the YES-leg price)
    expected_cost: Decimal  # notional + fee as detected
    pays_in: frozenset[str]
    label: str = ""  # what the contract backs, as a trader reads it (team name or "draw")


@dataclass(frozen=True, slots=True)
class BookLegPlan:
    leg_index: int
    bookmaker: str
    outcome: str
    selection: str  # the provider's name for the outcome (team, "Draw")
    odds: Decimal  # decimal odds quoted
    stake: Decimal
    pays_in: frozenset[str]
    refunded_in: frozenset[str] = frozenset()  # a line's push: the book gives the stake back there


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    opportunity_id: str
    opportunity_key: str
    kind: str
    event: str
    league: str
    detected_at: datetime
    outcomes: frozenset[str]  # every way the game can end
    kalshi_legs: tuple[KalshiLegPlan, ...]
    book_legs: tuple[BookLegPlan, ...]
    cost: Decimal
    profit: Decimal
    payload: dict[str, Any]
    market: str = "h2h"  # or the line traded: "spreads" / "totals" at `point` (on the line's axis)
    point: Decimal | None = None


def book_selection(label: str, market: str, point: Decimal | None, refunded_in: frozenset[str]) -> str:
    """What a person backs at the sportsbook: the outcome as the book names it and, on a line, the
    market and the point (in the label: "Boston Celtics -3.5", "Under 221.5") and whether a push
    refunds the stake (a whole-number line)."""
    if market == "h2h" or point is None:
        return label
    push = "; a push refunds the stake" if refunded_in else "; half point, no push"
    return f"{label} ({market}{push})"


def _limit_price(leg: Any) -> Decimal:
    prices = [Decimal(price) for price, _count in leg.levels] if leg.levels else [Decimal(leg.price)]
    worst = max(prices)
    if worst != worst.quantize(_PRICE_QUANTUM) or not Decimal(0) < worst < Decimal(1):
        raise ValueError(f"Kalshi leg {leg.market}: worst price {worst} is not a valid Kalshi price")
    return worst


def plan_opportunity(opportunity: Any, *, bucket_s: int = DEFAULT_BUCKET_S) -> ExecutionPlan:
    """Translate an `Opportunity` into an `ExecutionPlan`; raise ValueError on anything malformed."""
    legs = tuple(opportunity.legs)
    key = opportunity_key(
        opportunity.kind, opportunity.event,
        [(leg.venue, leg.market, str(getattr(leg.outcome, "value", leg.outcome)), leg.side, leg.size) for leg in legs],
        opportunity.detected_at, bucket_s)
    opp_id = opportunity_id(key)
    market = str(getattr(opportunity, "market", "h2h") or "h2h")
    point = getattr(opportunity, "point", None)
    kalshi, books = [], []
    for index, leg in enumerate(legs):
        pays_in = frozenset(str(getattr(o, "value", o)) for o in leg.pays_in)
        if leg.venue == KALSHI:
            if Decimal(leg.size) <= 0:
                raise ValueError(f"Kalshi leg {leg.market}: size must be > 0, got {leg.size}")
            kalshi.append(KalshiLegPlan(index, client_order_id(opp_id, index), leg.market, ContractSide(leg.side),
                                        Decimal(leg.size), _limit_price(leg), Decimal(leg.cost), pays_in,
                                        str(getattr(leg, "outcome_label", "") or "")))
        elif leg.venue == SPORTSBOOK:
            if Decimal(leg.price) <= 1 or Decimal(leg.size) <= 0:
                raise ValueError(f"sportsbook leg {leg.market}: bad odds {leg.price} or stake {leg.size}")
            refunded = frozenset(str(getattr(o, "value", o)) for o in getattr(leg, "refunded_in", ()))
            books.append(BookLegPlan(index, leg.market, str(getattr(leg.outcome, "value", leg.outcome)),
                                     book_selection(leg.outcome_label, market, point, refunded), Decimal(leg.price),
                                     Decimal(leg.size), pays_in, refunded))
        else:
            raise ValueError(f"unknown venue {leg.venue!r} in opportunity on {opportunity.event}")
    if not kalshi:
        raise ValueError(f"opportunity on {opportunity.event} has no Kalshi leg: nothing to execute")
    outcomes = frozenset(str(getattr(o, "value", o)) for o in opportunity.payouts) or frozenset().union(
        *(leg.pays_in for leg in kalshi + books))
    return ExecutionPlan(opp_id, key, opportunity.kind, opportunity.event, opportunity.league,
                         opportunity.detected_at, outcomes, tuple(kalshi), tuple(books), Decimal(opportunity.cost),
                         Decimal(opportunity.profit), opportunity.to_dict(), market,
                         Decimal(point) if point is not None else None)

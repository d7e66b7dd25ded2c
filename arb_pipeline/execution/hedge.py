"""Hedge instructions for the sportsbook legs, recomputed from what the Kalshi legs actually filled.

For every game outcome o the position pays
    P&L(o) = Σ Kalshi contracts filled that pay in o × $1 + Σ book payouts in o − total outlay,
where a book payout is floor_to_cent(stake × odds) (books pay whole cents) and the total outlay is
the Kalshi fills' notional + fees plus every book stake.

Stake: the planned stake scaled by the smallest fill ratio of the Kalshi legs, floored to the cent
(a partial Kalshi fill gets a proportionally smaller hedge).

Worst acceptable odds of book leg b (others placed at their quoted odds): the smallest odds d with
P&L(o) ≥ 0 for every o in which b pays. That needs floor_to_cent(S·d) ≥ R(o) with
R(o) = outlay − (everything else paying in o), i.e. S·d ≥ ceil_to_cent(R(o)) - so
    d_min = max_o ceil_to_cent(R(o)) / S, rounded UP to 0.0001.
Odds ≥ d_min keep the worst case ≥ 0; anything below fails at least one outcome. When an outcome
in which b does not pay is already negative, no odds can help: no worst odds, "do_not_place".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext

from arb_pipeline.arb.money import CENT, ZERO, ceil_to, floor_to
from arb_pipeline.execution.plan import BookLegPlan, ExecutionPlan

ODDS_QUANTUM = Decimal("0.0001")
_MIN_ODDS = Decimal("1.0001")


@dataclass(frozen=True, slots=True)
class KalshiFilled:
    """What one Kalshi leg actually bought."""

    leg_index: int
    planned: Decimal
    filled: Decimal
    cost: Decimal  # notional + fees actually paid
    pays_in: frozenset[str]


@dataclass(frozen=True, slots=True)
class HedgePlan:
    leg_index: int
    bookmaker: str
    event: str
    selection: str
    outcome: str
    odds: Decimal  # as quoted at detection
    stake: Decimal
    worst_acceptable_odds: Decimal | None
    worst_case_at_quote: Decimal  # worst-case P&L if every book leg is placed at its quoted odds
    status: str  # "pending" or "do_not_place"
    note: str


def book_payout(stake: Decimal, odds: Decimal) -> Decimal:
    return floor_to(stake * odds, CENT)


def pnl_by_outcome(outcomes: frozenset[str], kalshi: Sequence[KalshiFilled],
                   books: Sequence[tuple[Decimal, Decimal, frozenset[str]]]) -> dict[str, Decimal]:
    """P&L per outcome of Kalshi fills plus book bets given as (stake, odds, pays_in)."""
    outlay = sum((k.cost for k in kalshi), ZERO) + sum((stake for stake, _, _ in books), ZERO)
    return {
        o: sum((k.filled for k in kalshi if o in k.pays_in), ZERO)
        + sum((book_payout(stake, odds) for stake, odds, pays in books if o in pays), ZERO) - outlay
        for o in outcomes
    }


def _stake_ratio(kalshi: Sequence[KalshiFilled]) -> Decimal:
    return min((k.filled / k.planned for k in kalshi), default=ZERO)


def hedge_plans(plan: ExecutionPlan, kalshi: Sequence[KalshiFilled], event_label: str | None = None) -> list[HedgePlan]:
    """One instruction per sportsbook leg; empty when nothing filled on Kalshi (nothing to hedge)."""
    ratio = _stake_ratio(kalshi)
    if ratio <= 0 or not plan.book_legs:
        return []
    stakes: Mapping[int, Decimal] = {b.leg_index: floor_to(b.stake * ratio, CENT) for b in plan.book_legs}
    quoted = [(stakes[b.leg_index], b.odds, b.pays_in) for b in plan.book_legs]
    worst_at_quote = min(pnl_by_outcome(plan.outcomes, kalshi, quoted).values())
    event = event_label or f"{plan.league} {plan.event}".strip()
    return [_one(plan, kalshi, b, stakes, worst_at_quote, event) for b in plan.book_legs]


def _one(plan: ExecutionPlan, kalshi: Sequence[KalshiFilled], leg: BookLegPlan, stakes: Mapping[int, Decimal],
         worst_at_quote: Decimal, event: str) -> HedgePlan:
    stake = stakes[leg.leg_index]
    others = [(stakes[b.leg_index], b.odds, b.pays_in) for b in plan.book_legs if b.leg_index != leg.leg_index]
    without = pnl_by_outcome(plan.outcomes, kalshi, [*others, (stake, Decimal(1), frozenset())])  # b pays nothing
    common = dict(leg_index=leg.leg_index, bookmaker=leg.bookmaker, event=event, selection=leg.selection,
                  outcome=leg.outcome, odds=leg.odds, stake=stake, worst_case_at_quote=worst_at_quote)
    if stake <= 0:
        return HedgePlan(**common, worst_acceptable_odds=None, status="do_not_place",
                         note="the scaled stake rounds to $0.00")
    uncovered = {o: v for o, v in without.items() if o not in leg.pays_in and v < 0}
    if uncovered:
        return HedgePlan(**common, worst_acceptable_odds=None, status="do_not_place",
                         note=f"no odds make this break-even: outcomes {sorted(uncovered)} lose "
                              f"{min(uncovered.values())} whatever this bet pays")
    required = max(ceil_to(-without[o], CENT) for o in leg.pays_in if o in without)
    with localcontext() as ctx:  # the division itself rounds up too, so d_min is never understated
        ctx.rounding = ROUND_CEILING
        worst = max((required / stake).quantize(ODDS_QUANTUM), _MIN_ODDS)
    note = "" if leg.odds >= worst else f"quoted odds {leg.odds} are below the worst acceptable {worst}"
    return HedgePlan(**common, worst_acceptable_odds=worst, status="pending", note=note)

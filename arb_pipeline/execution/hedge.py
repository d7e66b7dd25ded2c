"""Hedge instructions for the sportsbook legs, recomputed from what the Kalshi legs actually filled.

For every game outcome o the position pays
    P&L(o) = Σ Kalshi contracts filled that pay in o × $1 + Σ book payouts in o
             + Σ book stakes refunded in o − total outlay,
where a book payout is floor_to_cent(stake × odds) (books pay whole cents), a stake is refunded in
a push of a whole-number spread/total line (`arb.lines.refunded_in`), and the total outlay is the
Kalshi fills' notional + fees plus every book stake.

Stake: the planned stake scaled by the largest fill ratio of the Kalshi legs, floored to the cent
(a partial Kalshi fill gets a proportionally smaller hedge); a Kalshi leg that filled less than that
(its sibling went, it did not: a one-legged position) gets a replacement back on its outcome.

Worst acceptable odds of book leg b (others placed at their quoted odds): the smallest odds d with
P&L(o) ≥ 0 for every o in which b pays. That needs floor_to_cent(S·d) ≥ R(o) with
R(o) = outlay − (everything else paying in o), i.e. S·d ≥ ceil_to_cent(R(o)) - so
    d_min = max_o ceil_to_cent(R(o)) / S, rounded UP to 0.0001.
Odds ≥ d_min keep the worst case ≥ 0; anything below fails at least one outcome. When an outcome
in which b does not pay is already negative, no odds can help: no worst odds, "do_not_place".

Exchange commission (`arb.commission`, rate c on net winnings): a winning back pays
`book_net_payout` = floor_to_cent(S·d) − ceil_to_cent((d−1)·S·c). With c > 0 the rounding of the two
terms is not monotone in d, so d_min is taken where the exact payout S·(1 + (d−1)(1−c)) covers R(o)
plus two cents (each rounding costs < 1 cent): every odds ≥ d_min then pays ≥ R(o), at most 2 cents
more demanding than the exact break-even. With c = 0 this is the formula above, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal, localcontext

from arb_pipeline.arb.commission import book_net_payout
from arb_pipeline.arb.money import CENT, ONE, ZERO, ceil_to, floor_to
from arb_pipeline.domain import ContractSide
from arb_pipeline.execution.plan import BookLegPlan, ExecutionPlan, KalshiLegPlan

ODDS_QUANTUM = Decimal("0.0001")
ANY_BOOKMAKER = "any"  # a replacement back has no quote: the best bookmaker at the time
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


def book_payout(stake: Decimal, odds: Decimal, rate: Decimal = ZERO) -> Decimal:
    """What a winning back returns, stake included, net of the book's commission `rate`."""
    return book_net_payout(stake, odds, rate) if rate else floor_to(stake * odds, CENT)


Bet = tuple
"""A sportsbook back: (stake, odds, pays_in[, refunded_in[, commission rate]])."""


def _refunded(bet: Bet) -> frozenset[str]:
    return bet[3] if len(bet) > 3 else frozenset()


def _rate(bet: Bet) -> Decimal:
    return bet[4] if len(bet) > 4 else ZERO


def pnl_by_outcome(outcomes: frozenset[str], kalshi: Sequence[KalshiFilled], books: Sequence[Bet]) -> dict[str, Decimal]:
    """P&L per outcome of Kalshi fills plus book bets given as (stake, odds, pays_in[, refunded_in[, rate]])."""
    outlay = sum((k.cost for k in kalshi), ZERO) + sum((bet[0] for bet in books), ZERO)
    return {
        o: sum((k.filled for k in kalshi if o in k.pays_in), ZERO)
        + sum((book_payout(bet[0], bet[1], _rate(bet)) for bet in books if o in bet[2]), ZERO)
        + sum((bet[0] for bet in books if o in _refunded(bet)), ZERO) - outlay
        for o in outcomes
    }


def held_ratio(kalshi: Sequence[KalshiFilled]) -> Decimal:
    """The largest share of its plan any Kalshi leg holds: what the hedges are sized on."""
    return max((k.filled / k.planned for k in kalshi if k.planned > 0), default=ZERO)


def hedge_plans(plan: ExecutionPlan, kalshi: Sequence[KalshiFilled], event_label: str | None = None,
                rates: Mapping[str, Decimal] | None = None) -> list[HedgePlan]:
    """Instructions that make what the Kalshi legs actually hold a covered position.

    Sized on the most-filled Kalshi leg (ratio R, `held_ratio`): every sportsbook leg is staked at
    R x its planned stake (floored to the cent). A Kalshi leg holding less than R x its plan (its
    order filled less, or not at all) leaves its outcomes short: a *replacement* instruction backs
    them at any bookmaker (see `_replacement`). When every leg filled in the same proportion - the
    normal case - this is exactly the planned hedge scaled by the fill. Empty when nothing is held.
    """
    ratio = held_ratio(kalshi)
    if ratio <= 0:
        return []
    rates = rates or {}
    event = event_label or f"{plan.league} {plan.event}".strip()
    stakes: Mapping[int, Decimal] = {b.leg_index: floor_to(b.stake * ratio, CENT) for b in plan.book_legs}
    quoted: list[Bet] = [(stakes[b.leg_index], b.odds, b.pays_in, b.refunded_in, rates.get(b.bookmaker, ZERO))
                         for b in plan.book_legs]
    held = {k.leg_index: k for k in kalshi}
    replacements: list[HedgePlan] = []
    extra: list[Bet] = []  # replacements, at their worst acceptable odds
    for leg in plan.kalshi_legs:
        got = held.get(leg.leg_index)
        short = ratio * leg.count - (got.filled if got else ZERO)
        if short <= 0:
            continue
        replacement = _replacement(plan, kalshi, leg, short, [*quoted, *extra], event)
        replacements.append(replacement)
        if replacement.worst_acceptable_odds is not None:
            extra.append((replacement.stake, replacement.worst_acceptable_odds, leg.pays_in, _push(plan)))
    worst_at_quote = min(pnl_by_outcome(plan.outcomes, kalshi, [*quoted, *extra]).values())
    book = [_one(plan, kalshi, b, stakes, extra, worst_at_quote, event, rates) for b in plan.book_legs]
    return book + [replace(r, worst_case_at_quote=worst_at_quote) for r in replacements]


def _push(plan: ExecutionPlan) -> frozenset[str]:
    """Where a back on a side of this plan's line is refunded: its push, when the line has one."""
    return frozenset({"push"}) & plan.outcomes


def _break_even_odds(required: Decimal, stake: Decimal, rate: Decimal = ZERO) -> Decimal:
    with localcontext() as ctx:  # the division itself rounds up too, so d_min is never understated
        ctx.rounding = ROUND_CEILING
        if not rate:
            return max((required / stake).quantize(ODDS_QUANTUM), _MIN_ODDS)
        net = ((required + 2 * CENT) / stake - ONE) / (ONE - rate)  # see the module docstring
        return max((ONE + net).quantize(ODDS_QUANTUM), _MIN_ODDS)


def break_even_odds(required: Decimal, stake: Decimal, rate: Decimal = ZERO) -> Decimal:
    """The least odds (0.0001 grid) at which a back of `stake` returns at least `required` net of `rate`."""
    return _break_even_odds(required, stake, rate)


def _replacement(plan: ExecutionPlan, kalshi: Sequence[KalshiFilled], leg: KalshiLegPlan, short: Decimal,
                 bets: list[Bet], event: str) -> HedgePlan:
    """A sportsbook back on the outcome of a Kalshi leg that holds `short` contracts too few.

    Its stake is the most every *other* outcome can pay for and still end at or above zero (floored
    to the cent); its worst acceptable odds the least at which its own outcome breaks even too. No
    quote exists for it (the plan bought that outcome on Kalshi), so `odds` is the Kalshi price as
    decimal odds (1 / all-in cost per contract): the price the arbitrage was built on.
    """
    (outcome, *more) = sorted(leg.pays_in) or [""]
    per_contract = leg.expected_cost / leg.count if leg.count else ZERO
    reference = (1 / per_contract).quantize(ODDS_QUANTUM) if per_contract > 0 else ZERO
    shown = format(short.quantize(Decimal("0.000001")).normalize(), "f")
    what = f"Kalshi leg {leg.leg_index} ({leg.ticker} {leg.side.value}) holds {shown} contracts too few"
    # a YES leg pays on the outcome it names; a NO leg on the other side of it (`outcome`), so its label
    # (the contract's own YES side: a team, "Over 221.5") must not be read as the selection to back
    selection = (leg.label or outcome) if leg.side is ContractSide.YES or not leg.label else \
        f"{outcome} (the side against {leg.label})"
    common = dict(leg_index=leg.leg_index, bookmaker=ANY_BOOKMAKER, event=event, selection=selection,
                  outcome=outcome, odds=reference, worst_case_at_quote=ZERO)
    if more:
        return HedgePlan(**common, stake=ZERO, worst_acceptable_odds=None, status="do_not_place",
                         note=f"{what}; it pays in {sorted(leg.pays_in)}: no single back replaces it")
    refund = _push(plan)  # a back on a line is refunded in its push: that outcome does not pay for it
    base = pnl_by_outcome(plan.outcomes, kalshi, bets)
    others = [v for o, v in base.items() if o not in leg.pays_in and o not in refund]
    stake = floor_to(min(others), CENT) if others else ZERO
    if stake <= 0:
        return HedgePlan(**common, stake=ZERO, worst_acceptable_odds=None, status="do_not_place",
                         note=f"{what}; the other outcomes have nothing left to pay for a back on {outcome}")
    without = pnl_by_outcome(plan.outcomes, kalshi, [*bets, (stake, Decimal(1), frozenset(), refund)])
    worst = _break_even_odds(max(ceil_to(-without[o], CENT) for o in leg.pays_in), stake)
    return HedgePlan(**common, stake=stake, worst_acceptable_odds=worst, status="pending",
                     note=f"{what}: back {selection} at any bookmaker (the Kalshi price was "
                          f"odds {reference})")


def _one(plan: ExecutionPlan, kalshi: Sequence[KalshiFilled], leg: BookLegPlan, stakes: Mapping[int, Decimal],
         extra: Sequence[Bet], worst_at_quote: Decimal, event: str, rates: Mapping[str, Decimal]) -> HedgePlan:
    stake = stakes[leg.leg_index]
    others: list[Bet] = [(stakes[b.leg_index], b.odds, b.pays_in, b.refunded_in, rates.get(b.bookmaker, ZERO))
                         for b in plan.book_legs if b.leg_index != leg.leg_index]
    others += extra
    # b pays nothing at these odds, but is still refunded in a push
    without = pnl_by_outcome(plan.outcomes, kalshi, [*others, (stake, Decimal(1), frozenset(), leg.refunded_in)])
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
    worst = _break_even_odds(max(ceil_to(-without[o], CENT) for o in leg.pays_in if o in without), stake,
                             rates.get(leg.bookmaker, ZERO))
    note = "" if leg.odds >= worst else f"quoted odds {leg.odds} are below the worst acceptable {worst}"
    return HedgePlan(**common, worst_acceptable_odds=worst, status="pending", note=note)

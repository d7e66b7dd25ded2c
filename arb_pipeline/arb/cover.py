"""Pricing a cover or a value bet exactly: the sizing core shared by game-winner and line markets.

A *cover* is a set of Kalshi contracts and sportsbook backs that together pay a known amount per
unit in every outcome (`combos` for winner markets, `lines` for spreads and totals). Pricing one is
the same whatever the market: size it where every Kalshi book still has a positive marginal edge,
within the stake limits and dollar caps, round (whole contracts, stakes up to the cent), then
recompute cost and every outcome's payout from the rounded legs. A book back that is refunded in a
push (whole-number lines) adds its stake to that outcome's payout: counted exactly, never assumed
in the guaranteed profit, which is the worst outcome.

A *value bet* is one Kalshi contract priced below a fair probability: sized to the depth that keeps
the edge, fractional Kelly and the caps. Everything here is Decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from arb_pipeline.arb.book import joint_max_size
from arb_pipeline.arb.commission import book_net_payout, commission_for, effective_decimal_odds
from arb_pipeline.arb.constraints import (
    Limits,
    check_arb_result,
    check_max_edge,
    check_min_contracts,
    check_value_edge,
)
from arb_pipeline.arb.fees import fee_rate
from arb_pipeline.arb.market import KalshiContract
from arb_pipeline.arb.money import CENT, ONE, TEN_THOUSANDTH, ZERO, ceil_to, floor_to
from arb_pipeline.arb.results import ARBITRAGE, BACK, KALSHI, SPORTSBOOK, VALUE, Leg, Opportunity, Rejection
from arb_pipeline.arb.sizing import SizingPolicy, fractional_kelly, kelly_binary, largest_fitting
from arb_pipeline.domain import ContractSide, Outcome

BPS = Decimal(10_000)
MIN_UNIT_EDGE = Decimal("0.000001")  # an arbitrage unit must earn something, not break even
GridCheck = Callable[[Sequence[Leg]], list[str]]  # reasons why a leg's prices are off the tick grid


class PricingContext(Protocol):
    """What pricing needs from a detection run (`confirm.Context` is one)."""

    limits: Limits
    sizing: SizingPolicy
    as_of: datetime

    def age(self, ts: datetime | float) -> float: ...


@dataclass(frozen=True, slots=True)
class KalshiPart:
    """One Kalshi leg of a cover: buy `side` of `contract`; it pays $1 per contract in `pays_in`."""

    contract: KalshiContract
    side: ContractSide
    label: str
    pays_in: tuple[Outcome, ...]


@dataclass(frozen=True, slots=True)
class BookPart:
    """One sportsbook back of a cover: stake C/d at decimal odds `odds` per unit, paid in `pays_in`,
    the stake refunded in `refunded_in` (a push)."""

    bookmaker: str
    outcome: Outcome
    label: str
    odds: Decimal
    stake_limit: Decimal | None  # the limit the book reports for this bet, when it does
    age_s: float
    pays_in: tuple[Outcome, ...]
    refunded_in: tuple[Outcome, ...] = ()


def rate(contract: KalshiContract) -> Decimal:
    return fee_rate(maker=False, fee_multiplier=contract.fees.fee_multiplier, fee_type=contract.fees.fee_type)


def kalshi_leg(contract: KalshiContract, side: ContractSide, contracts: Decimal, ctx: PricingContext,
               pays_in: tuple[Outcome, ...], label: str) -> Leg:
    """The leg of lifting `contracts` of `side` from the book as one taker order (fee per order)."""
    fill = contract.book.walk(side, contracts, fee_multiplier=contract.fees.fee_multiplier,
                              fee_type=contract.fees.fee_type, sub_penny=ctx.sizing.sub_penny)
    return Leg(KALSHI, contract.ticker, contract.outcome, label, side.value, fill.vwap, contracts, fill.fee,
               fill.total_cost, contracts, pays_in, ctx.age(contract.quote_time),
               tuple((lv.price, lv.contracts) for lv in fill.levels))


def price_cover(event: str, league: str, candidate: str, outcomes: tuple[Outcome, ...], kalshi: Sequence[KalshiPart],
                books: Sequence[BookPart], ctx: PricingContext, grid: GridCheck) -> Opportunity | Rejection:
    """Size and price one cover exactly (every gate already passed). `grid(legs)` lists off-grid prices."""
    limits, sizing = ctx.limits, ctx.sizing
    # An exchange's commission on net winnings is priced like Kalshi's fee: a back at odds d pays
    # 1 + (d - 1)(1 - c) per unit staked (`arb.commission`), so each unit of cover needs C / d_eff staked.
    commission = [sizing.commission(b.bookmaker) for b in books]
    effective = [effective_decimal_odds(b.odds, c) for b, c in zip(books, commission, strict=True)]
    unit_book_cost = sum((ONE / d for d in effective), ZERO)
    kalshi_books = [(p.contract.book.asks(p.side), rate(p.contract)) for p in kalshi]
    depth_cap = joint_max_size(kalshi_books, ONE, MIN_UNIT_EDGE, extra_unit_cost=unit_book_cost)
    caps = {"order-book depth with a positive marginal edge": depth_cap, "max_contracts": sizing.max_contracts}
    stake_limit = [floor_to(min(x for x in (b.stake_limit, sizing.stake_limit(b.bookmaker)) if x is not None), CENT)
                   for b in books]
    for b, limit, d in zip(books, stake_limit, effective, strict=True):
        # C ≤ limit·d ⇔ ceil_to_cent(C/d) ≤ limit (limit on the cent grid): the stake never exceeds it.
        caps[f"{b.bookmaker} stake limit {limit}"] = limit * d
    binding = min(caps, key=lambda k: caps[k])
    step = ONE if sizing.whole_contracts else CENT

    def build(contracts: Decimal) -> tuple[Leg, ...]:
        """Every leg at `contracts` units: Kalshi walked, book stake = C/d_eff rounded up to the cent, paid
        net of commission (gross floored, commission rounded up: `book_net_payout`)."""
        legs = [kalshi_leg(p.contract, p.side, contracts, ctx, p.pays_in, p.label) for p in kalshi]
        for b, limit, d, c in zip(books, stake_limit, effective, commission, strict=True):
            stake = min(ceil_to(contracts / d, CENT), limit)
            legs.append(Leg(SPORTSBOOK, b.bookmaker, b.outcome, b.label, BACK, b.odds, stake, ZERO, stake,
                            book_net_payout(stake, b.odds, c), b.pays_in, b.age_s, refunded_in=b.refunded_in,
                            commission=commission_for(stake, b.odds, c)))
        return tuple(legs)

    def fits(contracts: Decimal) -> bool:
        legs = build(contracts)
        per_market = all(leg.cost <= sizing.max_per_market for leg in legs if leg.venue == KALSHI)
        return per_market and sum((leg.cost for leg in legs), ZERO) <= sizing.max_outlay()

    guess = joint_max_size(kalshi_books, ONE, MIN_UNIT_EDGE, extra_unit_cost=unit_book_cost, budget=sizing.max_outlay())
    size = largest_fitting(caps[binding], step, fits, guess)
    if size < caps[binding] and size > 0:
        binding = "dollar caps (max outlay / per market)"
    too_small = check_min_contracts(size, limits)
    if too_small:
        return Rejection(ARBITRAGE, event, candidate, (too_small + f" (bound by {binding})",))
    legs = build(size)
    cost = sum((leg.cost for leg in legs), ZERO)
    payouts = cover_payouts(legs, outcomes)
    worst = min(payouts.values())
    profit = worst - cost
    roi_bps = profit / cost * BPS
    edge_bps = profit / worst * BPS
    failed = [r for r in (check_arb_result(profit, roi_bps, limits), check_max_edge(edge_bps, limits)) if r]
    failed += grid(legs)
    if failed:
        return Rejection(ARBITRAGE, event, candidate, (*failed, f"sized {size} contracts (bound by {binding})"))
    ages = {f"{leg.venue}:{leg.market}:{leg.outcome.value}": leg.quote_age_s for leg in legs}
    charged = [f"{b.bookmaker} commission {(c * 100).normalize():f}% on net winnings (effective odds {d.quantize(TEN_THOUSANDTH)})"
               for b, c, d in zip(books, commission, effective, strict=True) if c > 0]
    return Opportunity(ARBITRAGE, event, league, legs, cost, profit, (profit / cost).quantize(Decimal("0.000001")),
                       edge_bps.quantize(Decimal("0.01")), payouts, ages,
                       (f"{candidate} pays {worst} in every outcome for {cost}",
                        f"size {size} contracts bound by {binding}", *charged,
                        "all quotes fresh, markets active, pre-game"),
                       ctx.as_of)


def cover_payouts(legs: Sequence[Leg], outcomes: tuple[Outcome, ...]) -> dict[Outcome, Decimal]:
    """What the legs pay back in each outcome: winning legs' payouts plus stakes refunded there."""
    return {o: sum((leg.payout for leg in legs if o in leg.pays_in), ZERO)
            + sum((leg.cost for leg in legs if o in leg.refunded_in), ZERO) for o in outcomes}


def price_value(event: str, league: str, candidate: str, contract: KalshiContract, side: ContractSide, label: str,
                fair_f: float, pays_in: tuple[Outcome, ...], ctx: PricingContext, grid: GridCheck,
                consensus_ages: Mapping[str, float], books_used: tuple[str, ...]) -> Opportunity | Rejection:
    """Size and price one +EV Kalshi bet against `fair_f`, the probability its side pays (gates passed)."""
    limits, sizing = ctx.limits, ctx.sizing
    fair = Decimal(repr(fair_f))
    min_edge = limits.min_value_edge_bps / BPS
    depth_cap = contract.book.max_size_with_edge(side, fair, min_edge, fee_multiplier=contract.fees.fee_multiplier,
                                                 fee_type=contract.fees.fee_type)
    step = ONE if sizing.whole_contracts else CENT
    cap = min(depth_cap, sizing.max_contracts)
    cap = floor_to(cap, CENT) if step == CENT else cap.to_integral_value(rounding="ROUND_FLOOR")
    too_small = check_min_contracts(cap, limits)
    if too_small:
        return Rejection(VALUE, event, candidate, (too_small,))
    probe = kalshi_leg(contract, side, cap, ctx, (), label)
    if probe.cost / cap >= fair:
        return Rejection(VALUE, event, candidate,
                         (f"all-in price {probe.cost / cap:.4f} per contract at {cap} is not below fair {fair_f:.4f}",))
    kelly = fractional_kelly(kelly_binary(fair_f, probe.price, probe.fee / cap), sizing.kelly_multiplier)
    kelly_dollars = floor_to(Decimal(repr(kelly)) * sizing.bankroll, CENT)
    dollar_cap = min(sizing.max_outlay(), sizing.max_per_market, kelly_dollars)
    affordable = joint_max_size([(contract.book.asks(side), rate(contract))], ONE, -ONE, budget=dollar_cap)
    size = largest_fitting(cap, step, lambda c: kalshi_leg(contract, side, c, ctx, (), label).cost <= dollar_cap,
                           affordable)
    too_small = check_min_contracts(size, limits)
    if too_small:
        return Rejection(VALUE, event, candidate, (too_small + f" within ${dollar_cap} (Kelly/caps)",))
    leg = kalshi_leg(contract, side, size, ctx, pays_in, label)
    edge_bps = (fair - leg.cost / size) * BPS
    failed = [r for r in (check_value_edge(edge_bps, limits), check_max_edge(edge_bps, limits)) if r]
    failed += grid([leg])
    if failed:
        return Rejection(VALUE, event, candidate, tuple(failed))
    profit = floor_to(fair * size - leg.cost, TEN_THOUSANDTH)
    ages = {f"{KALSHI}:{contract.ticker}": leg.quote_age_s, **consensus_ages}
    return Opportunity(VALUE, event, league, (leg,), leg.cost, profit,
                       (profit / leg.cost).quantize(Decimal("0.000001")), edge_bps.quantize(Decimal("0.01")), {}, ages,
                       (f"fair {fair_f:.4f} ({limits.devig_method}, {len(books_used)} books) vs all-in "
                        f"{(leg.cost / size).quantize(TEN_THOUSANDTH)} per contract",
                        f"size {size}: min(depth with edge {depth_cap}, Kelly/caps ${dollar_cap})"),
                       ctx.as_of, fair_f, books_used)

"""Exact confirmation of screened candidates: gates, sizing against the real order book, rounding,
and the final profit recomputed from the rounded legs. Everything here is Decimal.

A candidate becomes an `Opportunity` only if every check passes at the size we would actually
trade; otherwise it becomes a `Rejection` listing every reason found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from arb_pipeline.arb.book import OffGrid, check_on_grid, joint_max_size
from arb_pipeline.arb.combos import BOOK, Instrument
from arb_pipeline.arb.constraints import (
    Limits,
    check_age,
    check_arb_result,
    check_exchange,
    check_max_edge,
    check_min_contracts,
    check_pregame,
    check_status,
    check_value_edge,
)
from arb_pipeline.arb.fees import UnsupportedFeeType, fee_rate
from arb_pipeline.arb.implied_prob import consensus_fair_probabilities
from arb_pipeline.arb.market import GameLine, KalshiContract
from arb_pipeline.arb.money import CENT, ONE, TEN_THOUSANDTH, ZERO, ceil_to, floor_to
from arb_pipeline.arb.quotes import OUTCOME_SLOTS, QuoteTable
from arb_pipeline.arb.results import ARBITRAGE, BACK, KALSHI, SPORTSBOOK, VALUE, Leg, Opportunity, Rejection
from arb_pipeline.arb.sizing import SizingPolicy, fractional_kelly, kelly_binary, largest_fitting
from arb_pipeline.domain import ContractSide, Outcome

_BPS = Decimal(10_000)
_MIN_UNIT_EDGE = Decimal("0.000001")  # an arbitrage unit must earn something, not break even


@dataclass(frozen=True, slots=True)
class Context:
    limits: Limits
    sizing: SizingPolicy
    as_of: datetime
    exchange_active: bool
    table: QuoteTable
    now: float = 0.0  # as_of as Unix seconds, set in __post_init__

    def __post_init__(self) -> None:
        object.__setattr__(self, "now", self.as_of.timestamp())

    def age(self, ts: datetime | float) -> float:
        return self.now - (ts if isinstance(ts, float) else ts.timestamp())


def describe(combo: Sequence[Instrument]) -> str:
    return " + ".join(f"{i.kind}:{i.outcome.value}" for i in combo)


def game_gates(game: GameLine, ctx: Context) -> list[str]:
    reasons = [r for r in (check_exchange(ctx.exchange_active),
                           check_pregame(game.commence_time, ctx.as_of, ctx.limits)) if r]
    if not game.tradable:
        reasons.append("game not tradable: " + ("; ".join(game.blocked_reasons) or "no reason given"))
    else:
        reasons.extend(game.blocked_reasons)
    return reasons


def kalshi_gates(contract: KalshiContract, ctx: Context) -> list[str]:
    reasons = [r for r in (check_status(contract.ticker, contract.status),
                           check_age(f"Kalshi book {contract.ticker}", ctx.age(contract.quote_time),
                                     ctx.limits.max_kalshi_age_s)) if r]
    if contract.book.crossed:
        reasons.append(f"{contract.ticker}: order book is crossed (YES bid + NO bid >= $1): inconsistent snapshot")
    try:
        _rate(contract)
    except (UnsupportedFeeType, ValueError) as exc:
        reasons.append(f"{contract.ticker}: {exc}")
    return reasons


def grid_reasons(legs: Sequence[Leg], contracts: dict[str, KalshiContract]) -> list[str]:
    """Every price we would send (each level swept; the last is the IOC limit) must be on the tick grid."""
    reasons = []
    for leg in legs:
        if leg.venue == KALSHI:
            for price, _ in leg.levels:
                try:
                    check_on_grid(price, contracts[leg.market].price_ranges)
                except OffGrid as exc:
                    reasons.append(f"{leg.market}: {exc}")
                    break
    return reasons


def _rate(contract: KalshiContract) -> Decimal:
    return fee_rate(maker=False, fee_multiplier=contract.fees.fee_multiplier, fee_type=contract.fees.fee_type)


def fresh_rows(gi: int, ctx: Context) -> tuple[dict[tuple[int, int], int], dict[int, list[str]]]:
    """The latest fresh quote row per (book, slot) of a game, and per slot a note per stale quote left out."""
    table = ctx.table
    latest: dict[tuple[int, int], int] = {}
    stale: dict[int, list[str]] = {}
    for row in table.rows(gi):
        key = (int(table.book[row]), int(table.outcome[row]))
        why = check_age(f"{table.bookmakers[key[0]]} {OUTCOME_SLOTS[key[1]].value}",
                        ctx.age(float(table.updated[row])), ctx.limits.max_sportsbook_age_s)
        if why:
            stale.setdefault(key[1], []).append(why)
        elif key not in latest or table.updated[row] > table.updated[latest[key]]:
            latest[key] = row
    return latest, stale


def _affordable(contract: KalshiContract, side: ContractSide, budget: Decimal) -> Decimal:
    """Contracts whose unrounded all-in cost fits `budget`: a near-exact starting point for `largest_fitting`."""
    return joint_max_size([(contract.book.asks(side), _rate(contract))], ONE, -ONE, budget=budget)


def _kalshi_leg(game: GameLine, contract: KalshiContract, side: ContractSide, contracts: Decimal,
                ctx: Context, pays_in: tuple[Outcome, ...]) -> Leg:
    fill = contract.book.walk(side, contracts, fee_multiplier=contract.fees.fee_multiplier,
                              fee_type=contract.fees.fee_type, sub_penny=ctx.sizing.sub_penny)
    return Leg(KALSHI, contract.ticker, contract.outcome, game.label(contract.outcome), side.value, fill.vwap,
               contracts, fill.fee, fill.total_cost, contracts, pays_in, ctx.age(contract.quote_time),
               tuple((lv.price, lv.contracts) for lv in fill.levels))


def confirm_arbitrage(gi: int, game: GameLine, combo: tuple[Instrument, ...], ctx: Context) -> Opportunity | Rejection:
    table, limits, sizing = ctx.table, ctx.limits, ctx.sizing
    reasons = game_gates(game, ctx)
    kalshi = [(i, game.kalshi.get(i.outcome)) for i in combo if i.kind != BOOK]
    for inst, contract in kalshi:
        if contract is None:
            reasons.append(f"no Kalshi market for {inst.outcome.value}")
        else:
            reasons += kalshi_gates(contract, ctx)
    latest, stale = fresh_rows(gi, ctx)
    book_rows: dict[Outcome, int] = {}
    for inst in combo:
        if inst.kind == BOOK:
            slot = OUTCOME_SLOTS.index(inst.outcome)
            rows = [row for (b, k), row in latest.items() if k == slot]
            if not rows:
                notes = stale.get(slot, [])
                reasons.append(f"no fresh sportsbook quote for {inst.outcome.value}"
                               + (f" ({'; '.join(notes)})" if notes else ""))
            else:
                book_rows[inst.outcome] = max(rows, key=lambda r: (table.exact(r), table.stake_limit(r) or ZERO))
    if reasons:
        return Rejection(ARBITRAGE, game.event_ticker, describe(combo), tuple(reasons))

    odds = {o: table.exact(r) for o, r in book_rows.items()}
    unit_book_cost = sum((ONE / d for d in odds.values()), ZERO)
    sides = [(inst, c, ContractSide(inst.kind)) for inst, c in kalshi if c is not None]
    kalshi_legs = [(c.book.asks(s), _rate(c)) for _, c, s in sides]
    depth_cap = joint_max_size(kalshi_legs, ONE, _MIN_UNIT_EDGE, extra_unit_cost=unit_book_cost)
    caps = {"order-book depth with a positive marginal edge": depth_cap, "max_contracts": sizing.max_contracts}
    stake_limit = {o: floor_to(min(x for x in (table.stake_limit(row), sizing.max_sportsbook_stake) if x is not None),
                               CENT) for o, row in book_rows.items()}
    for o, row in book_rows.items():
        # C ≤ limit·d ⇔ ceil_to_cent(C/d) ≤ limit (limit on the cent grid): the stake never exceeds it.
        caps[f"{table.bookmakers[table.book[row]]} stake limit {stake_limit[o]}"] = stake_limit[o] * odds[o]
    binding = min(caps, key=lambda k: caps[k])
    step = ONE if sizing.whole_contracts else CENT

    pays = {inst: tuple(o for o in game.outcomes if o in inst.pays_in(game.outcomes)) for inst, _, _ in sides}

    def build(contracts: Decimal) -> tuple[Leg, ...]:
        """Every leg at `contracts` units: Kalshi walked, book stake = C/d rounded up to the cent."""
        legs = [_kalshi_leg(game, c, s, contracts, ctx, pays[inst]) for inst, c, s in sides]
        for o, row in book_rows.items():
            d = odds[o]
            stake = min(ceil_to(contracts / d, CENT), stake_limit[o])
            legs.append(Leg(SPORTSBOOK, table.bookmakers[table.book[row]], o, game.label(o), BACK, d, stake, ZERO,
                            stake, floor_to(stake * d, CENT), (o,), ctx.age(float(table.updated[row]))))
        return tuple(legs)

    def fits(contracts: Decimal) -> bool:
        legs = build(contracts)
        per_market = all(leg.cost <= sizing.max_per_market for leg in legs if leg.venue == KALSHI)
        return per_market and sum((leg.cost for leg in legs), ZERO) <= sizing.max_outlay()

    guess = joint_max_size(kalshi_legs, ONE, _MIN_UNIT_EDGE, extra_unit_cost=unit_book_cost,
                           budget=sizing.max_outlay())
    size = largest_fitting(caps[binding], step, fits, guess)
    if size < caps[binding] and size > 0:
        binding = "dollar caps (max outlay / per market)"
    too_small = check_min_contracts(size, limits)
    if too_small:
        return Rejection(ARBITRAGE, game.event_ticker, describe(combo), (too_small + f" (bound by {binding})",))
    legs = build(size)
    cost = sum((leg.cost for leg in legs), ZERO)
    payouts = {o: sum((leg.payout for leg in legs if o in leg.pays_in), ZERO) for o in game.outcomes}
    profit = min(payouts.values()) - cost
    roi_bps = profit / cost * _BPS
    edge_bps = profit / min(payouts.values()) * _BPS
    failed = [r for r in (check_arb_result(profit, roi_bps, limits), check_max_edge(edge_bps, limits)) if r]
    failed += grid_reasons(legs, {c.ticker: c for _, c, _ in sides})
    if failed:
        return Rejection(ARBITRAGE, game.event_ticker, describe(combo),
                         (*failed, f"sized {size} contracts (bound by {binding})"))
    ages = {f"{leg.venue}:{leg.market}:{leg.outcome.value}": leg.quote_age_s for leg in legs}
    return Opportunity(ARBITRAGE, game.event_ticker, game.league, legs, cost, profit,
                       (profit / cost).quantize(Decimal("0.000001")), edge_bps.quantize(Decimal("0.01")), payouts, ages,
                       (f"{describe(combo)} pays {min(payouts.values())} in every outcome for {cost}",
                        f"size {size} contracts bound by {binding}", "all quotes fresh, markets active, pre-game"),
                       ctx.as_of)


def confirm_value(gi: int, game: GameLine, outcome: Outcome, side: ContractSide, ctx: Context) -> Opportunity | Rejection:
    table, limits, sizing = ctx.table, ctx.limits, ctx.sizing
    desc = f"{side.value}:{outcome.value}"
    contract = game.kalshi[outcome]
    reasons = game_gates(game, ctx) + kalshi_gates(contract, ctx)
    latest, stale = fresh_rows(gi, ctx)
    slots = [OUTCOME_SLOTS.index(o) for o in game.outcomes]
    lines = {table.bookmakers[b]: [float(table.odds[latest[(b, k)]]) if (b, k) in latest else None for k in slots]
             for b in sorted({b for b, _ in latest})}
    consensus = consensus_fair_probabilities(lines, limits.devig_method, limits.book_weights,
                                             limits.consensus_min_books)
    fair_probs = consensus.fair
    if fair_probs is None:
        notes = [note for slot_notes in stale.values() for note in slot_notes]
        reasons.append(f"no consensus: {consensus.insufficient}" + (f"; stale: {'; '.join(notes)}" if notes else ""))
    if reasons or fair_probs is None:
        return Rejection(VALUE, game.event_ticker, desc, tuple(reasons))
    p = fair_probs[game.outcomes.index(outcome)]
    fair_f = p if side is ContractSide.YES else 1.0 - p
    fair = Decimal(repr(fair_f))
    min_edge = limits.min_value_edge_bps / _BPS
    depth_cap = contract.book.max_size_with_edge(side, fair, min_edge, fee_multiplier=contract.fees.fee_multiplier,
                                                 fee_type=contract.fees.fee_type)
    step = ONE if sizing.whole_contracts else CENT
    cap = min(depth_cap, sizing.max_contracts)
    cap = floor_to(cap, CENT) if step == CENT else cap.to_integral_value(rounding="ROUND_FLOOR")
    too_small = check_min_contracts(cap, limits)
    if too_small:
        return Rejection(VALUE, game.event_ticker, desc, (too_small,))
    probe = _kalshi_leg(game, contract, side, cap, ctx, ())
    if probe.cost / cap >= fair:
        return Rejection(VALUE, game.event_ticker, desc,
                         (f"all-in price {probe.cost / cap:.4f} per contract at {cap} is not below fair {fair_f:.4f}",))
    kelly = fractional_kelly(kelly_binary(fair_f, probe.price, probe.fee / cap), sizing.kelly_multiplier)
    kelly_dollars = floor_to(Decimal(repr(kelly)) * sizing.bankroll, CENT)
    dollar_cap = min(sizing.max_outlay(), sizing.max_per_market, kelly_dollars)
    size = largest_fitting(cap, step, lambda c: _kalshi_leg(game, contract, side, c, ctx, ()).cost <= dollar_cap,
                           _affordable(contract, side, dollar_cap))
    too_small = check_min_contracts(size, limits)
    if too_small:
        return Rejection(VALUE, game.event_ticker, desc, (too_small + f" within ${dollar_cap} (Kelly/caps)",))
    pays_in = (outcome,) if side is ContractSide.YES else tuple(o for o in game.outcomes if o != outcome)
    leg = _kalshi_leg(game, contract, side, size, ctx, pays_in)
    edge_bps = (fair - leg.cost / size) * _BPS
    failed = [r for r in (check_value_edge(edge_bps, limits), check_max_edge(edge_bps, limits)) if r]
    failed += grid_reasons([leg], {contract.ticker: contract})
    if failed:
        return Rejection(VALUE, game.event_ticker, desc, tuple(failed))
    profit = floor_to(fair * size - leg.cost, TEN_THOUSANDTH)
    ages = {f"{KALSHI}:{contract.ticker}": leg.quote_age_s}
    for (b, k), row in latest.items():
        if table.bookmakers[b] in consensus.books_used:
            ages[f"{SPORTSBOOK}:{table.bookmakers[b]}:{OUTCOME_SLOTS[k].value}"] = ctx.age(float(table.updated[row]))
    return Opportunity(VALUE, game.event_ticker, game.league, (leg,), leg.cost, profit,
                       (profit / leg.cost).quantize(Decimal("0.000001")), edge_bps.quantize(Decimal("0.01")), {}, ages,
                       (f"fair {fair_f:.4f} ({limits.devig_method}, {len(consensus.books_used)} books) vs all-in "
                        f"{(leg.cost / size).quantize(TEN_THOUSANDTH)} per contract",
                        f"size {size}: min(depth with edge {depth_cap}, Kelly/caps ${dollar_cap})"),
                       ctx.as_of, fair_f, consensus.books_used)

"""Arbitrage and +EV on spread and total lines: screen every candidate in float, confirm exactly.

Arbitrage: every cover of `lines.line_covers` (Kalshi contracts and sportsbook backs of the same
line at exactly the same point) whose float cost — best ask plus the unrounded fee, plus 1/odds per
book leg — is below $1 per unit is priced exactly by `cover.price_cover`, against the order books'
depth, with every fee and the cent rounding, a push refund counted in the push's payout.

Value: a Kalshi contract priced below the de-vigged consensus of the same line at the same point.
On a half-point line the consensus is the probability of each side. On a whole-number line books
refund the push, so their de-vigged numbers are probabilities *given no push*: the true probability
of a Kalshi NO (which wins the push) is at least the consensus of the other side — a conservative
fair, used — while that of a YES is at most its side's consensus, an upper bound that cannot price
a bet, so whole-line YES value bets are not proposed.

Like the winner detection, nothing a screen lets through is dropped silently: it is an opportunity
or a rejection with every reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from time import perf_counter

from arb_pipeline.arb.accounts import in_consensus, labelled
from arb_pipeline.arb.combos import BOOK, Instrument
from arb_pipeline.arb.commission import effective_decimal_odds
from arb_pipeline.arb.confirm import (
    Context,
    at_account_books_first,
    describe,
    game_gates,
    grid_reasons,
    kalshi_gates,
)
from arb_pipeline.arb.constraints import Limits, check_age
from arb_pipeline.arb.cover import BookPart, KalshiPart, price_cover, price_value
from arb_pipeline.arb.implied_prob import ConsensusResult, consensus_fair_probabilities
from arb_pipeline.arb.line_game import LineGame
from arb_pipeline.arb.lines import line_covers, pays_in, refunded_in
from arb_pipeline.arb.results import ARBITRAGE, SPORTSBOOK, VALUE, DetectionResult, Opportunity, Rejection
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import ContractSide, Outcome, SportsbookQuote, line_position

_Fresh = dict[Outcome, dict[str, SportsbookQuote]]  # side -> bookmaker -> its latest fresh quote


def detect_lines(games: Sequence[LineGame], limits: Limits, sizing: SizingPolicy, *, as_of: datetime,
                 exchange_trading_active: bool = True) -> DetectionResult:
    """Arbitrage and value opportunities over spread/total `games` at `as_of` (aware)."""
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise ValueError(f"as_of must be a timezone-aware datetime, got {as_of!r}")
    started = perf_counter()
    ctx = Context(limits, sizing, as_of, exchange_trading_active)
    found: list[Opportunity] = []
    rejected: list[Rejection] = []
    arb_candidates = value_candidates = quotes = 0
    for game in games:
        quotes += len(game.quotes)
        fresh, stale = _fresh(game, ctx)
        best = _best_odds(game, sizing)
        for combo in line_covers(game.sides, game.whole):
            if _screen_cover(game, combo, best, limits):
                arb_candidates += 1
                result = confirm_line_arbitrage(game, combo, fresh, stale, ctx)
                (found if isinstance(result, Opportunity) else rejected).append(result)  # type: ignore[arg-type]
        fair = _consensus(game, fresh, limits)
        for side, contract in game.kalshi.items():
            for contract_side in (ContractSide.YES, ContractSide.NO):
                p = _fair_for(game, side, contract_side, fair.fair)
                ask = contract.book.best_ask(contract_side)
                if p is None or ask is None:
                    continue
                cost = float(ask) + contract.taker_rate_f * float(ask) * (1 - float(ask))
                if (p - cost) * 10_000 < float(limits.min_value_edge_bps) - limits.screen_tolerance:
                    continue
                value_candidates += 1
                result = confirm_line_value(game, side, contract_side, p, fair, fresh, ctx)
                (found if isinstance(result, Opportunity) else rejected).append(result)  # type: ignore[arg-type]
    found = [labelled(o, limits.account_books, limits.trade_value) for o in found]
    found.sort(key=lambda o: (o.kind != ARBITRAGE, -o.profit))
    done = perf_counter()
    stats = {"games": len(games), "outcome_quotes": quotes, "arb_candidates": arb_candidates,
             "value_candidates": value_candidates, "opportunities": len(found), "rejected": len(rejected),
             "total_s": done - started}
    return DetectionResult(tuple(found), tuple(rejected), stats)


def _fresh(game: LineGame, ctx: Context) -> tuple[_Fresh, dict[Outcome, list[str]]]:
    """Each bookmaker's latest fresh quote per side, and per side a note per stale quote left out."""
    fresh: _Fresh = {s: {} for s in game.sides}
    stale: dict[Outcome, list[str]] = {}
    for q in game.quotes:
        side, _ = line_position(q.market, q.outcome, q.point)  # type: ignore[arg-type]
        why = check_age(f"{q.bookmaker} {game.label(side)}", ctx.age(q.last_update_ts), ctx.limits.max_sportsbook_age_s)
        if why:
            stale.setdefault(side, []).append(why)
            continue
        kept = fresh[side].get(q.bookmaker)
        if kept is None or q.last_update > kept.last_update:
            fresh[side][q.bookmaker] = q
    return fresh, stale


def _best_odds(game: LineGame, sizing: SizingPolicy) -> dict[Outcome, float]:
    """Best odds net of commission per side over every quote, fresh or not: the screen looks wide,
    confirmation checks (float error is far inside `screen_tolerance`)."""
    best: dict[Outcome, float] = {}
    for q in game.quotes:
        side, _ = line_position(q.market, q.outcome, q.point)  # type: ignore[arg-type]
        net = 1.0 + (q.odds_f - 1.0) * (1.0 - float(sizing.commission(q.bookmaker)))
        best[side] = max(best.get(side, 0.0), net)
    return best


def _screen_cover(game: LineGame, combo: tuple[Instrument, ...], best: dict[Outcome, float], limits: Limits) -> bool:
    unit = 0.0
    for inst in combo:
        if inst.kind == BOOK:
            if inst.outcome not in best:
                return False
            unit += 1.0 / best[inst.outcome]
            continue
        contract = game.kalshi.get(inst.outcome)
        ask = contract.book.best_ask(ContractSide(inst.kind)) if contract is not None else None
        if ask is None:
            return False
        a = float(ask)
        unit += a + contract.taker_rate_f * a * (1 - a)  # type: ignore[union-attr]
    return unit < 1.0 + limits.screen_tolerance


def confirm_line_arbitrage(game: LineGame, combo: tuple[Instrument, ...], fresh: _Fresh,
                           stale: dict[Outcome, list[str]], ctx: Context) -> Opportunity | Rejection:
    reasons = game_gates(game, ctx)
    kalshi = [(inst, game.kalshi.get(inst.outcome)) for inst in combo if inst.kind != BOOK]
    for inst, contract in kalshi:
        if contract is None:
            reasons.append(f"no Kalshi market for {game.label(inst.outcome)}")
        else:
            reasons += kalshi_gates(contract, ctx)
    offers: dict[Outcome, list[SportsbookQuote]] = {}
    backed: dict[Outcome, Instrument] = {}
    for inst in combo:
        if inst.kind != BOOK:
            continue
        quoted = list(fresh[inst.outcome].values())
        if not quoted:
            notes = stale.get(inst.outcome, [])
            reasons.append(f"no fresh sportsbook quote for {game.label(inst.outcome)}"
                           + (f" ({'; '.join(notes)})" if notes else ""))
            continue
        offers[inst.outcome], backed[inst.outcome] = quoted, inst
    candidate = describe(combo)
    if reasons:
        return Rejection(ARBITRAGE, game.event_ticker, candidate, tuple(reasons))
    parts = [KalshiPart(c, ContractSide(inst.kind), game.label(c.outcome),
                        tuple(o for o in game.outcomes if o in pays_in(inst, game.sides, game.whole)))
             for inst, c in kalshi if c is not None]
    contracts = {p.contract.ticker: p.contract for p in parts}

    def part(side: Outcome, q: SportsbookQuote) -> BookPart:
        inst = backed[side]
        paid, refund = pays_in(inst, game.sides, game.whole), refunded_in(inst, game.whole)
        return BookPart(q.bookmaker, side, game.label(side), q.decimal_odds, q.max_stake, ctx.age(q.last_update_ts),
                        tuple(o for o in game.outcomes if o in paid), tuple(o for o in game.outcomes if o in refund))

    def price(chosen: dict[Outcome, SportsbookQuote]) -> Opportunity | Rejection:
        return price_cover(game.event_ticker, game.league, candidate, game.outcomes, parts,
                           [part(side, q) for side, q in chosen.items()], ctx,
                           lambda legs: grid_reasons(legs, contracts))

    def best(q: SportsbookQuote) -> tuple[Decimal, Decimal]:  # what a winning back really pays, after commission
        return effective_decimal_odds(q.decimal_odds, ctx.sizing.commission(q.bookmaker)), q.max_stake or Decimal(0)

    return _on_line(game, at_account_books_first(offers, lambda q: q.bookmaker, best, price, ctx))


def _on_line(game: LineGame, result: Opportunity | Rejection) -> Opportunity | Rejection:
    """An opportunity names the line it trades (market and point); a rejection is left as it is."""
    return replace(result, market=game.market, point=game.point) if isinstance(result, Opportunity) else result


def _consensus(game: LineGame, fresh: _Fresh, limits: Limits) -> ConsensusResult:
    above, below = game.sides
    books = sorted(b for b in set(fresh[above]) | set(fresh[below]) if in_consensus(b, limits.consensus_books))
    lines = {b: [float(fresh[s][b].decimal_odds) if b in fresh[s] else None for s in (above, below)] for b in books}
    return consensus_fair_probabilities(lines, limits.devig_method, limits.book_weights, limits.consensus_min_books)


def _fair_for(game: LineGame, side: Outcome, contract_side: ContractSide,
              fair: tuple[float, ...] | None) -> float | None:
    """The (conservative) probability that `contract_side` of the market whose YES is `side` pays."""
    if fair is None:
        return None
    p_side = fair[game.sides.index(side)]
    if contract_side is ContractSide.YES:
        return None if game.whole else p_side
    return 1.0 - p_side  # NO: the other side's consensus; on a whole line a lower bound (it also wins the push)


def confirm_line_value(game: LineGame, side: Outcome, contract_side: ContractSide, fair_f: float,
                       consensus: ConsensusResult, fresh: _Fresh, ctx: Context) -> Opportunity | Rejection:
    contract = game.kalshi[side]
    candidate = f"{contract_side.value}:{side.value}"
    reasons = game_gates(game, ctx) + kalshi_gates(contract, ctx)
    if reasons:
        return Rejection(VALUE, game.event_ticker, candidate, tuple(reasons))
    wins = {side} if contract_side is ContractSide.YES else set(game.outcomes) - {side}
    ages = {f"{SPORTSBOOK}:{b}:{s.value}": ctx.age(q.last_update_ts)
            for s, by_book in fresh.items() for b, q in by_book.items() if b in consensus.books_used}
    return _on_line(game, price_value(
        game.event_ticker, game.league, candidate, contract, contract_side, game.label(side), fair_f,
        tuple(o for o in game.outcomes if o in wins), ctx, lambda legs: grid_reasons(legs, {contract.ticker: contract}),
        ages, consensus.books_used))

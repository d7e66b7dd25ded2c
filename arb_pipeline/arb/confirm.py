"""Exact confirmation of screened candidates: gates, sizing against the real order book, rounding,
and the final profit recomputed from the rounded legs. Everything here is Decimal.

A candidate becomes an `Opportunity` only if every check passes at the size we would actually
trade; otherwise it becomes a `Rejection` listing every reason found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from arb_pipeline.arb.accounts import at_account_books_note, in_consensus, is_account_book
from arb_pipeline.arb.book import OffGrid, check_on_grid
from arb_pipeline.arb.combos import BOOK, Instrument
from arb_pipeline.arb.commission import effective_decimal_odds
from arb_pipeline.arb.constraints import (
    Limits,
    check_age,
    check_exchange,
    check_pregame,
    check_status,
)
from arb_pipeline.arb.cover import BookPart, KalshiPart, price_cover, price_value, rate
from arb_pipeline.arb.fees import UnsupportedFeeType
from arb_pipeline.arb.implied_prob import consensus_fair_probabilities
from arb_pipeline.arb.line_game import LineGame
from arb_pipeline.arb.market import GameLine, KalshiContract
from arb_pipeline.arb.money import ZERO
from arb_pipeline.arb.quotes import OUTCOME_SLOTS, QuoteTable
from arb_pipeline.arb.results import ARBITRAGE, KALSHI, SPORTSBOOK, VALUE, Leg, Opportunity, Rejection
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import ContractSide, Outcome

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Context:
    limits: Limits
    sizing: SizingPolicy
    as_of: datetime
    exchange_active: bool
    table: QuoteTable | None = None  # the h2h quotes of a screen (None when pricing lines)
    now: float = 0.0  # as_of as Unix seconds, set in __post_init__

    def __post_init__(self) -> None:
        object.__setattr__(self, "now", self.as_of.timestamp())

    def age(self, ts: datetime | float) -> float:
        return self.now - (ts if isinstance(ts, float) else ts.timestamp())


def describe(combo: Sequence[Instrument]) -> str:
    return " + ".join(f"{i.kind}:{i.outcome.value}" for i in combo)


def game_gates(game: GameLine | LineGame, ctx: Context) -> list[str]:
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
    return rate(contract)


def fresh_rows(gi: int, ctx: Context) -> tuple[dict[tuple[int, int], int], dict[int, list[str]]]:
    """The latest fresh quote row per (book, slot) of a game, and per slot a note per stale quote left out."""
    table = ctx.table
    latest: dict[tuple[int, int], int] = {}
    newest: dict[tuple[int, int], float] = {}
    stale: dict[int, list[str]] = {}
    max_age = ctx.limits.max_sportsbook_age_s
    lo, hi = int(table.offsets[gi]), int(table.offsets[gi + 1])
    # the game's columns as Python values at once (no NumPy scalar per field per row)
    for row, book, slot, updated in zip(range(lo, hi), table.book[lo:hi].tolist(), table.outcome[lo:hi].tolist(),
                                        table.updated[lo:hi].tolist(), strict=True):
        age = ctx.age(updated)
        if age < 0 or age > max_age:  # exactly when check_age gives a reason; its text only then
            why = check_age(f"{table.bookmakers[book]} {OUTCOME_SLOTS[slot].value}", age, max_age)
            stale.setdefault(slot, []).append(why)  # type: ignore[arg-type]
        elif (book, slot) not in latest or updated > newest[book, slot]:
            latest[book, slot], newest[book, slot] = row, updated
    return latest, stale


def confirm_arbitrage(gi: int, game: GameLine, combo: tuple[Instrument, ...], ctx: Context) -> Opportunity | Rejection:
    table = ctx.table
    reasons = game_gates(game, ctx)
    kalshi = [(i, game.kalshi.get(i.outcome)) for i in combo if i.kind != BOOK]
    for inst, contract in kalshi:
        if contract is None:
            reasons.append(f"no Kalshi market for {inst.outcome.value}")
        else:
            reasons += kalshi_gates(contract, ctx)
    latest, stale = fresh_rows(gi, ctx)
    offers: dict[Outcome, list[int]] = {}
    for inst in combo:
        if inst.kind == BOOK:
            slot = OUTCOME_SLOTS.index(inst.outcome)
            rows = [row for (b, k), row in latest.items() if k == slot]
            if not rows:
                notes = stale.get(slot, [])
                reasons.append(f"no fresh sportsbook quote for {inst.outcome.value}"
                               + (f" ({'; '.join(notes)})" if notes else ""))
            else:
                offers[inst.outcome] = rows
    if reasons:
        return Rejection(ARBITRAGE, game.event_ticker, describe(combo), tuple(reasons))
    parts = [KalshiPart(c, ContractSide(inst.kind), game.label(c.outcome),
                        tuple(o for o in game.outcomes if o in inst.pays_in(game.outcomes)))
             for inst, c in kalshi if c is not None]
    contracts = {p.contract.ticker: p.contract for p in parts}

    def part(o: Outcome, row: int) -> BookPart:
        return BookPart(table.bookmakers[table.book[row]], o, game.label(o), table.exact(row), table.stake_limit(row),
                        ctx.age(float(table.updated[row])), (o,))

    def price(rows: dict[Outcome, int]) -> Opportunity | Rejection:
        return price_cover(game.event_ticker, game.league, describe(combo), game.outcomes, parts,
                           [part(o, row) for o, row in rows.items()], ctx, lambda legs: grid_reasons(legs, contracts))

    def best(row: int) -> tuple[Decimal, Decimal]:  # what a winning back really pays, after commission
        book = table.bookmakers[table.book[row]]
        return effective_decimal_odds(table.exact(row), ctx.sizing.commission(book)), table.stake_limit(row) or ZERO

    return at_account_books_first(offers, lambda row: table.bookmakers[table.book[row]], best, price, ctx)


def at_account_books_first(offers: dict[Outcome, list[T]], book_of: Callable[[T], str],
                           best: Callable[[T], object], price: Callable[[dict[Outcome, T]], Opportunity | Rejection],
                           ctx: Context) -> Opportunity | Rejection:
    """Price a cover at the best quote per backed outcome *among the account books* when each has one;
    if that is not an arbitrage (or there is none), at the best quote of any book - reported, labelled
    not executable by `arb.accounts`, with the account books' reasons in its notes."""
    overall = {o: max(rows, key=best) for o, rows in offers.items()}
    accounts = ctx.limits.account_books
    if accounts is None:
        return price(overall)
    mine = {o: [r for r in rows if is_account_book(book_of(r), accounts)] for o, rows in offers.items()}
    at_accounts: Opportunity | Rejection | None = None
    if all(mine.values()):
        chosen = {o: max(rows, key=best) for o, rows in mine.items()}
        at_accounts = price(chosen)
        if isinstance(at_accounts, Opportunity) or chosen == overall:
            return at_accounts
    result = price(overall)
    if isinstance(result, Opportunity):
        why = at_accounts.reasons if at_accounts is not None else tuple(
            f"no fresh quote for {o.value} at an account book" for o, rows in mine.items() if not rows)
        result = replace(result, reasons=(*result.reasons, at_account_books_note(why)))
    return result


def confirm_value(gi: int, game: GameLine, outcome: Outcome, side: ContractSide, ctx: Context) -> Opportunity | Rejection:
    table, limits = ctx.table, ctx.limits
    desc = f"{side.value}:{outcome.value}"
    contract = game.kalshi[outcome]
    reasons = game_gates(game, ctx) + kalshi_gates(contract, ctx)
    latest, stale = fresh_rows(gi, ctx)
    slots = [OUTCOME_SLOTS.index(o) for o in game.outcomes]
    lines = {table.bookmakers[b]: [float(table.odds[latest[(b, k)]]) if (b, k) in latest else None for k in slots]
             for b in sorted({b for b, _ in latest}, key=lambda b: table.bookmakers[b])  # by name: the table's
             if in_consensus(table.bookmakers[b], limits.consensus_books)}                # order is parse order
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
    pays_in = (outcome,) if side is ContractSide.YES else tuple(o for o in game.outcomes if o != outcome)
    ages = {f"{SPORTSBOOK}:{table.bookmakers[b]}:{OUTCOME_SLOTS[k].value}": ctx.age(float(table.updated[row]))
            for (b, k), row in latest.items() if table.bookmakers[b] in consensus.books_used}
    return price_value(game.event_ticker, game.league, desc, contract, side, game.label(contract.outcome), fair_f,
                       pays_in, ctx, lambda legs: grid_reasons(legs, {contract.ticker: contract}), ages,
                       consensus.books_used)

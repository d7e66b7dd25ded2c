"""Orientation guard: does Kalshi's YES price look like the *opposite* of the outcome we mapped it to?

Why: a YES/NO flip between venues is the most expensive mapping error (one public project found 6 of
34 live matches inverted). Independently of the name rules, we compare the Kalshi YES price q with
the books' fair probability p of the mapped outcome. If q is far nearer 1 − p than p, the mapping is
flagged "possibly inverted" and excluded from execution. Near p = 0.5 the test cannot tell the sides
apart; that is inherent, and the name rules remain the primary defence.

p is the mean over bookmakers of the multiplicative de-vig (p_i = (1/d_i) / Σ_j 1/d_j) of each book's
complete h2h set. It is implemented here (a few lines) because `mapping/` must not depend on `arb/`;
it is a screening number in float, never a price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from arb_pipeline.domain import KalshiMarket, Outcome, SportsbookQuote, line_position, line_sides

_OUTCOMES = {o.value: o for o in Outcome}


def consensus_probabilities(quotes: Iterable[SportsbookQuote], outcomes: frozenset[Outcome]) -> dict[Outcome, float]:
    """Mean multiplicative de-vigged probability per outcome over books quoting every outcome.

    Books missing an outcome, or quoting odds ≤ 1, are skipped (they cannot be de-vigged). Returns {}
    when no book qualifies. When a book sent one outcome twice, its latest `last_update` wins.
    """
    per_book: dict[str, dict[Outcome, SportsbookQuote]] = {}
    for q in quotes:
        outcome = _OUTCOMES.get(q.outcome) if q.market == "h2h" else None
        if outcome is None:
            continue
        book = per_book.get(q.bookmaker)
        if book is None:
            book = per_book[q.bookmaker] = {}
        kept = book.get(outcome)
        if kept is None or q.last_update >= kept.last_update:
            book[outcome] = q
    sums = dict.fromkeys(outcomes, 0.0)
    books = 0
    for prices in per_book.values():
        if prices.keys() != outcomes:
            continue
        odds = [(o, q.odds_f) for o, q in prices.items()]  # odds_f is float(decimal_odds), computed once
        if any(d <= 1.0 for _, d in odds):
            continue
        total = sum(1.0 / d for _, d in odds)
        for o, d in odds:
            sums[o] += (1.0 / d) / total
        books += 1
    return {o: s / books for o, s in sums.items()} if books else {}


def line_consensus(quotes: Iterable[SportsbookQuote], market: str, side: Outcome, point: Decimal) -> float | None:
    """Mean multiplicative de-vigged probability of `side` of the `market` line at exactly `point`
    (on the line's axis, `domain.line_position`), over books quoting both sides there; None if none.

    For a whole-number point this is the probability *given no push* (books refund a push); the
    orientation guard only needs to tell the two sides apart, which it still does.
    """
    above, below = line_sides(market)
    wanted = {above, below}
    per_book: dict[str, dict[Outcome, SportsbookQuote]] = {}
    for q in quotes:
        if q.market != market or q.point is None:
            continue
        try:
            at, where = line_position(q.market, q.outcome, q.point)
        except ValueError:
            continue
        if where != point or at not in wanted:
            continue
        book = per_book.setdefault(q.bookmaker, {})
        kept = book.get(at)
        if kept is None or q.last_update >= kept.last_update:
            book[at] = q
    total_p, books = 0.0, 0
    for prices in per_book.values():
        if prices.keys() != wanted:
            continue
        odds = {o: float(q.decimal_odds) for o, q in prices.items()}
        if any(d <= 1.0 for d in odds.values()):
            continue
        booksum = sum(1.0 / d for d in odds.values())
        total_p += (1.0 / odds[side]) / booksum
        books += 1
    return total_p / books if books else None


def yes_mid(market: KalshiMarket) -> Decimal | None:
    """Mid of the YES bid/ask (both present and 0 < bid <= ask <= 1), else None."""
    bid, ask = market.yes_bid, market.yes_ask
    if bid is None or ask is None or bid <= 0 or ask > 1 or bid > ask:
        return None
    return (bid + ask) / 2


@dataclass(frozen=True, slots=True)
class OrientationCheck:
    yes_price: float | None
    fair_probability: float | None
    inverted: bool
    reason: str | None  # set when the check failed or could not be made


def check_orientation(yes_price: Decimal | None, fair_probability: float | None, margin: float) -> OrientationCheck:
    """Flag when |q − p| exceeds |q − (1 − p)| by more than `margin` (q = YES price, p = fair prob)."""
    if yes_price is None or fair_probability is None:
        missing = "Kalshi YES price" if yes_price is None else "sportsbook consensus"
        return OrientationCheck(None if yes_price is None else float(yes_price), fair_probability, False,
                                f"orientation not verifiable: no {missing}")
    q, p = float(yes_price), fair_probability
    distance_same, distance_flipped = abs(q - p), abs(q - (1.0 - p))
    if distance_same - distance_flipped > margin:
        return OrientationCheck(q, p, True, (
            f"possibly inverted: Kalshi YES {q:.3f} is nearer 1-p={1.0 - p:.3f} than p={p:.3f} "
            f"(|q-p|={distance_same:.3f}, |q-(1-p)|={distance_flipped:.3f}, margin {margin:.3f})"))
    return OrientationCheck(q, p, False, None)

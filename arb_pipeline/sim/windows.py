"""The arithmetic of injected opportunities: which Kalshi ask makes an arbitrage or a +EV bet.

An *arbitrage* on outcome i: buy Kalshi YES at ask a (plus its fee per contract) and back every other
outcome at the best bookmaker price; it is riskless when a + fee/C + Σ_{j≠i} 1/d_j < 1 (the complement
uses the least favourable reading of each price, see `pricing.worst_implied`). A *value* window prices
Kalshi YES below the books' de-vigged fair probability by `edge` probability points (after the fee)
while staying no arbitrage, which needs every bookmaker's margin on the other outcomes to exceed it.
These are pure functions of the served quotes, so a test can recompute them from HTTP responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from arb_pipeline.sim.money import CENT, ONE, taker_fee
from arb_pipeline.sim.pricing import as_decimal, worst_implied


def sharp_book_weights() -> dict[str, Decimal]:
    """The consensus's own book weights (ARB_SHARP_BOOK_WEIGHTS, `Settings.sharp_book_weights`), exact."""
    from arb_pipeline.settings import get_settings

    return {book: Decimal(str(weight)) for book, weight in get_settings().sharp_book_weights().items()}

NO_ARB_MARGIN = Decimal("0.002")


@dataclass(frozen=True)
class BookLeg:
    outcome: str
    bookmaker: str
    price: int | Decimal  # native: American int or decimal odds
    implied: Decimal


def best_legs(quotes: Mapping[str, Mapping[str, int | Decimal]], outcomes: Sequence[str]) -> dict[str, BookLeg]:
    """Per outcome, the bookmaker whose price implies the lowest probability (the best price to back)."""
    best: dict[str, BookLeg] = {}
    for bookmaker in sorted(quotes):
        for outcome in outcomes:
            price = quotes[bookmaker].get(outcome)
            if price is None:
                continue
            implied = worst_implied(price)
            if outcome not in best or implied < best[outcome].implied:
                best[outcome] = BookLeg(outcome, bookmaker, price, implied)
    return best


def fair_probabilities(quotes: Mapping[str, Mapping[str, int | Decimal]], outcomes: Sequence[str],
                       weights: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
    """Weighted mean of each book's multiplicative de-vig, sharp books weighted as the scan's consensus
    weighs them (`weights`, default the settings' ARB_SHARP_BOOK_WEIGHTS)."""
    weights = sharp_book_weights() if weights is None else weights
    totals = {o: Decimal(0) for o in outcomes}
    weight_sum = Decimal(0)
    for bookmaker, prices in quotes.items():
        if any(o not in prices for o in outcomes):
            continue
        raw = {o: ONE / as_decimal(prices[o]) for o in outcomes}
        book_sum = sum(raw.values(), Decimal(0))
        weight = weights.get(bookmaker, ONE)
        weight_sum += weight
        for o in outcomes:
            totals[o] += weight * raw[o] / book_sum
    if weight_sum == 0:
        return {}
    return {o: totals[o] / weight_sum for o in outcomes}


def fee_per_contract(price: Decimal, size: Decimal) -> Decimal:
    return taker_fee(size, price) / size


def _cents_descending() -> list[Decimal]:
    return [Decimal(c) / 100 for c in range(99, 0, -1)]


def arbitrage_ask(complement: Decimal, edge: Decimal, size: Decimal) -> Decimal | None:
    """Highest whole-cent YES ask with ask + fee/contract + complement <= 1 - edge."""
    for price in _cents_descending():
        if price + fee_per_contract(price, size) + complement <= ONE - edge:
            return price
    return None


def value_ask(fair: Decimal, complement: Decimal, edge: Decimal, size: Decimal) -> Decimal | None:
    """Highest whole-cent ask with fair - (ask + fee/contract) >= edge (probability points, the way
    the detector measures value) that is still no arbitrage against the best bookmaker prices."""
    for price in _cents_descending():
        cost = price + fee_per_contract(price, size)
        if fair - cost >= edge:
            return price if cost + complement >= ONE + NO_ARB_MARGIN else None
    return None


def describe(ask: Decimal, size: Decimal, legs: Mapping[str, BookLeg], fair: Mapping[str, Decimal],
             outcome: str) -> dict[str, object]:
    """What a window offers, in wire-style strings, for the injection API and the snapshot meta."""
    fee = fee_per_contract(ask, size)
    others = [leg for o, leg in legs.items() if o != outcome]
    complement = sum((leg.implied for leg in others), Decimal(0))
    cost = ask + fee
    return {
        "kalshi_yes_ask": str(ask.quantize(CENT)),
        "fee_per_contract": str(fee.quantize(Decimal("0.0001"))),
        "book_legs": [{"outcome": leg.outcome, "bookmaker": leg.bookmaker, "price": str(leg.price),
                       "implied_probability": str(leg.implied.quantize(Decimal("0.0001")))} for leg in others],
        "total_cost": str((cost + complement).quantize(Decimal("0.0001"))),
        "fair_probability": str(fair.get(outcome, Decimal(0)).quantize(Decimal("0.0001"))),
        "expected_value": str((fair.get(outcome, Decimal(0)) / cost - 1).quantize(Decimal("0.0001"))),
        "edge_points": str((fair.get(outcome, Decimal(0)) - cost).quantize(Decimal("0.0001"))),
    }


# --- spread and total lines -------------------------------------------------------------------------


def line_complement_side(kind: str, subject: str | None) -> str:
    """The sportsbook side that pays when a Kalshi line market's YES does not (same line, same point):
    a total's YES is over, so under; "home wins by more than s" is home −s, so away +s; and back."""
    if kind == "total":
        return "under"
    return "away" if subject == "home" else "home"


def line_book_legs(quotes: Mapping[str, tuple[int | Decimal, int | Decimal]], side: str) -> BookLeg | None:
    """The best bookmaker price of `side` ("home"/"away"/"over"/"under") of one line at one point:
    `quotes[bookmaker]` = (price of the side above the point, price of the side below it)."""
    best: BookLeg | None = None
    slot = 0 if side in ("home", "over") else 1
    for bookmaker in sorted(quotes):
        price = quotes[bookmaker][slot]
        implied = worst_implied(price)
        if best is None or implied < best.implied:
            best = BookLeg(side, bookmaker, price, implied)
    return best


def describe_line(ask: Decimal, size: Decimal, leg: BookLeg, kind: str, strike: Decimal,
                  book_point: Decimal) -> dict[str, object]:
    """What a line arbitrage window offers: Kalshi YES at `ask` + a back of `leg` at the same line."""
    fee = fee_per_contract(ask, size)
    return {
        "line": kind, "strike": str(strike), "book_point": str(book_point),
        "kalshi_yes_ask": str(ask.quantize(CENT)),
        "fee_per_contract": str(fee.quantize(Decimal("0.0001"))),
        "book_legs": [{"outcome": leg.outcome, "bookmaker": leg.bookmaker, "price": str(leg.price),
                       "point": str(book_point),
                       "implied_probability": str(leg.implied.quantize(Decimal("0.0001")))}],
        "total_cost": str((ask + fee + leg.implied).quantize(Decimal("0.0001"))),
    }

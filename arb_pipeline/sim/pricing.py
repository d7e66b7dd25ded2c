"""Turns a game's true probabilities into what each venue quotes: bookmaker odds and Kalshi ladders.

Sportsbooks add a margin (vig) and their own small error, and quote in their native format: US books
in American odds, European books and exchanges in decimal; the Odds API converts between formats
with its usual rounding. Kalshi quotes a ladder of whole-cent bids on both sides around its own
estimate. All served numbers are `Decimal`/int; floats live only in the random walk of the truth.
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from arb_pipeline.arb.odds import american_to_decimal_exact
from arb_pipeline.sim.money import CENT, ONE

# bookmaker key -> (title, region, margin on a two-way market, native format)
BOOKMAKERS: dict[str, tuple[str, str, float, str]] = {
    "draftkings": ("DraftKings", "us", 0.045, "american"),
    "fanduel": ("FanDuel", "us", 0.042, "american"),
    "betmgm": ("BetMGM", "us", 0.05, "american"),
    "williamhill_us": ("Caesars", "us", 0.048, "american"),
    "pinnacle": ("Pinnacle", "eu", 0.035, "decimal"),
    "betfair_ex_eu": ("Betfair", "eu", 0.04, "decimal")  # back odds; commission folded in,
}
REGIONS = ("us", "us2", "uk", "au", "eu")
MIN_PRICE, MAX_PRICE = Decimal("0.01"), Decimal("0.99")


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


@lru_cache(maxsize=16_384)  # pure: equal Decimals give the same price (see display_decimal)
def american_from_decimal(decimal_odds: Decimal) -> int:
    if decimal_odds >= 2:
        return int(((decimal_odds - 1) * 100).to_integral_value(rounding=ROUND_HALF_UP))
    return -int((Decimal(100) / (decimal_odds - 1)).to_integral_value(rounding=ROUND_HALF_UP))


def decimal_from_american(american: int) -> Decimal:
    """Decimal odds of an American price (e.g. -110 -> 1.90909...): the project's one conversion,
    `arb.odds.american_to_decimal_exact`."""
    return american_to_decimal_exact(american)


@lru_cache(maxsize=16_384)
def display_decimal(american: int) -> Decimal:
    """How the Odds API prints an American price in decimal format: 2 decimals (-110 -> 1.91).

    Memoized (a pure function of an int, returning an immutable Decimal): a 1,000-game slate's odds
    responses convert ~130,000 prices, a few hundred distinct ones, each through the exact
    conversion - the largest part of the simulator's CPU per capture, on a machine it shares with the
    pipeline it serves."""
    return decimal_from_american(american).quantize(CENT, rounding=ROUND_HALF_UP)


def book_prices(probs: list[float], margin: float, native: str, noise: list[float]) -> list[int | Decimal]:
    """One bookmaker's prices for a full set of outcomes: proportional margin, own noise, native format."""
    skewed = softmax([math.log(max(p, 1e-6)) + n for p, n in zip(probs, noise, strict=True)])
    prices: list[int | Decimal] = []
    for p in skewed:
        implied = min(p * (1 + margin), 0.97)
        decimal_odds = Decimal(repr(1 / implied))
        if native == "american":
            american = american_from_decimal(decimal_odds)
            prices.append(american if abs(american) >= 100 else 100)
        else:
            step = Decimal("0.001") if decimal_odds < 10 else Decimal("0.01")
            prices.append(max(Decimal("1.010"), decimal_odds.quantize(step, rounding=ROUND_FLOOR)))
    return prices


def worst_implied(price: int | Decimal) -> Decimal:
    """The highest implied probability any client can read from a price in either format.

    A client reading American odds converts exactly, one reading decimal format sees 2 decimals;
    injected opportunities are built against the less favourable of the two so they hold in both.
    """
    if isinstance(price, int):
        return max(ONE / decimal_from_american(price), ONE / display_decimal(price))
    return ONE / price


def as_decimal(price: int | Decimal) -> Decimal:
    return decimal_from_american(price) if isinstance(price, int) else price


def clamp_price(value: Decimal) -> Decimal:
    return min(MAX_PRICE, max(MIN_PRICE, value))


def randint(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint(low, high)`: the same draw from the same bits, without its layers of checks.

    CPython's randrange takes `getrandbits(k)` (k = the width's bit length) until it falls below the
    width; so does this. The requote of a 1,000-game slate draws ~25,000 of these every tick, where the
    library's call chain (randint -> randrange -> _randbelow) cost ~5x the draw itself."""
    width = high - low + 1
    bits = width.bit_length()
    value = rng.getrandbits(bits)
    while value >= width:
        value = rng.getrandbits(bits)
    return low + value


def kalshi_ladder(fair: float, rng: random.Random, levels: int = 5) -> tuple[list[tuple[Decimal, Decimal]],
                                                                              list[tuple[Decimal, Decimal]]]:
    """Market-maker quotes around `fair`: (YES bids, YES asks) as (YES price, size), best first."""
    spread = 1 if rng.random() < 0.6 else 2
    bid = Decimal(int(math.floor(fair * 100 - spread / 2))) / 100
    bid = min(Decimal("0.98"), max(Decimal("0.00"), bid))
    ask = bid + Decimal(spread) / 100
    bids: list[tuple[Decimal, Decimal]] = []
    asks: list[tuple[Decimal, Decimal]] = []
    for i in range(levels):
        size = Decimal(randint(rng, 20, 250) * (i + 1))
        b = bid - CENT * i
        a = ask + CENT * i
        if b >= MIN_PRICE:
            bids.append((b, size))
        if a <= MAX_PRICE:
            asks.append((a, Decimal(randint(rng, 20, 250) * (i + 1))))
    return bids, asks

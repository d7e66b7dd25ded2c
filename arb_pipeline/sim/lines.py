"""Spread and total lines of the simulated games: the truth model, Kalshi's strikes, the books' lines.

Truth: the home margin is normal around a mean chosen so that it reproduces the game's true win
probabilities (two-way: P(margin > 0) = p_home; three-way soccer: P(margin ≥ 1) = p_home and
P(margin ≤ −1) = p_away, which also fixes the spread), and the total is normal around the league's
typical total. Kalshi lists several strikes per game as separate spread and total events
(kalshi-api.md §8.6): "X wins by more than s" for both teams and "more than t points", the line in
`floor_strike` (strike_type "greater"). Sportsbooks quote one main line, which is one of Kalshi's
strikes, so same-point covers exist. When a game ends its final score is drawn consistent with the
winner already drawn, and every line market settles on it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from arb_pipeline.sim.slate import Game

MARGIN_SIGMA = {"NFL": 13.5, "NCAAF": 16.0, "NBA": 12.0, "NCAAMB": 10.5, "WNBA": 10.0, "NHL": 2.3, "MLB": 4.3}
TOTAL = {"NFL": (44.5, 10.0), "NCAAF": (52.5, 13.0), "NBA": (224.5, 17.0), "NCAAMB": (142.5, 14.0),
         "WNBA": (162.5, 14.0), "NHL": (6.5, 2.0), "MLB": (8.5, 3.2)}
SOCCER_TOTAL = (2.5, 1.5)
UNITS = {"NHL": "goals", "MLB": "runs"}
FIXED_SPREAD = {"NHL": Decimal("1.5"), "MLB": Decimal("1.5")}  # puck line / run line
_STD = NormalDist()
HALF = Decimal("0.5")


@dataclass(frozen=True)
class LineModel:
    mu: float  # mean home margin
    sigma: float
    total_mean: float
    total_sigma: float


@dataclass(frozen=True)
class LineMarket:
    """One Kalshi spread or total market of a game: YES iff (subject's margin | total) > strike."""

    ticker: str
    event_ticker: str
    kind: str  # "spread" | "total"
    subject: str | None  # "home" / "away" (spread) or None
    strike: Decimal


def unit(game: Game) -> str:
    return "goals" if game.league.three_way else UNITS.get(game.code, "points")


def model(game: Game, probs: list[float]) -> LineModel:
    total_mean, total_sigma = SOCCER_TOTAL if game.league.three_way else TOTAL[game.code]
    if game.league.three_way:
        a = _STD.inv_cdf(min(max(probs[0], 1e-4), 1 - 1e-4))
        b = _STD.inv_cdf(min(max(probs[-1], 1e-4), 1 - 1e-4))
        sigma = -1.0 / (a + b)
        return LineModel(0.5 + a * sigma, sigma, total_mean, total_sigma)
    sigma = MARGIN_SIGMA[game.code]
    return LineModel(sigma * _STD.inv_cdf(min(max(probs[0], 1e-4), 1 - 1e-4)), sigma, total_mean, total_sigma)


def above(x: float, mean: float, sigma: float) -> float:
    return 1.0 - _STD.cdf((x - mean) / sigma)


def fair(market: LineMarket, m: LineModel) -> float:
    """The true probability that the market's YES pays."""
    strike = float(market.strike)
    if market.kind == "total":
        return above(strike, m.total_mean, m.total_sigma)
    if market.subject == "home":
        return above(strike, m.mu, m.sigma)
    return 1.0 - above(-strike, m.mu, m.sigma)


def book_point(game: Game, m: LineModel) -> Decimal:
    """The books' main spread on the line's axis (home margin): the half point nearest the mean."""
    fixed = FIXED_SPREAD.get(game.code)
    if fixed is not None:
        return fixed if m.mu >= 0 else -fixed
    return Decimal(math.floor(m.mu)) + HALF


def strikes(game: Game, point: Decimal, total: Decimal) -> list[tuple[str, str | None, Decimal]]:
    """Kalshi's strikes: the favourite at the books' point and either side of it, the underdog at one
    small margin, and totals around the books' total. (kind, subject, strike)."""
    favourite = "home" if point > 0 else "away"
    underdog = "away" if favourite == "home" else "home"
    size = abs(point)
    step = Decimal(1) if game.code in ("NHL", "MLB") or game.league.three_way else Decimal(2)
    out: list[tuple[str, str | None, Decimal]] = [("spread", favourite, s) for s in (size - step, size, size + step)
                                                  if s >= HALF]
    out.append(("spread", underdog, HALF if game.league.three_way else Decimal("1.5")))
    out += [("total", None, t) for t in (total - step, total, total + step) if t >= HALF]
    return out


def market_ticker(series: str, game: Game, kind: str, subject_code: str | None, strike: Decimal) -> str:
    suffix = game.event_ticker.split("-", 1)[1]
    digits = str(strike).replace(".", "")
    if kind == "spread":
        return f"{series}-{suffix}-{subject_code}{digits}"
    return f"{series}-{suffix}-{int(strike + HALF)}"  # totals: the whole number above the strike, as seen live


def final_score(rng: random.Random, m: LineModel, winner: str, three_way: bool) -> tuple[int, int]:
    """A final score consistent with the drawn winner: (home, away)."""
    margin = 0
    if winner != "draw":
        for _ in range(1000):
            margin = round(rng.gauss(m.mu, m.sigma))
            if (margin > 0) == (winner == "home") and margin != 0:
                break
        else:
            margin = 1 if winner == "home" else -1
    total = max(abs(margin), round(rng.gauss(m.total_mean, m.total_sigma)))
    if (total - margin) % 2:
        total += 1
    return (total + margin) // 2, (total - margin) // 2


def settles_yes(market: LineMarket, home: int, away: int) -> bool:
    if market.kind == "total":
        return home + away > market.strike
    margin = home - away if market.subject == "home" else away - home
    return margin > market.strike

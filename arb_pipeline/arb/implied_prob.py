"""De-vigging bookmaker odds into fair probabilities (sportsbook-odds.md §4), and the consensus of books.

Probabilities are floats by design: they are estimates, not money. Iterative methods are solved by
bisection until the bracket cannot shrink any further in float64, then the residual |Σp − 1| is
checked against `TOLERANCE`; a solve that does not reach it raises instead of returning a half-way
answer (`implied`'s 1.2e-4 stopping rule would move fair prices by up to 1e-4, see §4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from arb_pipeline.arb.odds import InvalidOdds

TOLERANCE = 1e-12
METHODS = ("multiplicative", "additive", "power", "shin", "odds_ratio")
_MAX_BISECTIONS = 2000


class DevigError(ValueError):
    """The odds cannot be de-vigged by the method (booksum < 1, negative additive, no convergence)."""


def _inverse_odds(decimal_odds: Sequence[float]) -> list[float]:
    if isinstance(decimal_odds, str | bytes) or len(decimal_odds) < 2:
        raise DevigError(f"de-vig needs at least two outcomes' odds, got {decimal_odds!r}")
    out = []
    for d in decimal_odds:  # the common case (plain finite floats > 1) without a check per type
        if type(d) is not float or not 1.0 < d < math.inf:
            break
        out.append(1.0 / d)
    else:
        return out
    out = []
    for i, d in enumerate(decimal_odds):
        if isinstance(d, bool) or not isinstance(d, int | float) and not hasattr(d, "__float__"):
            raise InvalidOdds(f"decimal odds at position {i} must be a number, got {d!r}")
        value = float(d)
        if not math.isfinite(value) or value <= 1.0:
            raise InvalidOdds(f"decimal odds at position {i} must be finite and > 1, got {d!r}")
        out.append(1.0 / value)
    return out


def overround(decimal_odds: Sequence[float]) -> float:
    """Booksum − 1: the bookmaker's margin as quoted (−110/−110 → 0.047619…)."""
    return math.fsum(_inverse_odds(decimal_odds)) - 1.0


def _bisect(f: Callable[[float], float], lo: float, hi: float, what: str) -> float:
    """Root of a decreasing f on [lo, hi] (f(lo) ≥ 0 ≥ f(hi)), bisected to float64 resolution."""
    for _ in range(_MAX_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        value = f(mid)
        if value == 0.0:
            return mid
        if value > 0.0:
            lo = mid
        else:
            hi = mid
    root = lo if abs(f(lo)) <= abs(f(hi)) else hi
    residual = abs(f(root))
    if residual > TOLERANCE:
        raise DevigError(f"{what}: did not converge (|sum(p) - 1| = {residual:.3e} > {TOLERANCE:g})")
    return root


def _expand_upper(f: Callable[[float], float], hi: float, what: str) -> float:
    """Double `hi` until f(hi) ≤ 0 so that [lower bound, hi] brackets the root of a decreasing f."""
    while f(hi) > 0.0:
        hi *= 2.0
        if hi > 1e300:
            raise DevigError(f"{what}: could not bracket the root")
    return hi


def _multiplicative(r: list[float], s: float) -> list[float]:
    return [x / s for x in r]


def _additive(r: list[float], s: float) -> list[float]:
    margin = (s - 1.0) / len(r)
    p = [x - margin for x in r]
    bad = [i for i, x in enumerate(p) if x <= 0.0]
    if bad:
        raise DevigError(
            f"additive de-vig gives a non-positive probability for outcome(s) {bad} "
            f"(inverse odds {[r[i] for i in bad]} below the per-outcome margin {margin:.6g}); use another method"
        )
    return p


def _power(r: list[float], s: float) -> list[float]:
    logs = [math.log(x) for x in r]

    def excess(k: float) -> float:
        return math.fsum(math.exp(k * lg) for lg in logs) - 1.0

    hi = _expand_upper(excess, 2.0, "power de-vig")
    k = _bisect(excess, 1.0, hi, "power de-vig")
    return [math.exp(k * lg) for lg in logs]


def _odds_ratio_probs(r: list[float], c: float) -> list[float]:
    return [x / (c + x - c * x) for x in r]


def _odds_ratio(r: list[float], s: float) -> list[float]:
    def excess(c: float) -> float:
        return math.fsum(_odds_ratio_probs(r, c)) - 1.0

    hi = _expand_upper(excess, 2.0, "odds-ratio de-vig")
    return _odds_ratio_probs(r, _bisect(excess, 1.0, hi, "odds-ratio de-vig"))


def _shin_probs(r: list[float], s: float, z: float) -> list[float]:
    return [(math.sqrt(z * z + 4.0 * (1.0 - z) * x * x / s) - z) / (2.0 * (1.0 - z)) for x in r]


def _shin(r: list[float], s: float) -> list[float]:
    if len(r) == 2:
        # Closed form (mberk/shin): for two outcomes Shin's z gives exactly the additive answer.
        d = r[0] - r[1]
        z = (s - 1.0) * (d * d - s) / (s * (d * d - 1.0))
        return _shin_probs(r, s, z)

    def excess(z: float) -> float:
        return math.fsum(_shin_probs(r, s, z)) - 1.0

    # Σp(0) = √S ≥ 1 and Σp(z→1) = Σr²/S < 1, so a root lies in [0, 1).
    return _shin_probs(r, s, _bisect(excess, 0.0, math.nextafter(1.0, 0.0), "Shin de-vig"))


_SOLVERS: dict[str, Callable[[list[float], float], list[float]]] = {
    "multiplicative": _multiplicative,
    "additive": _additive,
    "power": _power,
    "shin": _shin,
    "odds_ratio": _odds_ratio,
}


def check_method(method: str) -> str:
    if method not in _SOLVERS:
        raise ValueError(f"unknown de-vig method {method!r}; valid methods: {', '.join(METHODS)}")
    return method


def devig(decimal_odds: Sequence[float], method: str = "multiplicative") -> list[float]:
    """Fair probabilities of one bookmaker's complete line (outcomes in the given order).

    Raises when the line's booksum is below 1: that is an arbitrage across books, not one book's
    margin, and every method would return nonsense for it.
    """
    r = _inverse_odds(decimal_odds)
    return _devig_inverse(r, math.fsum(r), decimal_odds, check_method(method))


def _devig_inverse(r: list[float], s: float, decimal_odds: Sequence[float], method: str) -> list[float]:
    """`devig` from the line's inverse odds `r` and booksum `s` (`consensus_fair_probabilities` has them
    already: one inversion per line instead of two)."""
    solver = _SOLVERS[method]
    if s < 1.0:
        raise DevigError(f"booksum {s:.6f} < 1 for odds {list(decimal_odds)!r}: not one book's line, cannot de-vig")
    p = solver(r, s)
    if any(not 0.0 < x < 1.0 for x in p) or abs(math.fsum(p) - 1.0) > 1e-9:
        raise DevigError(f"{method} de-vig of {list(decimal_odds)!r} gave invalid probabilities {p!r}")
    return p


@dataclass(frozen=True, slots=True)
class ConsensusResult:
    """The weighted consensus of several books' de-vigged lines, with everything needed to audit it.

    `fair` is None exactly when `insufficient` says why (e.g. fewer complete lines than `min_books`).
    """

    fair: tuple[float, ...] | None
    books_used: tuple[str, ...]
    no_vig_lines: Mapping[str, tuple[float, ...]]
    booksums: Mapping[str, float]
    skipped: Mapping[str, str]
    method: str
    insufficient: str | None = None

    @property
    def ok(self) -> bool:
        return self.fair is not None


def consensus_fair_probabilities(
    book_lines: Mapping[str, Sequence[float | None]],
    method: str = "multiplicative",
    weights: Mapping[str, float] | None = None,
    min_books: int = 1,
) -> ConsensusResult:
    """Weighted mean of per-book fair probabilities (each book de-vigged on its own line, never on
    best-of-market prices, §4). Incomplete or un-de-viggable lines are skipped with a reason.

    `weights` lets sharp books (e.g. pinnacle) count more; a book not listed weighs 1.
    """
    check_method(method)
    if isinstance(min_books, bool) or not isinstance(min_books, int) or min_books < 1:
        raise ValueError(f"min_books must be a positive int, got {min_books!r}")
    weights = weights or {}
    n_outcomes = {len(v) for v in book_lines.values()}
    if len(n_outcomes) > 1:
        raise ValueError(f"book lines have different outcome counts {sorted(n_outcomes)}; same order required")
    lines: dict[str, tuple[float, ...]] = {}
    booksums: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for book, odds in book_lines.items():
        if any(x is None for x in odds):
            skipped[book] = "incomplete line (an outcome has no price)"
            continue
        try:  # = overround(odds) + 1.0 and devig(odds, method), the odds inverted once
            r = _inverse_odds(odds)  # type: ignore[arg-type]
            s = math.fsum(r)
            booksums[book] = (s - 1.0) + 1.0  # overround + 1, to the bit
            lines[book] = tuple(_devig_inverse(r, s, odds, method))  # type: ignore[arg-type]
        except (DevigError, InvalidOdds) as exc:
            skipped[book] = str(exc)
    used = tuple(lines)
    if len(used) < min_books:
        reason = f"only {len(used)} complete book line(s), need {min_books}"
        return ConsensusResult(None, used, lines, booksums, skipped, method, reason)
    total_w = 0.0
    acc = [0.0] * next(iter(n_outcomes))
    for book in used:
        w = float(weights.get(book, 1.0))
        if not math.isfinite(w) or w <= 0.0:
            raise ValueError(f"weight for book {book!r} must be a positive number, got {weights.get(book)!r}")
        total_w += w
        for i, p in enumerate(lines[book]):
            acc[i] += w * p
    fair = tuple(x / total_w for x in acc)
    return ConsensusResult(fair, used, lines, booksums, skipped, method)

"""Which instrument sets pay exactly $1 in every outcome of a spread or total line.

A line at point p splits a game's result (the home margin for a spread, the total for a total;
`domain.line_position`) into the side above p (HOME / OVER), the side below (AWAY / UNDER) and — when
p is a whole number — the PUSH exactly on it. Per unit of payout:

- Kalshi YES on a market whose YES is side s pays $1 in s only. A Kalshi binary never pushes: "more
  than 3" is NO when the result is exactly 3.
- Kalshi NO on that market pays $1 everywhere else, **the push included**.
- A sportsbook back of side s (stake 1/d at decimal odds d) pays $1 in s and is **refunded its
  stake** in the push; it pays nothing on the other side.

A *cover* is a set of distinct instruments with at least one Kalshi leg whose winning payouts sum to
exactly $1 in every outcome — the push included — derived here by brute force, not listed by hand.
A refund in the push comes on top: a known surplus, counted exactly in the outcome's payout and
never in the guaranteed profit. So on a half-point line (no push) "YES over + book under" covers;
on a whole-number line it does not (it pays only the refunded stake on the push), while "NO over +
book over" does (the NO wins the push and the back is refunded).
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

from arb_pipeline.arb.combos import BOOK, KINDS, NO, Instrument
from arb_pipeline.domain import Outcome

PUSH = Outcome.PUSH


def line_outcomes(sides: tuple[Outcome, Outcome], whole: bool) -> tuple[Outcome, ...]:
    """The outcomes of a line: (above, below), with the push between them on a whole-number point."""
    above, below = sides
    return (above, PUSH, below) if whole else (above, below)


def pays_in(instrument: Instrument, sides: tuple[Outcome, Outcome], whole: bool) -> frozenset[Outcome]:
    """Where an instrument pays $1 per unit (a refund is not a payout: see `refunded_in`)."""
    if instrument.outcome not in sides:
        raise ValueError(f"instrument {instrument} is not on a side of the line {sides}")
    if instrument.kind == NO:
        other = sides[1] if instrument.outcome == sides[0] else sides[0]
        return frozenset({other, PUSH}) if whole else frozenset({other})
    return frozenset({instrument.outcome})


def refunded_in(instrument: Instrument, whole: bool) -> frozenset[Outcome]:
    """Where an instrument gives its stake back: a sportsbook back on a whole-number line's push."""
    return frozenset({PUSH}) if whole and instrument.kind == BOOK else frozenset()


@cache
def line_covers(sides: tuple[Outcome, Outcome], whole: bool) -> tuple[tuple[Instrument, ...], ...]:
    """Every set of distinct instruments on a line's two sides that pays exactly $1 in every outcome
    (the push included on a whole-number line) and has a Kalshi leg."""
    if len(set(sides)) != 2:
        raise ValueError(f"a line has two distinct sides, got {sides!r}")
    outcomes = line_outcomes(sides, whole)
    instruments = [Instrument(kind, side) for side in sides for kind in KINDS]
    found = []
    for size in range(1, len(instruments) + 1):
        for combo in combinations(instruments, size):
            if not any(i.kind != BOOK for i in combo):
                continue
            paid = [pays_in(i, sides, whole) for i in combo]
            if all(sum(o in p for p in paid) == 1 for o in outcomes):
                found.append(combo)
    return tuple(found)

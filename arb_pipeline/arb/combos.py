"""Which instrument sets pay exactly $1 in every outcome of a mutually exclusive game.

Derived, not hand-listed: YES on x pays in {x}, NO on x pays in every outcome but x, a sportsbook
back of x pays in {x}. A combination is an arbitrage structure when the payout sets of its legs
partition the outcomes. Two-way: 8 (e.g. NO_home + NO_away covers, since NO_home pays in {away});
three-way: 13. Sportsbook-only covers are excluded (not our product: they need a Kalshi leg).
Covers that pay $2 everywhere (e.g. NO on all three soccer outcomes) are not enumerated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations

from arb_pipeline.domain import Outcome

YES, NO, BOOK = "yes", "no", "book"
KINDS = (YES, NO, BOOK)


@dataclass(frozen=True, slots=True)
class Instrument:
    kind: str  # "yes" | "no" (Kalshi contract on `outcome`) | "book" (sportsbook back of `outcome`)
    outcome: Outcome

    def pays_in(self, outcomes: tuple[Outcome, ...]) -> frozenset[Outcome]:
        if self.kind == NO:
            return frozenset(o for o in outcomes if o != self.outcome)
        return frozenset({self.outcome})


@cache
def covering_combinations(outcomes: tuple[Outcome, ...]) -> tuple[tuple[Instrument, ...], ...]:
    """Every set of distinct instruments whose payouts partition `outcomes` and that has a Kalshi leg."""
    if len(set(outcomes)) != len(outcomes) or len(outcomes) < 2:
        raise ValueError(f"outcomes must be >= 2 distinct values, got {outcomes!r}")
    instruments = [Instrument(k, o) for o in outcomes for k in KINDS]
    everything = frozenset(outcomes)
    found = []
    for size in range(1, len(outcomes) + 1):
        for combo in combinations(instruments, size):
            sets = [i.pays_in(outcomes) for i in combo]
            if sum(len(s) for s in sets) == len(everything) and frozenset().union(*sets) == everything:
                if any(i.kind != BOOK for i in combo):
                    found.append(combo)
    return tuple(found)

"""Spread and total covers proven by brute force over game results.

The payoffs here are settled from first principles — actual scores, each venue's own rule ("wins by
more than X", a sportsbook handicap that pushes on a whole number) — independently of
`arb.lines`, and compared with the covers it derives.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import combinations

import pytest

from arb_pipeline.arb.combos import BOOK, NO, YES, Instrument
from arb_pipeline.arb.lines import line_covers, line_outcomes, pays_in, refunded_in
from arb_pipeline.domain import SPREADS, TOTALS, line_position, line_sides
from arb_pipeline.domain import Outcome as O

D = Decimal
POINTS = [D("-7.5"), D("-3"), D("-0.5"), D("0"), D("0.5"), D("2"), D("3.5"), D("7"), D("221.5"), D("222")]


def scores(market: str, point: Decimal):
    """Score pairs (home, away) whose margin (spread) or total (total) runs from 6 below the point to 6
    above it, each in a few ways: every result a line can see near its point, the push included."""
    import math

    for value in range(math.floor(point) - 6, math.floor(point) + 7):
        if market == SPREADS:
            for base in (0, 1, 4):
                yield (base + value, base) if value >= 0 else (base, base - value)
        elif value >= 0:
            yield from {(value, 0), (0, value), (value // 2, value - value // 2)}


def axis(market: str, home: int, away: int) -> int:
    return home - away if market == SPREADS else home + away


def settle(inst: Instrument, market: str, point: Decimal, home: int, away: int) -> tuple[Fraction, Fraction]:
    """(winning payout, refunded stake) of one unit of `inst`, from the venues' rules.

    Kalshi's market with YES on `inst.outcome` at `point`: spread HOME = "home wins by more than p",
    AWAY = "away wins by more than −p" (home margin below p); total OVER = "more than p points".
    A sportsbook back of that side at odds 2 (stake 1/2): the bookmaker's rule for a handicap or
    total — a win pays stake × odds, a result exactly on the number refunds the stake.
    """
    value = axis(market, home, away)
    above = value > point
    below = value < point
    if market == SPREADS:
        # the book's own terms: home at handicap h = −p covers when home + h > away
        h = -point
        home_covers, push = home + h > away, home + h == away
        away_covers = away - h > home
        assert (home_covers, away_covers) == (above, below)
    else:
        push = value == point
    yes = above if inst.outcome in (O.HOME, O.OVER) else below
    if inst.kind == YES:
        return Fraction(int(yes)), Fraction(0)
    if inst.kind == NO:
        return Fraction(int(not yes)), Fraction(0)
    stake = Fraction(1, 2)
    return (Fraction(int(yes)), Fraction(0)) if not push else (Fraction(0), stake)


def brute_force_covers(market: str, point: Decimal) -> set[frozenset[Instrument]]:
    sides = line_sides(market)
    instruments = [Instrument(k, s) for s in sides for k in (YES, NO, BOOK)]
    results = list(scores(market, point))
    found = set()
    for n in range(1, len(instruments) + 1):
        for combo in combinations(instruments, n):
            if not any(i.kind != BOOK for i in combo):
                continue
            if all(sum(settle(i, market, point, h, a)[0] for i in combo) == 1 for h, a in results):
                found.add(frozenset(combo))
    return found


# a total has no result below 0, so a total line at 0 or below is not a two-sided bet
@pytest.mark.parametrize(("market", "point"), [(m, p) for m in (SPREADS, TOTALS) for p in POINTS
                                               if m == SPREADS or p >= D("0.5")])
def test_covers_are_exactly_the_brute_force_ones(market, point):
    whole = point == point.to_integral_value()
    derived = {frozenset(c) for c in line_covers(line_sides(market), whole)}
    assert derived == brute_force_covers(market, point)
    assert len(derived) == (4 if whole else 8)


@pytest.mark.parametrize("market", [SPREADS, TOTALS])
def test_pays_in_and_refunds_match_settlement_for_every_result(market):
    sides = line_sides(market)
    for point in (D("3"), D("3.5"), D("222"), D("221.5")):
        whole = point == point.to_integral_value()
        for inst in (Instrument(k, s) for s in sides for k in (YES, NO, BOOK)):
            for home, away in scores(market, point):
                value = axis(market, home, away)
                region = sides[0] if value > point else sides[1] if value < point else O.PUSH
                paid, refund = settle(inst, market, point, home, away)
                assert (region in pays_in(inst, sides, whole)) == (paid == 1), (inst, point, home, away)
                assert (region in refunded_in(inst, whole)) == (refund > 0), (inst, point, home, away)


def test_the_push_decides_which_pairs_cover():
    sides = line_sides(TOTALS)
    half = {frozenset(c) for c in line_covers(sides, False)}
    whole = {frozenset(c) for c in line_covers(sides, True)}
    yes_over_under = frozenset({Instrument(YES, O.OVER), Instrument(BOOK, O.UNDER)})
    no_over_over = frozenset({Instrument(NO, O.OVER), Instrument(BOOK, O.OVER)})
    assert yes_over_under in half and yes_over_under not in whole  # loses all but the refund on a push
    assert no_over_over in half and no_over_over in whole  # NO wins the push, the back is refunded on top
    assert frozenset({Instrument(YES, O.OVER), Instrument(YES, O.UNDER)}) not in whole  # nothing pays the push
    assert line_outcomes(sides, True) == (O.OVER, O.PUSH, O.UNDER) and line_outcomes(sides, False) == (O.OVER, O.UNDER)


def test_line_position_places_both_sides_of_a_book_line_on_one_point():
    assert line_position(SPREADS, "home", D("-3.5")) == (O.HOME, D("3.5"))
    assert line_position(SPREADS, "away", D("3.5")) == (O.AWAY, D("3.5"))
    assert line_position(SPREADS, "home", D("0")) == (O.HOME, D("0")) and str(line_position(SPREADS, "home", D("0"))[1]) == "0"
    assert line_position(TOTALS, "under", D("6")) == (O.UNDER, D("6"))
    with pytest.raises(ValueError, match="not a side of a totals line"):
        line_position(TOTALS, "home", D("6"))
    with pytest.raises(ValueError, match="not a line market"):
        line_position("h2h", "home", D("1"))
    with pytest.raises(ValueError, match="not on a side of the line"):
        pays_in(Instrument(YES, O.DRAW), line_sides(SPREADS), False)

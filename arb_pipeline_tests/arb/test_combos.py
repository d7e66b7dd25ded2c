from arb_pipeline.arb.combos import BOOK, NO, YES, Instrument, covering_combinations
from arb_pipeline.domain import Outcome as O

TWO = (O.HOME, O.AWAY)
THREE = (O.HOME, O.DRAW, O.AWAY)


def _payout(combo, outcomes, winner):
    return sum(1 for inst in combo if winner in inst.pays_in(outcomes))


def test_two_way_covers():
    combos = covering_combinations(TWO)
    assert len(combos) == 8
    as_sets = {frozenset((i.kind, i.outcome) for i in c) for c in combos}
    assert frozenset({(NO, O.HOME), (NO, O.AWAY)}) in as_sets  # NO_home pays in {away}: a valid cover
    assert frozenset({(YES, O.HOME), (BOOK, O.AWAY)}) in as_sets
    assert frozenset({(NO, O.HOME), (BOOK, O.HOME)}) in as_sets
    assert frozenset({(BOOK, O.HOME), (BOOK, O.AWAY)}) not in as_sets  # sportsbook-only: not our product


def test_three_way_covers():
    combos = covering_combinations(THREE)
    assert len(combos) == 13
    as_sets = {frozenset((i.kind, i.outcome) for i in c) for c in combos}
    assert frozenset({(YES, O.HOME), (YES, O.DRAW), (BOOK, O.AWAY)}) in as_sets
    assert frozenset({(NO, O.HOME), (BOOK, O.HOME)}) in as_sets
    assert frozenset({(YES, O.DRAW), (BOOK, O.HOME), (BOOK, O.AWAY)}) in as_sets
    assert frozenset({(NO, O.HOME), (NO, O.AWAY)}) not in as_sets  # pays 2 on draw


def test_every_combo_pays_exactly_one_everywhere_and_has_a_kalshi_leg():
    for outcomes in (TWO, THREE):
        for combo in covering_combinations(outcomes):
            assert any(i.kind != BOOK for i in combo)
            assert all(_payout(combo, outcomes, w) == 1 for w in outcomes)


def test_no_cover_is_missed():
    # brute force over every subset of instruments
    from itertools import combinations
    for outcomes in (TWO, THREE):
        instruments = [Instrument(k, o) for o in outcomes for k in (YES, NO, BOOK)]
        expected = {frozenset(c) for n in range(1, len(instruments) + 1) for c in combinations(instruments, n)
                    if all(_payout(c, outcomes, w) == 1 for w in outcomes) and any(i.kind != BOOK for i in c)}
        assert {frozenset(c) for c in covering_combinations(outcomes)} == expected

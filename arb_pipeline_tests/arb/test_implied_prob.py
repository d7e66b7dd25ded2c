import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from arb_pipeline.arb.implied_prob import (
    METHODS,
    DevigError,
    consensus_fair_probabilities,
    devig,
    overround,
)
from arb_pipeline.arb.odds import InvalidOdds, american_to_decimal, decimal_to_american

MINUS_110 = american_to_decimal(-110)


def test_minus_110_pair():
    for method in METHODS:
        assert devig([MINUS_110, MINUS_110], method) == pytest.approx([0.5, 0.5], abs=1e-12)
    assert overround([MINUS_110, MINUS_110]) == pytest.approx(0.047619047619, abs=1e-10)


def test_longshot_ordering_and_reference_fair_odds():
    odds = [american_to_decimal(900), american_to_decimal(-3000)]
    p = {m: devig(odds, m)[0] for m in METHODS}
    assert p["power"] < p["odds_ratio"] < p["additive"] < p["multiplicative"]
    assert p["shin"] == pytest.approx(p["additive"], abs=1e-12)
    fair_american = {m: decimal_to_american(1 / v) for m, v in p.items()}
    assert round(fair_american["multiplicative"]) == 968
    assert round(fair_american["additive"]) == 1412
    assert round(fair_american["odds_ratio"]) == 1643
    assert round(fair_american["power"]) == 2192


def test_shin_three_way_satisfies_its_own_equation():
    odds = [2.7, 2.3, 4.4]
    p = devig(odds, "shin")
    assert math.fsum(p) == pytest.approx(1.0, abs=1e-12)
    # additive gives the longshot the lowest probability here (§4: the order is not fixed for n ≥ 3)
    assert devig(odds, "additive")[2] < p[2]


def test_booksum_below_one_is_rejected():
    with pytest.raises(DevigError, match="booksum"):
        devig([2.2, 2.1])


def test_additive_negative_raises():
    with pytest.raises(DevigError, match="non-positive"):
        devig([1.2, 3.0, 100.0], "additive")


def test_unknown_method_lists_valid_ones():
    with pytest.raises(ValueError, match="multiplicative, additive, power, shin, odds_ratio"):
        devig([1.9, 1.9], "basic")


@pytest.mark.parametrize("bad", [[1.9], [], [1.0, 3.0], [float("nan"), 2.0], [True, 1.5], "1.9"])
def test_bad_inputs(bad):
    with pytest.raises((DevigError, InvalidOdds)):
        devig(bad)


odds_lists = st.lists(st.floats(min_value=1.02, max_value=40.0), min_size=2, max_size=6)


@given(odds_lists, st.sampled_from(METHODS))
def test_devig_properties(odds, method):
    assume(sum(1 / d for d in odds) >= 1.0)
    try:
        p = devig(odds, method)
    except DevigError as exc:
        assert method == "additive" and "non-positive" in str(exc)
        return
    assert all(0.0 < x < 1.0 for x in p)
    assert math.fsum(p) == pytest.approx(1.0, abs=1e-9)
    for i in range(len(odds)):
        for j in range(len(odds)):
            if odds[i] < odds[j]:
                assert p[i] >= p[j] - 1e-12  # shorter odds never get a lower probability
    r = [1 / d for d in odds]
    assert all(pi <= ri + 1e-12 for pi, ri in zip(p, r, strict=True))  # the bound the screen relies on


def test_consensus_weights_min_books_and_skips():
    lines = {
        "pinnacle": [1.80, 2.10],
        "fanduel": [1.75, 2.15],
        "stale_incomplete": [1.90, None],
        "arb_line": [2.2, 2.2],
    }
    res = consensus_fair_probabilities(lines, "multiplicative", {"pinnacle": 3.0}, min_books=2)
    assert res.ok and res.books_used == ("pinnacle", "fanduel")
    pin, fd = devig([1.80, 2.10]), devig([1.75, 2.15])
    assert res.fair == pytest.approx([(3 * pin[0] + fd[0]) / 4, (3 * pin[1] + fd[1]) / 4])
    assert set(res.skipped) == {"stale_incomplete", "arb_line"}
    assert res.booksums["pinnacle"] == pytest.approx(1 / 1.8 + 1 / 2.1)
    short = consensus_fair_probabilities(lines, min_books=3)
    assert short.fair is None and "only 2 complete" in short.insufficient


def test_consensus_bad_weights_and_params():
    with pytest.raises(ValueError, match="weight"):
        consensus_fair_probabilities({"a": [1.9, 1.9]}, weights={"a": -1.0})
    with pytest.raises(ValueError, match="min_books"):
        consensus_fair_probabilities({"a": [1.9, 1.9]}, min_books=0)
    with pytest.raises(ValueError, match="outcome counts"):
        consensus_fair_probabilities({"a": [1.9, 1.9], "b": [2.5, 3.5, 3.0]})

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.odds import (
    InvalidOdds,
    american_to_decimal,
    american_to_decimal_exact,
    decimal_to_american,
    fractional_to_decimal,
    implied_probability,
    parse_decimal_odds,
)


def test_worked_examples():
    assert american_to_decimal_exact(-110) == Decimal("1.909090909090909090909090909")
    assert american_to_decimal_exact("+150") == Decimal("2.5")
    assert american_to_decimal(-110) == pytest.approx(1.9090909090909)
    assert american_to_decimal(150) == 2.5
    assert american_to_decimal_exact(100) == american_to_decimal_exact(-100) == Decimal(2)
    assert decimal_to_american(2.0) == 100.0
    assert decimal_to_american(2.5) == 150.0
    assert decimal_to_american(1.91) == pytest.approx(-109.89, abs=0.01)
    assert fractional_to_decimal("5/2") == 3.5
    assert fractional_to_decimal(" 10 / 11 ") == pytest.approx(1.909090909)
    assert implied_probability(2.5) == 0.4


def test_exact_negative_american_is_rounded_down_never_overstating_payouts():
    exact = Fraction(american_to_decimal_exact(-110))
    assert exact < Fraction(21, 11)
    assert Fraction(21, 11) - exact < Fraction(1, 10**26)


def test_parse_decimal_odds_avoids_float_artifacts():
    assert parse_decimal_odds(1.91) == Decimal("1.91")
    assert parse_decimal_odds("2.05") == Decimal("2.05")
    assert parse_decimal_odds(3) == Decimal(3)


@pytest.mark.parametrize("bad", [0, 50, -99, 99.5, "-50", "abc", "1-10", float("nan"), float("inf"), True, None])
def test_invalid_american(bad):
    with pytest.raises(InvalidOdds, match=repr(bad).strip("'")[:3] if bad is not None else "None"):
        american_to_decimal_exact(bad)


@pytest.mark.parametrize("bad", [1.0, 0.5, -2, "1", "abc", "", float("nan"), float("inf"), True, None, "1e5"])
def test_invalid_decimal(bad):
    with pytest.raises(InvalidOdds):
        parse_decimal_odds(bad)


@pytest.mark.parametrize("bad", [1.0, 0.9, float("nan"), float("inf"), True, "2.0"])
def test_invalid_decimal_float_functions(bad):
    with pytest.raises(InvalidOdds):
        decimal_to_american(bad)
    with pytest.raises(InvalidOdds):
        implied_probability(bad)


@pytest.mark.parametrize("bad", ["5-2", "0/1", "5/0", "a/b", "5/2/1", "", 2.5, "-5/2"])
def test_invalid_fractional(bad):
    with pytest.raises(InvalidOdds, match="fractional"):
        fractional_to_decimal(bad)


@given(st.integers(min_value=100, max_value=100_000) | st.integers(min_value=-100_000, max_value=-100))
def test_american_round_trip(a):
    back = decimal_to_american(american_to_decimal(a))
    expected = 100 if a == -100 else a
    assert back == pytest.approx(expected, rel=1e-9)


@given(st.decimals(min_value=Decimal("1.01"), max_value=Decimal("1000"), places=2))
def test_implied_probability_in_unit_interval(d):
    assert 0.0 < implied_probability(float(d)) < 1.0
    assert parse_decimal_odds(str(d)) == d

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.odds import InvalidOdds
from arb_pipeline.arb.sizing import (
    SizingPolicy,
    equal_payout_stakes,
    fractional_kelly,
    kelly_binary,
    largest_fitting,
)

D = Decimal


def test_equal_payout_stakes():
    stakes = equal_payout_stakes([2.5, 1.8], 100.0)
    assert stakes[0] * 2.5 == pytest.approx(stakes[1] * 1.8)
    assert sum(stakes) == pytest.approx(100.0)
    with pytest.raises(InvalidOdds):
        equal_payout_stakes([1.0, 2.0], 10.0)
    with pytest.raises(ValueError, match="total"):
        equal_payout_stakes([2.0, 2.0], 0.0)


def test_kelly_binary():
    # a binary at all-in cost c is the same bet as decimal odds d = 1/c: f* = (p·d − 1)/(d − 1)
    d = 1 / 0.52
    assert kelly_binary(0.6, D("0.50"), D("0.02")) == pytest.approx((0.6 - 0.52) / 0.48)
    assert kelly_binary(0.6, D("0.50"), D("0.02")) == pytest.approx((0.6 * d - 1) / (d - 1))
    assert kelly_binary(0.4, D("0.50"), D("0.02")) == 0.0  # no edge → no bet
    assert fractional_kelly(0.2, 0.25) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="probability"):
        kelly_binary(1.5, D("0.50"), D("0.02"))
    with pytest.raises(ValueError, match="all-in cost"):
        kelly_binary(0.5, D("0.99"), D("0.02"))
    with pytest.raises(ValueError, match="multiplier"):
        fractional_kelly(0.2, 0.0)


def test_policy_caps_and_validation():
    policy = SizingPolicy(bankroll=D(10000), bankroll_fraction=D("0.05"), max_per_event=D(300),
                          max_total_exposure=D(1000), current_exposure=D(900))
    assert policy.max_outlay() == D(100)
    assert SizingPolicy().max_outlay() == D(200)
    with pytest.raises(ValueError, match="bankroll"):
        SizingPolicy(bankroll=D(0))
    with pytest.raises(ValueError, match="max_per_market"):
        SizingPolicy(max_per_market=100)  # not a Decimal
    with pytest.raises(ValueError, match="kelly_multiplier"):
        SizingPolicy(kelly_multiplier=2.0)


@given(st.integers(0, 5000), st.integers(0, 5000), st.none() | st.integers(0, 6000), st.booleans())
def test_largest_finds_the_boundary_from_any_guess(limit, cap, guess, cents):
    step = D("0.01") if cents else D(1)
    calls = []

    def fits(c):
        calls.append(c)
        return c <= D(limit) / 7

    got = largest_fitting(D(cap), step, fits, None if guess is None else D(guess))
    expected = min((D(limit) / 7 / step).to_integral_value(rounding="ROUND_FLOOR") * step,
                   (D(cap) / step).to_integral_value(rounding="ROUND_FLOOR") * step)
    assert got == max(expected, D(0))
    assert all(c > 0 for c in calls)  # never prices a zero-size order

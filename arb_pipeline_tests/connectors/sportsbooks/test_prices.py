"""Exact odds: American → decimal, JSON numbers → Decimal, whole-response format detection."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.odds import american_to_decimal_exact as american_to_decimal
from arb_pipeline.connectors.sportsbooks.prices import (
    detect_odds_format,
    json_number,
    to_decimal_odds,
)


def test_reference_vectors():
    assert american_to_decimal(150) == Decimal("2.5")
    assert american_to_decimal(-110) == Decimal("1.909090909090909090909090909")
    assert american_to_decimal(100) == american_to_decimal(-100) == Decimal(2)
    assert american_to_decimal(-250) == Decimal("1.4")


@given(st.integers(min_value=100, max_value=100_000), st.booleans())
def test_conversion_is_exact_to_28_digits_and_never_overstates(magnitude, negative):
    american = -magnitude if negative else magnitude
    exact = 1 + (Fraction(american, 100) if american > 0 else Fraction(100, magnitude))
    got = Fraction(american_to_decimal(american))
    assert got <= exact and exact - got < Fraction(1, 10**26)


@pytest.mark.parametrize("bad", [99, -99, 0, 1, True])
def test_invalid_american_is_rejected(bad):
    with pytest.raises(ValueError):
        american_to_decimal(bad)


@pytest.mark.parametrize("bad", [99, -99, 0, True, "150", 110.5])
def test_invalid_american_wire_price_is_rejected(bad):
    """On the wire an American price is a JSON integer (a whole float such as -110.0 is accepted)."""
    with pytest.raises(ValueError):
        to_decimal_odds(bad, "american")


def test_to_decimal_odds():
    assert to_decimal_odds(-110, "american") == (american_to_decimal(-110), -110)
    assert to_decimal_odds(Decimal("-110.0"), "american")[1] == -110  # Pinnacle-style -110.0
    assert to_decimal_odds(Decimal("1.91"), "decimal") == (Decimal("1.91"), None)
    with pytest.raises(ValueError, match="greater than 1"):
        to_decimal_odds(Decimal("0.95"), "decimal")


@pytest.mark.parametrize(("price", "fmt"), [(Decimal("1e28"), "decimal"), (10**30, "decimal"), (1e300, "decimal"),
                                            (Decimal("10000.01"), "decimal"), (10**31, "american"),
                                            (-1_000_000, "american")])
def test_implausible_odds_are_refused_before_they_become_payouts(price, fmt):
    """Odds of 1e28 and up used to reach `floor_to(stake * odds)` and die in decimal.InvalidOperation."""
    with pytest.raises(ValueError, match="implausible"):
        to_decimal_odds(price, fmt)
    assert to_decimal_odds(Decimal("1001"), "decimal")[0] == Decimal("1001")  # an exchange's longest price
    assert to_decimal_odds(100_000, "american")[0] == Decimal("1001")


def test_json_number_refuses_non_numbers_and_non_finite():
    assert json_number(2.05) == Decimal("2.05")
    for bad in ("2.5", None, False, Decimal("NaN"), float("inf")):
        with pytest.raises(ValueError):
            json_number(bad)


@pytest.mark.parametrize(("prices", "expected"), [
    ([-110, 150], "american"),
    ([150, 200], "american"),  # only American can have every price an integer >= 100
    ([Decimal("1.91"), Decimal("2.5")], "decimal"),
    ([2, 3], "decimal"),  # an integer decimal price, as some encoders write 2.0
    ([Decimal("1.5"), 101], "decimal"),  # a long shot at 101.0 stays decimal
    ([-110, 150, -120, 50], "american"),  # one malformed price does not flip an American response
    ([Decimal("1.91"), Decimal("2.1"), -3], "decimal"),  # nor a stray negative a decimal one
    (["junk", None], None),
    ([], None),
])
def test_detect_odds_format(prices, expected):
    assert detect_odds_format(prices) == expected


def test_detect_refuses_a_tie():
    with pytest.raises(ValueError, match="ambiguous: 1 price.* cannot be American and 1 cannot be decimal"):
        detect_odds_format([-110, Decimal("2.5")])

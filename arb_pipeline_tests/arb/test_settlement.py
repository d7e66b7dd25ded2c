from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.settlement import decides_winner, parse_result, position_payout, scalar_value

D = Decimal
contracts = st.integers(min_value=-10_000, max_value=10_000).map(D)
values = st.integers(min_value=1, max_value=9_999).map(lambda n: D(n) / 10_000)


@pytest.mark.parametrize(("text", "expected"), [("yes", "yes"), (" NO ", "no"), ("void", "void"),
                                                ("0.4300", "0.43"), ("1", "yes"), ("0.0", "no"), ("0.123456", "0.123456")])
def test_results_are_written_one_way(text, expected):
    assert parse_result(text) == expected


@pytest.mark.parametrize("text", ["maybe", "1.01", "-0.2", "", "nan", "scalar", "0.1234567", "1e-9"])
def test_a_result_that_is_not_one_is_a_clear_error_naming_where(text):
    with pytest.raises(ValueError, match="KXT: result"):
        parse_result(text, "KXT: result")


def test_whole_results_pay_a_dollar_to_the_winning_side_only():
    assert position_payout("yes", D(10), D("4.20")) == D(10)
    assert position_payout("no", D(10), D("4.20")) == 0
    assert position_payout("no", D(-7), D("3.00")) == D(7)
    assert position_payout("yes", D(0), D("0.50")) == 0  # netted flat: nothing left to pay


def test_a_void_refunds_what_the_position_cost():
    assert position_payout("void", D(-7), D("3.17")) == D("3.17")
    assert not decides_winner("void") and not decides_winner("0.43") and decides_winner("yes")


@given(contracts, values)
def test_a_scalar_pays_its_value_per_yes_and_the_rest_per_no_never_more_than_owed(count, value):
    result = parse_result(str(value))
    assert scalar_value(result) == value
    paid = position_payout(result, count, D(0))
    owed = abs(count) * (value if count > 0 else 1 - value)
    assert paid <= owed < paid + D("0.01")  # rounded down to the cent, never up
    assert paid == paid.quantize(D("0.01"))
    # a YES and a NO position of the same size together are owed exactly $1 a pair
    both = position_payout(result, abs(count), D(0)) + position_payout(result, -abs(count), D(0))
    assert abs(count) - D("0.02") < both <= abs(count)

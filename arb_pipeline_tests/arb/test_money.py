from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.money import CENT, ceil_to, decimal_text, floor_to, to_decimal


def test_float_goes_through_str_not_binary_expansion():
    assert to_decimal(0.1, "x") == Decimal("0.1")
    assert to_decimal("0.5600", "x") == Decimal("0.5600")


@pytest.mark.parametrize("bad", [True, None, float("nan"), float("inf"), "abc", "NaN", [1]])
def test_bad_values_name_the_field(bad):
    with pytest.raises(ValueError, match="price"):
        to_decimal(bad, "price")


def test_directed_rounding():
    assert ceil_to(Decimal("1.7501"), CENT) == Decimal("1.76")
    assert ceil_to(Decimal("1.75"), CENT) == Decimal("1.75")
    assert floor_to(Decimal("1.759"), CENT) == Decimal("1.75")


def test_rounding_beyond_28_digits_is_a_clear_error_not_invalid_operation():
    with pytest.raises(ValueError, match="beyond 28 significant digits"):
        floor_to(Decimal("1e30") * Decimal("11.11"), CENT)
    with pytest.raises(ValueError, match="beyond 28 significant digits"):
        ceil_to(Decimal("1e28"), CENT)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12, places=8))
def test_decimal_text_is_exact_and_canonical(value):
    text = decimal_text(value)
    assert Decimal(text) == value  # exact: nothing rounded
    assert "e" not in text.lower() and (text == "0" or not text.endswith(("0", ".")) or "." not in text)
    assert decimal_text(Decimal(text)) == text  # one spelling per amount


@pytest.mark.parametrize(("value", "text"), [("150.00", "150"), ("0.240000", "0.24"), ("6.6063", "6.6063"),
                                              ("-0.000", "0"), ("1E+2", "100"), ("100", "100")])
def test_decimal_text_examples(value, text):
    assert decimal_text(Decimal(value)) == text

from decimal import Decimal

import pytest

from arb_pipeline.arb.money import CENT, ceil_to, floor_to, to_decimal


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

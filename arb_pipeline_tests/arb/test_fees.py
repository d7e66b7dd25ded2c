from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.fees import UnsupportedFeeType, kalshi_fee, kalshi_order_fee

D = Decimal


@pytest.mark.parametrize(
    ("contracts", "price", "fee"),
    [
        (1, "0.50", "0.02"),
        (10, "0.50", "0.18"),
        (100, "0.50", "1.75"),  # float: 1.7500000000000002 → a naive ceil gives 1.76
        (100, "0.90", "0.63"),
        (100, "0.10", "0.63"),  # float trap: 0.64
        (100, "0.70", "1.47"),  # float trap: 1.48
    ],
)
def test_taker_worked_examples(contracts, price, fee):
    assert kalshi_fee(contracts, D(price)) == D(fee)


def test_maker_and_fee_types():
    assert kalshi_fee(100, D("0.50"), maker=True) == D("0.44")
    assert kalshi_fee(100, D("0.50"), maker=True, fee_type="quadratic_with_combo_maker_fees") == D("0.88")
    assert kalshi_fee(100, D("0.50"), maker=True, fee_type="quadratic") == D("0")
    assert kalshi_fee(100, D("0.50"), fee_type="quadratic") == D("1.75")
    assert kalshi_fee(100, D("0.50"), fee_multiplier=D("0.5")) == D("0.88")


def test_sub_penny_rounds_to_ten_thousandth():
    assert kalshi_fee(1, D("0.50"), sub_penny=True) == D("0.0175")
    assert kalshi_fee(3, D("0.33"), sub_penny=True) == D("0.0465")  # 0.046431 rounded up


def test_flat_is_refused_not_guessed():
    with pytest.raises(UnsupportedFeeType, match="flat"):
        kalshi_fee(1, D("0.5"), fee_type="flat")
    with pytest.raises(ValueError, match="unknown Kalshi fee_type 'weird'"):
        kalshi_fee(1, D("0.5"), fee_type="weird")


@pytest.mark.parametrize(("contracts", "price", "match"), [
    (0, "0.5", "contracts must be > 0"),
    (-5, "0.5", "contracts must be > 0"),
    (D("1.005"), "0.5", "multiple of 0.01"),
    (1, "0", "between 0 and 1"),
    (1, "1", "between 0 and 1"),
    (1, "-0.2", "between 0 and 1"),
    (1, "abc", "price"),
    (True, "0.5", "contracts"),
])
def test_bad_inputs(contracts, price, match):
    with pytest.raises(ValueError, match=match):
        kalshi_fee(contracts, price)


def test_fractional_contracts_allowed():
    assert kalshi_fee(D("0.01"), D("0.50")) == D("0.01")
    assert kalshi_fee(D("2.50"), D("0.50")) == D("0.05")


def test_order_fee_rounds_once_per_order():
    # two levels: 0.0175 + 0.0168 = 0.0343 → 0.04 for one order (two separate fills would be 0.04 too,
    # while 10 one-contract fills at 0.50 would cost 0.20 against 0.18 for one 10-contract fill)
    assert kalshi_order_fee([(D(1), D("0.50")), (D(1), D("0.40"))]) == D("0.04")
    assert kalshi_order_fee([(D(1), D("0.50"))] * 10) == D("0.18")


prices = st.integers(min_value=1, max_value=99).map(lambda c: Decimal(c) / 100)
counts = st.integers(min_value=1, max_value=100_000).map(lambda c: Decimal(c) / 100)


@given(counts, counts, prices)
def test_fee_monotone_in_contracts(a, b, p):
    lo, hi = min(a, b), max(a, b)
    assert kalshi_fee(lo, p) <= kalshi_fee(hi, p)


@given(counts, prices)
def test_fee_symmetric_and_rounded_up(c, p):
    fee = kalshi_fee(c, p)
    assert fee == kalshi_fee(c, 1 - p)
    raw = D("0.07") * c * p * (1 - p)
    assert raw <= fee < raw + D("0.01")
    assert fee == fee.quantize(D("0.01"))

"""Exchange commission: the worked examples of the issue and properties of the one formula."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.commission import (
    CommissionError,
    book_net_payout,
    commission_for,
    commission_rate,
    effective_decimal_odds,
    parse_commission_setting,
)

D = Decimal


@pytest.mark.parametrize(
    ("rate", "payout", "commission"),
    [
        (D("0.02"), D("198.00"), D("2.00")),  # 100 at 2.00 wins 100, 2 % of it is 2.00
        (D("0.05"), D("195.00"), D("5.00")),
        (D("0"), D("200.00"), D("0")),
    ],
)
def test_a_betfair_back_pays_net_of_commission_on_winnings(rate, payout, commission):
    assert commission_for(D("100"), D("2.00"), rate) == commission
    assert book_net_payout(D("100"), D("2.00"), rate) == payout
    assert effective_decimal_odds(D("2.00"), rate) * D("100") == payout


def test_commission_rounds_up_and_gross_rounds_down_to_the_cent():
    # 33.33 at 2.07: gross 68.9931 -> 68.99; winnings 35.6631 * 5 % = 1.783155 -> 1.79
    assert commission_for(D("33.33"), D("2.07"), D("0.05")) == D("1.79")
    assert book_net_payout(D("33.33"), D("2.07"), D("0.05")) == D("67.20")


def test_the_setting_overrides_defaults_and_unknown_books_pay_nothing():
    rates = parse_commission_setting("betfair_ex_eu:0.02, smarkets:0")
    assert rates["betfair_ex_eu"] == D("0.02")
    assert rates["smarkets"] == D("0")
    assert rates["matchbook"] == D("0.02")  # default kept
    assert commission_rate("draftkings", rates) == D("0")
    assert commission_rate("betfair_ex_uk") == D("0.05")


@pytest.mark.parametrize("text", ["betfair_ex_eu", "betfair_ex_eu:", ":0.02", "x:1", "x:-0.01", "x:abc", "x:nan"])
def test_a_bad_commission_setting_is_refused_naming_the_item(text):
    with pytest.raises(CommissionError) as info:
        parse_commission_setting(text)
    assert "ARB_BOOK_COMMISSION" in str(info.value) or "commission for book" in str(info.value)


@given(
    stake=st.decimals(min_value="0.01", max_value="10000", places=2),
    odds=st.decimals(min_value="1.01", max_value="1000", places=2),
    rate=st.decimals(min_value="0", max_value="0.2", places=3),
)
def test_net_payout_is_between_the_stake_and_the_gross_and_never_above_the_exact_value(stake, odds, rate):
    payout = book_net_payout(stake, odds, rate)
    exact = stake * effective_decimal_odds(odds, rate)
    assert stake - D("0.01") <= payout <= stake * odds
    assert payout <= exact
    assert exact - payout < D("0.02")

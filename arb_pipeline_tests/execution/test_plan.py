from decimal import Decimal

import pytest

from arb_pipeline.domain import ContractSide, Outcome
from arb_pipeline.execution.plan import plan_opportunity
from arb_pipeline_tests.execution.factories import TICKER, book_leg, kalshi_leg, opportunity

D = Decimal


def test_plan_takes_the_worst_walked_level_as_limit():
    plan = plan_opportunity(opportunity())
    (leg,) = plan.kalshi_legs
    assert (leg.ticker, leg.side, leg.count, leg.limit_price, leg.expected_cost) == (
        TICKER, ContractSide.YES, D("25"), D("0.46"), D("11.84"))
    (book,) = plan.book_legs
    assert (book.bookmaker, book.odds, book.stake, book.pays_in) == ("pinnacle", D("2.25"), D("11.11"), {"away"})
    assert plan.outcomes == {"home", "away"}


def test_plan_refuses_opportunities_without_a_kalshi_leg_or_with_bad_legs():
    with pytest.raises(ValueError, match="no Kalshi leg"):
        plan_opportunity(opportunity(legs=(book_leg(), book_leg(outcome=Outcome.HOME))))
    with pytest.raises(ValueError, match="bad odds"):
        plan_opportunity(opportunity(legs=(kalshi_leg(), book_leg(odds=D("1")))))
    with pytest.raises(ValueError, match="not a valid Kalshi price"):
        plan_opportunity(opportunity(legs=(kalshi_leg(levels=((D("0.455555"), D("25")),)), book_leg())))

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Fill, Order
from arb_pipeline.storage.values import to_money

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def _order(**overrides):
    values = dict(client_order_id="c-1", opportunity_id="o-1", leg_index=0, mode="paper", ticker="T",
                  book_side="bid", outcome_side="yes", count=Decimal("10"), limit_price=Decimal("0.55"),
                  status="intent", created_at=NOW, updated_at=NOW)
    values.update(overrides)
    return Order(**values)


@pytest.mark.parametrize("value", ["0.000001", "123456789012.999999", "-999999999999.999999", "0.1", "0", "17"])
def test_money_round_trips_exactly(session_factory, value):
    with session_scope(session_factory) as s:
        s.add(_order(fees=Decimal(value)))
    with session_scope(session_factory) as s:
        got = s.scalars(select(Order.fees)).one()
    assert isinstance(got, Decimal) and got == Decimal(value)


def test_many_cents_sum_exactly(session_factory):
    """0.1 + 0.2 is 0.3 in Decimal but not in float: a float column would fail this."""
    with session_scope(session_factory) as s:
        order = _order()
        s.add(order)
        s.flush()
        for i in range(10):
            s.add(Fill(order_id=order.id, ticker="T", outcome_side="yes", count=Decimal("1"),
                       price=Decimal("0.1") if i % 2 else Decimal("0.2"), fee=Decimal("0.01"), filled_at=NOW))
    with session_scope(session_factory) as s:
        prices = s.scalars(select(Fill.price)).all()
    assert sum(prices, Decimal(0)) == Decimal("1.5")


@given(st.decimals(min_value=Decimal("-999999999999.999999"), max_value=Decimal("999999999999.999999"), places=6,
                   allow_nan=False, allow_infinity=False))
def test_to_money_accepts_every_6_decimal_value(value):
    assert to_money(value) == value


@pytest.mark.parametrize("bad", [0.1, True, "abc", Decimal("0.0000001"), Decimal("1e12"), Decimal("NaN")])
def test_to_money_refuses_floats_excess_precision_and_overflow(bad):
    with pytest.raises(ValueError):
        to_money(bad)


def test_naive_datetime_is_refused_and_aware_comes_back_utc(session_factory):
    with pytest.raises(Exception, match="naive"):
        with session_scope(session_factory) as s:
            s.add(_order(created_at=datetime(2026, 1, 1)))
    plus2 = timezone(timedelta(hours=2))
    with session_scope(session_factory) as s:
        s.add(_order(created_at=datetime(2026, 1, 1, 12, tzinfo=plus2)))
    with session_scope(session_factory) as s:
        got = s.scalars(select(Order.created_at)).one()
    assert got == datetime(2026, 1, 1, 10, tzinfo=UTC) and got.utcoffset() == timedelta(0)

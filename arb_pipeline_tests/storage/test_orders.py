from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.storage.db import create_app_engine, session_scope
from arb_pipeline.storage.db import session_factory as make_sessions
from arb_pipeline.storage.repositories import OrderIntent, OrderRepository
from arb_pipeline.storage.repositories.orders import OrderConflict

D = Decimal
T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
INTENT = OrderIntent("coid-1", "opp-1", 0, "paper", "KX-NYK", "ask", D("10"), D("0.60"))


def test_intent_is_idempotent_and_conflicting_terms_are_refused(session_factory):
    with session_scope(session_factory) as s:
        row, created = OrderRepository(s).record_intent(INTENT, at=T0)
        assert created and (row.status, row.outcome_side) == ("intent", "no")
    with session_scope(session_factory) as s:
        row, created = OrderRepository(s).record_intent(INTENT, at=T0)
        assert not created and row.client_order_id == "coid-1"
        with pytest.raises(OrderConflict):
            OrderRepository(s).record_intent(OrderIntent("coid-1", "opp-1", 0, "paper", "KX-NYK", "ask", D(11), D("0.6")),
                                             at=T0)


@pytest.mark.parametrize("kw", [{"book_side": "buy"}, {"mode": "demo"}, {"count": D(0)}, {"limit_price": D(1)}])
def test_bad_intents_are_refused(kw):
    args = dict(client_order_id="c", opportunity_id="o", leg_index=0, mode="paper", ticker="T", book_side="bid",
                count=D(1), limit_price=D("0.5"))
    args.update(kw)
    with pytest.raises(ValueError):
        OrderIntent(**args)


def test_only_one_claim_wins_across_processes(session_factory, db_url):
    with session_scope(session_factory) as s:
        OrderRepository(s).record_intent(INTENT, at=T0)
    engines = [create_app_engine(db_url) for _ in range(4)]

    def claim(engine):
        with session_scope(make_sessions(engine)) as s:
            return OrderRepository(s).claim_for_send("coid-1", T0)

    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(claim, engines))
    finally:
        for e in engines:
            e.dispose()
    assert sorted(results) == [False, False, False, True]
    with session_scope(session_factory) as s:
        row = OrderRepository(s).require("coid-1")
        assert (row.status, row.sent_at) == ("sent", T0)


def test_fill_accounting_must_add_up_and_final_states_are_final(session_factory):
    with session_scope(session_factory) as s:
        repo = OrderRepository(s)
        repo.record_intent(INTENT, at=T0)
        with pytest.raises(ValueError, match="only a sent order"):
            repo.mark_filled("coid-1", fill_count=D(10), average_fill_price=D("0.4"), fees=D(0), at=T0)
        repo.claim_for_send("coid-1", T0)
        with pytest.raises(ValueError, match="11 filled of 10"):
            repo.mark_filled("coid-1", fill_count=D(11), average_fill_price=D("0.4"), fees=D(0), at=T0)
        row = repo.mark_filled("coid-1", fill_count=D(4), average_fill_price=D("0.4"), fees=D("0.07"), at=T0)
        assert (row.status, row.fill_count, row.remaining_count) == ("partially_filled", D(4), D(6))
        with pytest.raises(ValueError, match="already final"):
            repo.mark_failed("coid-1", "late error", at=T0)


def test_an_ioc_that_filled_nothing_is_recorded_unfilled(session_factory):
    """Kalshi answers an IOC that found no liquidity with fill 0 and remaining 0 (the rest is cancelled):
    a normal outcome, recorded as unfilled - it used to raise 'fill 0 + remaining 0 != count'."""
    with session_scope(session_factory) as s:
        repo = OrderRepository(s)
        repo.record_intent(INTENT, at=T0)
        repo.claim_for_send("coid-1", T0)
        row = repo.mark_filled("coid-1", fill_count=D(0), average_fill_price=None, fees=D(0), at=T0)
        assert (row.status, row.fill_count, row.remaining_count, row.fill_notional) == ("unfilled", D(0), D(10), D(0))

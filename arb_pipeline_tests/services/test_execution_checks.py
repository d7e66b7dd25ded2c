"""All legs or none (Money rule 8): every refusal is found for every leg before the first order leaves.

Each test builds a two-Kalshi-leg arbitrage whose *second* leg is the one refused. Leg by leg (the
old behaviour) the first leg went and was left naked; here nothing at all may be sent.
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from arb_pipeline.domain import OrderBookLevels
from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.execution.live import LiveExecutor
from arb_pipeline.execution.paper import PaperExecutor
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Order
from arb_pipeline.storage.repositories import OrderIntent, OrderRepository
from arb_pipeline_tests.execution.factories import (
    DRAW_TICKER,
    T0,
    FakeKalshi,
    three_way_opportunity,
    three_way_snapshot,
)
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

D = Decimal
NOW = T0 + timedelta(seconds=2)
PAPER = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=NOW)
LIVE_ENV = dict(ARB_MODE="live", KALSHI_API_KEY_ID="key-id", KALSHI_PRIVATE_KEY_PEM="-----BEGIN PRIVATE KEY-----")


@pytest.fixture
def alerts():
    return []


@pytest.fixture
def breaker(session_factory, alerts):
    return CircuitBreaker(session_factory, BreakerConfig(cooldown_s=300), alert=lambda *a: alerts.append(a),
                          clock=lambda: NOW)


def run(session_factory, breaker, alerts, *, snapshot=None, context=PAPER, executor=None, **env):
    snapshot = snapshot or three_way_snapshot()
    settings = Settings(_env_file=None, **env)
    return execute_opportunities([three_way_opportunity()], context=context, sessions=session_factory,
                                 breaker=breaker, settings=settings, alert=lambda *a: alerts.append(a),
                                 snapshot=snapshot, executor=executor or PaperExecutor.from_snapshot(snapshot),
                                 clock=lambda: NOW)


def orders(session_factory) -> int:
    with session_scope(session_factory) as s:
        return s.scalar(select(func.count()).select_from(Order))


def assert_nothing_sent(report, session_factory, why: str) -> None:
    assert report.orders_sent == 0 and [o.leg_index for o in report.orders] == [0, 1]
    assert all(o.status == "not_sent" and why in o.reason for o in report.orders), report.orders
    assert orders(session_factory) == 0  # not even an intent: nothing is left to reconcile
    assert report.hedges == [] and report.one_legged == []


def test_the_whole_arbitrage_goes_when_every_leg_passes(session_factory, breaker, alerts):
    report = run(session_factory, breaker, alerts)
    assert [(o.leg_index, o.status, o.fill_count) for o in report.orders] == [(0, "filled", D(25)),
                                                                             (1, "filled", D(25))]
    assert [h.status for h in report.hedges] == ["pending"] and report.one_legged == []


def test_a_cooldown_on_the_second_leg_refuses_the_first_too(session_factory, breaker, alerts):
    with session_scope(session_factory) as s:  # the draw market was traded a minute ago by another opportunity
        repo = OrderRepository(s)
        repo.record_intent(OrderIntent("earlier", "other-opp", 0, "paper", DRAW_TICKER, "bid", D(5), D("0.20")),
                           at=T0 - timedelta(seconds=60))
        repo.claim_for_send("earlier", T0 - timedelta(seconds=60))
        repo.mark_filled("earlier", fill_count=D(5), average_fill_price=D("0.20"), fees=D("0.06"),
                         at=T0 - timedelta(seconds=60))
    report = run(session_factory, breaker, alerts)
    assert report.orders_sent == 0 and all("re-entry cooldown: leg 1" in o.reason for o in report.orders)
    assert orders(session_factory) == 1  # only the earlier one


def test_a_closed_second_market_refuses_the_first_too(session_factory, breaker, alerts):
    report = run(session_factory, breaker, alerts, snapshot=three_way_snapshot(draw_status="closed"))
    assert_nothing_sent(report, session_factory, "leg 1: market KXEPLGAME-26NOV24CFCWHU-TIE status is 'closed'")


def test_a_paused_exchange_refuses_every_leg(session_factory, breaker, alerts):
    snapshot = replace(three_way_snapshot(), exchange=replace(three_way_snapshot().exchange, trading_active=False))
    assert_nothing_sent(run(session_factory, breaker, alerts, snapshot=snapshot), session_factory, "not trading")


def test_exposure_counts_the_sum_of_all_legs(session_factory, breaker, alerts):
    # leg 0 alone (11.84) fits under 15; both legs (11.84 + 5.28 = 17.12) do not
    report = run(session_factory, breaker, alerts, ARB_BREAKER_MAX_OPEN_EXPOSURE="15")
    assert_nothing_sent(report, session_factory, "cost 17.12: would raise open exposure to 17.12 over 15")


def test_a_second_leg_priced_past_its_planned_worst_price_refuses_both(session_factory, breaker, alerts):
    thin = OrderBookLevels(DRAW_TICKER, yes=(), no=((D("0.80"), D("10")), (D("0.78"), D("40"))))  # 10 at 0.20
    report = run(session_factory, breaker, alerts, snapshot=three_way_snapshot(draw_book=thin))
    assert_nothing_sent(report, session_factory, "leg 1: KXEPLGAME-26NOV24CFCWHU-TIE yes offers 10 at 0.20")


def test_live_balance_counts_the_sum_of_all_legs(session_factory, breaker, alerts):
    venue = FakeKalshi(balance=D("15"))  # enough for leg 0, not for both
    executor = LiveExecutor(venue, Settings(_env_file=None, **LIVE_ENV), sleep=lambda _s: None)
    report = run(session_factory, breaker, alerts, context=replace(PAPER, mode="live"), executor=executor,
                 **LIVE_ENV)
    assert_nothing_sent(report, session_factory, "cost 17.12; the account has 15 available")
    assert venue.create_calls == {}


def test_a_half_open_breaker_probe_is_one_order_not_an_arbitrage(session_factory, breaker, alerts):
    breaker.record_order_result(False, "x")
    breaker.record_order_result(False, "x")
    breaker.record_order_result(False, "x")
    breaker.clock = lambda: NOW + timedelta(seconds=301)  # cooled down: the next check goes half-open
    report = run(session_factory, breaker, alerts)
    assert_nothing_sent(report, session_factory, "the probe is one order and this arbitrage needs 2")
    status = breaker.status()
    assert status.state is BreakerState.HALF_OPEN  # the probe was handed back, unused
    with session_scope(session_factory) as s:
        from arb_pipeline.storage.models import BreakerStateRow

        assert s.scalars(select(BreakerStateRow.probe_started_at)).one() is None


def test_a_stale_opportunity_refuses_every_leg(session_factory, breaker, alerts):
    later = replace(PAPER, as_of=NOW + timedelta(seconds=30))
    snapshot = three_way_snapshot()
    report = execute_opportunities([three_way_opportunity()], context=later, sessions=session_factory,
                                   breaker=breaker, settings=Settings(_env_file=None), snapshot=snapshot,
                                   alert=lambda *a: alerts.append(a), executor=PaperExecutor.from_snapshot(snapshot),
                                   clock=lambda: NOW + timedelta(seconds=30))
    assert_nothing_sent(report, session_factory, "stale: detected 32.0s before now, TTL 20s")


def test_a_check_that_cannot_be_made_refuses_instead_of_failing_the_step(session_factory, breaker, alerts):
    from arb_pipeline.connectors.kalshi.errors import KalshiServerError

    class BookDown(FakeKalshi):
        def get_orderbook(self, ticker, depth=0):
            raise KalshiServerError("503 on GET /markets/{ticker}/orderbook", status=503)

    venue = BookDown()
    executor = LiveExecutor(venue, Settings(_env_file=None, **LIVE_ENV), sleep=lambda _s: None)
    report = run(session_factory, breaker, alerts, context=replace(PAPER, mode="live"), executor=executor,
                 **LIVE_ENV)
    assert_nothing_sent(report, session_factory, "a pre-send check could not be made (KalshiServerError")
    assert venue.create_calls == {}

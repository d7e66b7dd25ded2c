from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from arb_pipeline.connectors.kalshi.errors import KalshiOrderRejected, KalshiOrderStateUnknown
from arb_pipeline.domain import Outcome
from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.execution.live import LiveExecutor
from arb_pipeline.execution.paper import PaperExecutor, PaperMarket
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Fill, HedgeInstruction, Order, Position
from arb_pipeline.storage.repositories import OrderRepository
from arb_pipeline_tests.execution.factories import (
    BOOK,
    T0,
    TICKER,
    FakeKalshi,
    book_leg,
    kalshi_leg,
    opportunity,
    snapshot,
)
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

D = Decimal
PAPER = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=T0 + timedelta(seconds=2))
LIVE = replace(PAPER, mode="live")
LIVE_SETTINGS = dict(ARB_MODE="live", KALSHI_API_KEY_ID="key-id", KALSHI_PRIVATE_KEY_PEM="-----BEGIN PRIVATE KEY-----")


class Crash(BaseException):
    """A process dying mid-flight (not an Exception: nothing in the code path may swallow it)."""


class SpyBreaker(CircuitBreaker):
    checks = 0

    def check_before_order(self, **kw):
        type(self).checks += 1
        return super().check_before_order(**kw)


@pytest.fixture
def alerts():
    return []


@pytest.fixture
def env(session_factory, alerts):
    settings = Settings(_env_file=None)
    breaker = SpyBreaker(session_factory, BreakerConfig(cooldown_s=300), alert=lambda *a: alerts.append(a),
                         clock=lambda: PAPER.as_of)
    SpyBreaker.checks = 0

    def run(opps, context=PAPER, executor=None, settings=settings):
        return execute_opportunities(opps, context=context, sessions=session_factory, breaker=breaker,
                                     settings=settings, alert=lambda *a: alerts.append(a),
                                     executor=executor or PaperExecutor({TICKER: PaperMarket(BOOK)}))

    run.breaker = breaker
    return run


def count(session_factory, model):
    with session_scope(session_factory) as s:
        return s.scalar(select(func.count()).select_from(model))


def live_executor(venue, alerts):
    return LiveExecutor(venue, Settings(_env_file=None, **LIVE_SETTINGS), alert=lambda *a: alerts.append(a),
                        sleep=lambda _s: None)


# --- nothing is placed unless explicitly allowed --------------------------------------------------


@pytest.mark.parametrize(("context", "reason"), [
    (replace(PAPER, is_backfill=True), "backfill"),
    (replace(PAPER, allow_orders=False), "allow_orders=False"),
    (replace(LIVE, is_backfill=True), "backfill"),
])
def test_backfill_or_not_allowed_places_nothing(env, session_factory, alerts, context, reason):
    venue = FakeKalshi()
    executor = live_executor(venue, alerts) if context.mode == "live" else None
    report = env([opportunity()], context=context, executor=executor,
                 settings=Settings(_env_file=None, **LIVE_SETTINGS) if executor else Settings(_env_file=None))
    assert report.refused and reason in report.refused
    assert report.orders == [] and report.orders_sent == 0 and venue.create_calls == {}
    assert count(session_factory, Order) == 0 and SpyBreaker.checks == 0


@pytest.mark.parametrize(("switch", "asking"), [("worker", "scan"), ("scan", "worker")])
def test_only_the_trader_arb_trader_names_may_place_orders(env, session_factory, switch, asking):
    report = env([opportunity()], context=replace(PAPER, trader=asking),
                 settings=Settings(_env_file=None, ARB_TRADER=switch))
    assert report.refused == f"ARB_TRADER={switch}: only the {switch} may place orders, not the {asking}"
    assert report.orders == [] and count(session_factory, Order) == 0 and SpyBreaker.checks == 0
    placed = env([opportunity()], context=replace(PAPER, trader=switch), settings=Settings(_env_file=None,
                                                                                            ARB_TRADER=switch))
    assert placed.refused is None and placed.orders_sent == 1


def test_a_scan_configured_scan_is_refused_while_a_worker_reports_it_trades(env, session_factory):
    """The switch is read per process; the worker's heartbeat is the cross-check between processes."""
    from arb_pipeline.services.worker import WORKER_HEARTBEAT, WORKER_TRADING
    from arb_pipeline.storage.repositories.metrics import MetricRepository

    def report(trading: float, age_s: float) -> None:
        with session_scope(session_factory) as session:
            repo = MetricRepository(session)
            repo.set_gauge(WORKER_HEARTBEAT, PAPER.as_of.timestamp() - age_s)
            repo.set_gauge(WORKER_TRADING, trading)

    report(1.0, 5.0)
    refused = env([opportunity()])
    assert refused.refused and "give every process the same ARB_TRADER" in refused.refused
    assert count(session_factory, Order) == 0
    report(1.0, 600.0)  # a worker gone for ten minutes does not block the scan
    assert env([opportunity()]).orders_sent == 1


def test_an_unknown_trader_is_a_clear_error():
    with pytest.raises(ValueError, match="trader must be one of"):
        replace(PAPER, trader="cron")


def test_live_context_without_live_settings_is_refused(env, alerts):
    venue = FakeKalshi()
    with pytest.raises(Exception, match="ARB_MODE=live"):
        LiveExecutor(venue, Settings(_env_file=None))
    report = env([opportunity()], context=LIVE, settings=Settings(_env_file=None), executor=PaperExecutor({}))
    assert "ARB_MODE=live" in report.refused and venue.create_calls == {}
    creds = Settings(_env_file=None, ARB_MODE="live")
    assert "KALSHI_API_KEY_ID" in env([opportunity()], context=LIVE, settings=creds).refused


def test_stale_opportunity_places_nothing_with_the_reason(env, session_factory):
    report = env([opportunity(detected_at=T0 - timedelta(seconds=30))])
    (order,) = report.orders
    assert order.status == "not_sent" and "stale" in order.reason and "TTL 20s" in order.reason
    assert report.orders_sent == 0 and count(session_factory, Order) == 0


def test_tripped_breaker_places_nothing_with_the_reason(env, session_factory):
    env.breaker.trip("desk says stop", who="alice")
    report = env([opportunity()])
    assert report.orders_sent == 0 and count(session_factory, Order) == 0
    assert "desk says stop" in report.orders[0].reason and "kill switch" in report.skipped[0][1]


def test_value_bets_are_not_executed_unless_asked(env, session_factory):
    value = opportunity(kind="value", legs=(kalshi_leg(),))
    report = env([value])
    assert report.orders == [] and "kind 'value'" in report.skipped[0][1]
    assert env([value], context=replace(PAPER, kinds=frozenset({"value"}))).orders_sent == 1


def test_an_arbitrage_hedged_at_a_book_without_an_account_is_never_executed(env, session_factory):
    """ARB_ACCOUNT_BOOKS: the one rule (`arb.accounts.not_executable`) is applied again before trading."""
    mine = Settings(_env_file=None, ARB_ACCOUNT_BOOKS="fanduel,draftkings")
    report = env([opportunity()], settings=mine)  # its hedge is at pinnacle
    assert report.orders == [] and count(session_factory, Order) == 0
    assert report.skipped[0][1] == "not executable: PAPER: no account at pinnacle (ARB_ACCOUNT_BOOKS)"
    at_fanduel = opportunity(legs=(kalshi_leg(), book_leg(bookmaker="fanduel")))
    assert env([at_fanduel], settings=mine).orders_sent == 1


# --- paper execution records everything -------------------------------------------------------------


def test_paper_fill_records_order_fills_position_and_hedge(env, session_factory, alerts):
    report = env([opportunity()])
    (order,) = report.orders
    assert (order.status, order.fill_count, order.cost) == ("filled", D(25), D("11.84"))
    with session_scope(session_factory) as s:
        row = s.scalars(select(Order)).one()
        assert (row.status, row.book_side, row.limit_price, row.fill_notional, row.fees) == (
            "filled", "bid", D("0.46"), D("11.40"), D("0.44"))
        assert [(f.count, f.price) for f in row.fills] == [(D(10), D("0.45")), (D(15), D("0.46"))]
        pos = s.scalars(select(Position)).one()
        assert (pos.mode, pos.ticker, pos.count, pos.cost) == ("paper", TICKER, D(25), D("11.84"))
        hedge = s.scalars(select(HedgeInstruction)).one()
        assert (hedge.bookmaker, hedge.selection, hedge.stake, hedge.worst_acceptable_odds, hedge.status) == (
            "pinnacle", "Boston Celtics", D("11.11"), D("2.0658"), "pending")
    assert any(a[1].startswith("hedge to place") and "2.0658" in a[2] for a in alerts)
    assert SpyBreaker.checks == 1


def test_the_same_opportunity_twice_is_executed_once(env, session_factory):
    env([opportunity()])
    again = env([opportunity(detected_at=T0 + timedelta(seconds=1))])  # re-detected, same minute bucket
    assert again.orders_sent == 0 and "already sent" in again.orders[0].reason
    assert count(session_factory, Order) == 1 and count(session_factory, Fill) == 2
    with session_scope(session_factory) as s:
        assert s.scalars(select(Position.count)).one() == D(25)


def test_breaker_is_checked_before_every_order(env, session_factory):
    opps = [opportunity(), opportunity(detected_at=T0 - timedelta(seconds=10))]  # different bucket: 2 orders
    no_cooldown = Settings(_env_file=None, ARB_REENTRY_COOLDOWN_S="0")
    assert env(opps, settings=no_cooldown).orders_sent == 2 and SpyBreaker.checks == 2


def test_a_persisting_window_is_not_re_entered_within_the_cooldown(env, session_factory):
    assert env([opportunity()]).orders_sent == 1
    # the same window seen again a minute later is a new opportunity (new bucket) on the same market/side
    later = replace(PAPER, as_of=T0 + timedelta(seconds=62))
    again = env([opportunity(detected_at=T0 + timedelta(seconds=61))], context=later)
    assert again.orders_sent == 0 and "re-entry cooldown" in again.orders[0].reason
    assert count(session_factory, Order) == 1  # not even an intent row: nothing left to reconcile
    after = replace(PAPER, as_of=T0 + timedelta(seconds=700))
    assert env([opportunity(detected_at=T0 + timedelta(seconds=699))], context=after).orders_sent == 1


def test_exposure_cap_blocks_the_order(env, session_factory):
    tight = Settings(_env_file=None, ARB_BREAKER_MAX_OPEN_EXPOSURE="10")
    report = env([opportunity()], settings=tight)
    assert report.orders_sent == 0 and "open exposure" in report.orders[0].reason


# --- live executor through a fake venue --------------------------------------------------------------


def test_live_buy_yes_is_a_bid_and_buy_no_is_an_ask_at_one_minus_q(env, session_factory, alerts):
    venue = FakeKalshi()
    executor = live_executor(venue, alerts)
    assert any("live trading" in a[1] for a in alerts)
    settings = Settings(_env_file=None, **LIVE_SETTINGS)
    no_leg = kalshi_leg(side="no", outcome=Outcome.AWAY, levels=((D("0.40"), D("25")),), ticker=f"{TICKER}X")
    report = env([opportunity(), opportunity(legs=(no_leg, book_leg()))], context=LIVE, executor=executor,
                 settings=settings)
    assert report.orders_sent == 2
    with session_scope(session_factory) as s:
        orders = s.scalars(select(Order).order_by(Order.id)).all()
        assert [(o.book_side, o.outcome_side, o.limit_price) for o in orders] == [
            ("bid", "yes", D("0.46")), ("ask", "no", D("0.60"))]
        no_fill = orders[1].fills[0]
        assert (no_fill.price, no_fill.fee) == (D("0.40"), D("0.50"))  # NO price, fee as the venue charged
    assert set(venue.create_calls.values()) == {1}


def test_crash_after_intent_write_then_restart_sends_exactly_once(env, session_factory, alerts, monkeypatch):
    venue = FakeKalshi()
    settings = Settings(_env_file=None, **LIVE_SETTINGS)
    original = OrderRepository.claim_for_send

    def crash(*a, **kw):
        raise Crash()

    monkeypatch.setattr(OrderRepository, "claim_for_send", crash)
    with pytest.raises(Crash):
        env([opportunity()], context=LIVE, executor=live_executor(venue, alerts), settings=settings)
    with session_scope(session_factory) as s:
        assert s.scalars(select(Order.status)).one() == "intent"
    assert venue.create_calls == {}
    monkeypatch.setattr(OrderRepository, "claim_for_send", original)
    report = env([opportunity()], context=LIVE, executor=live_executor(venue, alerts), settings=settings)  # restart
    assert report.orders_sent == 1 and list(venue.create_calls.values()) == [1]
    again = env([opportunity()], context=LIVE, executor=live_executor(venue, alerts), settings=settings)
    assert again.orders_sent == 0 and list(venue.create_calls.values()) == [1]


def test_crash_after_send_then_restart_never_sends_again(env, session_factory, alerts):
    venue = FakeKalshi(raise_after_create=Crash())
    settings = Settings(_env_file=None, **LIVE_SETTINGS)
    with pytest.raises(Crash):
        env([opportunity()], context=LIVE, executor=live_executor(venue, alerts), settings=settings)
    venue.raise_after_create = None
    report = env([opportunity()], context=LIVE, executor=live_executor(venue, alerts), settings=settings)
    assert report.orders_sent == 0 and "reconcile" in report.orders[0].reason
    assert list(venue.create_calls.values()) == [1]
    with session_scope(session_factory) as s:
        assert s.scalars(select(Order.status)).one() == "sent"


def test_rejections_count_toward_the_breaker_and_trip_it(env, session_factory, alerts):
    venue = FakeKalshi(raise_on_create=KalshiOrderRejected("no money", status=400, code="INSUFFICIENT_BALANCE"))
    settings = Settings(_env_file=None, **LIVE_SETTINGS)
    opps = [opportunity(legs=(kalshi_leg(count=D(20 + i), levels=((D("0.45"), D(20 + i)),)), book_leg()))
            for i in range(4)]  # four distinct opportunities (sizes differ)
    report = env(opps, context=LIVE, executor=live_executor(venue, alerts), settings=settings)
    assert [o.status for o in report.orders] == ["failed", "failed", "failed", "not_sent"]
    assert env.breaker.status().state is BreakerState.OPEN and len(venue.create_calls) == 3
    with session_scope(session_factory) as s:
        assert "INSUFFICIENT_BALANCE" in s.scalars(select(Order.error)).first()


def test_unknown_order_state_is_recorded_and_alerted(env, session_factory, alerts):
    venue = FakeKalshi(raise_on_create=KalshiOrderStateUnknown("lost response", client_order_id="x"))
    report = env([opportunity()], context=LIVE, executor=live_executor(venue, alerts),
                 settings=Settings(_env_file=None, **LIVE_SETTINGS))
    assert report.orders[0].status == "unknown"
    assert any(a[0] == "critical" and "order state unknown" in a[1] for a in alerts)
    with session_scope(session_factory) as s:
        assert s.scalars(select(Order.status)).one() == "unknown"
    assert count(session_factory, HedgeInstruction) == 0


def test_partial_fill_scales_the_hedge(env, session_factory, alerts):
    venue = FakeKalshi(fill_ratio=D("0.4"))
    report = env([opportunity()], context=LIVE, executor=live_executor(venue, alerts),
                 settings=Settings(_env_file=None, **LIVE_SETTINGS))
    assert (report.orders[0].status, report.orders[0].fill_count) == ("partially_filled", D(10))
    (hedge,) = report.hedges
    assert hedge.stake == D("4.44") and hedge.worst_acceptable_odds is not None


def test_an_id_collision_with_other_terms_is_refused_and_alerted(env, session_factory, alerts):
    from arb_pipeline.execution.plan import plan_opportunity
    from arb_pipeline.storage.repositories import OrderIntent

    coid = plan_opportunity(opportunity()).kalshi_legs[0].client_order_id
    with session_scope(session_factory) as s:
        OrderRepository(s).record_intent(OrderIntent(coid, "other", 0, "paper", TICKER, "bid", D(3), D("0.30")),
                                         at=T0)
    report = env([opportunity()])
    assert report.orders_sent == 0 and "other terms" in report.orders[0].reason
    assert any(a[0] == "critical" and "conflict" in a[1] for a in alerts)


def test_stale_market_data_trips_the_breaker_and_places_nothing(session_factory, alerts):
    old = snapshot(captured_at=PAPER.as_of - timedelta(seconds=121))
    breaker = CircuitBreaker(session_factory, BreakerConfig(max_data_age_s=120), clock=lambda: PAPER.as_of,
                             alert=lambda *a: alerts.append(a))
    report = execute_opportunities([opportunity()], context=PAPER, sessions=session_factory, breaker=breaker,
                                   settings=Settings(_env_file=None), alert=lambda *a: alerts.append(a),
                                   snapshot=old, executor=PaperExecutor({TICKER: PaperMarket(BOOK)}))
    assert report.orders_sent == 0 and "121s old" in report.orders[0].reason
    assert breaker.status().state is BreakerState.OPEN and count(session_factory, Order) == 0


def test_opportunity_from_the_future_is_not_trusted(env):
    report = env([opportunity(detected_at=PAPER.as_of + timedelta(seconds=5))])
    assert report.orders_sent == 0 and "clock skew" in report.orders[0].reason


def test_an_ioc_that_fills_nothing_is_a_normal_outcome_and_the_cycle_goes_on(env, session_factory, alerts):
    """Kalshi answers an IOC that found no liquidity with fill 0, remaining 0. That used to raise in
    `mark_filled`, leave the order `sent`, skip the breaker and drop the cycle's other opportunities."""
    venue = FakeKalshi(fill_ratios={TICKER: D(0)})
    other = kalshi_leg(ticker=f"{TICKER}X", count=D(20), levels=((D("0.45"), D(20)),))
    report = env([opportunity(), opportunity(legs=(other, book_leg()))], context=LIVE,
                 executor=live_executor(venue, alerts), settings=Settings(_env_file=None, **LIVE_SETTINGS))
    assert [(o.ticker, o.status, o.fill_count) for o in report.orders] == [
        (TICKER, "unfilled", D(0)), (f"{TICKER}X", "filled", D(20))]
    with session_scope(session_factory) as s:
        rows = s.scalars(select(Order).order_by(Order.id)).all()
        assert [(o.status, o.fill_count, o.remaining_count) for o in rows] == [
            ("unfilled", D(0), D(25)), ("filled", D(20), D(0))]
        hedges = s.scalars(select(HedgeInstruction)).all()
        assert [h.client_order_id for h in hedges] == [rows[1].client_order_id]  # nothing to hedge for 0 filled
    status = env.breaker.status()
    assert status.state is BreakerState.CLOSED and status.consecutive_errors == 0  # not an error: reported as ok


def test_two_processes_never_place_orders_at_the_same_time(session_factory, other_engine, alerts):
    """Found by running two `arb-pipeline run` at once: both passed the re-entry cooldown of the same
    market and both bought it (one arbitrage then diverged). One process at a time holds the lease."""
    import threading

    from arb_pipeline.storage.db import session_factory as make_sessions
    from arb_pipeline_tests.waiting import join, wait_until

    inside, leave = threading.Event(), threading.Event()

    class Slow(PaperExecutor):
        def place(self, **kw):
            inside.set()
            wait_until(leave.is_set)
            return super().place(**kw)

    def execute(sessions, executor, opportunities, context=PAPER):
        breaker = CircuitBreaker(sessions, BreakerConfig(), alert=lambda *a: alerts.append(a), clock=lambda: context.as_of)
        return execute_opportunities(opportunities, context=context, sessions=sessions, breaker=breaker,
                                     settings=Settings(_env_file=None, ARB_REENTRY_COOLDOWN_S="0"), executor=executor,
                                     alert=lambda *a: alerts.append(a))

    first: dict = {}
    worker = threading.Thread(target=lambda: first.setdefault("report", execute(
        session_factory, Slow({TICKER: PaperMarket(BOOK)}), [opportunity()])))
    worker.start()
    assert wait_until(inside.is_set)
    second = execute(make_sessions(other_engine), PaperExecutor({TICKER: PaperMarket(BOOK)}),
                     [opportunity(detected_at=T0 - timedelta(seconds=10))])
    leave.set()
    join(worker)
    assert second.refused and "one process at a time" in second.refused and second.orders == []
    assert first["report"].orders_sent == 1
    third = execute(make_sessions(other_engine), PaperExecutor({TICKER: PaperMarket(BOOK)}),
                    [opportunity(detected_at=T0 + timedelta(seconds=65))],
                    context=replace(PAPER, as_of=T0 + timedelta(seconds=66)))
    assert third.refused is None and third.orders_sent == 1  # released when the first finished

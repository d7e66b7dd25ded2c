from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.storage.db import session_factory as make_sessions

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
CONFIG = BreakerConfig(max_consecutive_errors=3, max_daily_loss=Decimal("250"), max_open_exposure=Decimal("5000"),
                       max_data_age_s=120, max_api_error_rate=0.5, cooldown_s=300, api_window_s=300, api_min_calls=4)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def alerts():
    return []


@pytest.fixture
def breaker(session_factory, clock, alerts):
    return CircuitBreaker(session_factory, CONFIG, clock=clock, alert=lambda *a: alerts.append(a))


def assert_logged_and_alerted(breaker, alerts, trigger, to_state="open"):
    events = breaker.events()
    assert events[0]["trigger"] == trigger and events[0]["to"] == to_state
    severity, title, _body, key = alerts[-1]
    assert trigger in title and to_state in title and key.startswith("breaker:kalshi:event:")
    assert severity == {"open": "critical", "half_open": "warning", "closed": "info"}[to_state]


def test_fresh_breaker_is_closed_and_allows(breaker):
    assert breaker.status().state is BreakerState.CLOSED
    decision = breaker.check_before_order()
    assert decision.allowed and not decision.probe


def test_consecutive_errors_trip_and_a_success_resets_the_count(breaker, alerts):
    breaker.record_order_result(False, "e1")
    breaker.record_order_result(False, "e2")
    breaker.record_order_result(True)
    breaker.record_order_result(False, "e3")
    breaker.record_order_result(False, "e4")
    assert breaker.status().state is BreakerState.CLOSED
    breaker.record_order_result(False, "e5")
    status = breaker.status()
    assert status.state is BreakerState.OPEN and "3 consecutive" in status.reason and "e5" in status.reason
    assert_logged_and_alerted(breaker, alerts, "consecutive_errors")
    decision = breaker.check_before_order()
    assert not decision.allowed and "3 consecutive order errors" in decision.reason


@pytest.mark.parametrize(
    ("metrics", "trigger"),
    [
        ({"daily_realized_pnl": Decimal("-250")}, "daily_loss"),
        ({"open_exposure": Decimal("5000.01")}, "open_exposure"),
        ({"data_captured_at": T0 - timedelta(seconds=121)}, "stale_data"),
    ],
)
def test_risk_metrics_trip_before_the_order(breaker, alerts, metrics, trigger):
    decision = breaker.check_before_order(**metrics)
    assert not decision.allowed
    assert breaker.status().state is BreakerState.OPEN
    assert_logged_and_alerted(breaker, alerts, trigger)


@pytest.mark.parametrize(
    "metrics",
    [{"daily_realized_pnl": Decimal("-249.99")}, {"daily_realized_pnl": Decimal("1000")},
     {"open_exposure": Decimal("5000")}, {"data_captured_at": T0 - timedelta(seconds=120)}],
)
def test_metrics_within_limits_do_not_trip(breaker, alerts, metrics):
    assert breaker.check_before_order(**metrics).allowed
    assert alerts == [] and breaker.events() == []


def test_api_error_rate_trips_only_over_the_rate_with_enough_calls(breaker, alerts, clock):
    for ok in (False, False, False):  # 3 errors but fewer than api_min_calls calls
        breaker.record_api_call(ok)
    assert breaker.status().state is BreakerState.CLOSED
    breaker.record_api_call(True)  # 3/4 = 75% > 50%
    assert breaker.status().state is BreakerState.OPEN
    assert_logged_and_alerted(breaker, alerts, "api_error_rate")


def test_api_error_window_rolls_over(breaker, clock):
    for _ in range(3):
        breaker.record_api_call(False)
    clock.advance(301)
    for ok in (True, True, True, False):
        breaker.record_api_call(ok)  # new window: 1/4
    assert breaker.status().state is BreakerState.CLOSED


def test_reconciliation_mismatch_trips(breaker, alerts):
    breaker.report_reconciliation_mismatch("KX-1: ours 10, venue 0")
    assert "KX-1" in breaker.status().reason
    assert_logged_and_alerted(breaker, alerts, "reconciliation")


def test_a_stale_websocket_feed_trips(breaker, alerts):
    breaker.report_stale_feed("no Kalshi websocket message for more than 30 s")
    status = breaker.status()
    assert not breaker.check_before_order().allowed
    assert "stale market data feed" in status.reason and "30 s" in status.reason
    assert_logged_and_alerted(breaker, alerts, "stale_feed")


def test_cooldown_half_open_probe_success_closes(breaker, alerts, clock):
    breaker.report_reconciliation_mismatch("x")
    clock.advance(299)
    assert not breaker.check_before_order().allowed
    clock.advance(1)
    probe = breaker.check_before_order()
    assert probe.allowed and probe.probe
    assert_logged_and_alerted(breaker, alerts, "cooldown", "half_open")
    second = breaker.check_before_order()  # only one probe at a time
    assert not second.allowed and "probe" in second.reason
    breaker.record_order_result(True)
    assert breaker.status().state is BreakerState.CLOSED
    assert_logged_and_alerted(breaker, alerts, "probe_succeeded", "closed")


def test_half_open_probe_failure_reopens_for_another_cooldown(breaker, alerts, clock):
    breaker.report_reconciliation_mismatch("x")
    clock.advance(300)
    assert breaker.check_before_order().probe
    breaker.record_order_result(False, "rejected")
    status = breaker.status()
    assert status.state is BreakerState.OPEN and status.cooldown_remaining_s == 300
    assert_logged_and_alerted(breaker, alerts, "probe_failed")
    clock.advance(300)
    assert breaker.check_before_order().probe


def test_the_probe_waits_for_orders_in_flight_to_be_reconciled(breaker, clock):
    breaker.report_reconciliation_mismatch("x")
    clock.advance(300)
    waiting = breaker.check_before_order(orders_in_flight=2)
    assert not waiting.allowed and "2 order(s) in flight are reconciled" in waiting.reason
    assert breaker.status().state is BreakerState.HALF_OPEN  # no probe handed out, none to lose
    assert breaker.check_before_order(orders_in_flight=0).probe


def test_market_data_calls_count_toward_the_api_error_rate(breaker, alerts):
    breaker.record_api_calls(3, 1)  # a capture: 3 HTTP attempts, one 5xx retried
    assert breaker.status().state is BreakerState.CLOSED
    breaker.record_api_calls(5, 5)  # a 5xx storm on events/books/odds: 6/8 failed
    assert breaker.status().state is BreakerState.OPEN and "6/8" in breaker.status().reason
    assert_logged_and_alerted(breaker, alerts, "api_error_rate")
    with pytest.raises(ValueError):
        breaker.record_api_calls(1, 2)


def test_lost_probe_reopens(breaker, clock):
    breaker.report_reconciliation_mismatch("x")
    clock.advance(300)
    assert breaker.check_before_order().probe
    clock.advance(301)  # the probing process died without reporting
    decision = breaker.check_before_order()
    assert not decision.allowed and breaker.status().state is BreakerState.OPEN
    assert breaker.events()[0]["trigger"] == "probe_lost"


def test_manual_kill_switch_never_cools_down_and_reset_closes(breaker, alerts, clock):
    breaker.trip("suspicious fills", who="alice")
    assert_logged_and_alerted(breaker, alerts, "manual")
    clock.advance(10 * 3600)
    decision = breaker.check_before_order()
    assert not decision.allowed and "kill switch" in decision.reason and "alice" in decision.reason
    breaker.reset(who="bob")
    assert breaker.status().state is BreakerState.CLOSED and breaker.check_before_order().allowed
    assert_logged_and_alerted(breaker, alerts, "reset", "closed")
    assert breaker.events()[0]["who"] == "bob"


def test_manual_trip_while_auto_open_makes_it_manual(breaker, clock):
    breaker.report_reconciliation_mismatch("x")
    breaker.trip("stop everything", who="alice")
    clock.advance(1000)
    assert not breaker.check_before_order().allowed
    assert [e["trigger"] for e in breaker.events()] == ["manual", "reconciliation"]


@pytest.mark.parametrize(("reason", "who"), [("", "alice"), ("why", " ")])
def test_manual_trip_needs_reason_and_who(breaker, reason, who):
    with pytest.raises(ValueError):
        breaker.trip(reason, who)


def test_state_is_shared_between_two_processes(breaker, other_engine, clock):
    """A second engine + sessionmaker stands in for a second process on the same database."""
    other = CircuitBreaker(make_sessions(other_engine), CONFIG, clock=clock, alert=lambda *a: None)
    other.trip("kill from process B", who="ops")
    decision = breaker.check_before_order()
    assert not decision.allowed and "kill from process B" in decision.reason
    breaker.reset(who="ops")
    assert other.status().state is BreakerState.CLOSED
    # the single half-open probe is single across processes too
    breaker.report_reconciliation_mismatch("x")
    clock.advance(300)
    assert other.check_before_order().probe
    assert not breaker.check_before_order().allowed


def test_concurrent_probe_requests_hand_out_exactly_one_probe(breaker, db_url, clock):
    from concurrent.futures import ThreadPoolExecutor

    from arb_pipeline.storage.db import create_app_engine

    breaker.report_reconciliation_mismatch("x")
    clock.advance(300)
    engines = [create_app_engine(db_url) for _ in range(4)]
    try:
        breakers = [CircuitBreaker(make_sessions(e), CONFIG, clock=clock, alert=lambda *a: None) for e in engines]
        with ThreadPoolExecutor(4) as pool:
            decisions = list(pool.map(lambda b: b.check_before_order(), breakers))
    finally:
        for e in engines:
            e.dispose()
    assert sum(d.allowed for d in decisions) == 1


def test_alert_failure_does_not_undo_a_trip(session_factory, clock):
    def broken(*_):
        raise RuntimeError("smtp down")

    breaker = CircuitBreaker(session_factory, CONFIG, clock=clock, alert=broken)
    breaker.trip("x", who="alice")
    assert breaker.status().state is BreakerState.OPEN


def test_status_describe_is_readable(breaker):
    breaker.report_reconciliation_mismatch("KX-1 differs")
    text = breaker.status().describe()
    assert "open" in text and "KX-1 differs" in text and "half-open in 300s" in text

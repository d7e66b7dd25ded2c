"""Legs that went and then diverged: unwound within the loss limit, or held and hedged - always alerted.

The arbitrage (factories.three_way_opportunity): Kalshi YES Chelsea 25 + Kalshi YES draw 25 + West Ham
at Pinnacle. Leg 0 fills; leg 1 then fills nothing (its liquidity went between the check and the send).
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
from arb_pipeline.execution.live import LiveExecutor
from arb_pipeline.execution.paper import PaperExecutor
from arb_pipeline.execution.venue import VenueResult
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import HedgeInstruction, Order, Position, RealizedPnl
from arb_pipeline_tests.execution.factories import (
    DRAW_TICKER,
    HOME_TICKER,
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


class LiquidityGone(PaperExecutor):
    """Paper fills, except that the named markets' liquidity vanished after the pre-send checks."""

    def __init__(self, markets, gone, **kw):
        super().__init__(markets, **kw)
        self.gone = set(gone)

    def place(self, *, ticker, side, count, limit_price, client_order_id, submitted_at, reduce_only=False):
        if ticker in self.gone and not reduce_only:
            return VenueResult(f"paper-{client_order_id}", D(0), D(0), ())
        return super().place(ticker=ticker, side=side, count=count, limit_price=limit_price,
                             client_order_id=client_order_id, submitted_at=submitted_at, reduce_only=reduce_only)


@pytest.fixture
def alerts():
    return []


@pytest.fixture
def breaker(session_factory, alerts):
    return CircuitBreaker(session_factory, BreakerConfig(), alert=lambda *a: alerts.append(a), clock=lambda: NOW)


def run(session_factory, breaker, alerts, executor=None, context=PAPER, clock=lambda: NOW, **env):
    snapshot = three_way_snapshot()
    executor = executor or LiquidityGone(PaperExecutor.from_snapshot(snapshot).markets, gone={DRAW_TICKER})
    return execute_opportunities([three_way_opportunity()], context=context, sessions=session_factory,
                                 breaker=breaker, settings=Settings(_env_file=None, **env), snapshot=snapshot,
                                 alert=lambda *a: alerts.append(a), executor=executor, clock=clock)


def one_leg_alerts(alerts):
    return [a for a in alerts if a[3].startswith("one-leg:")]


def test_unwind_sells_the_naked_leg_back_within_the_loss_limit(session_factory, breaker, alerts):
    report = run(session_factory, breaker, alerts)  # default policy: unwind, $10 limit, 3 steps
    entries = [o for o in report.orders if "unwind" not in o.reason]
    unwinds = [o for o in report.orders if "unwind" in o.reason]
    assert [(o.leg_index, o.status, o.fill_count) for o in entries] == [(0, "filled", D(25)), (1, "unfilled", D(0))]
    # ladder from the 0.456 paid: 0.45 finds no bid (best YES bid 0.44), the next step sells all 25 at 0.44
    assert [(o.side, o.status, o.fill_count) for o in unwinds] == [("no", "unfilled", D(0)), ("no", "filled", D(25))]
    with session_scope(session_factory) as s:
        sells = s.scalars(select(Order).where(Order.purpose == "unwind").order_by(Order.id)).all()
        assert {(o.book_side, o.ticker, o.count) for o in sells} == {("ask", HOME_TICKER, D(25))}  # sell YES
        assert sells[1].fills[0].price == D("0.56")  # NO bought at 0.56 = YES sold at 0.44
        position = s.scalars(select(Position).where(Position.ticker == HOME_TICKER)).one()
        assert position.count == 0
        # 25 x $1 back - 11.84 paid for YES - (14.00 + 0.44 fee) for NO: a 1.28 loss, inside the $10 limit
        assert s.scalars(select(RealizedPnl.amount)).one() == D("-1.28")
        assert s.scalars(select(HedgeInstruction)).all() == []  # nothing left to hedge
    (alert,) = one_leg_alerts(alerts)
    assert alert[0] == "warning" and "unwound" in alert[1] and "matched" in alert[2]
    assert len(report.one_legged) == 1


def test_unwind_never_sells_below_what_the_loss_limit_allows(session_factory, breaker, alerts):
    report = run(session_factory, breaker, alerts, ARB_UNWIND_MAX_LOSS="1")  # 25 at 0.44 would lose 1.28
    unwinds = [o for o in report.orders if "unwind" in o.reason]
    assert all(o.fill_count == 0 for o in unwinds)  # every step priced above the 0.44 bid: no sale
    with session_scope(session_factory) as s:
        assert s.scalars(select(Position.count).where(Position.ticker == HOME_TICKER)).one() == D(25)
        assert s.scalars(select(RealizedPnl)).all() == []
        # the floor: selling 25 at 0.46 loses 11.84 - (11.50 - 0.44) = 0.78 <= $1; at 0.45 it would lose 1.03
        limits = [o.limit_price for o in s.scalars(select(Order).where(Order.purpose == "unwind"))]
        assert limits == [D("0.46")]
    (alert,) = one_leg_alerts(alerts)
    assert alert[0] == "critical" and "ONE-LEGGED" in alert[2]
    assert {h.leg_index for h in report.hedges} == {1, 2}  # held: hedged, the draw replaced at a book


def test_hold_keeps_the_position_flagged_with_a_hedge_sized_from_the_fill(session_factory, breaker, alerts):
    report = run(session_factory, breaker, alerts, ARB_ONE_LEG_POLICY="hold")
    assert [o.status for o in report.orders] == ["filled", "unfilled"]  # no unwind order
    by_leg = {h.leg_index: h for h in report.hedges}
    # West Ham sized on the 25 Chelsea contracts held (not on the 0 draw contracts)
    assert (by_leg[2].bookmaker, by_leg[2].stake, by_leg[2].status) == ("pinnacle", D("6.00"), "pending")
    # the draw the Kalshi leg failed to buy: a back at any book. Stake = what Chelsea and West Ham can
    # spare (min(25 - 17.84, 27 - 17.84) = 7.16); break-even odds (17.84 + 7.16) / 7.16 = 3.4917
    replacement = by_leg[1]
    assert (replacement.bookmaker, replacement.selection, replacement.stake, replacement.worst_acceptable_odds,
            replacement.status) == ("any", "draw", D("7.16"), D("3.4917"), "pending")
    with session_scope(session_factory) as s:
        rows = s.scalars(select(HedgeInstruction).order_by(HedgeInstruction.leg_index)).all()
        assert [(h.leg_index, h.stake) for h in rows] == [(1, D("7.16")), (2, D("6.00"))]
        assert s.scalars(select(Position.count).where(Position.ticker == HOME_TICKER)).one() == D(25)
    (alert,) = one_leg_alerts(alerts)
    assert alert[0] == "critical" and "policy hold" in alert[2] and "ONE-LEGGED" in alert[2]
    assert sum(1 for a in alerts if a[3].startswith("hedge:")) == 2


def test_a_partial_first_leg_sizes_the_second_and_nothing_is_one_legged(session_factory, breaker, alerts):
    venue = FakeKalshi(fill_ratios={HOME_TICKER: D("0.4")})  # leg 0: 10 of 25
    executor = LiveExecutor(venue, Settings(_env_file=None, **LIVE_ENV), sleep=lambda _s: None)
    report = run(session_factory, breaker, alerts, executor=executor, context=replace(PAPER, mode="live"),
                 **LIVE_ENV)
    assert [(o.status, o.fill_count) for o in report.orders] == [("partially_filled", D(10)), ("filled", D(10))]
    (hedge,) = report.hedges
    assert hedge.stake == D("2.40") and report.one_legged == [] and one_leg_alerts(alerts) == []


def test_a_second_leg_of_unknown_state_is_never_unwound_blindly(session_factory, breaker, alerts):
    from arb_pipeline.connectors.kalshi.errors import KalshiOrderStateUnknown

    class LostResponse(FakeKalshi):
        def create_order(self, ticker, side, count, price, time_in_force, client_order_id, **opts):
            if ticker == DRAW_TICKER:
                raise KalshiOrderStateUnknown("response lost", client_order_id=client_order_id)
            return super().create_order(ticker, side, count, price, time_in_force, client_order_id, **opts)

    venue = LostResponse()
    executor = LiveExecutor(venue, Settings(_env_file=None, **LIVE_ENV), sleep=lambda _s: None)
    report = run(session_factory, breaker, alerts, executor=executor, context=replace(PAPER, mode="live"),
                 **LIVE_ENV)
    assert [o.status for o in report.orders] == ["filled", "unknown"]  # no unwind order
    assert not any(venue.reduce_only.values())
    (alert,) = one_leg_alerts(alerts)
    assert "state unknown" in alert[2] and "nothing is unwound before reconciliation" in alert[2]
    replacement = next(h for h in report.hedges if h.leg_index == 1)
    assert replacement.status == "do_not_place" and "reconcile" in replacement.note


def test_a_second_leg_gone_stale_while_the_first_was_sent_is_not_sent(session_factory, breaker, alerts):
    """The TTL is read from the clock immediately before each send, not once per step."""
    clock_now = [NOW]

    class SlowVenue(PaperExecutor):  # the order endpoint answers 25 s later (a delay fault)
        def place(self, **kw):
            clock_now[0] += timedelta(seconds=25)
            return super().place(**kw)

    snapshot = three_way_snapshot()
    report = run(session_factory, breaker, alerts, executor=SlowVenue(PaperExecutor.from_snapshot(snapshot).markets),
                 clock=lambda: clock_now[0], ARB_ONE_LEG_POLICY="hold")
    leg0, leg1 = report.orders[:2]
    assert (leg0.status, leg1.status) == ("filled", "not_sent")
    assert "stale: detected 27.0s before now, TTL 20s (at send time)" in leg1.reason
    with session_scope(session_factory) as s:
        (order,) = s.scalars(select(Order)).all()  # leg 1 was never even written as an intent
        assert order.sent_at == NOW and order.created_at <= order.sent_at
    assert len(one_leg_alerts(alerts)) == 1

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

import arb_pipeline.connectors.kalshi as tm
from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.execution.live import LiveExecutor
from arb_pipeline.execution.paper import PaperExecutor, PaperMarket
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.services.reconcile import reconcile
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Order, Position, RealizedPnl
from arb_pipeline.storage.repositories import OrderIntent, OrderRepository
from arb_pipeline_tests.execution.factories import BOOK, T0, TICKER, FakeKalshi, opportunity
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

D = Decimal
NOW = T0 + timedelta(seconds=2)
PAPER = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=NOW)
LIVE_SETTINGS = Settings(_env_file=None, ARB_MODE="live", KALSHI_API_KEY_ID="k", KALSHI_PRIVATE_KEY_PEM="pem")


class Crash(BaseException):
    pass


@pytest.fixture
def alerts():
    return []


@pytest.fixture
def breaker(session_factory, alerts):
    config = BreakerConfig(max_daily_loss=D("50"), cooldown_s=300)
    return CircuitBreaker(session_factory, config, alert=lambda *a: alerts.append(a), clock=lambda: NOW)


def execute(session_factory, breaker, alerts, context=PAPER, executor=None, settings=None):
    return execute_opportunities([opportunity()], context=context, sessions=session_factory, breaker=breaker,
                                 settings=settings or Settings(_env_file=None), alert=lambda *a: alerts.append(a),
                                 executor=executor or PaperExecutor({TICKER: PaperMarket(BOOK)}))


def test_paper_ledger_agrees_and_settlement_realizes_pnl(session_factory, breaker, alerts):
    execute(session_factory, breaker, alerts)
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW)
    assert report.mismatches == [] and report.breaker_state is BreakerState.CLOSED
    assert report.open_exposure == D("11.84") and report.daily_realized_pnl == 0
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW,
                       settlement_results={TICKER: "yes"})
    assert report.settled == {TICKER: D("13.16")}  # 25 x $1 - (11.40 + 0.44)
    assert report.daily_realized_pnl == D("13.16") and report.open_exposure == 0 and report.mismatches == []
    again = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW,
                      settlement_results={TICKER: "yes"})
    assert again.settled == {} and again.daily_realized_pnl == D("13.16")  # settled once


def test_daily_loss_from_settlements_trips_the_breaker(session_factory, breaker, alerts):
    execute(session_factory, breaker, alerts)
    with session_scope(session_factory) as s:  # an earlier loss today
        s.add(RealizedPnl(mode="paper", ticker="KX-OLD", kind="settlement", amount=D("-40"), realized_at=NOW,
                          detail={}))
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW,
                       settlement_results={TICKER: "no"})
    assert report.settled == {TICKER: D("-11.84")} and report.daily_realized_pnl == D("-51.84")
    assert report.breaker_state is BreakerState.OPEN and "daily realized loss 51.84" in breaker.status().reason


def test_paper_ledger_mismatch_trips_the_breaker(session_factory, breaker, alerts):
    execute(session_factory, breaker, alerts)
    with session_scope(session_factory) as s:
        s.scalars(select(Position)).one().count = D("30")
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW)
    assert report.mismatches == [f"{TICKER}: our position 30, recorded fills 25"]
    assert report.breaker_state is BreakerState.OPEN and any("reconciliation" in a[1] for a in alerts)


def test_paper_in_flight_order_is_closed_unfilled_and_expired_intents_are_closed(session_factory, breaker):
    with session_scope(session_factory) as s:
        repo = OrderRepository(s)
        for coid in ("a", "b"):
            repo.record_intent(OrderIntent(coid, "opp", 0, "paper", TICKER, "bid", D(5), D("0.45")), at=T0)
        repo.claim_for_send("a", T0)
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=T0 + timedelta(days=1))
    assert sorted(report.completed) == ["a", "b"]
    with session_scope(session_factory) as s:
        assert dict(s.execute(select(Order.client_order_id, Order.status)).all()) == {"a": "unfilled", "b": "failed"}


def _live(venue, alerts):
    return LiveExecutor(venue, LIVE_SETTINGS, alert=lambda *a: alerts.append(a), sleep=lambda _s: None)


def test_live_crash_after_send_is_completed_from_the_venue(session_factory, breaker, alerts):
    venue = FakeKalshi(raise_after_create=Crash())
    live = replace(PAPER, mode="live")
    with pytest.raises(Crash):
        execute(session_factory, breaker, alerts, context=live, executor=_live(venue, alerts), settings=LIVE_SETTINGS)
    soon = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW, venue=venue)
    assert len(soon.pending) == 1 and soon.completed == []  # just sent: still its sender's to record
    report = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW + timedelta(seconds=61),
                       venue=venue)
    assert len(report.completed) == 1 and report.mismatches == []
    with session_scope(session_factory) as s:
        order = s.scalars(select(Order)).one()
        assert (order.status, order.fill_count, order.fees, order.fill_notional) == (
            "filled", D(25), D("0.50"), D("11.50"))  # 25 YES at the 0.46 limit, fee 0.02 each
        assert s.scalars(select(Position.count)).one() == D(25)
    again = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW + timedelta(seconds=62),
                      venue=venue)
    assert again.completed == [] and again.mismatches == []  # fills recorded once
    assert list(venue.create_calls.values()) == [1]


def test_live_order_missing_at_the_venue_waits_then_closes_unfilled(session_factory, breaker):
    with session_scope(session_factory) as s:
        repo = OrderRepository(s)
        repo.record_intent(OrderIntent("lost", "opp", 0, "live", TICKER, "bid", D(5), D("0.45")), at=NOW)
        repo.claim_for_send("lost", NOW)
    venue = FakeKalshi()
    assert reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW, venue=venue).pending == ["lost"]
    later = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW + timedelta(minutes=2),
                      venue=venue)
    assert later.completed == ["lost"]


def test_live_position_mismatch_with_the_venue_trips(session_factory, breaker, alerts):
    venue = FakeKalshi()
    execute(session_factory, breaker, alerts, context=replace(PAPER, mode="live"), executor=_live(venue, alerts),
            settings=LIVE_SETTINGS)
    venue.fills.append(replace(venue.fills[0], fill_id="manual", count=D(3)))  # someone traded by hand
    report = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW, venue=venue)
    assert report.mismatches == [f"{TICKER}: our position 25, venue 28"]
    assert breaker.status().state is BreakerState.OPEN


def test_live_settlement_realizes_and_checks_revenue(session_factory, breaker, alerts):
    venue = FakeKalshi()
    execute(session_factory, breaker, alerts, context=replace(PAPER, mode="live"), executor=_live(venue, alerts),
            settings=LIVE_SETTINGS)
    venue.settlements = [tm.Settlement(TICKER, "EV", "yes", D(25), D("11.50"), D(0), D(0), 2400, NOW, D(0))]
    venue.fills.clear()  # settled positions disappear from the venue's position list
    report = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW, venue=venue)
    assert report.settled == {TICKER: D("13.00")}  # 25 - (11.50 + 0.50)
    assert report.mismatches == [f"{TICKER}: settlement revenue 24, we expected 25"]
    assert breaker.status().state is BreakerState.OPEN


def test_bad_arguments_are_refused(session_factory, breaker):
    with pytest.raises(ValueError, match="venue"):
        reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW)
    with pytest.raises(ValueError, match="mode"):
        reconcile(mode="demo", sessions=session_factory, breaker=breaker, as_of=NOW)


def test_an_execution_its_process_died_in_is_hedged_flagged_and_alerted_once(session_factory, breaker, alerts):
    """kill -9 between the legs of an arbitrage: leg 0 filled, leg 1 claimed and never answered. The
    next reconciliation closes leg 1 and used to leave leg 0 one-legged with no hedge and no alert."""
    from arb_pipeline.storage.models import HedgeInstruction
    from arb_pipeline_tests.execution.factories import DRAW_TICKER, three_way_opportunity, three_way_snapshot

    snapshot = three_way_snapshot()

    class DiesOnTheSecondLeg(PaperExecutor):
        def place(self, *, ticker, **kw):
            if ticker == DRAW_TICKER:
                raise Crash()  # the process is killed while this order is on the wire
            return super().place(ticker=ticker, **kw)

    with pytest.raises(Crash):
        execute_opportunities([three_way_opportunity()], context=PAPER, sessions=session_factory, breaker=breaker,
                              settings=Settings(_env_file=None), alert=lambda *a: alerts.append(a),
                              snapshot=snapshot, executor=DiesOnTheSecondLeg(PaperExecutor.from_snapshot(snapshot).markets),
                              clock=lambda: NOW)
    soon = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW + timedelta(seconds=5))
    assert soon.pending and soon.unfinished == []  # leg 1 may still be its sender's: nothing is decided yet
    later = NOW + timedelta(seconds=61)
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=later)
    assert len(report.completed) == 1 and len(report.unfinished) == 1 and report.mismatches == []
    (one_leg,) = [a for a in alerts if a[3].startswith("one-leg:")]
    assert one_leg[0] == "critical" and "ONE-LEGGED" in one_leg[2] and "found by reconciliation" in one_leg[2]
    with session_scope(session_factory) as s:
        assert [o.status for o in s.scalars(select(Order).order_by(Order.leg_index))] == ["filled", "unfilled"]
        hedges = {h.leg_index: h for h in s.scalars(select(HedgeInstruction))}
        assert set(hedges) == {1, 2} and hedges[1].bookmaker == "any"  # the draw replaced, West Ham sized on leg 0
    again = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=later + timedelta(seconds=60))
    assert again.unfinished == [] and len([a for a in alerts if a[3].startswith("one-leg:")]) == 1


def test_live_balance_is_reconciled_against_the_ledger_and_a_mismatch_is_alerted(session_factory, breaker, alerts):
    venue = FakeKalshi()
    execute(session_factory, breaker, alerts, context=replace(PAPER, mode="live"), executor=_live(venue, alerts),
            settings=LIVE_SETTINGS)
    first = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW, venue=venue)
    assert first.balance.startswith("baseline: venue cash 100000")
    same = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW + timedelta(minutes=5),
                     venue=venue)
    assert "agrees with the ledger" in same.balance and not [a for a in alerts if "balance" in a[1]]
    venue.balance -= D("5")  # money left the account that no fill, fee or settlement explains
    off = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW + timedelta(minutes=10),
                    venue=venue)
    assert "moved -5" in off.balance
    assert [a for a in alerts if a[1] == "balance mismatch: Kalshi cash vs the ledger" and a[0] == "critical"]


def test_a_market_settled_at_a_value_pays_it_in_paper(session_factory, breaker, alerts):
    execute(session_factory, breaker, alerts)  # paper: 25 YES for 11.84 incl. fees
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW,
                       market_results=lambda tickers: {t: "0.3710" for t in tickers})
    assert report.settled == {TICKER: D("-2.57")}  # floor(25 x 0.371) = 9.27 - 11.84
    assert report.results == {TICKER: "0.371"} and report.open_exposure == 0


def test_a_market_settled_at_a_value_pays_what_the_venue_paid_in_live(session_factory, breaker, alerts):
    venue = FakeKalshi()
    execute(session_factory, breaker, alerts, context=replace(PAPER, mode="live"), executor=_live(venue, alerts),
            settings=LIVE_SETTINGS)
    venue.settlements = [tm.Settlement(TICKER, "EV", "scalar", D(25), D("11.50"), D(0), D(0), 928, NOW, D(0))]
    venue.fills.clear()
    report = reconcile(mode="live", sessions=session_factory, breaker=breaker, as_of=NOW, venue=venue)
    assert report.settled == {TICKER: D("-2.72")}  # the venue paid 9.28: 9.28 - 12.00
    assert report.mismatches == []


def test_a_venue_result_that_is_not_one_leaves_the_market_unsettled_and_says_where(session_factory, breaker, alerts):
    execute(session_factory, breaker, alerts)
    with pytest.raises(ValueError, match=f"the venue's result of {TICKER}"):
        reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=NOW,
                  market_results=lambda tickers: {t: "1.5" for t in tickers})


def test_the_venues_scalar_results_are_read_as_their_settlement_value(tmp_path):
    """`kalshi_market_results` on markets as Kalshi sends them (the bundled sample's, finalized three ways)."""
    import json
    from importlib import resources

    from arb_pipeline.connectors.kalshi.models import parse_market
    from arb_pipeline.services.reconcile import kalshi_market_results

    events = json.loads((resources.files("arb_pipeline") / "data/sample_snapshot/kalshi_events.json").read_text())
    sample = events["events"][0]["markets"][0]
    finalized = {"A": ("yes", None), "B": ("scalar", "0.4500"), "C": ("scalar", "1.7"), "D": ("", None)}
    markets = [parse_market({**sample, "ticker": t, "status": "finalized", "result": result,
                             "settlement_value_dollars": value}) for t, (result, value) in finalized.items()]
    markets.append(parse_market({**sample, "ticker": "E", "status": "determined", "result": "no"}))

    class Venue:  # answers GET /markets?tickers=... with the markets above
        def iter_markets(self, tickers):
            return [m for m in markets if m.ticker in tickers.split(",")]

    assert kalshi_market_results(Venue(), ["A", "B", "C", "D", "E"]) == {"A": "yes", "B": "0.45"}

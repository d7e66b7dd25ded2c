"""The real scan job, live against the simulated venue with faults on - never silently one-legged.

`run_scan_job` (the path `arb-pipeline run` takes) in live mode against the simulator, with the
simulator's faults switched on the way they hit in the field:

1. a market-data 5xx storm (every GET /events fails) - the captures fail, their HTTP attempts reach
   the breaker's API error rate and trip it, and the next cycle places nothing;
2. after a person resets the breaker, a delayed order endpoint (every order answers seconds late)
   and zero fills (`no_fill`: the liquidity is gone when the order arrives) on the second leg of a
   two-Kalshi-leg arbitrage and on a one-leg arbitrage;
3. a short TTL with the same delay: later orders go stale between detection and their send.

It ends by counting orders, fills and hedge instructions in the database: every filled leg is
hedged, unwound, or flagged and alerted; the ledger agrees with the venue; every order is final.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from arb_pipeline.defs.runner import build_resources, run_scan_job
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.models import Alert, HedgeInstruction, OpportunityRecord, Order

pytestmark = pytest.mark.slow

ORDER_DELAY_S = 2.0
ORDERS_PATH = "/trade-api/v2/portfolio/events/orders"


@pytest.fixture
def sim():
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    # the wall clock (captures are fresh), but no market move during the test (tick_s): the windows
    # injected stay as injected, whatever the machine's speed
    scenario = ScenarioConfig(seed=13, live_clock=True, games_per_league=2, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0, window_lifetime_s=600.0, tick_s=3600.0)
    with start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None)) as handle:
        yield handle


@pytest.fixture
def live(sim, db_url, engine, tmp_path, monkeypatch):
    """Live mode pointed at the simulator (its demo credentials, as `launch.headless` sets them)."""
    for name, value in {"ARB_DATA_DIR": str(tmp_path), "ARB_MODE": "live", "KALSHI_API_KEY_ID": sim.key_id,
                        "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode("ascii"),
                        "KALSHI_BASE_URL": sim.kalshi_base_url, "ODDS_API_BASE_URL": sim.odds_base_url,
                        "ODDS_API_KEY": sim.odds_api_key, "ARB_OPPORTUNITY_TTL_S": "60"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield build_resources(database_url=db_url, source="live", kalshi_base_url=sim.kalshi_base_url,
                          odds_api_base_url=sim.odds_base_url, mode="live")
    get_settings.cache_clear()


def scheduled(sim, league):
    return [s.game for s in sim.scenario.states.values() if s.game.code == league and s.phase == "scheduled"]


def test_faults_never_leave_a_filled_leg_silent(sim, live, monkeypatch):
    # 1. market-data 5xx storm: two captures fail; their attempts trip the breaker's API error rate
    sim.faults.set("error_burst", venue="kalshi", path_prefix="/trade-api/v2/events", status=503, count=None)
    storm = [run_scan_job(live) for _ in range(2)]
    sim.faults.clear()
    assert not any(run.success for run in storm) and all("capture_market_snapshot" in run.error for run in storm)
    breaker = live["circuit_breaker"].breaker()
    status = breaker.status()
    assert status.state.value == "open" and "API error rate" in status.reason
    epl = scheduled(sim, "EPL")[0]
    sim.scenario.inject_arbitrage(event_ticker=epl.event_ticker, outcome="home", edge=Decimal("0.03"))
    blocked = run_scan_job(live)
    assert blocked.success, blocked.error
    assert blocked.metadata["executed_orders"]["orders_sent"] == 0
    assert "API error rate" in blocked.metadata["executed_orders"]["preview"]
    breaker.reset("pytest")  # a person looked at the storm

    # 2. a delayed order endpoint and zero fills: leg 1 of a two-leg arbitrage, and a one-leg arbitrage
    sim.scenario.inject_arbitrage(event_ticker=epl.event_ticker, outcome="draw", edge=Decimal("0.03"))
    nba = sim.scenario.inject_arbitrage(event_ticker=scheduled(sim, "NBA")[0].event_ticker, edge=Decimal("0.03"))
    sim.scenario.inject_arbitrage(event_ticker=scheduled(sim, "NHL")[0].event_ticker, edge=Decimal("0.03"))
    sim.faults.set("no_fill", ticker=epl.market_ticker("draw"), count=1)
    sim.faults.set("no_fill", ticker=nba["market_ticker"], count=1)
    sim.faults.set("slow", venue="kalshi", path_prefix=ORDERS_PATH, delay_s=ORDER_DELAY_S)
    faulty = run_scan_job(live)
    assert faulty.success, faulty.error
    assert faulty.metadata["executed_orders"]["orders_sent"] >= 3

    # 3. the same delay under a 3 s TTL: three fresh one-leg arbitrages, each order answered 2 s late - the
    # third cannot leave within 3 s of detection whatever the machine's speed, and is never sent
    with live["database"].session() as session:
        before = {o.client_order_id for o in session.scalars(select(Order))}
    monkeypatch.setenv("ARB_OPPORTUNITY_TTL_S", "3")
    get_settings.cache_clear()
    for game in (scheduled(sim, "MLB")[0], scheduled(sim, "NFL")[0], scheduled(sim, "NHL")[1]):
        sim.scenario.inject_arbitrage(event_ticker=game.event_ticker, edge=Decimal("0.03"))
    hurried = run_scan_job(live)
    assert hurried.success, hurried.error
    reasons = str(hurried.metadata.get("executed_orders", {}).get("skipped")) + str(hurried.observations)
    assert "stale" in reasons
    with live["database"].session() as session:
        late = [(o.sent_at - r.detected_at).total_seconds() for o, r in session.execute(
            select(Order, OpportunityRecord).join(OpportunityRecord, Order.opportunity_id == OpportunityRecord.id))
                if o.client_order_id not in before and o.sent_at is not None]
    assert all(age <= 3 + 1 for age in late), late  # the TTL is read just before the intent and claim are written
    sim.faults.clear()
    reconciled = run_scan_job({k: live[k] for k in ("execution", "circuit_breaker")}, job_name="reconcile_job")
    assert reconciled.success and reconciled.metadata["reconciliation"]["mismatches"] == []  # ledger == venue

    with live["database"].session() as session:
        orders = session.scalars(select(Order).order_by(Order.sent_at)).all()
        alerts = {a.dedup_key: a for a in session.scalars(select(Alert))}
        hedges = session.scalars(select(HedgeInstruction)).all()
        assert all(o.status in ("filled", "partially_filled", "unfilled", "failed") for o in orders)  # all final
        sent = [o for o in orders if o.sent_at is not None]
        # zero fills are recorded as unfilled orders - the step used to crash on the first one
        unfilled = {o.ticker for o in sent if o.status == "unfilled" and o.fill_count == 0 and o.purpose == "entry"}
        assert {epl.market_ticker("draw"), nba["market_ticker"]} <= unfilled
        # the clock is read as each order leaves: the delayed endpoint spaces them out, never frozen
        gaps = [(b.sent_at - a.sent_at).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
        assert all(gap >= ORDER_DELAY_S * 0.9 for gap in gaps), gaps
        assert all(o.created_at <= o.sent_at for o in sent)
        for opportunity in session.scalars(select(OpportunityRecord)):
            mine = [o for o in orders if o.opportunity_id == opportunity.id]
            entries = {o.leg_index: o for o in mine if o.purpose == "entry"}
            if not entries or all((o.fill_count or 0) == 0 for o in entries.values()):
                continue
            assert all((o.sent_at - opportunity.detected_at).total_seconds() <= 60 for o in entries.values())
            legs = opportunity.payload["legs"]
            kalshi = {i: Decimal(leg["size"]) for i, leg in enumerate(legs) if leg["venue"] == "kalshi"}
            books = {i for i, leg in enumerate(legs) if leg["venue"] == "sportsbook"}
            sold = {i: sum((o.fill_count or 0 for o in mine if o.purpose == "unwind" and o.leg_index == i),
                           Decimal(0)) for i in kalshi}
            held = {i: (entries[i].fill_count if i in entries else Decimal(0)) - sold[i] for i in kalshi}
            ratios = {held[i] / kalshi[i] for i in kalshi}
            instructions = {h.leg_index for h in hedges if h.opportunity_id == opportunity.id}
            diverged = len({(entries[i].fill_count if i in entries else 0) / kalshi[i] for i in kalshi}) > 1
            if diverged:  # unwound or flagged - and alerted, once
                assert f"one-leg:{opportunity.id}" in alerts, opportunity.id
            if any(held.values()):  # whatever is still held is covered by instructions
                assert books <= instructions, (opportunity.id, held, instructions)
                if len(ratios) > 1:  # a leg holds too few: its outcome is replaced at a book, flagged
                    short = {i for i in kalshi if held[i] / kalshi[i] < max(ratios)}
                    assert short <= instructions and "ONE-LEGGED" in alerts[f"one-leg:{opportunity.id}"].body
        diverged_ids = [k for k in alerts if k.startswith("one-leg:")]
        assert diverged_ids, "the zero fill on the second leg diverged the two-leg arbitrage"
    assert timedelta(0) <= max((o.sent_at for o in sent), default=None) - min(o.sent_at for o in sent)

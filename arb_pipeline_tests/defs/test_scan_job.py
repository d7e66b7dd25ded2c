"""End to end: the scan job in process, on the recorded sample snapshot and on the live simulator.

Proves the Money rules at the Dagster layer: an arbitrage injected into the simulator becomes exactly
one paper order per Kalshi leg and a hedge instruction, launched from the scan sensor's own run
request; a scan run twice never duplicates an order; a tripped breaker places none and says why; a
backfill, a re-execution or a manual materialization places none; a stage that breaks its contract
stops everything downstream; a history backfill places none.

Every test runs twice, with the application database on SQLite and on PostgreSQL (`db_url` from
`storage/db_fixtures.py`, via this folder's conftest: a fresh schema, emptied before each test).
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest
from sqlalchemy import func, select

from arb_pipeline.defs.ingest.resources import Capture, MarketDataResource
from arb_pipeline.defs.runner import build_resources, run_scan_job
from arb_pipeline.defs.shared.resources import SnapshotStoreResource
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.models import GameMark, HedgeInstruction, OpportunityRecord, Order

SCAN_STAGES = ("kalshi_markets", "sportsbook_odds", "resolved_events", "implied_probabilities", "arb_opportunities")


@pytest.fixture
def resources(db_url, engine):  # `engine` empties every table first
    return build_resources(database_url=db_url, source="recorded", snapshot_dir=str(SAMPLE_SNAPSHOT_DIR))


def orders_in_db(resources) -> int:
    with resources["database"].session() as session:
        return session.scalar(select(func.count()).select_from(Order))


def sensor_run_request() -> dg.RunRequest:
    from arb_pipeline.defs.ingest.sensors import build_scan_sensor
    from arb_pipeline.defs.jobs import scan_job

    with dg.instance_for_test() as instance:
        request = build_scan_sensor(scan_job, interval_s=10, clock=lambda: 1_795_000_000.0)(
            dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest)
    return request


@pytest.fixture(scope="module")
def sim():
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    # live clock: a capture is as fresh as the wall clock the execution TTL is measured on;
    # no random windows: the arbitrage on the injected event is the injected one
    scenario = ScenarioConfig(seed=13, live_clock=True, games_per_league=2, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0)
    with start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None)) as handle:
        yield handle


@pytest.fixture
def sim_resources(sim, db_url, engine, tmp_path, monkeypatch):
    """The scan job's resources on the simulator (its demo credentials, as `launch.headless` sets them)."""
    for name, value in {"ARB_DATA_DIR": str(tmp_path), "ARB_MODE": "paper", "KALSHI_API_KEY_ID": sim.key_id,
                        "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode("ascii"),
                        "ODDS_API_KEY": sim.odds_api_key}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield build_resources(database_url=db_url, source="simulator", kalshi_base_url=sim.kalshi_base_url,
                          odds_api_base_url=sim.odds_base_url)
    get_settings.cache_clear()


def test_an_injected_arbitrage_becomes_one_paper_order_per_kalshi_leg_and_a_hedge(sim, sim_resources):
    from arb_pipeline.definitions import defs
    from arb_pipeline.defs.ingest.sensors import SCAN_SENSOR

    injected = sim.scenario.inject_arbitrage(edge=Decimal("0.03"))
    with dg.instance_for_test() as instance:
        # the project's own sensor, evaluated as the daemon does; the run carries its run key and tags
        tick = defs.get_sensor_def(SCAN_SENSOR).evaluate_tick(dg.build_sensor_context(instance=instance,
                                                                                      definitions=defs))
        (request,) = tick.run_requests
        run = run_scan_job(sim_resources, instance=instance,
                           tags={**request.tags, "dagster/run_key": request.run_key})
        assert instance.get_run_by_id(run.run_id).tags["arb/launched_by"] == "scan_sensor"
    assert run.success, run.error
    assert not [c for c in run.failed_checks if c.endswith("_schema")]
    meta = run.metadata["executed_orders"]
    assert meta["mode"] == "paper" and meta["orders_sent"] >= 1

    with sim_resources["database"].session() as session:
        on_event = [o for o in session.scalars(select(OpportunityRecord).where(
            OpportunityRecord.event_key == injected["event_ticker"])) if o.payload["kind"] == "arbitrage"]
        assert len(on_event) == 1, [o.opportunity_key for o in on_event]
        (opportunity,) = on_event
        legs = opportunity.payload["legs"]
        kalshi_legs = {i: leg["market"] for i, leg in enumerate(legs) if leg["venue"] == "kalshi"}
        book_legs = {i: leg["bookmaker"] for i, leg in enumerate(legs) if leg["venue"] == "sportsbook"}
        assert injected["market_ticker"] in kalshi_legs.values() and book_legs

        orders = session.scalars(select(Order).where(Order.opportunity_id == opportunity.id)).all()
        assert sorted(o.leg_index for o in orders) == sorted(kalshi_legs)  # exactly one order per Kalshi leg
        assert all(o.ticker == kalshi_legs[o.leg_index] for o in orders)
        assert {(o.mode, o.status) for o in orders} == {("paper", "filled")}
        assert all(o.fill_count > 0 and o.fills for o in orders)
        # stamped by the clock as each request left, not the step's start: after detection and after the
        # intent was written, within the TTL (sent_at used to be the step's frozen start, before created_at)
        ttl = get_settings().opportunity_ttl_s
        assert all(opportunity.detected_at <= o.created_at <= o.sent_at for o in orders)
        assert all((o.sent_at - opportunity.detected_at).total_seconds() <= ttl for o in orders)

        hedges = session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.opportunity_id == opportunity.id)).all()
        assert {h.leg_index: h.bookmaker for h in hedges} == book_legs  # one instruction per sportsbook leg
        assert {h.client_order_id for h in hedges} == {min(orders, key=lambda o: o.leg_index).client_order_id}
        assert all(h.status == "pending" and h.stake > 0 and h.worst_acceptable_odds for h in hedges)
        # nothing else was placed behind the asset's back: the DB holds exactly what it reported
        assert session.scalar(select(func.count()).select_from(Order)) == meta["orders_sent"]

        # every game of the scan is marked; the traded games' marks (what the orders read: the hedge
        # expiry, the ledger) were written before the orders, the other games' after them
        marks = session.scalars(select(GameMark)).all()
        traded = {o.event_key for o in session.scalars(select(OpportunityRecord))}
        assert injected["event_ticker"] in traded
        assert {m.event_ticker for m in marks} > traded
        assert all(h.expires_at is not None for h in hedges)
        first_other = min(m.id for m in marks if m.event_ticker not in traded)
        assert all(m.id < first_other for m in marks if m.event_ticker in traded)


def test_a_scan_places_paper_orders_and_a_second_scan_never_duplicates_them(resources):
    first = run_scan_job(resources, tags=dict(sensor_run_request().tags))  # exactly what the sensor launches
    assert first.success, first.error
    assert set(SCAN_STAGES) | {"executed_orders"} <= set(first.materialized)
    assert first.failed_checks == ()
    assert len(first.checks_evaluated) == 11  # every scan-stage check ran (5 blocking + 5 WARN + orders)
    sent = first.metadata["executed_orders"]["orders_sent"]
    assert sent > 0 and first.metadata["executed_orders"]["mode"] == "paper"
    placed = orders_in_db(resources)
    assert placed == sent

    second = run_scan_job(resources)
    assert second.success, second.error
    assert second.metadata["kalshi_markets"]["snapshot_id"] == first.metadata["kalshi_markets"]["snapshot_id"]
    assert second.metadata["executed_orders"]["orders_sent"] == 0
    assert second.metadata["executed_orders"]["orders_not_sent"] >= 1
    assert "already sent" in second.metadata["executed_orders"]["preview"]
    assert orders_in_db(resources) == placed


def test_when_the_worker_is_the_trader_the_scan_places_no_order_and_says_why(resources, monkeypatch):
    monkeypatch.setenv("ARB_TRADER", "worker")
    get_settings.cache_clear()
    try:
        run = run_scan_job(resources, tags=dict(sensor_run_request().tags))
    finally:
        get_settings.cache_clear()
    assert run.success, run.error
    assert "executed_orders" not in run.materialized
    assert run.observations["executed_orders"]["refused"] == \
        "ARB_TRADER=worker: only the worker may place orders, not the scan"
    assert orders_in_db(resources) == 0


def test_a_tripped_breaker_places_no_order_and_says_why(resources):
    resources["circuit_breaker"].breaker().trip("desk closed for the test", "pytest")
    run = run_scan_job(resources)
    assert run.success, run.error
    meta = run.metadata["executed_orders"]
    assert meta["orders_sent"] == 0 and meta["orders_not_sent"] > 0
    assert "manual kill switch" in meta["preview"] and "desk closed for the test" in meta["preview"]
    assert "open" in meta["breaker"]
    assert orders_in_db(resources) == 0


@pytest.mark.parametrize(
    "tags,why",
    [
        ({"arb/launched_by": "scan_sensor", "dagster/backfill": "bf-1"}, "backfill run bf-1"),
        ({"arb/launched_by": "scan_sensor", "dagster/parent_run_id": "r-0"}, "re-execution of run r-0"),
        ({"arb/launched_by": "launchpad"}, "not launched by the live scan"),
    ],
    ids=["backfill", "re-execution", "manual"],
)
def test_backfills_reexecutions_and_manual_runs_place_no_order(resources, tags, why):
    run = run_scan_job(resources, tags=tags)
    assert run.success, run.error
    assert "arb_opportunities" in run.materialized and run.metadata["arb_opportunities"]["opportunities"] > 0
    assert "executed_orders" not in run.materialized
    assert why in run.observations["executed_orders"]["refused"]
    assert orders_in_db(resources) == 0


class CorruptOdds(MarketDataResource):
    """The recorded sample with one sportsbook price below 1.0 (impossible decimal odds)."""

    def capture(self, on_api_calls=None, previous=None) -> Capture:
        good = super().capture(on_api_calls)
        quotes = list(good.snapshot.quotes)
        quotes[0] = replace(quotes[0], decimal_odds=Decimal("0.95"))
        return replace(good, snapshot=replace(good.snapshot, quotes=tuple(quotes)))


def test_a_corrupted_stage_fails_its_blocking_check_and_nothing_downstream_runs(resources):
    market_data = resources["market_data"]
    resources["market_data"] = CorruptOdds(source="recorded", snapshot_dir=market_data.snapshot_dir)
    run = run_scan_job(resources)
    assert not run.success
    assert "sportsbook_odds:sportsbook_odds_schema" in run.failed_checks
    assert {"kalshi_markets", "sportsbook_odds"} <= set(run.materialized)
    assert not {"resolved_events", "implied_probabilities", "arb_opportunities", "executed_orders"} & set(
        run.materialized)
    assert not [c for c in run.checks_evaluated if c.split(":")[0] in {"resolved_events", "arb_opportunities"}]
    assert orders_in_db(resources) == 0


def test_a_history_backfill_replays_stored_snapshots_and_places_no_order(resources, tmp_path, monkeypatch):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))  # the data-quality reports are written there
    get_settings.cache_clear()
    snapshot_store: SnapshotStoreResource = resources["snapshot_store"]
    capture = resources["market_data"].capture()
    snapshot_store.append(capture.snapshot, capture.payloads)
    day = capture.snapshot.captured_at.date().isoformat()
    with dg.instance_for_test() as instance:
        run = run_scan_job(
            {k: resources[k] for k in ("snapshot_store", "scan_config")},
            instance=instance,
            job_name="history_replay_job",
            partition_key=day,
            tags={"dagster/backfill": "bf-history", "arb/launched_by": "scan_sensor"},
            # the day's partition exists from the day after the capture, whatever today's date is
            partitions_as_of=capture.snapshot.captured_at + timedelta(days=1),
        )
    assert run.success, run.error
    assert set(run.materialized) == {"history_resolved_events", "history_implied_probabilities",
                                     "history_opportunities"}
    assert run.failed_checks == ()
    assert {"history_resolved_events:history_resolved_events_schema",
            "history_implied_probabilities:history_implied_probabilities_schema",
            "history_opportunities:history_opportunities_schema"} <= set(run.checks_evaluated)
    assert run.metadata["history_opportunities"]["snapshots_replayed"] == 1
    assert run.metadata["history_opportunities"]["dagster/row_count"] > 0
    assert orders_in_db(resources) == 0
    # the production IO manager path: each day's values pickled per asset and partition (defs/shared/io.py)
    stored = tmp_path / "data" / "dagster_io" / "history_opportunities" / f"{day}.pkl"
    assert len(pd.read_pickle(stored)) == run.metadata["history_opportunities"]["dagster/row_count"]


def test_the_history_replay_reports_what_if_pnl_side_by_side_and_places_no_order(resources, tmp_path, monkeypatch):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    capture = resources["market_data"].capture()
    resources["snapshot_store"].append(capture.snapshot, capture.payloads)
    variants = ["ARB_MIN_PROFIT=3", "shin + value: ARB_DEVIG_METHOD=shin; ARB_TRADE_VALUE=true"]
    with dg.instance_for_test() as instance:
        run = run_scan_job(
            {k: resources[k] for k in ("snapshot_store", "scan_config")}, instance=instance,
            job_name="history_replay_job", partition_key=capture.snapshot.captured_at.date().isoformat(),
            tags={"dagster/backfill": "bf-what-if"},
            run_config={"ops": {"replay_market_history": {"config": {"what_if": variants}}}},
            partitions_as_of=capture.snapshot.captured_at + timedelta(days=1))
    assert run.success, run.error
    meta = run.metadata["history_opportunities"]
    days = {d["variant"]: d for d in meta["what_if_json"]}
    assert list(days) == ["as configured", "ARB_MIN_PROFIT=3", "shin + value"]
    assert Decimal(days["as configured"]["simulated_pnl"]) == Decimal("2.59") == Decimal(meta["simulated_pnl"])
    assert Decimal(days["ARB_MIN_PROFIT=3"]["simulated_pnl"]) == 0
    assert days["shin + value"]["taken_value"] == 1 and Decimal(days["shin + value"]["simulated_pnl"]) > Decimal("2.59")
    assert "| shin + value |" in meta["what_if"]
    assert orders_in_db(resources) == 0


def test_reconciliation_after_a_paper_scan_finds_the_ledger_consistent(resources):
    scan = run_scan_job(resources)
    assert scan.success, scan.error
    # reconcile_job also materializes positions and pnl (both legs), which read the stored scan
    keys = ("execution", "circuit_breaker", "market_data", "snapshot_store", "scan_config", "database")
    run = run_scan_job({k: resources[k] for k in keys if k in resources}, job_name="reconcile_job")
    assert run.success, run.error
    meta = run.metadata["reconciliation"]
    assert meta["mode"] == "paper" and meta["mismatches"] == []
    assert "closed" in meta["breaker"]
    assert {"positions", "pnl"} <= set(run.materialized) and run.metadata["pnl"]["mode"] == "paper"
    assert run.metadata["positions"]["games_open"] == 1  # the sample's arbitrage: its Kalshi leg is open


def test_live_mode_without_credentials_or_live_data_refuses_loudly(resources):
    from arb_pipeline.defs.execution.resources import ExecutionResource

    resources["execution"] = ExecutionResource(mode="live")
    run = run_scan_job(resources)
    assert not run.success
    assert "executed_orders" not in run.materialized
    assert "execution refused" in (run.error or "")
    assert "live orders need the live source" in run.error
    assert orders_in_db(resources) == 0


def test_mapping_decisions_stored_in_the_database_reach_the_scan_and_the_history(resources):
    """`arb-pipeline mapping reject … --store db` changed the CLI scan but not scan_job or the history
    replay (ScanConfigResource skipped the database): one function now builds every caller's config."""
    from datetime import UTC, datetime

    from arb_pipeline.services.mappings import configured_scan
    from arb_pipeline.services.scan import scan_directory
    from arb_pipeline.storage.repositories import MappingRepository

    manual = {"arb/launched_by": "launchpad"}  # no orders: only the resolution is looked at
    before = run_scan_job(resources, tags=manual)
    assert before.success, before.error
    ticker = scan_directory(SAMPLE_SNAPSHOT_DIR, configured_scan(get_settings())).resolution.rows[0].kalshi_market
    with resources["database"].session() as session:
        MappingRepository(session).add_override(kalshi_ticker=ticker, action="reject", who="pytest",
                                                why="wrong game", at=datetime(2026, 11, 24, tzinfo=UTC))
    after = run_scan_job(resources, tags=manual)
    assert after.success, after.error
    assert after.metadata["resolved_events"]["resolved"] == before.metadata["resolved_events"]["resolved"] - 1
    assert ticker in after.metadata["resolved_events"]["unresolved_preview"]

    capture = resources["market_data"].capture()
    day = capture.snapshot.captured_at.date().isoformat()
    with dg.instance_for_test() as instance:
        history = run_scan_job({k: resources[k] for k in ("snapshot_store", "scan_config")}, instance=instance,
                               job_name="history_replay_job", partition_key=day,
                               partitions_as_of=capture.snapshot.captured_at + timedelta(days=1))
    assert history.success, history.error
    replayed = history.metadata["history_resolved_events"]
    rows, coverage = replayed["dagster/row_count"], replayed["coverage"]
    resolved_before = before.metadata["resolved_events"]["resolved"]
    assert round(coverage * rows) == resolved_before - 1  # the stored decision applies to the replay too


def test_a_failing_warn_check_in_a_stage_step_does_not_stop_the_orders(resources, monkeypatch):
    from arb_pipeline.defs.pricing import checks as pricing_checks

    monkeypatch.setattr(pricing_checks, "OVERROUND_MAX", -1.0)  # every priced market now "outside the band"
    run = run_scan_job(resources, tags=dict(sensor_run_request().tags))
    assert run.success, run.error
    assert run.failed_checks == ("implied_probabilities:implied_probabilities_overround_band",)
    assert {"arb_opportunities", "executed_orders"} <= set(run.materialized)
    assert run.metadata["executed_orders"]["orders_sent"] > 0 and orders_in_db(resources) > 0


def test_the_orders_check_is_answered_when_nothing_is_placed(resources):
    """A check left PLANNED holds check_failure_alerts' cursor back for PLANNED_GRACE_S: executed_orders
    answers its check also when it materializes nothing."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    key = dg.AssetCheckKey(dg.AssetKey("executed_orders"), "executed_orders_schema")
    with dg.instance_for_test() as instance:
        run = run_scan_job(resources, instance=instance, tags={"arb/launched_by": "launchpad"})
        assert run.success, run.error
        assert "executed_orders" not in run.materialized
        assert "executed_orders:executed_orders_schema" in run.checks_evaluated
        assert len(run.checks_evaluated) == 11 and run.failed_checks == ()
        (record,) = instance.event_log_storage.get_asset_check_execution_history(key, limit=5)
        assert record.run_id == run.run_id and record.status == AssetCheckExecutionRecordStatus.SUCCEEDED
        evaluation = record.event.dagster_event.event_specific_data
        assert evaluation.passed and evaluation.description.startswith("nothing to check: no order frame: ")
        assert "not launched by the live scan" in evaluation.description

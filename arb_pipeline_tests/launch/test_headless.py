"""Headless mode: the scan job N times in process, without the UI, bounded, one report per cycle."""

import pytest

from arb_pipeline.launch.headless import run_cycles
from arb_pipeline.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(ARB_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}", ARB_MODE="paper")


def test_two_cycles_on_the_sample_place_each_order_once(settings):
    first, second = run_cycles(2, settings=settings, source="sample")
    assert first.success and second.success, (first.error, second.error)
    assert (first.cycle, second.cycle) == (1, 2)
    assert first.markets > 0 and first.opportunities > 0
    assert first.snapshot_id == second.snapshot_id  # the same recorded capture is stored once
    assert first.orders_sent > 0
    assert second.orders_sent == 0 and second.orders_not_sent > 0
    assert first.failed_checks == () and second.failed_checks == ()
    assert "orders sent" in first.line()


def test_bounds_and_sources_are_checked(settings):
    with pytest.raises(ValueError, match="at least 1"):
        run_cycles(0, settings=settings, source="sample")
    with pytest.raises(ValueError, match="source must be one of"):
        run_cycles(1, settings=settings, source="carrier-pigeon")
    with pytest.raises(ValueError, match="snapshot_dir"):
        run_cycles(1, settings=settings, source="recorded")


def test_a_cycle_against_the_simulator(settings):
    from arb_pipeline.connectors.kalshi.client import KalshiClient

    if not hasattr(KalshiClient, "fetch_exchange_status_payload"):
        pytest.skip("services.ingest needs KalshiClient.fetch_*_payload (connectors work in progress)")
    from arb_pipeline.sim.server import SimConfig, start_simulator

    with start_simulator(SimConfig(seed=11)) as handle:
        (report,) = run_cycles(1, settings=settings, source="simulator", sim_handle=handle)
    assert report.success, report.error
    assert report.markets > 0 and report.snapshot_id is not None
    assert not [c for c in report.failed_checks if c.endswith("_schema")]


def test_every_cycle_reconciles_orders_left_in_flight(settings):
    """An order left `sent` by a process that died (kill -9 mid-order) is closed by the next run's
    reconciliation instead of blocking a half-open breaker's probe forever."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.migrate import upgrade
    from arb_pipeline.storage.repositories import OrderIntent, OrderRepository

    # reconciliation runs on the wall clock of the process (the run's "now"): stamp the dead process's order
    # long before any date this suite runs on (CI also runs it a year ahead), not relative to a fixed day
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    upgrade(settings.effective_database_url)
    with session_scope(session_factory(get_engine(settings.effective_database_url))) as s:
        repo = OrderRepository(s)
        repo.record_intent(OrderIntent("died", "opp", 0, "paper", "KX-T", "bid", Decimal(5), Decimal("0.45")),
                           at=long_ago)
        repo.claim_for_send("died", long_ago)
    (report,) = run_cycles(1, settings=settings, source="sample")
    assert report.reconciled == "reconciled: 1 in-flight order(s) completed, 0 pending"
    assert report.reconciled in report.line()
    with session_scope(session_factory(get_engine(settings.effective_database_url))) as s:
        assert OrderRepository(s).require("died").status == "unfilled"

"""The worker in Dagster: its decision records become observations of executed_orders (stored by a
real instance), and its freshness check fails without a fresh heartbeat and passes with one."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from arb_pipeline.defs.execution.assets import EXECUTED_ORDERS
from arb_pipeline.defs.shared.resources import AppDatabaseResource
from arb_pipeline.defs.worker.definitions import (
    WORKER_ALIVE_CHECK,
    WORKER_ASSET,
    kalshi_ws_worker_alive,
    worker_records,
)
from arb_pipeline.services.worker import WORKER_BOOKS, WORKER_FEED_AGE, WORKER_HEARTBEAT, WorkerRecords
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.metrics import MetricRepository


@pytest.fixture
def env(tmp_path, monkeypatch, db_url, engine):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ARB_TRADER", "worker")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def heartbeat(engine, *, age_s: float, feed_age_s: float = 0.5, stale: float = 0.0) -> None:
    with session_scope(engine) as session:
        repo = MetricRepository(session)
        repo.set_gauge(WORKER_HEARTBEAT, datetime.now(UTC).timestamp() - age_s)
        repo.set_gauge(WORKER_FEED_AGE, feed_age_s)
        repo.set_gauge(WORKER_BOOKS, 20.0, {"state": "held"})
        repo.set_gauge(WORKER_BOOKS, stale, {"state": "stale"})


def decision(n: int, outcome: str = "executed") -> dict:
    return {"type": "decision", "at": "2026-11-24T17:00:00+00:00", "event": f"EV-{n}", "trigger": "T",
            "lag_ms": 3.5, "found": 1, "kinds": ["arbitrage"], "outcome": outcome, "reason": "",
            "orders": [{"client_order_id": f"c{n}", "ticker": "T", "side": "yes", "status": "filled",
                        "fill_count": "10.00", "cost": "5.000000", "reason": ""}]}


def tick(instance, db_url, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"database": AppDatabaseResource(url=db_url)})
    return worker_records(context), context


def test_records_become_observations_and_the_cursor_moves_past_them(env, db_url, engine):
    records = WorkerRecords(env / "worker")
    records.append(decision(1))
    records.append(decision(2, "refused"))
    records.append({"type": "fill", "at": "2026-11-24T17:00:01+00:00", "trade_id": "t1", "order_id": "o1",
                    "client_order_id": "c1", "market_ticker": "T", "count_fp": "10.00"})
    heartbeat(engine, age_s=1)
    with dg.instance_for_test() as instance:
        result, context = tick(instance, db_url)
        observations = [e for e in result.asset_events if isinstance(e, dg.AssetObservation)]
        assert [o.metadata.get("event", o.metadata.get("record")).value for o in observations] == \
            ["EV-1", "EV-2", "fill"]
        assert observations[2].metadata["client_order_id"].value == "c1"
        assert all(o.asset_key == EXECUTED_ORDERS and o.metadata["trader"].value == "worker" for o in observations)
        assert observations[0].metadata["orders_sent"].value == 1
        (check,) = [e for e in result.asset_events if isinstance(e, dg.AssetCheckEvaluation)]
        assert (check.asset_key, check.check_name, check.passed) == (WORKER_ASSET, WORKER_ALIVE_CHECK, True)
        # nothing new: only the check again
        again, _ = tick(instance, db_url, cursor=context.cursor)
        assert [type(e) for e in again.asset_events] == [dg.AssetCheckEvaluation]
        # a real instance stores what the sensor returns: the observations show in executed_orders' history
        for event in observations:
            instance.report_runless_asset_event(event)
        stored = instance.fetch_observations(EXECUTED_ORDERS, limit=10).records
        assert len(stored) == 3


@pytest.mark.parametrize(("age_s", "feed_age_s", "stale", "why"), [
    (120.0, 0.5, 0.0, "no worker heartbeat"),
    (1.0, 600.0, 0.0, "feed is stale"),
    (1.0, 0.5, 3.0, "3 of 20 books are stale"),
])
def test_the_freshness_check_fails_with_the_reason(env, db_url, engine, age_s, feed_age_s, stale, why):
    heartbeat(engine, age_s=age_s, feed_age_s=feed_age_s, stale=stale)
    result = kalshi_ws_worker_alive(dg.build_asset_check_context(), AppDatabaseResource(url=db_url))
    assert result.passed is False and why in result.description


def test_a_worker_that_never_reported_fails_the_check(env, db_url, engine):
    result = kalshi_ws_worker_alive(dg.build_asset_check_context(), AppDatabaseResource(url=db_url))
    assert result.passed is False and "never reported" in result.description


def test_no_check_is_evaluated_while_the_scan_trades(env, db_url, engine, monkeypatch):
    monkeypatch.setenv("ARB_TRADER", "scan")
    get_settings.cache_clear()
    with dg.instance_for_test() as instance:
        result, _ = tick(instance, db_url)
    assert isinstance(result, dg.SkipReason) and "ARB_TRADER=scan" in result.skip_message

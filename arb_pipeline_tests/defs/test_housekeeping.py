"""The hourly housekeeping job: old scan runs and old market history, as at the schedule's tick."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import select

from arb_pipeline.defs.monitoring.housekeeping import PRUNE_JOB, prune_runs_job
from arb_pipeline.defs.shared.resources import AppDatabaseResource
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Snapshot
from arb_pipeline.storage.repositories.snapshots import SnapshotRepository
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

TICK = datetime(2026, 11, 30, 12, 17, tzinfo=UTC)


@pytest.fixture
def hourly_history(monkeypatch):
    monkeypatch.setenv("ARB_HISTORY_FULL_DAYS", "7")
    monkeypatch.setenv("ARB_HISTORY_THIN_INTERVAL_S", "3600")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_job_thins_market_history_as_at_its_schedule_tick(db_url, session_factory, hourly_history):
    old = TICK - timedelta(days=8)
    with session_scope(session_factory) as s:
        store = SnapshotRepository(s)
        ids = [store.append(captured_at=old + timedelta(minutes=m), source="simulator", stored_at=old,
                            payloads={"kalshi_events.json": "{}"}) for m in (0, 10, 20, 70)]
        fresh = store.append(captured_at=TICK - timedelta(days=1), source="simulator", stored_at=TICK,
                             payloads={"kalshi_events.json": "{}"})
    assert prune_runs_job.name == PRUNE_JOB
    with dg.instance_for_test() as instance:
        result = prune_runs_job.execute_in_process(
            instance=instance, resources={"database": AppDatabaseResource(url=db_url)},
            tags={"dagster/scheduled_execution_time": TICK.isoformat()})
    assert result.success
    with session_scope(session_factory) as s:  # one per hour of the old day, the fresh one untouched
        assert set(s.scalars(select(Snapshot.id))) == {ids[0], ids[3], fresh}

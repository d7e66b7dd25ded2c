"""The desk's app on a real database (SQLite and PostgreSQL), seeded through the real services.

`seeded` scans the bundled sample at its capture time, records the scan as the pipeline does
(`services.scans`) and executes its arbitrage in paper mode (`services.execute`): orders, fills, a
position and a pending hedge instruction exist, exactly as after a live scan.
"""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from arb_pipeline.api.app import create_app
from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
from arb_pipeline.services import scans
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
from arb_pipeline.settings import Settings, get_settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import SnapshotRepository
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

TOKEN = "desk-token-for-tests-0123456789"
CAPTURED = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
NOW = CAPTURED + timedelta(seconds=5)


@pytest.fixture
def make_settings(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))  # get_settings() users (alerts) stay in tmp
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()

    def make(**extra):
        values = {"ARB_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db_url,
                  "ARB_MAPPING_OVERRIDES": str(tmp_path / "overrides.yaml"), **extra}
        return Settings(_env_file=None, **values)

    yield make
    get_settings.cache_clear()


@pytest.fixture
def settings(make_settings):
    return make_settings(ARB_API_TOKEN=TOKEN)


@pytest.fixture
def app(settings, engine):  # `engine` empties every table first
    return create_app(settings, clock=lambda: NOW)


@pytest.fixture
def client(app):
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def sample():
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    return snapshot, scan(snapshot, ScanConfig.from_settings(Settings(_env_file=None)), snapshot.captured_at)


def seed(sessions, sample, settings):
    """What one live scan of the sample leaves in the database, through the pipeline's services."""
    snapshot, result = sample
    with session_scope(sessions) as session:
        snapshot_id = SnapshotRepository(session).append_directory(SAMPLE_SNAPSHOT_DIR, stored_at=CAPTURED)
    scans.record_capture(sessions, scans.capture_stats(snapshot, snapshot_id, quota_remaining=477), at=CAPTURED)
    scans.record_detection(sessions, snapshot_id, result.detection.opportunities, detected_at=CAPTURED, rejected=0)
    context = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=CAPTURED)
    breaker = CircuitBreaker(sessions, BreakerConfig(), alert=lambda *a: None, clock=lambda: CAPTURED)
    report = execute_opportunities(result.detection.opportunities, context=context, snapshot=snapshot,
                                   sessions=sessions, breaker=breaker, settings=settings, alert=lambda *a: None)
    assert report.orders_sent >= 1 and report.hedges, report
    return snapshot_id, report


@pytest.fixture
def seeded(app, sample, settings):
    return seed(app.state.sessions, sample, settings)

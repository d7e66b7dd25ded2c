"""Prometheus `/metrics`: the pipeline's metrics as seen from the API, whichever process produced them."""

import os
import re
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import sessionmaker

from arb_pipeline.api.metrics import DatabaseCollector
from arb_pipeline.storage.db import create_app_engine
from arb_pipeline_tests.api.conftest import NOW


def samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_ledger_breaker_quota_and_quote_ages(client, seeded, auth):
    got = samples(client)
    assert got[("arb_orders", (("mode", "paper"), ("status", "filled")))] == 1
    assert got[("arb_fills_total", (("mode", "paper"),))] >= 1
    assert got[("arb_filled_contracts_total", (("mode", "paper"),))] == 150
    assert got[("arb_breaker_state", (("breaker", "kalshi"), ("state", "closed")))] == 1
    assert got[("arb_odds_api_credits_remaining", ())] == 477
    assert got[("arb_quote_age_seconds", (("stat", "max"), ("venue", "sportsbook")))] > 0
    assert got[("arb_open_exposure_dollars", (("mode", "paper"),))] == 37.92
    assert got[("arb_unhedged_exposure_dollars", (("mode", "paper"),))] == 37.92  # its hedge is still pending
    assert got[("arb_hedges_pending", ())] == 1
    assert got[("arb_latest_scan_age_seconds", ())] == 5.0
    assert got[("arb_desk_database_up", ())] == 1

    client.post("/api/breaker/trip", json={"reason": "test", "who": "ops"}, headers=auth)
    got = samples(client)
    assert got[("arb_breaker_state", (("breaker", "kalshi"), ("state", "open")))] == 1
    assert got[("arb_breaker_manual", (("breaker", "kalshi"),))] == 1
    assert any(name == "arb_api_request_duration_seconds_count" for name, _ in got)  # the API's own


def test_a_scan_in_another_process_feeds_the_api_metrics(client, db_url, tmp_path):
    """`arb-pipeline run` in its own OS process (as each Dagster run is), the API's /metrics reports it."""
    env = {**os.environ, "DATABASE_URL": db_url, "ARB_DATA_DIR": str(tmp_path / "run"), "ARB_LOG_LEVEL": "WARNING",
           "ARB_MAPPING_OVERRIDES": str(tmp_path / "none.yaml")}
    done = subprocess.run([sys.executable, "-m", "arb_pipeline.cli", "run", "--cycles", "1", "--source", "sample"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    got = samples(client)
    for stage in ("capture", "resolve", "price", "detect", "execute"):
        assert got[("arb_scan_stage_duration_seconds_count", (("stage", stage),))] == 1, stage
        assert got[("arb_scan_stage_duration_seconds_bucket", (("le", "+Inf"), ("stage", stage)))] == 1
    assert got[("arb_opportunities_found_total", (("kind", "arbitrage"),))] == 1
    assert got[("arb_opportunities_found_total", (("kind", "value"),))] == 2
    assert got[("arb_orders", (("mode", "paper"), ("status", "filled")))] == 1


def test_a_database_outage_is_reported_not_a_failed_scrape(tmp_path):
    broken = sessionmaker(bind=create_app_engine(f"sqlite:///{tmp_path / 'missing' / 'no_tables.sqlite3'}"))
    families = list(DatabaseCollector(broken, clock=lambda: NOW).collect())
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [("arb_desk_database_up", [0.0])]


def test_histogram_buckets_are_cumulative_and_complete(client, seeded, app):
    from arb_pipeline.services.scans import record_stage_seconds

    for seconds in (0.004, 0.3, 12.0):
        record_stage_seconds(app.state.sessions, "detect", seconds)
    text = client.get("/metrics").text
    buckets = [(le, float(v)) for le, v in re.findall(
        r'arb_scan_stage_duration_seconds_bucket\{le="([^"]+)",stage="detect"\} (\S+)', text)]
    assert buckets[0] == ("0.01", 1.0) and buckets[-1] == ("+Inf", 3.0)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)  # cumulative
    assert dict(buckets)["0.5"] == 2.0 and dict(buckets)["10.0"] == 2.0 and dict(buckets)["30.0"] == 3.0


def test_the_worker_health_it_wrote_is_scraped(client, app):
    """The worker (its own process) writes gauges and counters; the API's scrape reports them."""
    from arb_pipeline.services.worker import Worker
    from arb_pipeline.settings import Settings

    worker = Worker(settings=Settings(_env_file=None), sessions=app.state.sessions, config=None, books=None,
                    clock=lambda: NOW)
    worker.decisions = {"executed": 2, "no_opportunity": 40}
    for lag in [0.001] * 99 + [0.25]:
        worker.lags.add(lag)
    worker.flush_health(books_held=40, stale=1, feed_age_s=0.75, gaps=3, reconnects=1)
    got = samples(client)
    assert got[("arb_worker_heartbeat_age_seconds", ())] == 0.0
    assert got[("arb_worker_books", (("state", "stale"),))] == 1
    assert got[("arb_worker_books", (("state", "held"),))] == 40
    assert got[("arb_worker_feed_age_seconds", ())] == 0.75
    assert got[("arb_worker_decision_lag_p99_seconds", ())] == 0.25
    assert got[("arb_worker_decisions_total", (("outcome", "executed"),))] == 2
    assert got[("arb_worker_ws_events_total", (("event", "gap"),))] == 3

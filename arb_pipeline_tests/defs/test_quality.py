"""The Great Expectations suites run as asset checks of a history backfill, on the stored day, and
link their Data Docs (rendered under ARB_DATA_DIR) from the check results' metadata."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import pytest

from arb_pipeline.defs.runner import build_resources, run_scan_job
from arb_pipeline.services.quality import SUITES
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR
from arb_pipeline.settings import get_settings


@pytest.fixture
def resources(db_url, engine, tmp_path, monkeypatch):  # `engine` empties every table first
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield build_resources(database_url=db_url, source="recorded", snapshot_dir=str(SAMPLE_SNAPSHOT_DIR))
    get_settings.cache_clear()


def test_a_history_backfill_runs_the_data_quality_suites_and_links_the_data_docs(resources, tmp_path):
    capture = resources["market_data"].capture()
    resources["snapshot_store"].append(capture.snapshot, capture.payloads)
    day = capture.snapshot.captured_at.date().isoformat()
    with dg.instance_for_test() as instance:
        run = run_scan_job({k: resources[k] for k in ("snapshot_store", "scan_config")}, instance=instance,
                           job_name="history_replay_job", partition_key=day,
                           partitions_as_of=capture.snapshot.captured_at + timedelta(days=1))
        assert run.success, run.error
        quality_checks = {c.split(":")[1] for c in run.checks_evaluated} & set(SUITES)
        assert quality_checks == set(SUITES)
        assert not [c for c in run.failed_checks if c.split(":")[1] in SUITES]  # the sample day is clean

        asset = {"odds_coverage_per_league": "history_resolved_events"}
        for suite in SUITES:
            key = dg.AssetCheckKey(dg.AssetKey(asset.get(suite, "history_implied_probabilities")), suite)
            (record,) = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
            metadata = record.event.dagster_event.event_specific_data.metadata
            assert metadata["suite"].value == suite and metadata["rows"].value > 0
            docs = Path(urlparse(metadata["data_docs"].value).path)
            assert docs == tmp_path / "data" / "great_expectations" / "gx" / "uncommitted" / "data_docs" / \
                "local_site" / "index.html" and docs.exists()
            assert Path(urlparse(metadata["data_docs_page"].value).path).exists()
        book = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("history_implied_probabilities"), "quote_age_distribution"), limit=1)[0]
        assert book.event.dagster_event.event_specific_data.metadata["snapshots_read"].value == 1

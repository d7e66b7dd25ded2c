"""The scan assets leave the desk a record: scan row, every detected opportunity, stage durations."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from arb_pipeline.defs.runner import build_resources, run_scan_job
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR
from arb_pipeline.services.scans import OPPORTUNITIES_FOUND, SCAN_STAGE_SECONDS, STAGES, stage_counts
from arb_pipeline.storage.models import DetectedOpportunity, ScanRecord
from arb_pipeline.storage.repositories.metrics import MetricRepository


@pytest.fixture
def resources(db_url, engine):  # `engine` empties every table first
    return build_resources(database_url=db_url, source="recorded", snapshot_dir=str(SAMPLE_SNAPSHOT_DIR))


def test_a_scan_records_what_it_saw_found_and_how_long_each_stage_took(resources):
    run = run_scan_job(resources)
    assert run.success, run.error
    snapshot_id = run.metadata["kalshi_markets"]["snapshot_id"]
    with resources["database"].session() as session:
        (scan,) = session.scalars(select(ScanRecord)).all()
        assert scan.snapshot_id == snapshot_id
        assert (scan.kalshi_markets, scan.sportsbook_quotes) == (33, 342)
        assert (scan.opportunities, scan.arbitrage, scan.value, scan.rejected) == (3, 1, 2, 0)
        assert scan.book_quote_age_max_s >= scan.book_quote_age_median_s > 0
        assert scan.detected_at == scan.captured_at  # a recording is judged at its capture time
        found = session.scalars(select(DetectedOpportunity)).all()
        assert sorted((o.kind, o.executable) for o in found) == [("arbitrage", True), ("value", False),
                                                                 ("value", False)]
        arb = next(o for o in found if o.kind == "arbitrage")
        assert arb.payload["kind"] == "arbitrage" and Decimal(arb.payload["profit"]) == arb.profit > 0
        series = MetricRepository(session).all()
    assert stage_counts(series) == dict.fromkeys(STAGES, 1.0)
    assert {s.labels["kind"]: s.value for s in series if s.name == OPPORTUNITIES_FOUND} == {"arbitrage": 1,
                                                                                           "value": 2}

    again = run_scan_job(resources)  # the same recording again: one scan row, nothing "found" twice
    assert again.success, again.error
    with resources["database"].session() as session:
        assert len(session.scalars(select(ScanRecord)).all()) == 1
        assert len(session.scalars(select(DetectedOpportunity)).all()) == 3
        series = MetricRepository(session).all()
    assert {s.labels["kind"]: s.value for s in series if s.name == OPPORTUNITIES_FOUND} == {"arbitrage": 1,
                                                                                           "value": 2}
    assert stage_counts(series)["detect"] == 2.0  # but the second scan did take time: it is timed
    assert any(s.name == SCAN_STAGE_SECONDS and s.le == "sum" and s.value > 0 for s in series)

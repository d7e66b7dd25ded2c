"""Recording scans for the desk: what is stored, and that a failed record never stops a scan."""

import logging

import pytest

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.services import scans
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_factory as make_sessions
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.scans import ScanRepository
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403


@pytest.fixture(scope="module")
def sample():
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    return snapshot, scan(snapshot, ScanConfig.from_settings(Settings(_env_file=None)), snapshot.captured_at)


def test_capture_stats_measure_size_and_freshness(sample):
    snapshot, _ = sample
    stats = scans.capture_stats(snapshot, 7, quota_remaining=480, sports_failed=1)
    assert (stats.snapshot_id, stats.kalshi_markets, stats.sportsbook_quotes) == (7, 33, 342)
    assert stats.odds_quota_remaining == 480 and stats.sports_failed == 1
    ages = sorted((snapshot.captured_at - q.last_update).total_seconds() for q in snapshot.quotes)
    assert stats.book_quote_age_max_s == ages[-1] and ages[0] <= stats.book_quote_age_median_s <= ages[-1]


def test_only_the_executed_kinds_are_executable(sample):
    _, result = sample
    kinds = scans.executed_kinds(Settings(_env_file=None))
    assert kinds == frozenset({"arbitrage"})  # +EV bets are not executed unless a run asks for them
    rows = [scans.detected_row(o, kinds) for o in result.detection.opportunities]
    assert {(r.kind, r.executable) for r in rows} == {("arbitrage", True), ("value", False)}
    assert all(r.payload["event"] == r.event_ticker for r in rows)


def test_executable_follows_the_account_books_and_the_value_opt_in():
    """The desk's `executable` is detection's label: PAPER arbitrage (hedge at a book without an account)
    and value bets without ARB_TRADE_VALUE are stored not executable."""
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    settings = Settings(_env_file=None, ARB_ACCOUNT_BOOKS="bet365", ARB_TRADE_VALUE="true")
    result = scan(snapshot, ScanConfig.from_settings(settings), snapshot.captured_at)
    kinds = scans.executed_kinds(settings)
    assert kinds == frozenset({"arbitrage", "value"})
    rows = [scans.detected_row(o, kinds) for o in result.detection.opportunities]
    assert {(r.kind, r.executable) for r in rows} == {("arbitrage", False), ("value", True)}
    [paper] = [r for r in rows if r.kind == "arbitrage"]
    assert paper.payload["not_executable"] == ["PAPER: no account at draftkings (ARB_ACCOUNT_BOOKS)"]


def test_detection_needs_its_capture_and_a_failed_record_is_only_logged(engine, sample, caplog):
    _, result = sample
    sessions = make_sessions(engine)
    with pytest.raises(KeyError, match="record the capture first"):
        scans.record_detection(sessions, 99, result.detection.opportunities, detected_at=result.as_of, rejected=0)
    with caplog.at_level(logging.WARNING):
        assert scans.record_safely("detected opportunities", lambda: scans.record_detection(
            sessions, 99, result.detection.opportunities, detected_at=result.as_of, rejected=0)) is None
    assert "could not record detected opportunities" in caplog.text
    with session_scope(sessions) as session:
        assert ScanRepository(session).latest() is None


def test_unknown_stage_is_refused(engine):
    with pytest.raises(ValueError, match="unknown scan stage"):
        scans.record_stage_seconds(make_sessions(engine), "dance", 1.0)

"""Market-history retention: the pure plan (hypothesis) and the prune on both databases."""

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from arb_pipeline.services.retention import RetentionPolicy, StoredScan, plan_prune, prune_history
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import DetectedOpportunity, ScanRecord, Snapshot, SnapshotPayload
from arb_pipeline.storage.repositories.opportunities import OpportunityRepository
from arb_pipeline.storage.repositories.scans import CaptureStats, DetectedRow, ScanRepository
from arb_pipeline.storage.repositories.snapshots import AppendOnlyViolation, SnapshotRepository
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

scans = st.lists(st.builds(lambda i, src, s: StoredScan(i, src, NOW - timedelta(seconds=s)),
                           st.integers(1, 10**6), st.sampled_from(["live", "simulator"]),
                           st.integers(0, 40 * 86_400)),
                 max_size=60, unique_by=lambda s: s.snapshot_id)
policies = st.builds(lambda full, thin, extra: RetentionPolicy(full, thin, (full + extra) if extra else 0.0),
                     st.sampled_from([0.0, 1.0, 7.0]), st.sampled_from([1, 60, 300, 3600]),
                     st.sampled_from([0.0, 0.5, 10.0]))


def bucket(scan, policy):
    return scan.source, math.floor(scan.captured_at.timestamp() / policy.thin_interval_s)


@given(scans, policies, st.data())
def test_the_plan_thins_old_history_keeps_recent_and_executed_and_is_stable(stored, policy, data):
    protected = set(data.draw(st.sets(st.sampled_from([s.snapshot_id for s in stored]))) if stored else set())
    doomed = set(plan_prune(stored, protected, policy, NOW))
    full_from = NOW - timedelta(days=policy.full_days)
    drop_before = NOW - timedelta(days=policy.keep_days) if policy.keep_days else None
    for scan in stored:
        if scan.captured_at >= full_from or scan.snapshot_id in protected:
            assert scan.snapshot_id not in doomed
        elif drop_before is not None and scan.captured_at < drop_before:
            assert scan.snapshot_id in doomed
    kept = [s for s in stored if s.snapshot_id not in doomed]
    for scan in stored:  # every thinned bucket keeps its earliest snapshot
        if scan.captured_at < full_from and not (drop_before and scan.captured_at < drop_before):
            same = [s for s in stored if bucket(s, policy) == bucket(scan, policy)]
            earliest = min(same, key=lambda s: (s.captured_at, s.snapshot_id))
            if earliest.captured_at < full_from:
                assert earliest in kept
    assert plan_prune(kept, protected, policy, NOW) == []  # pruning again deletes nothing more


@pytest.mark.parametrize("kwargs, message", [
    (dict(full_days=-1), "ARB_HISTORY_FULL_DAYS"), (dict(thin_interval_s=0), "ARB_HISTORY_THIN_INTERVAL_S"),
    (dict(full_days=7, keep_days=3), "shorter than ARB_HISTORY_FULL_DAYS"), (dict(keep_days=math.inf), "KEEP_DAYS")])
def test_a_policy_that_makes_no_sense_is_refused_naming_the_setting(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RetentionPolicy(**kwargs)


def _store(session, at, source="simulator", executed=False):
    snapshot_id = SnapshotRepository(session).append(captured_at=at, source=source, stored_at=at,
                                                     payloads={"kalshi_events.json": '{"events": []}'})
    scans = ScanRepository(session)
    scans.record_capture(CaptureStats(snapshot_id, source, at, 10, 20), at=at)
    opportunity_id = str(uuid.uuid4())
    scans.record_detection(snapshot_id, detected_at=at, rejected=0, rows=[DetectedRow(
        opportunity_id, "arbitrage", "NBA", "EV", True, at, Decimal("9.50"), Decimal("0.50"), 52.0, 1.0, {})])
    if executed:
        OpportunityRepository(session).record(opportunity_id=opportunity_id, opportunity_key="k", event_key="EV",
                                              detected_at=at, cost=Decimal("9.50"), profit=Decimal("0.50"),
                                              payload={}, at=at)
    return snapshot_id


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_prune_thins_a_month_of_scans_and_keeps_the_executed_one_with_its_records(session_factory):
    start = NOW - timedelta(days=10)
    with session_scope(session_factory) as s:
        ids = [_store(s, start + timedelta(minutes=m), executed=(m == 7)) for m in range(0, 60)]  # day -10
        recent = [_store(s, NOW - timedelta(hours=h)) for h in range(1, 4)]  # inside the full window
    policy = RetentionPolicy(full_days=7, thin_interval_s=900, keep_days=0)

    dry = prune_history(session_factory, policy, NOW, dry_run=True)
    with session_scope(session_factory) as s:
        assert _count(s, Snapshot) == 63 and dry.snapshots == 55 and dry.protected == 1
    report = prune_history(session_factory, policy, NOW)
    # 60 one-minute scans in four 15-minute buckets: the first of each (0, 15, 30, 45) and minute 7 stay
    assert (report.snapshots, report.scan_records, report.detected_opportunities) == (55, 55, 55)
    assert report.payload_bytes == 55 * len('{"events": []}')
    with session_scope(session_factory) as s:
        left = set(s.scalars(select(Snapshot.id)))
        assert left == {ids[0], ids[7], ids[15], ids[30], ids[45], *recent}
        assert set(s.scalars(select(ScanRecord.snapshot_id))) == left
        assert set(s.scalars(select(DetectedOpportunity.snapshot_id))) == left
        assert set(s.scalars(select(SnapshotPayload.snapshot_id))) == left
    with pytest.raises(AppendOnlyViolation), session_scope(session_factory) as s:  # the store still refuses
        s.delete(s.get(Snapshot, ids[0]))
        s.flush()
    assert prune_history(session_factory, policy, NOW).snapshots == 0
    # a year on with a 30-day limit: everything thinned goes, except the executed opportunity's scan
    aged = prune_history(session_factory, RetentionPolicy(7, 900, 30), NOW + timedelta(days=365))
    with session_scope(session_factory) as s:
        assert aged.snapshots == 7 and set(s.scalars(select(Snapshot.id))) == {ids[7]}

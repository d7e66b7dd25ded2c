"""What the scan assets tell the desk: stage durations, the scan record, the detected opportunities.

Thin wrappers over `services.scans` bound to the application database resource. Everything here is
bookkeeping: a failure is logged by `services.scans.record_safely` and never fails a scan.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from arb_pipeline.defs.shared.resources import AppDatabaseResource


def _sessions(database: AppDatabaseResource):
    from arb_pipeline.storage.db import session_factory

    return session_factory(database.engine())


@contextmanager
def timed_stage(database: AppDatabaseResource, stage: str) -> Iterator[None]:
    """Time the block and add it to the `stage` series of the scan-duration histogram (on success)."""
    from arb_pipeline.services.scans import record_safely, record_stage_seconds

    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    record_safely(f"{stage} stage duration", lambda: record_stage_seconds(_sessions(database), stage, elapsed))


def record_capture(database: AppDatabaseResource, snapshot: Any, snapshot_id: int, *,
                   quota_remaining: int | None, sports_failed: int) -> None:
    from arb_pipeline.services import scans

    stats = scans.capture_stats(snapshot, snapshot_id, quota_remaining=quota_remaining, sports_failed=sports_failed)
    recorded_at = datetime.now(UTC)  # the live scan's own moment: wall clock enters at the Dagster edge
    scans.record_safely("scan record", lambda: scans.record_capture(_sessions(database), stats, at=recorded_at))


def record_detection(database: AppDatabaseResource, snapshot_id: int, detection: Any, detected_at: Any) -> None:
    from arb_pipeline.services import scans

    scans.record_safely("detected opportunities", lambda: scans.record_detection(
        _sessions(database), snapshot_id, detection.opportunities, detected_at=detected_at,
        rejected=len(getattr(detection, "rejected", ()) or ())))

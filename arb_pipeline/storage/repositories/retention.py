"""The one sanctioned deletion of market history: snapshots a retention policy let go
(`services.retention`). Stored snapshots are otherwise append-only (`repositories.snapshots` refuses
ORM updates and deletes); this module deletes with SQL statements, a snapshot together with its
payloads, its scan record and its detected opportunities, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import (
    DetectedOpportunity,
    OpportunityRecord,
    ScanRecord,
    Snapshot,
    SnapshotPayload,
)
from arb_pipeline.storage.repositories._time import require_aware


@dataclass(frozen=True, slots=True)
class Deleted:
    snapshots: int
    scan_records: int
    detected_opportunities: int


class HistoryRetentionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def snapshots_before(self, before: datetime) -> list[tuple[int, str, datetime]]:
        """(id, source, captured_at) of every snapshot captured before `before`."""
        query = (select(Snapshot.id, Snapshot.source, Snapshot.captured_at)
                 .where(Snapshot.captured_at < require_aware(before, "before")).order_by(Snapshot.captured_at))
        return [tuple(row) for row in self.session.execute(query)]

    def snapshots_of_executed_opportunities(self, before: datetime) -> set[int]:
        """Snapshots (captured before `before`) whose scan found an opportunity that was executed."""
        query = (select(DetectedOpportunity.snapshot_id).distinct()
                 .join(OpportunityRecord, OpportunityRecord.id == DetectedOpportunity.opportunity_id)
                 .where(DetectedOpportunity.detected_at < require_aware(before, "before")))
        return set(self.session.scalars(query))

    def payload_bytes(self, snapshot_ids: Sequence[int]) -> int:
        """The stored payload text of these snapshots, in characters (the JSON is ASCII: bytes)."""
        query = select(func.coalesce(func.sum(func.length(SnapshotPayload.body)), 0)).where(
            SnapshotPayload.snapshot_id.in_(list(snapshot_ids)))
        return int(self.session.scalar(query) or 0)

    def delete_snapshots(self, snapshot_ids: Sequence[int]) -> Deleted:
        ids = list(snapshot_ids)
        detected = self.session.execute(delete(DetectedOpportunity).where(DetectedOpportunity.snapshot_id.in_(ids)))
        scans = self.session.execute(delete(ScanRecord).where(ScanRecord.snapshot_id.in_(ids)))
        self.session.execute(delete(SnapshotPayload).where(SnapshotPayload.snapshot_id.in_(ids)))
        snapshots = self.session.execute(delete(Snapshot).where(Snapshot.id.in_(ids)))
        return Deleted(snapshots.rowcount, scans.rowcount, detected.rowcount)

"""How much market history the database keeps: every snapshot for a while, then a thinned series.

Why: a scan every 10 s stores each capture's raw wire payloads (the sample's 160 KB is ~1.4 GB a day;
a real slate is larger), plus its scan record and detected opportunities. Kept whole forever, the
database outgrows any disk within weeks and the history partitions slow down with it. Yet backfills
replay stored snapshots, so history is never simply dropped:

- snapshots younger than `full_days` are all kept (a day's backfill replays every scan);
- older ones are thinned to the first snapshot of each `thin_interval_s` bucket per source (a past
  day still replays at that resolution);
- older than `keep_days` (0 = never) they are deleted;
- a snapshot whose scan found an opportunity that was **executed** is always kept, with its scan
  record and detected opportunities: the audit trail from the odds to the orders and their P&L.

A pruned snapshot takes its payloads, its scan record and its detected opportunities with it; orders,
fills, positions, the ledger, hedges and game marks are never touched. The plan is pure
(`plan_prune`); `prune_history` applies it in batches, one transaction each, so an interrupted prune
loses nothing and the next one continues.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.retention import HistoryRetentionRepository

BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    full_days: float = 7.0
    thin_interval_s: int = 300
    keep_days: float = 0.0  # 0: thinned history is kept for ever

    def __post_init__(self) -> None:
        if not (math.isfinite(self.full_days) and self.full_days >= 0):
            raise ValueError(f"ARB_HISTORY_FULL_DAYS: expected a number of days >= 0, got {self.full_days!r}")
        if self.thin_interval_s < 1:
            raise ValueError(f"ARB_HISTORY_THIN_INTERVAL_S: expected seconds >= 1, got {self.thin_interval_s!r}")
        if not (math.isfinite(self.keep_days) and self.keep_days >= 0):
            raise ValueError(f"ARB_HISTORY_KEEP_DAYS: expected a number of days >= 0, got {self.keep_days!r}")
        if self.keep_days and self.keep_days < self.full_days:
            raise ValueError(f"ARB_HISTORY_KEEP_DAYS ({self.keep_days}) is shorter than ARB_HISTORY_FULL_DAYS "
                             f"({self.full_days}): history would be deleted before it is thinned")

    @classmethod
    def from_settings(cls, settings) -> RetentionPolicy:  # noqa: ANN001 - Settings (no import cycle)
        return cls(settings.history_full_days, settings.history_thin_interval_s, settings.history_keep_days)


@dataclass(frozen=True, slots=True)
class StoredScan:
    snapshot_id: int
    source: str
    captured_at: datetime


def plan_prune(scans: Iterable[StoredScan], protected: set[int], policy: RetentionPolicy,
               now: datetime) -> list[int]:
    """The snapshot ids to delete, oldest first. `scans` may come in any order; only those captured
    before `now - full_days` are ever chosen; `protected` ids are never chosen."""
    thin_before = now - timedelta(days=policy.full_days)
    drop_before = now - timedelta(days=policy.keep_days) if policy.keep_days else None
    kept_bucket: set[tuple[str, int]] = set()
    doomed: list[int] = []
    for scan in sorted(scans, key=lambda s: (s.captured_at, s.snapshot_id)):
        if scan.captured_at >= thin_before:
            continue
        if scan.snapshot_id in protected:
            continue
        if drop_before is not None and scan.captured_at < drop_before:
            doomed.append(scan.snapshot_id)
            continue
        bucket = (scan.source, math.floor(scan.captured_at.timestamp() / policy.thin_interval_s))
        if bucket in kept_bucket:
            doomed.append(scan.snapshot_id)
        else:
            kept_bucket.add(bucket)
    return doomed


@dataclass(slots=True)
class PruneReport:
    dry_run: bool
    examined: int = 0
    protected: int = 0
    snapshots: int = 0
    payload_bytes: int = 0
    scan_records: int = 0
    detected_opportunities: int = 0
    batches: list[int] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"market history: {self.examined} snapshots older than the full-history window examined, "
                f"{self.protected} kept for their executed opportunities; {verb} {self.snapshots} snapshots "
                f"({self.payload_bytes / 1e6:.1f} MB of payloads), {self.scan_records} scan records and "
                f"{self.detected_opportunities} detected opportunities")


def prune_history(sessions: sessionmaker[Session], policy: RetentionPolicy, now: datetime, *,
                  dry_run: bool = False) -> PruneReport:
    """Apply the policy as of `now` (time is an input: the schedule passes its tick's time)."""
    report = PruneReport(dry_run)
    thin_before = now - timedelta(days=policy.full_days)
    with session_scope(sessions) as session:
        repo = HistoryRetentionRepository(session)
        scans = [StoredScan(i, s, at) for i, s, at in repo.snapshots_before(thin_before)]
        protected = repo.snapshots_of_executed_opportunities(thin_before)
    report.examined = len(scans)
    report.protected = len(protected & {s.snapshot_id for s in scans})
    doomed = plan_prune(scans, protected, policy, now)
    for start in range(0, len(doomed), BATCH):
        batch = doomed[start:start + BATCH]
        with session_scope(sessions) as session:
            repo = HistoryRetentionRepository(session)
            report.payload_bytes += repo.payload_bytes(batch)
            if dry_run:
                report.snapshots += len(batch)
                continue
            deleted = repo.delete_snapshots(batch)
        report.snapshots += deleted.snapshots
        report.scan_records += deleted.scan_records
        report.detected_opportunities += deleted.detected_opportunities
        report.batches.append(len(batch))
    return report


def prune_history_command(settings, *, now: datetime, dry_run: bool = False) -> PruneReport:  # noqa: ANN001
    """`arb-pipeline prune-history` and the housekeeping job: the configured policy on the app database."""
    from arb_pipeline.storage.db import get_engine, session_factory
    from arb_pipeline.storage.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.effective_database_url)
    upgrade(engine)
    return prune_history(session_factory(engine), RetentionPolicy.from_settings(settings), now, dry_run=dry_run)

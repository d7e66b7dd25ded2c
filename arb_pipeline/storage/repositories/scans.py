"""Scan records and the opportunities each scan detected: the desk's view of "what the market gave".

One `scan_records` row per stored snapshot that went through the live pipeline; detection adds its
counts and one `detected_opportunities` row per opportunity. Both writes are idempotent per
snapshot, so a re-run of the same snapshot (a recorded replay) rewrites nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import DetectedOpportunity, ScanRecord
from arb_pipeline.storage.repositories._time import require_aware


@dataclass(frozen=True, slots=True)
class CaptureStats:
    """What the capture stage knows about a snapshot: size, freshness and the odds feed's quota."""

    snapshot_id: int
    source: str
    captured_at: datetime
    kalshi_markets: int
    sportsbook_quotes: int
    odds_quota_remaining: int | None = None
    kalshi_book_age_s: float | None = None
    book_quote_age_median_s: float | None = None
    book_quote_age_max_s: float | None = None
    sports_failed: int = 0


@dataclass(frozen=True, slots=True)
class DetectedRow:
    """One detected opportunity, flattened for filtering; `payload` is the detector's `to_dict()`."""

    opportunity_id: str
    kind: str
    league: str
    event_ticker: str
    executable: bool
    detected_at: datetime
    cost: Decimal
    profit: Decimal
    edge_bps: float
    max_quote_age_s: float | None
    payload: dict[str, Any]


class ScanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_capture(self, stats: CaptureStats, *, at: datetime) -> ScanRecord:
        """Insert the scan row of a snapshot, or refresh the capture fields of an existing one; `at` is when
        the scan recorded it (its capture time is in `stats`)."""
        row = self.by_snapshot(stats.snapshot_id)
        if row is None:
            row = ScanRecord(snapshot_id=stats.snapshot_id, sports_failed=0)
            try:
                with self.session.begin_nested():
                    self._fill(row, stats, at)
                    self.session.add(row)
                return row
            except IntegrityError:  # the same snapshot recorded concurrently (a replay run twice)
                row = self.by_snapshot(stats.snapshot_id)
                if row is None:
                    raise
        self._fill(row, stats, at)
        self.session.flush()
        return row

    @staticmethod
    def _fill(row: ScanRecord, stats: CaptureStats, at: datetime) -> None:
        row.source = stats.source[:200]
        row.captured_at = require_aware(stats.captured_at, "captured_at")
        row.recorded_at = require_aware(at, "at")
        row.kalshi_markets, row.sportsbook_quotes = stats.kalshi_markets, stats.sportsbook_quotes
        row.odds_quota_remaining = stats.odds_quota_remaining
        row.kalshi_book_age_s = stats.kalshi_book_age_s
        row.book_quote_age_median_s = stats.book_quote_age_median_s
        row.book_quote_age_max_s = stats.book_quote_age_max_s
        row.sports_failed = stats.sports_failed

    def record_detection(self, snapshot_id: int, *, detected_at: datetime, rows: Sequence[DetectedRow],
                         rejected: int) -> ScanRecord:
        """Store a snapshot's opportunities (once each) and the detection counts on its scan row."""
        scan = self.by_snapshot(snapshot_id)
        if scan is None:
            raise KeyError(f"no scan record for snapshot {snapshot_id}: record the capture first")
        known = set(self.session.scalars(select(DetectedOpportunity.opportunity_id).where(
            DetectedOpportunity.snapshot_id == snapshot_id)))
        for item in rows:
            if item.opportunity_id in known:
                continue
            known.add(item.opportunity_id)
            self.session.add(DetectedOpportunity(
                snapshot_id=snapshot_id, opportunity_id=item.opportunity_id, kind=item.kind,
                league=item.league[:20], event_ticker=item.event_ticker[:120], executable=item.executable,
                detected_at=require_aware(item.detected_at, "detected_at"), cost=item.cost, profit=item.profit,
                edge_bps=item.edge_bps, max_quote_age_s=item.max_quote_age_s, payload=item.payload))
        scan.detected_at = require_aware(detected_at, "detected_at")
        scan.opportunities = len(known)
        scan.arbitrage = sum(1 for r in rows if r.kind == "arbitrage")
        scan.value = sum(1 for r in rows if r.kind == "value")
        scan.rejected = rejected
        scan.best_edge_bps = max((r.edge_bps for r in rows), default=None)
        self.session.flush()
        return scan

    def by_snapshot(self, snapshot_id: int) -> ScanRecord | None:
        return self.session.scalars(select(ScanRecord).where(ScanRecord.snapshot_id == snapshot_id)).first()

    def latest(self, *, detected: bool = False) -> ScanRecord | None:
        """The most recent scan by capture time (with `detected`: the most recent one detection finished)."""
        query = select(ScanRecord)
        if detected:
            query = query.where(ScanRecord.detected_at.is_not(None))
        return self.session.scalars(query.order_by(ScanRecord.captured_at.desc(), ScanRecord.id.desc())
                                    .limit(1)).first()

    def recent(self, limit: int = 100) -> list[ScanRecord]:
        """The last `limit` scans, newest first."""
        return list(self.session.scalars(
            select(ScanRecord).order_by(ScanRecord.captured_at.desc(), ScanRecord.id.desc()).limit(limit)))

    def opportunities(self, *, snapshot_id: int | None = None, kinds: Iterable[str] | None = None,
                      league: str | None = None, executable: bool | None = None, since: datetime | None = None,
                      limit: int = 100) -> list[DetectedOpportunity]:
        """Detected opportunities matching every given filter, newest first."""
        query = select(DetectedOpportunity)
        if snapshot_id is not None:
            query = query.where(DetectedOpportunity.snapshot_id == snapshot_id)
        if kinds is not None:
            query = query.where(DetectedOpportunity.kind.in_(list(kinds)))
        if league is not None:
            query = query.where(DetectedOpportunity.league == league)
        if executable is not None:
            query = query.where(DetectedOpportunity.executable.is_(executable))
        if since is not None:
            query = query.where(DetectedOpportunity.detected_at >= require_aware(since, "since"))
        query = query.order_by(DetectedOpportunity.detected_at.desc(), DetectedOpportunity.id.desc())
        return list(self.session.scalars(query.limit(limit)))

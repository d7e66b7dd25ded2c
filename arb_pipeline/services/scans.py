"""Record what each live scan saw and found, for the desk (API, dashboard) and `/metrics`.

The Dagster scan assets call these after their own work; the records are read back by
`services.desk` and `services.metrics` in another process. Recording is bookkeeping: a failure
here is logged and never fails the scan that trades (`record_safely`).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.metrics import MetricRepository
from arb_pipeline.storage.repositories.scans import CaptureStats, DetectedRow, ScanRepository

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
_Q6 = Decimal("0.000001")

# --- metric names (read by services.metrics) ------------------------------------------------------
SCAN_STAGE_SECONDS = "arb_scan_stage_duration_seconds"
OPPORTUNITIES_FOUND = "arb_opportunities_found_total"
SCANS_RECORDED = "arb_scans_total"
STAGES = ("capture", "resolve", "price", "detect", "execute")
# a capture of a few hundred games takes ~1-5 s on the simulator; detection ~10 ms .. 2 s
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def executed_kinds(settings: Settings | None = None) -> frozenset[str]:
    """The opportunity kinds the live scan executes (arbitrage; value too with ARB_TRADE_VALUE): the
    `executed_orders` asset passes exactly these to execution, so "executable" on the desk and what
    it does can never disagree."""
    from arb_pipeline.arb.accounts import executable_kinds
    from arb_pipeline.settings import get_settings

    return executable_kinds((settings or get_settings()).trade_value)


def record_safely(what: str, action: Callable[[], T]) -> T | None:
    """Run a bookkeeping write; log and swallow its failure (the scan itself must go on)."""
    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - monitoring must never stop trading
        log.warning("could not record %s (%s: %s)", what, type(exc).__name__, str(exc).splitlines()[0][:200])
        return None


def capture_stats(snapshot: MarketSnapshot, snapshot_id: int, *, quota_remaining: int | None = None,
                  sports_failed: int = 0) -> CaptureStats:
    """Size and freshness of one snapshot: Kalshi book age and sportsbook quote ages at capture."""
    ages = [(snapshot.captured_at - q.last_update).total_seconds() for q in snapshot.quotes]
    books_at = snapshot.books_captured_at
    return CaptureStats(
        snapshot_id=snapshot_id,
        source=snapshot.source or "unknown",
        captured_at=snapshot.captured_at,
        kalshi_markets=len(snapshot.markets),
        sportsbook_quotes=len(snapshot.quotes),
        odds_quota_remaining=quota_remaining,
        kalshi_book_age_s=abs((snapshot.captured_at - books_at).total_seconds()) if books_at else 0.0,
        book_quote_age_median_s=statistics.median(ages) if ages else None,
        book_quote_age_max_s=max(ages) if ages else None,
        sports_failed=sports_failed,
    )


def record_capture(sessions: sessionmaker[Session], stats: CaptureStats, *, at: datetime) -> None:
    """Store a scan's capture stats; `at` is when the scan recorded them (the caller's clock)."""
    with session_scope(sessions) as session:
        ScanRepository(session).record_capture(stats, at=at)
        MetricRepository(session).inc(SCANS_RECORDED, labels={"source": _label(stats.source)})


def _label(text: str) -> str:
    return text.replace(",", ";").replace("=", ":")[:100]


def detected_row(opportunity: Any, kinds: frozenset[str]) -> DetectedRow:
    from arb_pipeline.services.frames import opportunity_id

    ages = [float(a) for a in (opportunity.quote_ages or {}).values()]
    ages += [float(leg.quote_age_s) for leg in opportunity.legs]
    finite = [a for a in ages if a == a and a not in (float("inf"), float("-inf"))]
    return DetectedRow(
        opportunity_id=opportunity_id(opportunity),
        kind=opportunity.kind,
        league=opportunity.league,
        event_ticker=opportunity.event,
        # one rule (`arb.accounts.not_executable`): detection's label, within the kinds executed
        executable=opportunity.kind in kinds and bool(getattr(opportunity, "executable", True)),
        detected_at=opportunity.detected_at,
        cost=opportunity.cost.quantize(_Q6, rounding=ROUND_HALF_EVEN),
        profit=opportunity.profit.quantize(_Q6, rounding=ROUND_HALF_EVEN),
        edge_bps=float(opportunity.edge_bps),
        max_quote_age_s=max(finite) if finite else None,
        payload=_json_safe(opportunity.to_dict()),
    )


def _json_safe(value: Any) -> Any:
    from arb_pipeline.storage.repositories.opportunities import json_safe

    return json_safe(value)


def record_detection(sessions: sessionmaker[Session], snapshot_id: int, opportunities: Iterable[Any], *,
                     detected_at: datetime, rejected: int) -> None:
    """Store the opportunities of one snapshot and count them by kind (once per snapshot)."""
    kinds = executed_kinds()
    rows = [detected_row(o, kinds) for o in opportunities]
    with session_scope(sessions) as session:
        repo = ScanRepository(session)
        first_time = (scan := repo.by_snapshot(snapshot_id)) is not None and scan.detected_at is None
        repo.record_detection(snapshot_id, detected_at=detected_at, rows=rows, rejected=rejected)
        if first_time:  # a replayed snapshot is not "found" twice
            counts: dict[str, int] = {}
            for row in rows:
                counts[row.kind] = counts.get(row.kind, 0) + 1
            metrics = MetricRepository(session)
            for kind, count in counts.items():
                metrics.inc(OPPORTUNITIES_FOUND, count, labels={"kind": kind})


def record_stage_seconds(sessions: sessionmaker[Session], stage: str, seconds: float) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown scan stage {stage!r} (one of {STAGES})")
    with session_scope(sessions) as session:
        MetricRepository(session).observe(SCAN_STAGE_SECONDS, max(0.0, seconds), STAGE_BUCKETS,
                                          labels={"stage": stage})


def stage_counts(series: Iterable[Any]) -> Mapping[str, float]:
    """Observations per stage (the histogram's `count` rows), e.g. for a test or a status line."""
    return {s.labels.get("stage", ""): s.value for s in series if s.name == SCAN_STAGE_SECONDS and s.le == "count"}

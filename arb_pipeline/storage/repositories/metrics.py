"""Cumulative metric series in the application database: the registry every process shares.

Why the database: under `dagster dev` every scan run is its own short-lived process (8,640 a day at
a 10 s interval) and in docker-compose the runs, the daemon and the API are separate containers.
A counter kept in a process dies with it; prometheus-client's multiprocess mode needs one shared
directory and keeps a file per process that every scrape reads. Here a counter is one row whose
value only grows through `value = value + x` in a single statement, which both SQLite (database write
lock) and PostgreSQL (row lock) apply atomically, so concurrent processes never lose an increment.

A series that does not exist yet is created by the same statement: `INSERT .. ON CONFLICT (name,
labels, le) DO UPDATE SET value = value + excluded.value`. An earlier version ran UPDATE, then
SELECT, then INSERT; on PostgreSQL (READ COMMITTED) a row another process committed between the
UPDATE and the SELECT was seen as "already there" and the increment was dropped (CI lost 2 of 160).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import MetricSeries
from arb_pipeline.storage.repositories._insert import dialect_insert

COUNTER = ""  # the `le` of a plain counter
GAUGE = "gauge"  # the `le` of a gauge: the last value set (the worker's health, services/worker.py)
SUM = "sum"
COUNT = "count"
INF = "+Inf"


def label_text(labels: Mapping[str, str] | None) -> str:
    """Canonical label text: sorted `key=value` pairs joined by commas (values may not hold , or =)."""
    if not labels:
        return ""
    for key, value in labels.items():
        if not key.isidentifier() or any(ch in str(value) for ch in ",="):
            raise ValueError(f"metric label {key}={value!r}: keys are identifiers, values hold no ',' or '='")
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def parse_labels(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(",")) if text else {}


def bucket_text(bound: float) -> str:
    return INF if math.isinf(bound) else repr(float(bound))


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    labels: dict[str, str]
    le: str
    value: float


class MetricRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _upsert(self, name: str, labels: str, rows: Sequence[tuple[str, float]], *, add: bool) -> None:
        """One statement: create each (name, labels, le) row at its amount, or add it / set it.

        One statement per call, so no other process can write between two parts of one observation.
        Rows go in the order given, which every caller keeps the same (buckets ascending, count,
        sum), so two transactions never take the same row locks in opposite orders.
        """
        statement = dialect_insert(self.session, MetricSeries).values(
            [{"name": name, "labels": labels, "le": le, "value": amount} for le, amount in rows])
        excluded = statement.excluded["value"]
        statement = statement.on_conflict_do_update(
            index_elements=[MetricSeries.name, MetricSeries.labels, MetricSeries.le],
            set_={"value": MetricSeries.value + excluded if add else excluded})
        self.session.execute(statement.execution_options(synchronize_session=False))

    def inc(self, name: str, amount: float = 1.0, labels: Mapping[str, str] | None = None) -> None:
        """Add `amount` (>= 0) to a counter."""
        if amount < 0 or not math.isfinite(amount):
            raise ValueError(f"counter {name}: increment must be finite and >= 0, got {amount}")
        if amount:
            self._upsert(name, label_text(labels), [(COUNTER, float(amount))], add=True)

    def observe(self, name: str, value: float, buckets: Sequence[float],
                labels: Mapping[str, str] | None = None) -> None:
        """Record one observation in a cumulative histogram with the given upper bounds."""
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"histogram {name}: observation must be finite and >= 0, got {value}")
        bounds = sorted({float(b) for b in buckets} | {math.inf})
        rows = [(bucket_text(b), 1.0) for b in bounds if value <= b] + [(COUNT, 1.0)]
        self._upsert(name, label_text(labels), rows + [(SUM, float(value))] if value else rows, add=True)

    def set_gauge(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        """Set a gauge to `value` (last writer wins; one process - the worker - owns each gauge)."""
        if not math.isfinite(value):
            raise ValueError(f"gauge {name}: value must be finite, got {value}")
        self._upsert(name, label_text(labels), [(GAUGE, float(value))], add=False)

    def all(self, name_prefix: str = "") -> list[Series]:
        query = select(MetricSeries)
        if name_prefix:
            query = query.where(MetricSeries.name.startswith(name_prefix))
        rows = self.session.scalars(query.order_by(MetricSeries.name, MetricSeries.labels, MetricSeries.id))
        return [Series(r.name, parse_labels(r.labels), r.le, r.value) for r in rows]

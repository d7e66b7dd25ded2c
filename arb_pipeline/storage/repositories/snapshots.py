"""Append-only store of raw market data: every scan's wire payloads with their capture time.

A backfill replays exactly what was seen: the payloads are the venue responses' raw JSON text (one
row per file of a snapshot directory, e.g. `kalshi_events.json`, `odds_basketball_nba.json`), parsed
again at replay time by `arb_pipeline.connectors.snapshot` with today's code (see `storage.replay`).
Rows are never updated or deleted through this module; an ORM update/delete of a stored snapshot
raises (see `_refuse_change`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import Snapshot, SnapshotPayload
from arb_pipeline.storage.repositories._time import require_aware

META_FILE = "meta.json"  # the name `arb_pipeline.connectors.snapshot` reads the capture time from


class AppendOnlyViolation(RuntimeError):
    """Someone tried to change or delete stored market history."""


@event.listens_for(Snapshot, "before_update")
@event.listens_for(Snapshot, "before_delete")
@event.listens_for(SnapshotPayload, "before_update")
@event.listens_for(SnapshotPayload, "before_delete")
def _refuse_change(_mapper, _connection, target) -> None:  # noqa: ANN001 - SQLAlchemy event signature
    raise AppendOnlyViolation(f"{type(target).__name__} rows are append-only (market history is never rewritten)")


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A stored snapshot, detached from the session: id, capture time, source and raw payloads."""

    id: int
    captured_at: datetime
    source: str
    books_captured_at: datetime | None
    payloads: Mapping[str, str]  # file name -> raw JSON text

    def json(self, name: str) -> Any:
        return json.loads(self.payloads[name])


class DecodedJson(str):
    """JSON text its producer has already decoded in full without error - a capture parses every file it
    stores (`services.ingest.capture`) before storing it - so the store keeps it without decoding it a
    second time (~0.5 s per 1,000-game capture). Any other text is decoded here first, as before."""

    __slots__ = ()


def _plain_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith(".") or name != name.strip():
        raise ValueError(f"payload name {name!r} must be a plain file name")
    return name


def _text(name: str, payload: Any) -> str:
    """The raw JSON text to store: given text is kept verbatim (after checking it parses)."""
    if isinstance(payload, DecodedJson):
        return str(payload)
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    if isinstance(payload, str):
        try:
            json.loads(payload)
        except ValueError as exc:
            raise ValueError(f"payload {name!r} is not valid JSON: {exc}") from None
        except RecursionError:
            raise ValueError(f"payload {name!r} is not valid JSON: nested too deeply") from None
        return payload
    try:
        return json.dumps(payload, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payload {name!r} cannot be stored as JSON ({exc}); pass the raw response text to "
                         "keep Decimal numbers exact") from None


def _detached(row: Snapshot) -> StoredSnapshot:
    return StoredSnapshot(
        id=row.id,
        captured_at=row.captured_at,
        source=row.source,
        books_captured_at=row.books_captured_at,
        payloads={p.name: p.body for p in row.payloads},
    )


class SnapshotRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        captured_at: datetime,
        source: str,
        payloads: Mapping[str, str | bytes | Any],
        books_captured_at: datetime | None = None,
        stored_at: datetime,
    ) -> int:
        """Store one scan's payloads (file name → raw JSON text, or plain JSON data); returns the id.
        `stored_at` is when the caller wrote it (an audit stamp: the caller's clock, never read here)."""
        captured = require_aware(captured_at, "captured_at")
        if not source:
            raise ValueError("source is required (where the snapshot came from)")
        if not payloads:
            raise ValueError("a snapshot needs at least one payload")
        bodies = {_plain_name(name): _text(name, payload) for name, payload in sorted(payloads.items())}
        row = Snapshot(
            captured_at=captured,
            source=source,
            books_captured_at=require_aware(books_captured_at, "books_captured_at") if books_captured_at else None,
            stored_at=require_aware(stored_at, "stored_at"),
            payloads=[SnapshotPayload(name=name, body=body) for name, body in bodies.items()],
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def append_directory(self, directory: Path, *, stored_at: datetime, captured_at: datetime | None = None,
                         source: str | None = None, books_captured_at: datetime | None = None) -> int:
        """Store every `*.json` file of a snapshot directory verbatim (each must be valid JSON).

        The capture time defaults to the directory's `meta.json` `captured_at`; a different explicit
        one is refused, since replay reads the time from `meta.json`.
        """
        files = sorted(Path(directory).glob("*.json"))
        if not files:
            raise FileNotFoundError(f"{directory}: no *.json files to store")
        payloads = {path.name: path.read_text(encoding="utf-8") for path in files}
        if META_FILE in payloads:
            meta = json.loads(payloads[META_FILE])
            recorded = meta.get("captured_at") if isinstance(meta, dict) else None
            if recorded is not None:
                at = datetime.fromisoformat(str(recorded).replace("Z", "+00:00"))
                if captured_at is not None and require_aware(captured_at, "captured_at") != at:
                    raise ValueError(f"{directory}: captured_at {captured_at} differs from meta.json's {recorded}")
                captured_at = at
                source = source or (meta.get("source") or None)
        if captured_at is None:
            raise ValueError(f"{directory}: no meta.json captured_at; pass captured_at")
        return self.append(captured_at=captured_at, source=source or str(directory), payloads=payloads,
                           books_captured_at=books_captured_at, stored_at=stored_at)

    def get(self, snapshot_id: int) -> StoredSnapshot | None:
        row = self.session.get(Snapshot, snapshot_id)
        return _detached(row) if row else None

    def between(self, start: datetime, end: datetime, *, source: str | None = None) -> list[StoredSnapshot]:
        """Snapshots captured in [start, end), oldest first (ties broken by id)."""
        return list(self.iter_between(start, end, source=source))

    def iter_between(self, start: datetime, end: datetime, *, source: str | None = None,
                     batch: int = 50) -> Iterator[StoredSnapshot]:
        """Like `between` but read in pages of `batch` rows (keyset on capture time, id)."""
        after: tuple[datetime, int] | None = None
        while True:
            chunk = self.page(start, end, source=source, after=after, limit=batch)
            yield from chunk
            if len(chunk) < batch:
                return
            after = (chunk[-1].captured_at, chunk[-1].id)

    def page(self, start: datetime, end: datetime, *, source: str | None = None,
             after: tuple[datetime, int] | None = None, limit: int = 50) -> list[StoredSnapshot]:
        """Up to `limit` snapshots in [start, end) strictly after the (captured_at, id) key `after`."""
        lo, hi = require_aware(start, "start"), require_aware(end, "end")
        if hi < lo:
            raise ValueError(f"end {end} is before start {start}")
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        query = select(Snapshot).where(Snapshot.captured_at >= lo, Snapshot.captured_at < hi)
        if source is not None:
            query = query.where(Snapshot.source == source)
        if after is not None:
            at, ident = require_aware(after[0], "after"), after[1]
            query = query.where((Snapshot.captured_at > at) | ((Snapshot.captured_at == at) & (Snapshot.id > ident)))
        rows = self.session.scalars(query.order_by(Snapshot.captured_at, Snapshot.id).limit(limit)).all()
        return [_detached(row) for row in rows]

    def latest(self, *, source: str | None = None) -> StoredSnapshot | None:
        query = select(Snapshot)
        if source is not None:
            query = query.where(Snapshot.source == source)
        row = self.session.scalars(query.order_by(Snapshot.captured_at.desc(), Snapshot.id.desc()).limit(1)).first()
        return _detached(row) if row else None

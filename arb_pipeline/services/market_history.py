"""Market history read back: stored raw payloads parsed again into `MarketSnapshot`s.

The parser is the connectors' own (`connectors.snapshot.parse_payloads`, the same code as a live
capture) with the stored capture time, source and book time standing in for a missing `meta.json`;
`storage.replay.SnapshotSource` pages the rows and takes this function as its parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.connectors.snapshot import parse_payloads
from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.storage.replay import SnapshotSource
from arb_pipeline.storage.repositories import StoredSnapshot


def rebuild(stored: StoredSnapshot) -> MarketSnapshot:
    """One stored snapshot as a `MarketSnapshot`, parsed from its raw payloads."""
    return parse_payloads(stored.payloads, captured_at=stored.captured_at, source=stored.source,
                          books_captured_at=stored.books_captured_at)


def snapshots_between(sessions: sessionmaker[Session], start: datetime, end: datetime, *,
                      batch: int = 25) -> Iterator[tuple[int, MarketSnapshot]]:
    """(id, parsed snapshot) for every snapshot captured in [start, end), oldest first."""
    for stored in SnapshotSource(sessions, start, end, parser=rebuild, batch=batch).stored():
        yield stored.id, rebuild(stored)

"""Replay stored snapshots as `MarketSnapshot`s: the market-data source of backfills.

The caller hands in the parser (`services.market_history.rebuild`: the connectors' own parser of live
captures, today's code), so a backfill replays exactly what was seen with today's rules and storage
never imports the connectors above it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import SnapshotRepository, StoredSnapshot

Parser = Callable[[StoredSnapshot], MarketSnapshot]


class SnapshotSource:
    """Iterate the snapshots captured in [start, end), oldest first, rebuilt as `MarketSnapshot`s.

    Rows are read in short transactions of `batch`, so a long backfill neither holds a read
    transaction open (SQLite writers would wait on it) nor loads a whole day into memory.
    """

    def __init__(self, sessions: sessionmaker[Session], start: datetime, end: datetime, *,
                 parser: Parser, source: str | None = None, batch: int = 25) -> None:
        self.sessions, self.start, self.end, self.source = sessions, start, end, source
        self.parser, self.batch = parser, batch

    def stored(self) -> Iterator[StoredSnapshot]:
        after = None
        while True:
            with session_scope(self.sessions) as session:
                chunk = SnapshotRepository(session).page(self.start, self.end, source=self.source, after=after,
                                                         limit=self.batch)
            yield from chunk
            if len(chunk) < self.batch:
                return
            after = (chunk[-1].captured_at, chunk[-1].id)

    def __iter__(self) -> Iterator[MarketSnapshot]:
        for stored in self.stored():
            yield self.parser(stored)

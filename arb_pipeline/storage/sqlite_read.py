"""Reads of the application's SQLite file with the standard library's `sqlite3`, for a scan.

`arb-pipeline scan --snapshot DIR` with the default database present (`$ARB_DATA_DIR/arb_pipeline.sqlite3`)
reads two things from it: the active mapping overrides and the ledger figures behind the sizing
bankroll. Through SQLAlchemy (engine, ORM session, models, repositories, ledger) that costs a scan
~0.27 s CPU and ~24 MiB of peak RSS before the first row; `sqlite3` is part of the interpreter.

Same rows, same values as the repositories' queries (`MappingRepository.active_overrides`,
`ledger.realized_total`, `ledger.last_live_balance`): the same filters and order, and each value
converted by the rules the column types use (`storage.values`). A test reads a database both ways and
compares. PostgreSQL, or a database a caller hands over as an engine, is read through SQLAlchemy.
Nothing here writes: the file is opened read-write (a WAL database needs that to read) but must exist,
so asking never creates one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from arb_pipeline.storage.values import money_from_stored, utc_from_sqlite_text

SQLITE_BUSY_TIMEOUT_S = 30  # wait on another process's write lock rather than fail (`db.create_app_engine`)


class OverrideRow(NamedTuple):
    """One active `mapping_overrides` row, as `MappingRepository.active_overrides` returns its fields."""

    action: str
    kalshi_ticker: str
    sportsbook_event_id: str | None
    outcome: str | None
    who: str
    why: str
    created_at: datetime


@contextmanager
def connect_existing(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the SQLite file at `path`, which must exist (`mode=rw`: never created)."""
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=rw"
    with closing(sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S)) as connection:
        yield connection


def has_table(connection: sqlite3.Connection, table: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (table,)).fetchone() is not None


def active_overrides(connection: sqlite3.Connection) -> list[OverrideRow]:
    """Active overrides, oldest first (`MappingRepository.active_overrides()`)."""
    rows = connection.execute(
        "SELECT action, kalshi_ticker, sportsbook_event_id, outcome, who, why, created_at"
        " FROM mapping_overrides WHERE active IS 1 ORDER BY id")
    return [OverrideRow(*row[:6], utc_from_sqlite_text(row[6], where="mapping_overrides.created_at"))
            for row in rows]


def realized_amounts(connection: sqlite3.Connection, mode: str) -> list[Decimal]:
    """Every realized-P&L amount of `mode` (`PositionRepository.realized_rows(mode)`'s amounts)."""
    rows = connection.execute("SELECT amount FROM realized_pnl WHERE mode = ? ORDER BY realized_at, id", (mode,))
    return [money_from_stored(amount) for (amount,) in rows]


def last_venue_balance(connection: sqlite3.Connection, mode: str) -> Decimal | None:
    """The venue cash of `mode`'s last balance check (`ledger.last_live_balance` for "live"), or None."""
    row = connection.execute("SELECT venue_balance FROM balance_checks WHERE mode = ? ORDER BY at DESC, id DESC LIMIT 1",
                             (mode,)).fetchone()
    return None if row is None else money_from_stored(row[0])

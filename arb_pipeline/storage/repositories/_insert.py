"""Insert a row unless its key is already there, in one statement, on SQLite and PostgreSQL.

A look-up followed by an insert races: two processes both see nothing and both insert, and the second
dies on the unique key (seen as `UniqueViolation` on `pk_opportunities` with two scans at once).
`INSERT ... ON CONFLICT (...) DO NOTHING` lets the database settle it: the second waits for the first
and then inserts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session


def dialect_insert(session: Session, model: type) -> Any:
    """`INSERT INTO model` in the session's dialect, which offers `on_conflict_do_nothing/update`."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the application supports exactly these two
        raise NotImplementedError(f"INSERT .. ON CONFLICT: unsupported database {dialect!r}")
    return insert(model)


def insert_if_absent(session: Session, model: type, values: Mapping[str, Any], key: Sequence[str]) -> bool:
    """Insert `values` into `model`'s table unless a row with the same `key` columns exists; True when
    this call inserted it."""
    statement = dialect_insert(session, model).values(**values).on_conflict_do_nothing(index_elements=list(key))
    return session.execute(statement).rowcount == 1

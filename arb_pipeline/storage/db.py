"""Engine and session factory: SQLite by default, PostgreSQL through DATABASE_URL.

Engines are cached per URL so every caller in a process shares one pool. SQLite gets a busy
timeout (so two processes wait on each other's write lock instead of failing) and foreign keys on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.storage.sqlite_read import SQLITE_BUSY_TIMEOUT_S


def create_app_engine(url: str, **kwargs: object) -> Engine:
    """A new engine for `url` (not cached): tests and migrations that need their own pool use this."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = dict(kwargs.pop("connect_args", {}) or {})  # type: ignore[call-overload]
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(url, connect_args=connect_args, **kwargs)  # type: ignore[arg-type]

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001 - DB-API connection
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The shared engine for `url` (default: `Settings.effective_database_url`)."""
    if url is None:
        from arb_pipeline.settings import get_settings

        url = get_settings().effective_database_url
    return create_app_engine(url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (records are read after the transaction ends)."""
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session] | Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception, always close."""
    if factory is None or isinstance(factory, Engine):
        factory = session_factory(factory)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

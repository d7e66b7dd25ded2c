"""Shared database fixtures: every DB test runs on SQLite and on PostgreSQL.

Not a conftest on purpose, so it can be loaded from anywhere without registering twice: the root
conftest may declare `pytest_plugins = ["arb_pipeline_tests.storage.db_fixtures"]`; a folder's
conftest or a test module may `from arb_pipeline_tests.storage.db_fixtures import *`.

- `db_url` (session scope, parametrized sqlite/postgresql): a migrated, empty database. SQLite is a
  temporary file; PostgreSQL gets a fresh schema `arb_test_<random>` (dropped at the end) so runs
  and other engineers' tests never interfere. PostgreSQL is skipped with the reason when the server
  at DATABASE_URL_TEST (default postgresql+psycopg2://postgres@127.0.0.1:5432/test) is unreachable.
- `engine`: an engine on that database with all tables emptied before the test.
- `session_factory`: sessionmaker bound to `engine`.
- `other_engine`: a second, independent engine (a second "process") on the same database.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from arb_pipeline.storage.db import create_app_engine
from arb_pipeline.storage.db import session_factory as _session_factory
from arb_pipeline.storage.migrate import upgrade
from arb_pipeline.storage.models import Base

__all__ = ["db_url", "engine", "other_engine", "session_factory"]

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def _pg_base_url() -> str:
    return os.environ.get("DATABASE_URL_TEST") or DEFAULT_PG_URL


def _with_search_path(url: str, schema: str) -> str:
    parsed = make_url(url)
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'arb_test.sqlite3'}"
        upgrade(url)
        yield url
        return
    base = _pg_base_url()
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        pytest.skip(f"PostgreSQL unreachable at {make_url(base).render_as_string(hide_password=True)}: "
                    f"{type(exc).__name__}")
    schema = f"arb_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _with_search_path(base, schema)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _truncate(engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def engine(db_url):
    eng = create_app_engine(db_url)
    _truncate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def other_engine(db_url):
    eng = create_app_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    return _session_factory(engine)

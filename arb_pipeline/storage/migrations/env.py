"""Alembic environment: runs on a connection handed over by `storage.migrate`, or on the ini's URL.

`render_as_batch` lets later migrations ALTER tables on SQLite (which cannot alter in place).
"""

from __future__ import annotations

from alembic import context

from arb_pipeline.storage.db import create_app_engine
from arb_pipeline.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:  # the `alembic` command line without -x url=...: the application's database
        from arb_pipeline.settings import get_settings

        url = get_settings().effective_database_url
    engine = create_app_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: run `arb-pipeline db upgrade`")
run_migrations_online()

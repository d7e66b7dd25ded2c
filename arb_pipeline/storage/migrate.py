"""Bring a database to the latest schema: `upgrade(database_url)` (CLI: `arb-pipeline db upgrade`).

The Alembic configuration is built in code from this package's own path, so it works from an
installed wheel and from any working directory; no alembic.ini is looked up in the cwd.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from arb_pipeline.storage.db import create_app_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if database_url:
        # ConfigParser interpolation: a literal '%' in a URL (encoded password) must be doubled.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str | Engine, revision: str = "head") -> None:
    """Upgrade the database at `database_url` (or behind an Engine) to `revision` (default: latest)."""
    engine = database_url if isinstance(database_url, Engine) else create_app_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if not isinstance(database_url, Engine):
            engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError(f"no Alembic revisions found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()

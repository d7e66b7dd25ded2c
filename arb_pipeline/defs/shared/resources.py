"""Resources more than one domain binds: the application database and the scan configuration.

Each is a `ConfigurableResource` whose fields default to the typed `Settings` (so an unconfigured
machine runs: SQLite under ARB_DATA_DIR, paper mode) and are bound to `EnvVar`s when the variable is
set, so the UI shows which variable feeds which field. Secrets are never fields: the connectors
read them from the settings (rule 7 of DESIGN.md).

`Definitions.merge` accepts one resource key from several domains only when it is the *same
object*, so the module-level instances below are what every domain binds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from arb_pipeline.services.scan import ScanConfig
    from arb_pipeline.settings import Settings

DATABASE_KEY = "database"
SCAN_CONFIG_KEY = "scan_config"

_MIGRATED: set[str] = set()
_MIGRATE_LOCK = threading.Lock()


def env_or(name: str, default: Any = None) -> Any:
    """`EnvVar(name)` when the variable is set (the UI then shows its name), else `default`."""
    return dg.EnvVar(name) if os.environ.get(name) not in (None, "") else default


def env_int_or(name: str, default: Any = None) -> Any:
    return dg.EnvVar.int(name) if os.environ.get(name) not in (None, "") else default


def current_settings() -> Settings:
    from arb_pipeline.settings import get_settings

    return get_settings()


class AppDatabaseResource(dg.ConfigurableResource):
    """The application database (market history, orders, breaker, alerts): SQLAlchemy URL.

    Empty `url` means `Settings.effective_database_url` (SQLite under ARB_DATA_DIR). The schema is
    brought to the latest Alembic revision once per process and URL when `auto_migrate` is on.
    """

    url: str | None = Field(default=None, description="SQLAlchemy URL; empty: DATABASE_URL / SQLite default")
    auto_migrate: bool = Field(default=True, description="run Alembic upgrade once per process")

    def effective_url(self) -> str:
        return self.url or current_settings().effective_database_url

    def ensure_schema(self) -> None:
        url = self.effective_url()
        if not self.auto_migrate or url in _MIGRATED:
            return
        with _MIGRATE_LOCK:
            if url in _MIGRATED:
                return
            from arb_pipeline.storage.migrate import upgrade

            upgrade(url)
            _MIGRATED.add(url)

    def engine(self):
        from arb_pipeline.storage.db import get_engine

        self.ensure_schema()
        return get_engine(self.effective_url())

    @contextmanager
    def session(self) -> Iterator[Session]:
        from arb_pipeline.storage.db import session_scope

        with session_scope(self.engine()) as session:
            yield session


def alert_sink(db: AppDatabaseResource):
    """(severity, title, body, dedup_key) -> outcome: `services.alerts` persisting on this database."""
    from arb_pipeline.services.alerts import Alerter
    from arb_pipeline.storage.db import session_factory

    return Alerter(session_factory(db.engine()), current_settings()).send


class ScanConfigResource(dg.ConfigurableResource):
    """The knobs of resolution, pricing and detection; empty fields come from the settings.

    Changing `devig_method` (or a mapping rule in the database) and rematerializing the history
    assets for a past window is how a trader replays a week with today's rules. The mapping
    decisions stored in `database` are part of the configuration (`services.mappings.configured_scan`,
    the one function every caller uses).
    """

    database: AppDatabaseResource
    devig_method: str | None = Field(default=None, description="ARB_DEVIG_METHOD override")
    min_books: int | None = Field(default=None, description="ARB_MIN_BOOKS override")
    min_edge_bps: int | None = Field(default=None, description="ARB_MIN_EDGE_BPS override")

    def settings(self) -> Settings:
        base = current_settings()
        update = {k: v for k, v in (("devig_method", self.devig_method), ("min_books", self.min_books),
                                    ("min_edge_bps", self.min_edge_bps)) if v is not None}
        return base.model_copy(update=update) if update else base

    def to_scan_config(self) -> ScanConfig:
        return self.scan_config_for(self.settings())

    def scan_config_for(self, settings: Settings) -> ScanConfig:
        """The scan configuration for `settings` (e.g. a history what-if variant), with the stored mapping
        decisions of this database."""
        from arb_pipeline.services.mappings import configured_scan

        return configured_scan(settings, engine=self.database.engine())


database = AppDatabaseResource(url=env_or("DATABASE_URL"))
scan_config = ScanConfigResource(
    database=database,
    devig_method=env_or("ARB_DEVIG_METHOD"),
    min_books=env_int_or("ARB_MIN_BOOKS"),
    min_edge_bps=env_int_or("ARB_MIN_EDGE_BPS"),
)


class SnapshotStoreResource(dg.ConfigurableResource):
    """Market history in the application database: append each captured snapshot, read it back.

    The raw venue payloads are stored verbatim (append-only, `storage.repositories.snapshots`) and
    parsed again with today's connector code on read, so a backfill replays exactly what was seen.
    The scan's stages never read it back: the captured snapshot travels with the stage values.
    """

    database: AppDatabaseResource

    def append(self, snapshot: Any, payloads: dict[str, Any], *, dedupe: bool = False,
               stored_at: Any = None) -> int:
        """Store one capture; returns its id. With `dedupe`, a capture identical to the latest stored
        one of the same source (a recorded directory replayed again) returns that one's id instead.
        `stored_at` (audit only) defaults to the wall clock: this resource is the process's edge."""
        from datetime import UTC, datetime

        from arb_pipeline.storage.repositories import SnapshotRepository

        source = snapshot.source or "unknown"
        with self.database.session() as session:
            repo = SnapshotRepository(session)
            latest = repo.latest(source=source) if dedupe else None
            if latest is not None and latest.captured_at == snapshot.captured_at and dict(latest.payloads) == dict(payloads):
                snapshot_id = latest.id
            else:
                snapshot_id = repo.append(
                    captured_at=snapshot.captured_at,
                    source=source,
                    payloads=payloads,
                    books_captured_at=snapshot.books_captured_at,
                    stored_at=stored_at or datetime.now(UTC),
                )
        return snapshot_id

    def latest_payloads(self, source: str) -> dict[str, str] | None:
        """The raw payloads of the latest snapshot captured from `source` (None: none stored yet)."""
        from arb_pipeline.storage.repositories import SnapshotRepository

        with self.database.session() as session:
            latest = SnapshotRepository(session).latest(source=source)
        return dict(latest.payloads) if latest is not None else None

    def load(self, snapshot_id: int) -> Any:
        """The parsed `MarketSnapshot` stored under `snapshot_id` (KeyError when there is none)."""
        from arb_pipeline.storage.repositories import SnapshotRepository

        with self.database.session() as session:
            stored = SnapshotRepository(session).get(int(snapshot_id))
        if stored is None:
            raise KeyError(f"no stored snapshot with id {snapshot_id}")
        from arb_pipeline.services.market_history import rebuild

        return rebuild(stored)

    def between(self, start: Any, end: Any, batch: int = 25) -> Iterator[tuple[int, Any]]:
        """(id, parsed snapshot) for every snapshot captured in [start, end), oldest first, read in
        short transactions (`storage.replay.SnapshotSource`) so a backfill never blocks the live scan."""
        from arb_pipeline.services.market_history import snapshots_between
        from arb_pipeline.storage.db import session_factory

        yield from snapshots_between(session_factory(self.database.engine()), start, end, batch=batch)


snapshot_store = SnapshotStoreResource(database=database)

import pytest
from sqlalchemy import func, select

from arb_pipeline.storage.db import create_app_engine, get_engine, session_scope
from arb_pipeline.storage.models import BreakerEvent


def test_session_scope_rolls_back_on_error(session_factory):
    from datetime import UTC, datetime

    with pytest.raises(RuntimeError):
        with session_scope(session_factory) as s:
            s.add(BreakerEvent(name="x", at=datetime.now(UTC), from_state="closed", to_state="open", trigger="t",
                               reason="r", who="w"))
            s.flush()
            raise RuntimeError("boom")
    with session_scope(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(BreakerEvent)) == 0


def test_default_sqlite_url_from_settings_creates_its_directory(tmp_path, monkeypatch):
    from arb_pipeline.settings import get_settings

    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        engine = get_engine()
        assert engine.url.database == str(tmp_path / "data" / "arb_pipeline.sqlite3")
        assert (tmp_path / "data").is_dir() and engine is get_engine()
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()


def test_sqlite_foreign_keys_are_enforced(tmp_path):
    from arb_pipeline.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'fk.sqlite3'}"
    upgrade(url)
    engine = create_app_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()

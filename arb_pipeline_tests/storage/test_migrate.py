from sqlalchemy import inspect

from arb_pipeline.storage.db import create_app_engine
from arb_pipeline.storage.migrate import current_revision, head_revision, upgrade
from arb_pipeline.storage.models import Base


def test_migrated_database_is_at_head_and_matches_the_models(engine):
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspect(engine).get_columns(name)}
        assert columns == {c.name for c in table.columns}, name


def test_upgrade_is_idempotent(db_url, engine):
    upgrade(db_url)  # second run: nothing to do, no error
    assert current_revision(engine) == head_revision()


def test_upgrade_from_empty_sqlite_in_another_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no alembic.ini here: the config is built from the package path
    url = f"sqlite:///{tmp_path / 'nested' / 'fresh.sqlite3'}"
    upgrade(url)
    eng = create_app_engine(url)
    try:
        assert current_revision(eng) == head_revision()
    finally:
        eng.dispose()


def test_no_model_change_without_a_migration(engine):
    """Autogenerate against the migrated DB finds nothing: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []

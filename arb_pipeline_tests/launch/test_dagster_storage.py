"""The engine-caching SQLite instance storage: the project template uses it, it writes exactly the files
`storage: sqlite` writes (so either reads the other's history), and it builds one engine per file."""

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from arb_pipeline.launch import dagster_storage
from arb_pipeline.launch.dagster_storage import (
    EngineCachingSqliteEventLogStorage,
    EngineCachingSqliteRunStorage,
    EngineCachingSqliteStorage,
    _Engines,
)

ROOT = Path(__file__).resolve().parents[2]


@dg.op
def say(context: dg.OpExecutionContext) -> int:
    for i in range(20):
        context.log.info(f"line {i}")
    return 1


@dg.asset
def numbers() -> int:
    return 7


@dg.job(executor_def=dg.in_process_executor)
def chatty() -> None:
    say()


def _home(tmp_path: Path, config: dict) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@pytest.fixture
def template(tmp_path, monkeypatch):
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    home = _home(tmp_path, config)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home, config


def test_the_project_template_uses_it_and_stock_sqlite_storage_reads_its_history(template):
    home, config = template
    assert config["storage"]["custom"]["class"] == "EngineCachingSqliteStorage"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance._run_storage, EngineCachingSqliteRunStorage)
        assert isinstance(instance.event_log_storage, EngineCachingSqliteEventLogStorage)
        result = chatty.execute_in_process(instance=instance)
        assert result.success
        materialized = dg.materialize([numbers], instance=instance)
        ours = [e.user_message for e in instance.all_logs(result.run_id)]
    # the files are `storage: sqlite`'s: Dagster's own storage opens the same home and sees the same runs
    assert (home / "history" / "runs.db").exists() and (home / "history" / "runs" / f"{result.run_id}.db").exists()
    stock = {"storage": {"sqlite": {"base_dir": str(home)}}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(stock))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert [e.user_message for e in instance.all_logs(result.run_id)] == ours
        assert sum("line 19" in m for m in ours) == 1
        assert instance.get_run_by_id(materialized.run_id).is_success
        assert instance.get_latest_materialization_event(dg.AssetKey("numbers")) is not None  # index shard


def test_one_engine_per_database_file_not_one_per_event(template, monkeypatch):
    home, _ = template
    built: list[str] = []
    real = sa.create_engine

    def counting(url, *args, **kwargs):
        built.append(str(url))
        return real(url, *args, **kwargs)

    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from dagster._core.storage.runs.sqlite import sqlite_run_storage

    with dg.DagsterInstance.from_config(str(home)) as instance:
        monkeypatch.setattr(dagster_storage.sa, "create_engine", counting)
        for dagster_module in (sqlite_event_log, sqlite_run_storage):  # Dagster's own engine per connection
            monkeypatch.setattr(dagster_module, "create_engine", counting)
        result = chatty.execute_in_process(instance=instance)
        events = len(instance.all_logs(result.run_id))
    assert events > 25  # 20 log lines and the run's own events, each stored through a connection
    assert 1 <= len(built) == len(set(built)) <= 3  # the run's file (and the index / runs.db at most): once each


def test_engines_are_bounded_least_recently_used_first_out(tmp_path):
    engines = _Engines(limit=2)
    urls = [f"sqlite:///{tmp_path / name}.db" for name in "abc"]
    a = engines.get(urls[0])
    engines.get(urls[1])
    assert engines.get(urls[0]) is a  # reused, and now the most recent
    engines.get(urls[2])  # evicts b, not a
    assert len(engines) == 2 and engines.get(urls[0]) is a


def test_it_loads_from_its_yaml_block(tmp_path):
    config = {"storage": {"custom": {"module": "arb_pipeline.launch.dagster_storage",
                                     "class": "EngineCachingSqliteStorage",
                                     "config": {"base_dir": str(tmp_path / "base")}}}}
    home = _home(tmp_path, config)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance._run_storage, EngineCachingSqliteRunStorage)
        assert (tmp_path / "base" / "history" / "runs.db").exists()
    schema = EngineCachingSqliteStorage.config_type()
    assert set(schema) == {"base_dir", "synchronous"} and schema["base_dir"] == dg.StringSource


def _pragma(connection) -> int:
    return connection.exec_driver_sql("PRAGMA synchronous").scalar()


@pytest.mark.parametrize(("configured", "level"), [(None, 1), ("NORMAL", 1), ("full", 2)])
def test_run_and_event_log_connections_use_the_configured_synchronous_level(tmp_path, configured, level):
    """NORMAL (1) unless FULL (2) is asked for: in WAL mode NORMAL survives a killed process, and FULL's
    fsync per event written was most of a scan run's event-log cost (module docstring)."""
    config = {"base_dir": str(tmp_path / "base"), **({"synchronous": configured} if configured else {})}
    home = _home(tmp_path, {"storage": {"custom": {"module": "arb_pipeline.launch.dagster_storage",
                                                   "class": "EngineCachingSqliteStorage", "config": config}}})
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = chatty.execute_in_process(instance=instance)
        assert result.success
        with instance._run_storage.connect() as conn:
            assert _pragma(conn) == level
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        with instance.event_log_storage._connect(result.run_id) as conn:
            assert _pragma(conn) == level


def test_an_unknown_synchronous_level_is_refused_naming_the_setting(tmp_path):
    with pytest.raises(ValueError, match=r"synchronous: expected one of NORMAL, FULL, got 'OFF'"):
        EngineCachingSqliteStorage.from_local(str(tmp_path / "base"), synchronous="OFF")

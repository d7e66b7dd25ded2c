"""The engine-caching SQLite instance storage: the project template uses it, it writes exactly the files
`storage: sqlite` writes (so either reads the other's history), it builds one engine per file and keeps one
connection per file and process, and that changes nothing Dagster's watchers, a killed writer or a forked
child see."""

import logging
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.base import EventLogCursor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.launch import dagster_storage
from arb_pipeline.launch.dagster_storage import (
    EngineCachingSqliteEventLogStorage,
    EngineCachingSqliteRunStorage,
    EngineCachingSqliteStorage,
    _Engines,
)
from arb_pipeline_tests.waiting import wait_until

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


# --- a new run's event-log file comes from a template -----------------------------------------------


def _schema(path: Path) -> tuple[list, list, str]:
    """What makes two event-log files the same to Dagster: tables and indexes, the alembic revision, WAL."""
    import sqlite3

    with sqlite3.connect(path) as db:
        objects = sorted(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=str)
        revision = db.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    return objects, revision, journal


def test_a_new_runs_file_is_the_template_copy_and_equals_what_dagster_builds(tmp_path):
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    ours = EngineCachingSqliteEventLogStorage(str(tmp_path / "ours"))
    stock = SqliteEventLogStorage(str(tmp_path / "stock"))
    for storage in (ours, stock):
        with storage.run_connection("run-a"):
            pass
    assert _schema(tmp_path / "ours" / "run-a.db") == _schema(tmp_path / "stock" / "run-a.db")
    assert _schema(tmp_path / "ours" / "run-a.db")[1] and _schema(tmp_path / "ours" / "run-a.db")[2] == "wal"
    template = Path(ours._template.path)
    assert template.exists() and template.name == f".run-shard-template-{dg.__version__}.sqlite"
    assert ours.get_all_run_ids() == ["run-a"]  # the template is not taken for a run
    assert not list((tmp_path / "ours").glob("*.tmp"))  # no staging file left behind


def test_dagster_builds_the_template_once_not_a_file_per_run(template, monkeypatch):
    home, _ = template
    built: list[str] = []
    real = EngineCachingSqliteEventLogStorage._initdb

    def counting(self, engine, *args, **kwargs):
        if not str(engine.url).endswith("/index.db"):  # the index is Dagster's own business, as before
            built.append(str(engine.url))
        return real(self, engine, *args, **kwargs)

    monkeypatch.setattr(EngineCachingSqliteEventLogStorage, "_initdb", counting)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = [chatty.execute_in_process(instance=instance) for _ in range(3)]
        assert all(r.success for r in runs)
        logs = [len(instance.all_logs(r.run_id)) for r in runs]
    assert min(logs) > 25  # every run's events are stored and read back from its copied file
    assert len(built) == 1 and ".run-shard-template-" in built[0]
    # a second process (a new storage on the same home) reuses the template on disk: no build at all
    built.clear()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert chatty.execute_in_process(instance=instance).success
    assert built == []


def test_a_file_already_there_is_left_to_dagsters_own_initialisation(tmp_path):
    storage = EngineCachingSqliteEventLogStorage(str(tmp_path))
    with storage.run_connection("warm"):
        pass
    existing = tmp_path / "other.db"
    existing.write_bytes(b"")  # e.g. another process is creating it right now
    assert storage._template.install(str(existing)) is False
    assert existing.read_bytes() == b""


def test_a_damaged_template_is_refused_naming_the_file(tmp_path):
    storage = EngineCachingSqliteEventLogStorage(str(tmp_path))
    Path(storage._template.path).write_bytes(b"not a database")
    with pytest.raises(ValueError, match=r"\.run-shard-template-.*\.sqlite: not a SQLite database; delete it"):
        with storage.run_connection("run-b"):
            pass
    assert not (tmp_path / "run-b.db").exists()


# --- another process's events: live watchers see them, a killed writer loses nothing -----------------

WRITER = r"""
import logging, os, signal, sys, time
from dagster._core.events.log import EventLogEntry
from arb_pipeline.launch.dagster_storage import EngineCachingSqliteEventLogStorage

base_dir, run_id, handshake, count, end = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def wait_for(name):
    while not os.path.exists(os.path.join(handshake, name)):
        time.sleep(0.01)

storage = EngineCachingSqliteEventLogStorage(base_dir)
for i in range(count):
    wait_for(f"go-{i}")
    storage.store_event(EventLogEntry(error_info=None, level=logging.INFO, user_message=f"event {i}",
                                      run_id=run_id, timestamp=1.0 + i, step_key=None, job_name=None,
                                      dagster_event=None))
    open(os.path.join(handshake, f"stored-{i}"), "w").close()
wait_for("end")
if end == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
storage.dispose()
"""


def _writer(tmp_path: Path, run_id: str, count: int, end: str) -> tuple[subprocess.Popen, Path, Path]:
    base, handshake = tmp_path / "events", tmp_path / "handshake"
    base.mkdir(exist_ok=True)
    handshake.mkdir(exist_ok=True)
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(base), run_id, str(handshake), str(count), end],
                               cwd=ROOT)
    return process, base, handshake


def _messages(storage, run_id: str) -> list[str]:
    return [r.event_log_entry.user_message for r in storage.get_records_for_run(run_id).records]


@pytest.mark.parametrize("reader", ["ours", "stock"])
def test_a_watcher_sees_each_event_another_process_writes_while_that_process_still_runs(tmp_path, reader):
    """Dagster's live run view (`watch`) fires on changes to the run's `.db` file; each event another
    process commits must reach the watcher right away, not when that process closes its connection."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    process, base, handshake = _writer(tmp_path, "live-run", 3, "exit")
    watching = (EngineCachingSqliteEventLogStorage if reader == "ours" else SqliteEventLogStorage)(str(base))
    seen: list[str] = []
    try:
        watching.watch("live-run", None, lambda entry, _cursor: seen.append(entry.user_message))
        for i in range(3):
            (handshake / f"go-{i}").touch()
            assert wait_until(lambda i=i: (handshake / f"stored-{i}").exists() or process.poll() is not None)
            assert process.poll() is None, "the writer stopped early"
            assert wait_until(lambda i=i: len(seen) > i), f"the watcher saw {seen} after event {i} was committed"
        assert seen == ["event 0", "event 1", "event 2"]
    finally:
        for name in ("go-1", "go-2", "end"):  # let the writer finish whatever failed
            (handshake / name).touch()
        assert process.wait() == 0
        watching.dispose()


def test_a_killed_writer_loses_no_committed_event_and_stock_storage_reads_them(tmp_path):
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    process, base, handshake = _writer(tmp_path, "killed-run", 4, "kill")
    for i in range(4):
        (handshake / f"go-{i}").touch()
    assert wait_until(lambda: (handshake / "stored-3").exists() or process.poll() is not None)
    (handshake / "end").touch()
    assert process.wait() == -signal.SIGKILL
    expected = [f"event {i}" for i in range(4)]
    assert _messages(SqliteEventLogStorage(str(base)), "killed-run") == expected
    assert _messages(EngineCachingSqliteEventLogStorage(str(base)), "killed-run") == expected


# --- kept connections: one per file and process, never across a fork, results exactly Dagster's -------


def _entry(run_id: str, i: int, asset: str | None = None) -> EventLogEntry:
    event = None
    if asset is not None:
        event = DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, "a_job",
                             event_specific_data=StepMaterializationData(dg.AssetMaterialization(asset)))
    return EventLogEntry(error_info=None, level=logging.INFO, user_message=f"event {i}", run_id=run_id,
                         timestamp=1.0 + i, step_key="s" if event else None, job_name="a_job" if event else None,
                         dagster_event=event)


def _kept(storage: EngineCachingSqliteEventLogStorage, run_id: str) -> Any:
    """The sqlite3 connection the storage keeps for the run's file (the one its next use gets)."""
    with storage.run_connection(run_id) as conn:
        return conn.connection.dbapi_connection


def test_a_forked_child_never_uses_its_parents_connection_and_both_keep_writing(tmp_path):
    storage = EngineCachingSqliteEventLogStorage(str(tmp_path))
    storage.store_event(_entry("forked", 0))
    parents = _kept(storage, "forked")
    assert _kept(storage, "forked") is parents  # kept between uses
    pid = os.fork()
    if pid == 0:  # the child: must open its own connection, and its event must be stored
        status = 1
        try:
            storage.store_event(_entry("forked", 1))
            status = 0 if _kept(storage, "forked") is not parents else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    storage.store_event(_entry("forked", 2))  # the parent's connection still works after the child's writes
    assert _kept(storage, "forked") is parents
    assert _messages(storage, "forked") == ["event 0", "event 1", "event 2"]


def test_wiping_closes_the_kept_connections_so_new_events_land_in_the_new_files(tmp_path):
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    storage = EngineCachingSqliteEventLogStorage(str(tmp_path))
    storage.store_event(_entry("wiped", 0))
    storage.wipe()
    storage.store_event(_entry("wiped", 1))
    assert _messages(SqliteEventLogStorage(str(tmp_path)), "wiped") == ["event 1"]


def test_disposing_closes_the_kept_connections_and_folds_the_log_into_the_file(tmp_path):
    storage = EngineCachingSqliteEventLogStorage(str(tmp_path))
    storage.store_event(_entry("closed", 0))
    assert len(storage._engines) >= 1
    storage.dispose()
    assert len(storage._engines) == 0
    assert not (tmp_path / "closed.db-wal").exists()  # the last connection closed checkpoints the WAL


OPERATIONS = st.lists(st.tuples(st.sampled_from(["log", "asset", "read", "latest"]),
                                st.sampled_from(["run-a", "run-b", "run-c"]),
                                st.sampled_from(["x", "y"]), st.integers(0, 5)), max_size=25)


@pytest.fixture(scope="module")
def storage_pair(tmp_path_factory):
    """Ours and Dagster's, each on its own directory, shared by the examples (an index shard costs ~0.5 s
    to build); every example writes its own runs and assets, the same to both."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    base = tmp_path_factory.mktemp("pair")
    pair = [EngineCachingSqliteEventLogStorage(str(base / "ours")), SqliteEventLogStorage(str(base / "stock"))]
    yield pair
    for storage in pair:
        storage.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_kept_connections_store_and_read_exactly_what_dagsters_own_storage_does(storage_pair, operations):
    """Any interleaving of run events, asset events (also in the index shard) and reads gives the same
    records, storage ids and cursors with kept connections as with Dagster's connection per use."""
    example = uuid.uuid4().hex[:8]
    results: list[list] = [[], []]
    for i, (kind, run, asset, after) in enumerate(operations):
        run_id, asset = f"{example}-{run}", f"{asset}_{example}"
        for storage, seen in zip(storage_pair, results, strict=True):
            if kind in ("log", "asset"):
                storage.store_event(_entry(run_id, i, asset if kind == "asset" else None))
            elif kind == "read":
                cursor = EventLogCursor.from_storage_id(after).to_string() if after else None
                got = storage.get_records_for_run(run_id, cursor=cursor)
                seen.append((got.cursor, [(r.storage_id, r.event_log_entry) for r in got.records]))
            else:
                latest = storage.get_latest_materialization_events([dg.AssetKey(asset)])
                seen.append({key: (e.run_id, e.user_message) if e else None for key, e in latest.items()})
    for storage, seen in zip(storage_pair, results, strict=True):
        seen.append(sorted(run for run in storage.get_all_run_ids() if run.startswith(example)))
        seen.extend([(r.storage_id, r.event_log_entry) for run in ("run-a", "run-b", "run-c")
                     for r in storage.get_records_for_run(f"{example}-{run}").records])
    assert results[0] == results[1]

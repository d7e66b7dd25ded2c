"""Dagster's one-machine SQLite instance storage, with one kept connection per database file.

Why: Dagster's SQLite run and event-log storages build a new SQLAlchemy engine for every connection,
i.e. for every event a run writes (and for the index shard too, for asset events). A scan run writes
~140 events and opens ~300 such connections; building the engine was ~1.3 ms of CPU of the ~4 ms each
store took here (benchmarks/bench_pipeline_latency.py --profile: ~0.4 s of a 1,000-game run's CPU,
on the path from the sensor's run request to the paper order).

What does not change: the files and their layout (exactly `storage: sqlite`'s: `history/runs.db`,
`history/runs/<run_id>.db` and `index.db`, `schedules/`), so switching an existing DAGSTER_HOME to this
class keeps its history; locking, WAL mode and every query. Engines are kept for the most recent
database files only (bounded), as a long-lived daemon or webserver sees every run's file.

Connections are kept, one per database file and process, instead of one per use (Dagster's NullPool):
opening, setting the PRAGMA and closing was ~1 ms of the ~1.3 ms of CPU each event cost (a closing
last connection also checkpoints the WAL into the file, with an fsync). Nothing committed is lost
when a process dies (`kill -9`): the commits are in the WAL, which the next connection reads (and
folds in). What the close did for Dagster's event watchers - the UI's live run view, a watchdog on
the run's `<run_id>.db`, which re-reads the run's events when that file changes - is done by touching
the file's modification time after each transaction that wrote to it (readers see WAL content, so
the file itself need not change): ~0.01 ms, where a `PRAGMA wal_checkpoint(PASSIVE)` per event cost
0.3-0.9 ms. Every watchdog backend reports a modification time change as a modification (inotify
IN_ATTRIB, FSEvents inode metadata, Windows LAST_WRITE, the polling observer's mtime). A kept
connection never crosses a fork (the warm launcher forks every run from its forkserver): a child
drops its parent's engines without using or closing their connections (`_Engines.forget_after_fork`).
Disposing the storage (the end of a run) closes them; so does `wipe`, before Dagster deletes files.

A run's own event-log file is copied from a template instead of being built: Dagster builds every new
run's `<run_id>.db` by creating its tables, then asking alembic for the head revision (it reads all of
Dagster's migration scripts) and stamping it - ~0.19 s of CPU per run, before the run's first event,
on the path from the sensor's run request to the paper order. The template is a file Dagster's own
`_initdb` built once, for this Dagster version (`.run-shard-template-<version>.sqlite` in the runs
directory: hidden, and not `*.db`, so no glob for run files sees it); a new run's file gets its bytes
and appears atomically under its name (a hard link from a temporary name), so a reader never sees a
half-written file, and a file that already exists (another process got there first) is left to
Dagster's own path, as before.

What does change, besides the engines: `PRAGMA synchronous` on the run and event-log connections is
NORMAL by default instead of SQLite's FULL. In WAL mode (Dagster's) NORMAL still never corrupts a
database and loses nothing when a process dies (`kill -9`: the WAL is in the OS's page cache); only
the last commits before a power cut or an OS crash may be lost. FULL fsyncs the WAL on every commit,
i.e. on every event a run writes: 15 ms of wall time per event here against 2.6 ms (a run writes
~140, all on the path from the sensor's run request to the paper order). These databases hold
Dagster's run history, not money: orders, fills and hedges are in the application's own database,
which keeps its own settings. `synchronous: FULL` restores SQLite's default.

Configured in `deploy/dagster.yaml`:

    storage:
      custom:
        module: arb_pipeline.launch.dagster_storage
        class: EngineCachingSqliteStorage
        config:
          base_dir: {env: DAGSTER_HOME}
          synchronous: NORMAL   # optional; NORMAL (default) or FULL
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster._utils import mkdir_p
from sqlalchemy.pool import NullPool, QueuePool

MAX_ENGINES = 32  # the index shard, the runs in flight and the few the UI is showing
SYNCHRONOUS = ("NORMAL", "FULL")  # PRAGMA synchronous levels offered (see the module docstring)
DEFAULT_SYNCHRONOUS = "NORMAL"


def check_synchronous(value: str) -> str:
    level = str(value).upper()
    if level not in SYNCHRONOUS:
        raise ValueError(f"storage config synchronous: expected one of {', '.join(SYNCHRONOUS)}, got {value!r} "
                         "(dagster.yaml, arb_pipeline.launch.dagster_storage)")
    return level


class _Engines:
    """connection string -> its engine, least recently used first out. Every connection an engine opens
    gets `PRAGMA synchronous=<synchronous>` (a per-connection setting in SQLite).

    Each engine keeps one connection open between uses (`pool_size=1`; a second thread using the same file
    at the same time gets a connection of its own, closed after use, as before). Kept connections belong
    to the process that opened them: after a fork the child starts with no engine, and the parent's are
    set aside in `_INHERITED`, never used nor closed there (SQLite: a connection must not cross a fork;
    closing it in the child could still take locks or checkpoint the parent's database)."""

    def __init__(self, limit: int = MAX_ENGINES, synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.synchronous = check_synchronous(synchronous)
        _LIVE.add(self)

    def get(self, conn_string: str, **kwargs: Any) -> sa.Engine:
        if self._pid != os.getpid():  # forked without os.register_at_fork having run (belt and braces)
            self.forget_after_fork()
        with self._lock:
            engine = self._engines.get(conn_string)
            if engine is None:
                connect_args = {"check_same_thread": False, **kwargs.pop("connect_args", {})}
                engine = self._engines[conn_string] = sa.create_engine(
                    conn_string, poolclass=QueuePool, pool_size=1, max_overflow=-1, connect_args=connect_args,
                    **kwargs)
                sa.event.listen(engine, "connect", self._on_connect)
                while len(self._engines) > self._limit:
                    _, old = self._engines.popitem(last=False)
                    old.dispose()
            else:
                self._engines.move_to_end(conn_string)
            return engine

    def dispose(self) -> None:
        """Close this process's kept connections (the storage is disposed, or its files are wiped)."""
        if self._pid != os.getpid():
            self.forget_after_fork()
            return
        with self._lock:
            engines, self._engines = self._engines, OrderedDict()
        for engine in engines.values():
            engine.dispose()

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's engines without touching their connections."""
        _INHERITED.append(self._engines)
        self._engines = OrderedDict()
        self._lock = threading.Lock()  # another thread of the parent may have held it at the fork
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self._engines)

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA synchronous={self.synchronous}")
        finally:
            cursor.close()


_LIVE: weakref.WeakSet[_Engines] = weakref.WeakSet()
_INHERITED: list[OrderedDict[str, sa.Engine]] = []  # a forked child's copy of its parent's engines


def _forget_parents_connections() -> None:
    for engines in list(_LIVE):
        engines.forget_after_fork()


os.register_at_fork(after_in_child=_forget_parents_connections)


SQLITE_HEADER = b"SQLite format 3\x00"


class ShardTemplate:
    """A run's empty event-log database, built once by Dagster's own `_initdb` and copied for every new
    run (see the module docstring). `install(path)` puts a copy at `path` unless a file is there."""

    def __init__(self, directory: str, build: Any) -> None:
        self.path = os.path.join(directory, f".run-shard-template-{dg.__version__}.sqlite")
        self._build = build  # (engine) -> None: Dagster's `_initdb`
        self._bytes: bytes | None = None

    def install(self, path: str) -> bool:
        """True when `path` was created from the template; False when a file was already there (nothing
        is touched then: Dagster's own initialisation handles it)."""
        if os.path.exists(path):
            return False
        data = self._template()
        staging = f"{path}.{uuid.uuid4().hex}.tmp"  # not `*.db`: never taken for a run's file
        try:
            with open(staging, "xb") as handle:
                handle.write(data)
            os.link(staging, path)  # atomic, and never over a file another process has just made
        except FileExistsError:
            return False
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
        return True

    def _template(self) -> bytes:
        if self._bytes is None:
            if not os.path.exists(self.path):
                self._write()
            with open(self.path, "rb") as handle:
                data = handle.read()
            if not data.startswith(SQLITE_HEADER):
                raise ValueError(f"{self.path}: not a SQLite database; delete it and it is built again")
            self._bytes = data
        return self._bytes

    def _write(self) -> None:
        """Build the template under a temporary name with Dagster's `_initdb`, fold its write-ahead log
        into the file, and give it its name atomically."""
        staging = f"{self.path}.{uuid.uuid4().hex}.tmp"
        engine = sa.create_engine(f"sqlite:///{staging}", poolclass=NullPool)
        try:
            self._build(engine)
        finally:
            engine.dispose()
        with sqlite3.connect(staging) as db:  # WAL mode stays in the header; its log must be empty
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        for leftover in (f"{staging}-wal", f"{staging}-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        os.replace(staging, self.path)


class EngineCachingSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose `_connect` reuses one engine per shard and creates a new run's
    file from a template (see the module docstring); the body is otherwise Dagster's own."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None,
                 synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
        self._engines = _Engines(synchronous=synchronous)
        # set before Dagster's __init__, which may already connect (reindexing an older home)
        self._template = ShardTemplate(os.path.abspath(base_dir), lambda engine: self._initdb(engine))
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine = self._engines.get(self.conn_string_for_shard(shard),
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            if shard not in self._initialized_dbs:
                if shard == INDEX_SHARD_NAME or not self._template.install(self.path_for_shard(shard)):
                    self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                dbapi = conn.connection.dbapi_connection
                changes = dbapi.total_changes
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME and dbapi.total_changes != changes:
                    self._announce(shard)

    def _announce(self, shard: str) -> None:
        """Tell the run's watchers (the `.db` file's, see the module docstring) that it has new events."""
        os.utime(self.path_for_shard(shard))

    def wipe(self) -> None:
        self._engines.dispose()  # Dagster deletes the run files: no kept connection may write to them
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._engines.dispose()


class EngineCachingSqliteRunStorage(SqliteRunStorage):
    """`SqliteRunStorage` whose `connect` reuses one engine and its kept connection (Dagster builds an
    engine and a connection per call)."""

    _engines: _Engines | None = None
    synchronous: str = DEFAULT_SYNCHRONOUS

    def use_synchronous(self, level: str) -> None:
        """Connections from now on use PRAGMA synchronous=`level` (`from_local` has already connected
        to create the schema, with the default)."""
        self.synchronous = check_synchronous(level)
        if self._engines is not None:
            self._engines.dispose()  # its kept connection has the previous level
        self._engines = None

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        if self._engines is None:
            self._engines = _Engines(limit=1, synchronous=self.synchronous)
        engine = self._engines.get(self._conn_string)
        with engine.connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        if self._engines is not None:
            self._engines.dispose()


class EngineCachingSqliteStorage(DagsterSqliteStorage):
    """`storage: sqlite` (same base directory layout) with the engine-caching run and event-log storages."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None,
                 synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
        synchronous = check_synchronous(synchronous)
        self.base_dir = base_dir
        self._run_storage = EngineCachingSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._run_storage.use_synchronous(synchronous)
        self._event_log_storage = EngineCachingSqliteEventLogStorage(_event_logs_directory(base_dir),
                                                                     synchronous=synchronous)
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def config_type(cls) -> Any:
        return {**super().config_type(),
                "synchronous": dg.Field(str, is_required=False, default_value=DEFAULT_SYNCHRONOUS,
                                        description="PRAGMA synchronous of the run and event-log databases: "
                                                    "NORMAL (default) or FULL")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Any) -> EngineCachingSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @classmethod
    def from_local(cls, base_dir: str, inst_data: ConfigurableClassData | None = None,
                   synchronous: str = DEFAULT_SYNCHRONOUS) -> EngineCachingSqliteStorage:
        mkdir_p(base_dir)
        return cls(base_dir, inst_data=inst_data, synchronous=synchronous)

"""`WarmRunLauncher`: each run in its own fresh process, forked from a warm one instead of started cold.

Why (issue #11, scan cadence): Dagster's `DefaultRunLauncher` asks the code location's gRPC server to
start every run in a *spawned* Python process, which first imports dagster, pandas, NumPy, pandera,
SQLAlchemy... (~4.5 s of imports at load 3 on this 2-core machine, ~25 s STARTING at load 7-10). With a
scan every 10 s that start-up, not the scan, set the cadence and burnt a core.

This launcher keeps one **warm process** (a `multiprocessing` forkserver) that has imported those
third-party libraries once; each run is a child *forked* from it, so it starts with them already in
memory. Everything else is as under the default launcher:

* one run = one new process, its own memory, its own database connections (nothing is shared with
  another run: the forkserver holds imported modules, never an engine, a client or a run's state);
* the run executes exactly as `dagster api execute_run` does (`dagster._cli.api`'s own body: the run's
  code origin, the cancellation thread, the "Started process for run" engine event, failures recorded);
* **the project's own code is imported fresh in every run** (`arb_pipeline` is never preloaded), so a
  code change is picked up by the next run as it is under the default launcher; only a change to a
  preloaded third-party library needs the daemon restarted (as any upgrade does);
* runs are launched by whichever process launches them - with the `QueuedRunCoordinator` of
  `deploy/dagster.yaml`, the daemon - so the forkserver is a child of the daemon and stops with it
  (`make demo` stops every descendant);
* `terminate` sends the run's process SIGINT (Dagster turns it into a clean cancellation, like the
  default launcher's termination request), and `check_run_worker_health` reports the process's state.

`deploy/dagster.yaml` (one machine: `dagster dev`, `make demo`) uses it; the PostgreSQL/docker template
keeps the `DefaultRunLauncher` (there the code location is its own container).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from dagster._core.launcher.base import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus
from dagster._serdes import ConfigurableClass
from dagster._serdes.config_class import ConfigurableClassData

log = logging.getLogger(__name__)

PID_TAG = "arb/run_worker_pid"
# What a run imports before it touches our code (measured with `python -X importtime`: dagster and pandas
# ~1.35 s each, NumPy 0.36 s, pandera 0.24 s at load 3), what the run worker itself imports (the instance's
# SQLite storages and their alembic check, the run's console logging: rich, structlog...) and what the scan
# imports when it runs (SQLAlchemy, httpx, cryptography for the Kalshi signature, tenacity). With these a
# run worker reports "Started process" ~0.15 s after its launch (0.85 s with only the first group; a
# cold spawn: 2.7 s, both unloaded). Never `arb_pipeline`: see above.
DEFAULT_PRELOAD = (
    "dagster",
    "dagster._cli.api",
    "dagster._core.execution.api",
    "dagster._core.execution.plan.execute_plan",
    "dagster._core.execution.context.compute",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.schedules.sqlite",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.launcher.default_run_launcher",
    "dagster._daemon.cli",
    "dagster_pandera",
    "pandas",
    "numpy",
    "pandera",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "sqlalchemy.orm",
    "alembic",
    "alembic.runtime.migration",
    "mako",
    "httpx",
    "tenacity",
    "cryptography.hazmat.primitives.asymmetric.padding",
    "yaml",
    "rich",
    "pygments",
    "structlog",
    "watchdog.observers",
    "fsspec",
    "upath",
)


def execute_run(run_id: str, instance_ref: Any, environ: Mapping[str, str]) -> None:
    """The run worker (in the forked child): what `dagster api execute_run` runs, in this process.

    `environ` is the launching process's environment *now*: the forkserver's own is a copy of it from
    when the forkserver started, and a run must see what a freshly started process would.
    """
    os.environ.clear()
    os.environ.update(environ)
    from dagster._cli.api import _execute_run_command_body
    from dagster._core.instance import DagsterInstance
    from dagster._utils.error import serializable_error_info_from_exc_info
    from dagster._utils.interrupts import capture_interrupts

    with capture_interrupts(), DagsterInstance.from_ref(instance_ref) as instance:
        try:
            _execute_run_command_body(run_id, instance, write_stream_fn=lambda _event: None,
                                      set_exit_code_on_failure=False)
        except BaseException:
            # a failure before the run's own failure handling (its code cannot be loaded, ...): the run
            # must not stay STARTING forever (the scan sensor counts it in flight)
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                from dagster._core.events import EngineEventData

                instance.report_engine_event("The run worker failed before the run could finish.", run,
                                             EngineEventData.engine_error(
                                                 serializable_error_info_from_exc_info(sys.exc_info())))
                instance.report_run_failed(run)
            raise


class WarmRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a new process forked from a warm forkserver (see the module docstring).

    Config (`run_launcher.config` in dagster.yaml): `preload_modules`, the modules the warm process
    imports (default `DEFAULT_PRELOAD`); a module that cannot be imported is skipped.
    """

    def __init__(self, inst_data: ConfigurableClassData | None = None,
                 preload_modules: Sequence[str] | None = None) -> None:
        self._inst_data = inst_data
        self.preload_modules = tuple(DEFAULT_PRELOAD if preload_modules is None else preload_modules)
        bad = [m for m in self.preload_modules if not isinstance(m, str) or not m or m.split(".")[0] == "arb_pipeline"]
        if bad:
            raise ValueError(f"WarmRunLauncher preload_modules: {bad!r} cannot be preloaded (third-party module "
                             "names only: the project's own code is imported fresh by every run)")
        self._lock = threading.Lock()
        self._context: Any = None
        self._workers: dict[str, Any] = {}  # run id -> multiprocessing.Process, until it has ended
        super().__init__()

    # --- ConfigurableClass -------------------------------------------------------------------------
    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        from dagster import Array, Field, Noneable

        return {"preload_modules": Field(Noneable(Array(str)), is_required=False, default_value=None)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> WarmRunLauncher:
        return cls(inst_data=inst_data, preload_modules=config_value.get("preload_modules"))

    # --- the warm process --------------------------------------------------------------------------
    def _forkserver(self) -> Any:
        """The forkserver context, preloading our modules (started on the first launch, then kept)."""
        with self._lock:
            if self._context is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(list(self.preload_modules))
                self._context = context
            return self._context

    def _reap(self) -> None:
        """Forget (and release the handles of) run workers that have ended."""
        with self._lock:
            for run_id, process in list(self._workers.items()):
                if process.exitcode is not None:
                    del self._workers[run_id]
                    process.close()

    # --- RunLauncher -------------------------------------------------------------------------------
    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if run.job_code_origin is None:
            raise ValueError(f"run {run.run_id} has no code origin: the warm run launcher cannot load its job")
        self._reap()
        process = self._forkserver().Process(target=execute_run,
                                             args=(run.run_id, self._instance.get_ref(), dict(os.environ)),
                                             name=f"dagster-run-{run.run_id}", daemon=False)
        process.start()
        with self._lock:
            self._workers[run.run_id] = process
        self._instance.add_run_tags(run.run_id, {PID_TAG: str(process.pid)})
        self._instance.report_engine_event(
            f"Launched run worker (pid {process.pid}) from the warm process (WarmRunLauncher).", run, cls=type(self))

    def _pid(self, run_id: str) -> int | None:
        run = self._instance.get_run_by_id(run_id)
        raw = run.tags.get(PID_TAG) if run else None
        return int(raw) if raw and raw.isdigit() else None

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        pid = self._pid(run_id)
        with self._lock:
            process = self._workers.get(run_id)
        if pid is None or (process is not None and process.exitcode is not None):
            return False
        self._instance.report_run_canceling(run)
        try:
            os.kill(pid, signal.SIGINT)  # Dagster's interrupt handling cancels the run cleanly
        except ProcessLookupError:
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: Any) -> CheckRunHealthResult:
        with self._lock:
            process = self._workers.get(run.run_id)
        if process is not None:
            if process.exitcode is None:
                return CheckRunHealthResult(WorkerStatus.RUNNING)
            if process.exitcode == 0:
                return CheckRunHealthResult(WorkerStatus.SUCCESS)
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker exited with code {process.exitcode}")
        # Another process launched it (the daemon's monitoring may hold its own launcher): its pid tells.
        # Dagster's run monitoring fails a run on anything but RUNNING/SUCCESS, so what cannot be judged
        # (no pid recorded: not launched by this launcher) is left RUNNING - the start timeout still applies.
        pid = self._pid(run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker pid recorded: not judged")
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return CheckRunHealthResult(WorkerStatus.NOT_FOUND, f"run worker pid {pid} is gone")
        except PermissionError:
            pass
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive")

    def join(self, timeout: int = 30) -> None:
        with self._lock:
            workers = list(self._workers.values())
        for process in workers:
            process.join(timeout)

    def dispose(self) -> None:
        self._reap()

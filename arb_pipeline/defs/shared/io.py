"""How stage values travel between steps: the one place the IO manager is chosen, per run.

* A job tagged `arb/io_manager=memory` (`scan_job`, `reconcile_job`: in-process executor, one
  process for every step) hands values over in memory: nothing is pickled, nothing is left behind.
* Every other run — the partitioned history replays, a multiprocess or containerised run of the
  scan graph — pickles each value to disk under `ARB_IO_DIR` (default `$ARB_DATA_DIR/dagster_io`),
  so a step in another process loads exactly what its upstream step produced.

Non-partitioned values (the scan stages) are stored per run (`runs/<run_id>/<asset>`): two runs of
the scan graph at once can never read each other's opportunities. Partitioned values (history) are
stored per asset and partition, the latest materialization of a day replacing the previous one.
`prune_run_outputs` (called by the hourly housekeeping) deletes run directories past their age.
In a deployment with several containers, `ARB_IO_DIR` must be a volume every run worker mounts.
"""

from __future__ import annotations

import pickle
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import Field
from upath import UPath

from arb_pipeline.defs.shared.resources import current_settings, env_or

IO_MANAGER_KEY = "io_manager"
IO_MANAGER_TAG = "arb/io_manager"
IN_MEMORY = "memory"
RUNS_DIR = "runs"


def io_base_dir(base_dir: str | None) -> Path:
    return Path(base_dir).expanduser() if base_dir else current_settings().data_dir / "dagster_io"


class RunScopedPickleIOManager(dg.UPathIOManager):
    """Pickles each output under `base_dir`; a non-partitioned asset's value under its run's directory."""

    extension = ".pkl"

    def dump_to_path(self, context: dg.OutputContext, obj: object, path: UPath) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            pickle.dump(obj, file, protocol=pickle.HIGHEST_PROTOCOL)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> object:
        with path.open("rb") as file:
            return pickle.load(file)  # noqa: S301 - our own files, written by dump_to_path above

    def get_asset_relative_path(self, context: dg.InputContext | dg.OutputContext) -> UPath:
        asset_path = UPath(*context.asset_key.path)
        if context.has_asset_partitions:
            return asset_path
        if isinstance(context, dg.OutputContext):
            run_id = context.run_id
        else:  # the run that produced the value (a re-execution reads its parent's)
            run_id = context.upstream_output.run_id if context.upstream_output is not None else context.run_id
        return UPath(RUNS_DIR, run_id) / asset_path


class StageIOManager(dg.ConfigurableIOManagerFactory):
    """In memory for runs tagged `arb/io_manager=memory`; pickled under `base_dir` for every other run."""

    base_dir: str | None = Field(default=None, description="where values are pickled (ARB_IO_DIR); empty: "
                                                           "$ARB_DATA_DIR/dagster_io")

    def create_io_manager(self, context: dg.InitResourceContext) -> dg.IOManager:
        run = context.run
        if run is not None and run.tags.get(IO_MANAGER_TAG) == IN_MEMORY:
            return dg.InMemoryIOManager()
        return RunScopedPickleIOManager(base_path=UPath(io_base_dir(self.base_dir)))


def prune_run_outputs(base_dir: str | None, older_than: datetime) -> int:
    """Delete the per-run value directories last written before `older_than`; returns how many."""
    runs = io_base_dir(base_dir) / RUNS_DIR
    if not runs.is_dir():
        return 0
    deleted = 0
    for run_dir in runs.iterdir():
        if run_dir.is_dir() and run_dir.stat().st_mtime < older_than.timestamp():
            shutil.rmtree(run_dir, ignore_errors=True)
            deleted += 1
    return deleted


io_manager = StageIOManager(base_dir=env_or("ARB_IO_DIR"))

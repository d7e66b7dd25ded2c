"""CPU per event stored by the project's Dagster SQLite event-log storage (issue #11: a scan run stores ~95
events on the path from the sensor's run request to the paper order).

Stores `--events` log events into one run's file, and `--assets` asset materializations (each also
written to the index shard), with `EngineCachingSqliteEventLogStorage` from `arb_pipeline.launch.
dagster_storage` as importable from PYTHONPATH (so the same script measures a base worktree), and prints
the process CPU time per event, median of `--repeat` runs.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python benchmarks/bench_dagster_event_store.py
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry

from arb_pipeline.launch.dagster_storage import EngineCachingSqliteEventLogStorage


def _log(run_id: str, i: int) -> EventLogEntry:
    return EventLogEntry(error_info=None, level=logging.INFO, user_message=f"event {i}", run_id=run_id,
                         timestamp=1.0 + i, step_key=None, job_name=None, dagster_event=None)


def _materialization(run_id: str, i: int) -> EventLogEntry:
    event = DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, "a_job",
                         event_specific_data=StepMaterializationData(dg.AssetMaterialization(f"asset_{i % 5}")))
    return EventLogEntry(error_info=None, level=logging.DEBUG, user_message="", run_id=run_id,
                         timestamp=1.0 + i, step_key="s", job_name="a_job", dagster_event=event)


def one(events: int, assets: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as base:
        storage = EngineCachingSqliteEventLogStorage(base)
        storage.store_event(_log("warm", 0))
        start = time.process_time()
        for i in range(events):
            storage.store_event(_log("run", i))
        logs = time.process_time() - start
        start = time.process_time()
        for i in range(assets):
            storage.store_event(_materialization("run", i))
        materializations = time.process_time() - start
        storage.dispose()
    return logs / events * 1e3, materializations / max(assets, 1) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--assets", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = [one(args.events, args.assets) for _ in range(args.repeat)]
    print(f"log event: {statistics.median(r[0] for r in runs):.3f} ms CPU; "
          f"asset materialization: {statistics.median(r[1] for r in runs):.3f} ms CPU (median of {args.repeat})")


if __name__ == "__main__":
    main()

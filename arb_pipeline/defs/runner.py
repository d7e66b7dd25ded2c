"""Run the scan job in process, without the webserver or the daemon (the headless mode and tests).

`launch.headless` calls this: it is the same `scan_job` of `arb_pipeline.definitions`, with its
resources pointed at a chosen market-data source and database, executed with the in-process
executor on a given (ephemeral by default) Dagster instance. Runs are tagged
`arb/launched_by=headless`, which `executed_orders` accepts like the scan sensor's tag.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg

from arb_pipeline.defs.execution.gate import HEADLESS_LAUNCHER, LAUNCHED_BY_TAG
from arb_pipeline.defs.execution.resources import CircuitBreakerResource, ExecutionResource
from arb_pipeline.defs.ingest.resources import MarketDataResource
from arb_pipeline.defs.jobs import SCAN_JOB
from arb_pipeline.defs.monitoring.resources import AlertsResource
from arb_pipeline.defs.shared.resources import AppDatabaseResource, ScanConfigResource, SnapshotStoreResource


@dataclass(frozen=True)
class ScanRun:
    """What one in-process scan run did, read from its events."""

    run_id: str
    success: bool
    duration_s: float
    materialized: tuple[str, ...]
    failed_checks: tuple[str, ...]
    checks_evaluated: tuple[str, ...]
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset -> plain metadata values
    observations: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


def build_resources(
    *,
    database_url: str,
    source: str,
    snapshot_dir: str | None = None,
    kalshi_base_url: str | None = None,
    odds_api_base_url: str | None = None,
    mode: str = "paper",
    devig_method: str | None = None,
) -> dict[str, Any]:
    """The scan job's resources on one database and one market-data source (explicit, no EnvVar)."""
    database = AppDatabaseResource(url=database_url)
    return {
        "database": database,
        "snapshot_store": SnapshotStoreResource(database=database),
        "scan_config": ScanConfigResource(database=database, devig_method=devig_method),
        "market_data": MarketDataResource(source=source, snapshot_dir=snapshot_dir, kalshi_base_url=kalshi_base_url,
                                          odds_api_base_url=odds_api_base_url),
        "circuit_breaker": CircuitBreakerResource(database=database),
        "execution": ExecutionResource(mode=mode),
        "alerts": AlertsResource(database=database),
    }


def ephemeral_instance() -> dg.DagsterInstance:
    """An in-memory Dagster instance: runs, events and check results vanish with the process."""
    return dg.DagsterInstance.ephemeral()


def _root_cause(error: Any) -> str:
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return str(getattr(error, "message", error)).strip().splitlines()[-1] if error else "step failed"


def _plain(value: Any) -> Any:
    for attr in ("value", "md_str", "text", "data"):
        if hasattr(value, attr):
            return getattr(value, attr)
    return value


def run_scan_job(
    resources: dict[str, Any],
    *,
    instance: dg.DagsterInstance | None = None,
    tags: dict[str, str] | None = None,
    job_name: str = SCAN_JOB,
    partition_key: str | None = None,
    run_config: dict[str, Any] | None = None,
    partitions_as_of: datetime | None = None,
) -> ScanRun:
    """Execute `job_name` of the project's definitions once, in process; never raises on a failed run.

    `partitions_as_of` is the time at which time-window partitions are evaluated (default: now), so
    a caller replaying a known day (a test, a script) does not depend on today's date: a daily
    partition only exists once its day has started.
    """
    from arb_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    if run_config is None:
        # the INFO story by default (ARB_LOG_LEVEL=DEBUG brings the step events back)
        from arb_pipeline.defs.shared.logging import run_logging_config

        run_config = run_logging_config()
    started = time.monotonic()
    run_tags = {LAUNCHED_BY_TAG: HEADLESS_LAUNCHER, **(tags or {})}
    with dg.partition_loading_context(effective_dt=partitions_as_of):
        result = job.execute_in_process(
            instance=instance or dg.DagsterInstance.ephemeral(),
            resources=resources,  # the IO manager is the definitions' own (defs/shared/io.py)
            tags=run_tags,
            partition_key=partition_key,
            run_config=run_config,
            raise_on_error=False,
        )
    return _scan_run(result.run_id, result.success, result.all_events, started)


def _scan_run(run_id: str, success: bool, events: Sequence[dg.DagsterEvent], started: float) -> ScanRun:
    materialized, failed, evaluated, metadata, observations, errors = [], [], [], {}, {}, []
    for event in events:
        data = event.event_specific_data
        if event.event_type_value == "ASSET_MATERIALIZATION":
            key = data.materialization.asset_key.to_user_string()
            materialized.append(key)
            metadata[key] = {k: _plain(v) for k, v in data.materialization.metadata.items()}
        elif event.event_type_value == "ASSET_OBSERVATION":
            key = data.asset_observation.asset_key.to_user_string()
            observations[key] = {k: _plain(v) for k, v in data.asset_observation.metadata.items()}
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
            evaluated.append(name)
            if not data.passed:
                failed.append(name)
        elif event.event_type_value == "STEP_FAILURE":
            errors.append(f"{event.step_key}: {_root_cause(data.error)}")
    return ScanRun(
        run_id=run_id,
        success=success,
        duration_s=time.monotonic() - started,
        materialized=tuple(materialized),
        failed_checks=tuple(failed),
        checks_evaluated=tuple(evaluated),
        metadata=metadata,
        observations=observations,
        error="; ".join(errors) or None,
    )


MULTIPROCESS_SCAN_JOB = "scan_job_multiprocess"


def multiprocess_scan_job() -> dg.JobDefinition:
    """`scan_job`'s graph on the multiprocess executor: every step in its own process, stage values
    pickled between them by the definitions' IO manager (no `arb/io_manager=memory` tag). The
    reconstructable target of `run_scan_graph_multiprocess`; resources are the definitions' own
    (from the environment), since each step process loads the code location afresh."""
    from arb_pipeline.definitions import defs
    from arb_pipeline.defs.jobs import SCAN_ASSETS

    # forkserver with the code location preloaded: each step process is forked from one that has already
    # imported the definitions, instead of paying that import once per step (5 steps: the checks run inside them)
    executor = dg.multiprocess_executor.configured(
        {"start_method": {"forkserver": {"preload_modules": ["arb_pipeline.definitions"]}}})
    job = dg.define_asset_job(MULTIPROCESS_SCAN_JOB, selection=dg.AssetSelection.assets(*SCAN_ASSETS),
                              executor_def=executor, tags={"arb/job": "scan"})
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(MULTIPROCESS_SCAN_JOB)


def run_scan_graph_multiprocess(instance: dg.DagsterInstance, *, tags: dict[str, str] | None = None) -> ScanRun:
    """Execute the scan graph once with one process per step on a persistent `instance`."""
    from arb_pipeline.defs.shared.logging import run_logging_config

    started = time.monotonic()
    run_tags = {LAUNCHED_BY_TAG: HEADLESS_LAUNCHER, **(tags or {})}
    with dg.execute_job(dg.reconstructable(multiprocess_scan_job), instance=instance, tags=run_tags,
                        run_config=run_logging_config(), raise_on_error=False) as result:
        return _scan_run(result.run_id, result.success, result.all_events, started)

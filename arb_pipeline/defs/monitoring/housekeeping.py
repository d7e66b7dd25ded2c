"""Housekeeping: a scan every 10 s is 8 640 runs a day. Old *successful* scan runs are deleted
(with their event logs) so the run list, the UI and the instance storage stay usable; failed runs
are kept much longer for the post-mortem. Asset history keeps its recent materializations. Market
history lives in the application database; the same hourly job thins and ages it out by the
ARB_HISTORY_* policy (`services.retention`: every snapshot for a week, then one per 5 minutes,
executed opportunities' scans for ever)."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

from arb_pipeline.defs.jobs import SCAN_JOB
from arb_pipeline.defs.shared.io import io_manager, prune_run_outputs
from arb_pipeline.defs.shared.resources import AppDatabaseResource, current_settings

PRUNE_JOB = "prune_runs_job"
PRUNE_SCHEDULE = "prune_runs_schedule"
PRUNE_CRON = "17 * * * *"
BATCH = 2000


class PruneConfig(dg.Config):
    keep_successful_days: float = Field(default=2.0, gt=0, description="delete successful scan runs older")
    keep_failed_days: float = Field(default=30.0, gt=0, description="delete failed scan runs older")


def prune(instance: dg.DagsterInstance, config: PruneConfig, now: datetime) -> dict[str, int]:
    deleted = {"success": 0, "failure": 0}
    for status, days, label in ((dg.DagsterRunStatus.SUCCESS, config.keep_successful_days, "success"),
                                (dg.DagsterRunStatus.FAILURE, config.keep_failed_days, "failure")):
        records = instance.get_run_records(
            filters=dg.RunsFilter(job_name=SCAN_JOB, statuses=[status], created_before=now - timedelta(days=days)),
            limit=BATCH,
        )
        for record in records:
            instance.delete_run(record.dagster_run.run_id)
            deleted[label] += 1
    return deleted


@dg.op(description="Delete old scan_job runs (successful after 2 days, failed after 30 by default).")
def prune_old_scan_runs(context: dg.OpExecutionContext, config: PruneConfig) -> dg.Nothing:
    now = run_time(context)
    deleted = prune(context.instance, config, now)
    # stage values pickled by multiprocess runs (defs/shared/io.py) age out with the successful runs
    deleted["run_output_dirs"] = prune_run_outputs(io_manager.base_dir, now - timedelta(days=config.keep_successful_days))
    context.log.info(f"pruned scan runs: {deleted}")


def run_time(context: dg.OpExecutionContext) -> datetime:
    """The schedule tick this run stands for (time is an input), or now for a run launched by hand."""
    tick = context.run.tags.get("dagster/scheduled_execution_time")
    return datetime.fromisoformat(tick).astimezone(UTC) if tick else datetime.now(UTC)


@dg.op(description="Thin and age out stored market history by the ARB_HISTORY_* policy (services.retention).")
def prune_market_history(context: dg.OpExecutionContext, database: AppDatabaseResource) -> dg.Nothing:
    from arb_pipeline.services.retention import RetentionPolicy, prune_history
    from arb_pipeline.storage.db import session_factory

    policy = RetentionPolicy.from_settings(current_settings())
    report = prune_history(session_factory(database.engine()), policy, run_time(context))
    context.log.info(report.summary())


@dg.job(name=PRUNE_JOB, executor_def=dg.in_process_executor, tags={"arb/job": "housekeeping"})
def prune_runs_job():
    prune_old_scan_runs()
    prune_market_history()


prune_runs_schedule = dg.ScheduleDefinition(
    name=PRUNE_SCHEDULE,
    job=prune_runs_job,
    cron_schedule=PRUNE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: delete old scan_job runs and thin old market history so storage stays bounded.",
)

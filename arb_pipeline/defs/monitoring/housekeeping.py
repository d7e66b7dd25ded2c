"""Housekeeping: a scan every 10 s is 8 640 runs a day. Old *successful* scan runs are deleted
(with their event logs) so the run list, the UI and the instance storage stay usable; failed runs
are kept much longer for the post-mortem. Asset history keeps its recent materializations, and
market history itself lives in the application database, not in Dagster's run storage."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

from arb_pipeline.defs.jobs import SCAN_JOB
from arb_pipeline.defs.shared.io import io_manager, prune_run_outputs

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
    now = datetime.now(UTC)
    deleted = prune(context.instance, config, now)
    # stage values pickled by multiprocess runs (defs/shared/io.py) age out with the successful runs
    deleted["run_output_dirs"] = prune_run_outputs(io_manager.base_dir, now - timedelta(days=config.keep_successful_days))
    context.log.info(f"pruned scan runs: {deleted}")


@dg.job(name=PRUNE_JOB, executor_def=dg.in_process_executor, tags={"arb/job": "housekeeping"})
def prune_runs_job():
    prune_old_scan_runs()


prune_runs_schedule = dg.ScheduleDefinition(
    name=PRUNE_SCHEDULE,
    job=prune_runs_job,
    cron_schedule=PRUNE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: delete old scan_job runs so the instance storage stays bounded.",
)

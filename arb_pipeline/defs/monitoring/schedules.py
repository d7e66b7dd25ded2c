"""The reconciliation schedule."""

from __future__ import annotations

import dagster as dg

from arb_pipeline.defs.jobs import reconcile_job
from arb_pipeline.defs.shared.logging import run_logging_config

RECONCILE_SCHEDULE = "reconcile_schedule"
RECONCILE_CRON = "*/5 * * * *"

reconcile_schedule = dg.ScheduleDefinition(
    name=RECONCILE_SCHEDULE,
    job=reconcile_job,
    cron_schedule=RECONCILE_CRON,
    run_config=run_logging_config(),  # INFO, not Dagster's DEBUG default (defs/shared/logging.py)
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Reconcile positions, fills and P&L every 5 minutes.",
)

SCHEDULES = [reconcile_schedule]

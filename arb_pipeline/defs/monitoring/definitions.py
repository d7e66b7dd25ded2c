"""Monitoring domain: alert sensors, the reconciliation schedule and run-storage housekeeping."""

import dagster as dg

from arb_pipeline.defs.jobs import reconcile_job
from arb_pipeline.defs.monitoring.housekeeping import prune_runs_job, prune_runs_schedule
from arb_pipeline.defs.monitoring.resources import ALERTS_KEY, alerts
from arb_pipeline.defs.monitoring.schedules import SCHEDULES
from arb_pipeline.defs.monitoring.sensors import SENSORS

defs = dg.Definitions(
    jobs=[reconcile_job, prune_runs_job],
    sensors=SENSORS,
    schedules=[*SCHEDULES, prune_runs_schedule],
    resources={ALERTS_KEY: alerts},
)

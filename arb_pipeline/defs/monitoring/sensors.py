"""Monitoring: alert on failed asset checks and failed runs (breaker trips alert from the breaker).

`check_failure_alerts` reads the asset-check evaluations recorded since its cursor (the highest
check-execution record id it has seen, as text) and sends one alert per failed evaluation through
`services.alerts` — which logs it always, delivers it to the webhook / e-mail when configured, and
persists and de-duplicates it by `dedup_key` (one key per check, so a check failing on every scan
alerts once per de-duplication window, not every 10 seconds).

An evaluation still PLANNED holds the cursor back while its run may still answer it (the run is not
finished, for at most PLANNED_GRACE_S); one whose run has finished never will (a separate check step
skipped because its asset did not materialize, a run that failed before reaching it) and is passed
over at once, so it cannot delay the alerts of later runs.
"""

import time
from typing import Any

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from arb_pipeline.defs.monitoring.interrupted import was_interrupted
from arb_pipeline.defs.monitoring.resources import AlertsResource

CHECK_FAILURE_SENSOR = "check_failure_alerts"
RUN_FAILURE_SENSOR = "run_failure_alerts"
CHECK_HISTORY_LIMIT = 25
PLANNED_GRACE_S = 600  # a check still "planned" after this long belongs to a dead run: skip it
SEVERITY_TO_ALERT = {"ERROR": "critical", "WARN": "warning"}


def check_dedup_key(check_key: dg.AssetCheckKey) -> str:
    return f"asset_check:{check_key.asset_key.to_user_string()}:{check_key.name}"


def run_dedup_key(job_name: str) -> str:
    return f"run_failure:{job_name}"


def _evaluation(record: Any) -> Any:
    event = record.event
    if event is None or event.dagster_event is None:
        return None
    return event.dagster_event.event_specific_data


def describe_failure(check_key: dg.AssetCheckKey, record: Any) -> tuple[str, str, str]:
    """(alert severity, title, body) for one failed check evaluation. Metadata is summarized, not dumped."""
    evaluation = _evaluation(record)
    severity = getattr(getattr(evaluation, "severity", None), "value", "ERROR")
    metadata = dict(getattr(evaluation, "metadata", {}) or {})
    lines = [f"run {record.run_id}", f"severity {severity}"]
    if getattr(evaluation, "description", None):
        lines.append(evaluation.description)
    for key in ("failed_checks", "num_failures", "failing_row_count", "coverage", "stale_quotes", "outside_band",
                "suspicious"):
        if key in metadata:
            value = metadata[key]
            lines.append(f"{key}: {getattr(value, 'value', value)}")
    title = f"asset check failed: {check_key.asset_key.to_user_string()} / {check_key.name}"
    return SEVERITY_TO_ALERT.get(severity, "critical"), title, "\n".join(lines)


@dg.sensor(
    name=CHECK_FAILURE_SENSOR,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (log, webhook/e-mail when configured; persisted, de-duplicated) on every failed "
                "asset-check evaluation since its cursor.",
)
def check_failure_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource):
    cursor = int(context.cursor) if context.cursor else 0
    repository = context.repository_def
    check_keys = sorted(repository.asset_graph.asset_check_keys, key=str) if repository is not None else []
    storage = context.instance.event_log_storage
    now = time.time()
    completed: list[tuple[int, dg.AssetCheckKey, Any]] = []
    in_flight: list[int] = []
    finished: dict[str, bool] = {}

    def run_finished(run_id: str) -> bool:
        if run_id not in finished:
            run = context.instance.get_run_by_id(run_id)
            finished[run_id] = run is None or run.is_finished  # a deleted run answers nothing either
        return finished[run_id]

    for key in check_keys:
        for record in storage.get_asset_check_execution_history(key, limit=CHECK_HISTORY_LIMIT):
            if record.id <= cursor:
                continue
            if record.status == AssetCheckExecutionRecordStatus.PLANNED:
                if now - record.create_timestamp < PLANNED_GRACE_S and not run_finished(record.run_id):
                    in_flight.append(record.id)  # may still turn FAILED: do not move past it yet
                continue
            completed.append((record.id, key, record))
    # the cursor only moves over finished evaluations, never past one still running
    new_cursor = max((rid for rid, _, _ in completed), default=cursor)
    if in_flight:
        new_cursor = min(new_cursor, min(in_flight) - 1)
    failures = sorted(
        (item for item in completed
         if item[0] <= new_cursor and item[2].status == AssetCheckExecutionRecordStatus.FAILED),
        key=lambda item: item[0],
    )
    if new_cursor != cursor:
        context.update_cursor(str(new_cursor))
    if not failures:
        return dg.SkipReason(f"no failed asset check since record {cursor}")
    sent = 0
    for _, key, record in failures:
        severity, title, body = describe_failure(key, record)
        outcome = alerts.send(severity, title, body, check_dedup_key(key))
        sent += 1 if getattr(outcome, "sent", True) else 0
    return dg.SkipReason(f"{len(failures)} failed check evaluation(s): {sent} alert(s) sent, the rest de-duplicated")


@dg.run_failure_sensor(
    name=RUN_FAILURE_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts when any run of this code location fails (a blocking check failing fails its run).",
)
def run_failure_alerts(context: dg.RunFailureSensorContext, alerts: AlertsResource):
    run = context.dagster_run
    interrupted = was_interrupted(context.instance, run.run_id)
    if interrupted:  # stopped on purpose (Ctrl-C on make demo): not a failure anyone must look at
        context.log.info(f"run {run.run_id} was interrupted on purpose ({interrupted}): no alert")
        return
    message = context.failure_event.message if context.failure_event else "run failed"
    alerts.send("critical", f"run failed: {run.job_name}", f"run {run.run_id}: {message}", run_dedup_key(run.job_name))


SENSORS = [check_failure_alerts, run_failure_alerts]

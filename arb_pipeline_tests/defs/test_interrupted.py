"""Ctrl-C on the demo interrupts runs: the next start must not alert "run failed" for them, and no
run may stay STARTED forever (the scan sensor would wait on it), while a real failure still alerts."""

import time
from datetime import UTC, datetime

import dagster as dg

from arb_pipeline.defs.monitoring.interrupted import INTERRUPTED_TAG, mark_interrupted_runs
from arb_pipeline.defs.monitoring.resources import AlertsResource
from arb_pipeline.defs.monitoring.sensors import run_failure_alerts
from arb_pipeline.defs.shared.resources import AppDatabaseResource

SENT: list[tuple] = []


class RecordingAlerts(AlertsResource):
    def send(self, severity, title, body, dedup_key):
        SENT.append((severity, title, body, dedup_key))


@dg.asset
def boom():
    raise RuntimeError("venue down")


def alert_for(instance, run_id) -> list[tuple]:
    SENT.clear()
    run = instance.get_run_by_id(run_id)
    failure = next(e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event
                   and e.dagster_event.event_type_value == "PIPELINE_FAILURE")
    with dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts", dagster_instance=instance, dagster_run=run, dagster_event=failure,
        resources={"alerts": RecordingAlerts(database=AppDatabaseResource(url="sqlite://", auto_migrate=False))},
    ) as context:
        run_failure_alerts(context.for_run_failure())
    return list(SENT)


def test_runs_interrupted_by_the_shutdown_are_cancelled_or_tagged_and_do_not_alert():
    with dg.instance_for_test() as instance:
        real = dg.materialize([boom], instance=instance, raise_on_error=False)  # failed before the shutdown
        time.sleep(0.05)
        since = datetime.now(UTC)
        interrupted = dg.materialize([boom], instance=instance, raise_on_error=False)  # "failed" by Ctrl-C
        for run_id, status in (("in-flight", dg.DagsterRunStatus.STARTED), ("starting", dg.DagsterRunStatus.STARTING)):
            instance.add_run(dg.DagsterRun(job_name="scan_job", run_id=run_id, status=status))

        marked = mark_interrupted_runs(instance, since=since, reason="make demo stopped (Ctrl-C)")

        assert set(marked) == {"in-flight", "starting", interrupted.run_id}
        for run_id in ("in-flight", "starting"):
            run = instance.get_run_by_id(run_id)
            assert run.status == dg.DagsterRunStatus.CANCELED and run.tags[INTERRUPTED_TAG]
        assert alert_for(instance, interrupted.run_id) == []  # no false "run failed" on the next start
        (alert,) = alert_for(instance, real.run_id)  # a real failure still alerts
        assert alert[0] == "critical" and alert[1].startswith("run failed")
        assert INTERRUPTED_TAG not in instance.get_run_by_id(real.run_id).tags


def test_the_demo_creates_every_dagster_storage_once_before_its_processes_start(tmp_path, monkeypatch):
    from pathlib import Path

    from arb_pipeline.defs.monitoring.interrupted import prepare_instance_in_home

    template = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
    (tmp_path / "dagster.yaml").write_text(template.read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # the template's storage reads it, as make demo sets it
    prepare_instance_in_home(tmp_path)
    assert (tmp_path / "history" / "runs.db").exists()
    assert (tmp_path / "schedules" / "schedules.db").exists()
    prepare_instance_in_home(tmp_path)  # a second start finds them made: nothing to race for, no error
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_runs() == []


def test_preparing_a_home_without_an_instance_file_does_nothing(tmp_path):
    from arb_pipeline.defs.monitoring.interrupted import prepare_instance_in_home

    prepare_instance_in_home(tmp_path)
    assert list(tmp_path.iterdir()) == []

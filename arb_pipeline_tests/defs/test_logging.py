"""Runs are INFO by default: the terminal shows the story and the alerts, not every step event."""

import pytest

from arb_pipeline.defs.shared.logging import run_logging_config

INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def test_the_scan_sensor_and_the_reconcile_schedule_request_info_runs(monkeypatch):
    """Their runs are the ones a demo terminal shows (a job-level default config is not used: it would
    freeze every resource's configuration at definition time, and tests could not swap resources)."""
    import dagster as dg

    from arb_pipeline.defs.ingest.sensors import build_scan_sensor
    from arb_pipeline.defs.jobs import scan_job
    from arb_pipeline.defs.monitoring.schedules import reconcile_schedule

    with dg.instance_for_test() as instance:
        request = build_scan_sensor(scan_job, interval_s=10, clock=lambda: 1_795_000_000.0)(
            dg.build_sensor_context(instance=instance))
    assert request.run_config == INFO
    assert reconcile_schedule.evaluate_tick(dg.build_schedule_context()).run_requests[0].run_config == INFO


def test_arb_log_level_raises_or_lowers_it(monkeypatch):
    monkeypatch.setenv("ARB_LOG_LEVEL", "debug")
    assert run_logging_config()["loggers"]["console"]["config"]["log_level"] == "DEBUG"
    monkeypatch.setenv("ARB_LOG_LEVEL", "")
    assert run_logging_config()["loggers"]["console"]["config"]["log_level"] == "INFO"  # empty: the default
    monkeypatch.setenv("ARB_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="ARB_LOG_LEVEL must be one of"):
        run_logging_config()


def test_a_scan_run_at_info_prints_no_step_events(tmp_path, capsys, monkeypatch):
    """The same scan at INFO and at DEBUG: the DEBUG step events (~190 lines a run) are gone."""
    from arb_pipeline.defs.runner import build_resources, run_scan_job
    from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR

    resources = build_resources(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}", source="recorded",
                                snapshot_dir=str(SAMPLE_SNAPSHOT_DIR))
    monkeypatch.delenv("ARB_LOG_LEVEL", raising=False)
    assert run_scan_job(resources).success
    info = capsys.readouterr().err
    assert " - DEBUG - " not in info and "captured snapshot" in info
    monkeypatch.setenv("ARB_LOG_LEVEL", "DEBUG")
    assert run_scan_job(resources).success
    debug = capsys.readouterr().err
    assert debug.count(" - DEBUG - ") > 50 and len(debug.splitlines()) > 3 * len(info.splitlines())

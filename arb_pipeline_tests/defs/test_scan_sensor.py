"""The scan sensor's ticks: run requests, deterministic run keys and tags, the exact cursor, skips."""

import dagster as dg
import pytest

from arb_pipeline.defs.execution.gate import LAUNCHED_BY_TAG, SCAN_TICK_TAG
from arb_pipeline.defs.ingest.sensors import build_scan_sensor, scan_interval_s, tick_of
from arb_pipeline.defs.jobs import scan_job

T0 = 1_795_000_003.7  # 2026-11-18T... a few seconds past a 10 s boundary


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def evaluate(sensor, instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = sensor(context)
    return result, context.cursor


def test_first_tick_requests_a_tagged_run_and_sets_the_cursor(instance):
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0))
    result, cursor = evaluate(sensor, instance)
    assert isinstance(result, dg.RunRequest)
    assert result.run_key == "scan-1795000000"
    assert result.tags[LAUNCHED_BY_TAG] == "scan_sensor"
    assert result.tags[SCAN_TICK_TAG] == "2026-11-18T11:06:40+00:00"
    assert cursor == "1795000000"


def test_same_interval_is_skipped_with_the_cursor_unchanged(instance):
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 5))
    result, cursor = evaluate(sensor, instance, cursor="1795000000")
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "tick 1795000000 already requested (cursor 1795000000)"
    assert cursor == "1795000000"


def test_next_interval_requests_the_next_run_key(instance):
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 10))
    result, cursor = evaluate(sensor, instance, cursor="1795000000")
    assert result.run_key == "scan-1795000010"
    assert cursor == "1795000010"


def test_a_scan_still_in_flight_skips_the_tick(instance):
    instance.add_run(dg.DagsterRun(job_name="scan_job", run_id="inflight-run", status=dg.DagsterRunStatus.STARTED,
                                   tags={LAUNCHED_BY_TAG: "scan_sensor"}))
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 10))
    result, cursor = evaluate(sensor, instance, cursor="1795000000")
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "previous scan run inflight-run is still STARTED"
    assert cursor == "1795000000"  # not advanced: the next evaluation tries again


def test_a_finished_scan_does_not_block(instance):
    instance.add_run(dg.DagsterRun(job_name="scan_job", run_id="done-run", status=dg.DagsterRunStatus.SUCCESS,
                                   tags={LAUNCHED_BY_TAG: "scan_sensor"}))
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 10))
    result, _ = evaluate(sensor, instance, cursor="1795000000")
    assert isinstance(result, dg.RunRequest)


def test_interval_is_configurable(monkeypatch, instance):
    monkeypatch.setenv("ARB_SCAN_INTERVAL_S", "30")
    assert scan_interval_s() == 30
    sensor = build_scan_sensor(scan_job, interval_s=scan_interval_s(), clock=Clock(T0))
    assert sensor.minimum_interval_seconds == 30
    result, cursor = evaluate(sensor, instance)
    assert result.run_key == "scan-1794999990"
    assert cursor == "1794999990"


@pytest.mark.parametrize("raw", ["0", "-5", "ten"])
def test_bad_interval_is_refused(monkeypatch, raw):
    monkeypatch.setenv("ARB_SCAN_INTERVAL_S", raw)
    with pytest.raises(ValueError, match="ARB_SCAN_INTERVAL_S"):
        scan_interval_s()


def test_tick_floor():
    assert tick_of(1_000_009.99, 10) == 1_000_000
    assert tick_of(1_000_010.0, 10) == 1_000_010

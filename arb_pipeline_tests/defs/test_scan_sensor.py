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


def test_one_scan_still_in_flight_does_not_hold_back_the_next_tick(instance):
    """Under the default run launcher a run is STARTING for seconds: the next tick must not wait for it."""
    instance.add_run(dg.DagsterRun(job_name="scan_job", run_id="starting-run", status=dg.DagsterRunStatus.STARTING,
                                   tags={LAUNCHED_BY_TAG: "scan_sensor"}))
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 10))
    result, cursor = evaluate(sensor, instance, cursor="1795000000")
    assert isinstance(result, dg.RunRequest) and result.run_key == "scan-1795000010"
    assert cursor == "1795000010"


def test_at_the_in_flight_limit_the_tick_is_skipped_saying_why_and_the_cursor_stays(instance):
    for run_id, status in (("run-a", dg.DagsterRunStatus.STARTED), ("run-b", dg.DagsterRunStatus.STARTING)):
        instance.add_run(dg.DagsterRun(job_name="scan_job", run_id=run_id, status=status,
                                       tags={LAUNCHED_BY_TAG: "scan_sensor"}))
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 10))
    result, cursor = evaluate(sensor, instance, cursor="1795000000")
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith("2 scan run(s) already in flight (limit 2): ")
    assert {"run-a STARTED", "run-b STARTING"} == set(result.skip_message.split(": ", 1)[1].split(", "))
    assert cursor == "1795000000"  # not advanced: the next evaluation requests the then-current tick
    # a limit of 1 is the old behaviour: never overlap
    single = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 10), in_flight_limit=1)
    assert isinstance(evaluate(single, instance, cursor="1795000000")[0], dg.SkipReason)


def test_the_tick_after_a_skip_is_requested_with_the_exact_cursor(instance):
    instance.add_run(dg.DagsterRun(job_name="scan_job", run_id="run-a", status=dg.DagsterRunStatus.STARTED,
                                   tags={LAUNCHED_BY_TAG: "scan_sensor"}))
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=Clock(T0 + 20), in_flight_limit=1)
    assert isinstance(evaluate(sensor, instance, cursor="1795000000")[0], dg.SkipReason)
    instance.report_run_canceled(instance.get_run_by_id("run-a"))  # the run ended
    result, cursor = evaluate(sensor, instance, cursor="1795000000")
    assert result.run_key == "scan-1795000020" and cursor == "1795000020"


def test_the_in_flight_limit_is_configurable(monkeypatch):
    from arb_pipeline.defs.ingest.sensors import max_in_flight

    monkeypatch.delenv("ARB_SCAN_MAX_IN_FLIGHT", raising=False)
    assert max_in_flight() == 2
    monkeypatch.setenv("ARB_SCAN_MAX_IN_FLIGHT", "1")
    assert max_in_flight() == 1
    for bad in ("0", "two"):
        monkeypatch.setenv("ARB_SCAN_MAX_IN_FLIGHT", bad)
        with pytest.raises(ValueError, match="ARB_SCAN_MAX_IN_FLIGHT"):
            max_in_flight()


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
    assert sensor.minimum_interval_seconds == 7  # evaluated every quarter interval: no tick is missed
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


def test_evaluated_every_quarter_interval_a_tick_is_requested_once_and_none_is_missed(instance):
    """The daemon evaluates every `evaluation_interval_s` (2 s at 10 s): every evaluation inside a tick
    after the first is skipped with the cursor unchanged, and the first one in the next tick requests
    it - so over 54 s of evaluations, exactly the six ticks, each once, in order."""
    from arb_pipeline.defs.ingest.sensors import evaluation_interval_s

    assert evaluation_interval_s(10) == 2 and evaluation_interval_s(1) == 1 and evaluation_interval_s(3) == 1
    clock = Clock(T0 + 0.7)
    sensor = build_scan_sensor(scan_job, interval_s=10, clock=clock)
    assert sensor.minimum_interval_seconds == 2
    cursor, keys = None, []
    for _ in range(28):  # T0 + 0.7 s to T0 + 54.7 s, every 2 s
        result, cursor = evaluate(sensor, instance, cursor=cursor)
        if isinstance(result, dg.RunRequest):
            keys.append(result.run_key)
            assert cursor == result.run_key.removeprefix("scan-")
        clock.now += 2
    assert keys == [f"scan-{tick_of(T0, 10) + 10 * i}" for i in range(6)]

"""The scan sensor: one scan run every N seconds, each tick's run keyed and tagged deterministically.

* `run_key` = `scan-<tick epoch>` where the tick is the wall clock floored to the interval, so a
  daemon restart or a duplicate evaluation inside one interval never launches the same scan twice;
* it is evaluated every quarter interval (`evaluation_interval_s`), so each tick is requested within
  seconds of its start (once per interval, evaluations drifted past whole ticks);
* the cursor is the last requested tick's epoch seconds (as text);
* scans may overlap: a tick requests its run while up to ARB_SCAN_MAX_IN_FLIGHT - 1 (default 2 in
  flight in all) earlier scan runs are still queued, starting or running, because under the default
  run launcher a run spends most of its life STARTING (a fresh process importing the code location):
  skipping every tick while the previous run starts gave one scan per 23-53 s at a 10 s interval.
  Orders stay serial (pool `kalshi_orders` of 1, the DB execution lease, deterministic
  client_order_ids, the TTL at send time). At the cap the tick is skipped with the reason (tick history
  in the UI) and the cursor is not advanced, so the next evaluation requests the current tick;
* runs carry `arb/launched_by=scan_sensor`, the tag `executed_orders` requires before it trades.
"""

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from arb_pipeline.defs.execution.gate import LAUNCHED_BY_TAG, SCAN_SENSOR_LAUNCHER, SCAN_TICK_TAG
from arb_pipeline.defs.shared.logging import run_logging_config

SCAN_SENSOR = "scan_sensor"
DEFAULT_SCAN_INTERVAL_S = 10
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


DEFAULT_MAX_IN_FLIGHT = 2


def _whole_number_env(name: str, default: int, unit: str = "") -> int:
    """A whole number ≥ 1 from the environment (empty: `default`); `unit` names it in the error."""
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a whole number{f' of {unit}s' if unit else ''}") from exc
    if value < 1:
        raise ValueError(f"{name}={value} must be at least 1{f' {unit}' if unit else ''}")
    return value


def max_in_flight() -> int:
    """ARB_SCAN_MAX_IN_FLIGHT (default 2): scan runs queued/starting/running at once; 1 = never overlap."""
    return _whole_number_env("ARB_SCAN_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT)


def scan_interval_s() -> int:
    """ARB_SCAN_INTERVAL_S (default 10), read when the code location loads."""
    return _whole_number_env("ARB_SCAN_INTERVAL_S", DEFAULT_SCAN_INTERVAL_S, unit="second")


def evaluation_interval_s(interval_s: int) -> int:
    """How often the daemon evaluates the scan sensor: a quarter of the scan interval (2 s at 10 s).

    Evaluated once per interval, the sensor drifted past tick boundaries (an evaluation 8.6 s into a
    tick, the next one 14 s later: a whole tick never requested, gaps of 15 s at a 10 s interval). The
    tick and its cursor still allow one run per tick; the other evaluations are skipped ticks."""
    return max(1, interval_s // 4)


def tick_of(now_s: float, interval_s: int) -> int:
    return int(now_s // interval_s) * interval_s


def scan_run_key(tick: int) -> str:
    return f"scan-{tick}"


def build_scan_sensor(
    job: Any,
    *,
    interval_s: int,
    name: str = SCAN_SENSOR,
    clock: Callable[[], float] = time.time,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
    in_flight_limit: int = DEFAULT_MAX_IN_FLIGHT,
) -> dg.SensorDefinition:
    """A sensor requesting one run of `job` per `interval_s`-second tick of `clock`, with at most
    `in_flight_limit` of its scan runs queued/starting/running at once."""

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=evaluation_interval_s(interval_s),
        default_status=default_status,
        description=f"Requests a scan run every {interval_s}s (ARB_SCAN_INTERVAL_S; evaluated every "
                    f"{evaluation_interval_s(interval_s)}s so no tick is missed), run key scan-<tick>, "
                    f"with at most {in_flight_limit} scan run(s) in flight (ARB_SCAN_MAX_IN_FLIGHT). Its runs are "
                    "the only ones allowed to trade.",
    )
    def _scan_sensor(context: dg.SensorEvaluationContext):
        tick = tick_of(clock(), interval_s)
        last = int(context.cursor) if context.cursor else None
        if last is not None and tick <= last:
            return dg.SkipReason(f"tick {tick} already requested (cursor {last})")
        in_flight = context.instance.get_runs(
            filters=dg.RunsFilter(job_name=job.name, statuses=IN_FLIGHT,
                                  tags={LAUNCHED_BY_TAG: SCAN_SENSOR_LAUNCHER}),
            limit=in_flight_limit,
        )
        if len(in_flight) >= in_flight_limit:
            described = ", ".join(f"{run.run_id} {run.status.value}" for run in in_flight)
            return dg.SkipReason(f"{len(in_flight)} scan run(s) already in flight (limit {in_flight_limit}): "
                                 f"{described}")
        context.update_cursor(str(tick))
        tick_iso = datetime.fromtimestamp(tick, UTC).isoformat()
        return dg.RunRequest(
            run_key=scan_run_key(tick),
            run_config=run_logging_config(),  # INFO, not Dagster's DEBUG default (defs/shared/logging.py)
            tags={LAUNCHED_BY_TAG: SCAN_SENSOR_LAUNCHER, SCAN_TICK_TAG: tick_iso},
        )

    return _scan_sensor


def default_sensor_status() -> dg.DefaultSensorStatus:
    """STOPPED unless ARB_SENSORS_DEFAULT_ON is truthy: scanning (and so trading) starts on purpose."""
    flag = os.environ.get("ARB_SENSORS_DEFAULT_ON", "").strip().lower()
    return dg.DefaultSensorStatus.RUNNING if flag in {"1", "true", "yes", "on"} else dg.DefaultSensorStatus.STOPPED

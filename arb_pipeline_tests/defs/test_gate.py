"""Money rule 4 at the Dagster layer: only the live scan may place orders."""

import pytest

from arb_pipeline.defs.execution.gate import refusal_reason

SENSOR = {"arb/launched_by": "scan_sensor"}


def test_the_live_scan_may_trade():
    assert refusal_reason(has_partition_key=False, tags=SENSOR) is None
    assert refusal_reason(has_partition_key=False, tags={"arb/launched_by": "headless"}) is None


@pytest.mark.parametrize(
    "partitioned,tags,why",
    [
        (True, SENSOR, "partitioned run"),
        (False, {**SENSOR, "dagster/backfill": "bf1"}, "backfill run bf1"),
        (False, {**SENSOR, "dagster/parent_run_id": "r0"}, "re-execution of run r0"),
        (False, {}, "not launched by the live scan"),
        (False, {"arb/launched_by": "someone"}, "not launched by the live scan"),
    ],
)
def test_everything_else_is_refused_with_a_reason(partitioned, tags, why):
    reason = refusal_reason(has_partition_key=partitioned, tags=tags)
    assert reason is not None and why in reason

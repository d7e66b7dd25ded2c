"""Who may place orders (Money rule 4): only the live scan, never a backfill or a rematerialization.

A run may execute only when *all* of these hold:

* it is not partitioned (every history asset is; a partition key means a backfill/replay);
* it carries no `dagster/backfill` tag (Dagster sets it on every backfill run);
* it is not a re-execution of an earlier run (`dagster/parent_run_id`): re-running an old scan
  would act on old opportunities;
* it was launched by the scan sensor (or the bounded headless runner), which tag it explicitly
  with `arb/launched_by` — a person pressing "Materialize" in the UI does not.
"""

from __future__ import annotations

from collections.abc import Mapping

LAUNCHED_BY_TAG = "arb/launched_by"
SCAN_TICK_TAG = "arb/scan_tick"
SCAN_SENSOR_LAUNCHER = "scan_sensor"
HEADLESS_LAUNCHER = "headless"
ALLOWED_LAUNCHERS = frozenset({SCAN_SENSOR_LAUNCHER, HEADLESS_LAUNCHER})
BACKFILL_TAG = "dagster/backfill"
PARENT_RUN_TAG = "dagster/parent_run_id"


def refusal_reason(*, has_partition_key: bool, tags: Mapping[str, str]) -> str | None:
    """None when this run may place orders; otherwise why not (shown in the UI and the logs)."""
    if has_partition_key:
        return "partitioned run (a backfill or history rematerialization never places orders)"
    if BACKFILL_TAG in tags:
        return f"backfill run {tags[BACKFILL_TAG]} (backfills never place orders)"
    if PARENT_RUN_TAG in tags:
        return f"re-execution of run {tags[PARENT_RUN_TAG]} (only a fresh live scan places orders)"
    launcher = tags.get(LAUNCHED_BY_TAG)
    if launcher not in ALLOWED_LAUNCHERS:
        return (f"not launched by the live scan (tag {LAUNCHED_BY_TAG}={launcher!r}; expected one of "
                f"{sorted(ALLOWED_LAUNCHERS)}): a manual materialization never places orders")
    return None

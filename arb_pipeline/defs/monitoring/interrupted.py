"""Runs a person interrupted on purpose (Ctrl-C on `make demo`) are not failures to alert on.

Stopping `dagster dev` interrupts the runs in flight: Dagster records them as FAILURE ("execution
was interrupted"), or leaves them STARTED/QUEUED when their process was killed. On the next start
`run_failure_alerts` would open with a critical "run failed" alert for a run nobody needs to look
at, and a run left STARTED would make the scan sensor wait forever. `mark_interrupted_runs` is
called by the demo after it stopped everything: runs still in flight are cancelled and every run
that ended during the shutdown is tagged `arb/interrupted`, which the failure sensor skips.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg

INTERRUPTED_TAG = "arb/interrupted"
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def mark_interrupted_runs(instance: dg.DagsterInstance, *, since: datetime, reason: str) -> list[str]:
    """Cancel the runs still in flight and tag those that failed at or after `since` (the moment the
    shutdown began). Returns the run ids it marked. Never touches a run that failed before `since`."""
    marked: list[str] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        run = record.dagster_run
        instance.add_run_tags(run.run_id, {INTERRUPTED_TAG: reason})
        instance.report_run_canceled(run, message=f"interrupted: {reason}")
        marked.append(run.run_id)
    failed = instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE],
                                                            updated_after=since))
    for record in failed:
        if INTERRUPTED_TAG not in record.dagster_run.tags:
            instance.add_run_tags(record.dagster_run.run_id, {INTERRUPTED_TAG: reason})
            marked.append(record.dagster_run.run_id)
    return marked


def was_interrupted(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Why the run was interrupted on purpose, or None (read fresh: the tag is added after the fact)."""
    run = instance.get_run_by_id(run_id)
    return run.tags.get(INTERRUPTED_TAG) if run is not None else None


def prepare_instance_in_home(home: Path) -> None:
    """Create and stamp every storage of the instance in `home` once, before `dagster dev` starts.

    Why: on a fresh DAGSTER_HOME the webserver and the daemon both create the SQLite storages at the same
    moment; under load both stamp Alembic's version table and the next open fails with "alembic_version
    has more than one head". One process creating them first leaves nothing to race for.
    """
    if not (home / "dagster.yaml").exists():
        return
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.upgrade()


def mark_interrupted_in_home(home: Path, *, since: datetime, reason: str) -> list[str]:
    """`mark_interrupted_runs` on the instance kept in `home` (a DAGSTER_HOME); none there: nothing."""
    if not (home / "dagster.yaml").exists():
        return []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return mark_interrupted_runs(instance, since=since, reason=reason)

"""Monitoring sensors: failed asset checks and failed runs become alerts (de-duplicated by key)."""

import dagster as dg
import pytest

from arb_pipeline.defs.monitoring.resources import AlertsResource
from arb_pipeline.defs.monitoring.sensors import (
    check_dedup_key,
    check_failure_alerts,
    run_dedup_key,
    run_failure_alerts,
)
from arb_pipeline.defs.shared.resources import AppDatabaseResource
from arb_pipeline_tests.defs.monitoring.recording_alerts import ALERTS, SENT


@pytest.fixture(autouse=True)
def _clear():
    SENT.clear()


@dg.asset
def quotes():
    return 1


@dg.asset_check(asset=quotes, blocking=True)
def quotes_contract(quotes):
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"num_failures": 2, "failed_checks": ["odds: odds_above_1"]},
                               description="2 failures")


@dg.asset_check(asset=quotes)
def quotes_fresh(quotes):
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"stale_quotes": 3})


@dg.asset_check(asset=quotes)
def quotes_ok(quotes):
    return dg.AssetCheckResult(passed=True)


DEFS = dg.Definitions(assets=[quotes], asset_checks=[quotes_contract, quotes_fresh, quotes_ok])


def evaluate(instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=DEFS,
                                 resources={"alerts": ALERTS}) as context:
        return check_failure_alerts(context), context.cursor


def test_failed_checks_alert_once_and_move_the_cursor():
    with dg.instance_for_test() as instance:
        result, cursor = evaluate(instance)
        assert isinstance(result, dg.SkipReason) and "no failed asset check" in result.skip_message
        assert cursor is None and SENT == []

        dg.materialize([quotes, quotes_contract, quotes_fresh, quotes_ok], instance=instance, raise_on_error=False)
        result, cursor = evaluate(instance)
        assert result.skip_message == "2 failed check evaluation(s): 2 alert(s) sent, the rest de-duplicated"
        by_key = {key: (sev, title, body) for sev, title, body, key in SENT}
        contract_key = check_dedup_key(dg.AssetCheckKey(dg.AssetKey("quotes"), "quotes_contract"))
        fresh_key = check_dedup_key(dg.AssetCheckKey(dg.AssetKey("quotes"), "quotes_fresh"))
        assert set(by_key) == {contract_key, fresh_key}
        assert contract_key == "asset_check:quotes:quotes_contract"
        assert by_key[contract_key][0] == "critical" and "odds_above_1" in by_key[contract_key][2]
        assert by_key[fresh_key][0] == "warning" and "stale_quotes: 3" in by_key[fresh_key][2]
        highest = int(cursor)

        SENT.clear()
        result, again = evaluate(instance, cursor=cursor)
        assert isinstance(result, dg.SkipReason) and SENT == [] and again == str(highest)


def test_failed_runs_alert():
    @dg.asset
    def boom():
        raise RuntimeError("venue down")

    with dg.instance_for_test() as instance:
        result = dg.materialize([boom], instance=instance, raise_on_error=False)
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
        with dg.build_run_status_sensor_context(
            sensor_name="run_failure_alerts", dagster_instance=instance, dagster_run=run, dagster_event=failure,
            resources={"alerts": ALERTS},
        ) as context:
            run_failure_alerts(context.for_run_failure())
    assert len(SENT) == 1
    severity, title, body, key = SENT[0]
    assert severity == "critical" and title == f"run failed: {run.job_name}" and key == run_dedup_key(run.job_name)
    assert result.run_id in body


def test_alerts_resource_persists_and_deduplicates(tmp_path):
    alerts = AlertsResource(database=AppDatabaseResource(url=f"sqlite:///{tmp_path / 'app.sqlite3'}"))
    first = alerts.send("warning", "asset check failed: x / y", "body", "asset_check:x:y")
    again = alerts.send("warning", "asset check failed: x / y", "body", "asset_check:x:y")
    assert first.sent and "log" in first.channels
    assert not again.sent


def test_prune_deletes_old_successful_scan_runs_only():
    from datetime import UTC, datetime, timedelta

    from arb_pipeline.defs.monitoring.housekeeping import PruneConfig, prune

    with dg.instance_for_test() as instance:
        for run_id, status in (("ok-run", dg.DagsterRunStatus.SUCCESS), ("bad-run", dg.DagsterRunStatus.FAILURE)):
            instance.add_run(dg.DagsterRun(job_name="scan_job", run_id=run_id, status=status))
        instance.add_run(dg.DagsterRun(job_name="reconcile_job", run_id="other", status=dg.DagsterRunStatus.SUCCESS))
        later = datetime.now(UTC) + timedelta(days=3)
        assert prune(instance, PruneConfig(), later) == {"success": 1, "failure": 0}
        assert {r.run_id for r in instance.get_runs()} == {"bad-run", "other"}
        assert prune(instance, PruneConfig(), later + timedelta(days=30)) == {"success": 0, "failure": 1}

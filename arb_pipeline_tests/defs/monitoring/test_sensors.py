"""check_failure_alerts with checks evaluated inside the asset steps (the scan stages' `StageChecks`)."""

import dagster as dg
import pytest

from arb_pipeline.defs.monitoring.sensors import check_dedup_key, check_failure_alerts
from arb_pipeline.defs.shared.checks import ERROR, FrameCheck, StageChecks, warn
from arb_pipeline_tests.defs.monitoring.recording_alerts import ALERTS, SENT

QUOTES = dg.AssetKey("quotes")
ORDERS = dg.AssetKey("orders")


@pytest.fixture(autouse=True)
def _clear():
    SENT.clear()


def contract(frame):
    return False, {"num_failures": 2, "failed_checks": ["odds: odds_above_1"]}, "2 failures"


QUOTE_CHECKS = StageChecks((
    FrameCheck(name="quotes_contract", description="contract", severity=ERROR, blocking=True, rule=contract),
    warn(name="quotes_fresh", description="fresh", rule=lambda frame: (False, {"stale_quotes": 3})),
    warn(name="quotes_ok", description="ok", rule=lambda frame: (True, {})),
))
ORDER_CHECKS = StageChecks((warn(name="orders_schema", description="orders", rule=lambda frame: (True, {})),))


def quotes_frame():
    import pandas as pd

    return pd.DataFrame({"odds": [0.5]})


@dg.asset(key=QUOTES, check_specs=QUOTE_CHECKS.specs(QUOTES))
def quotes():
    frame = quotes_frame()
    yield dg.Output(frame)
    yield from QUOTE_CHECKS.results(QUOTES, frame)


def orders_assets(in_step: bool) -> list:
    """Like executed_orders: conditional, and places nothing here. In step (today), it answers its check as
    "nothing to check" (Dagster fails a step that leaves an in-step check unanswered); as a separate check
    step (before), the check step is skipped and its evaluation stays PLANNED."""
    if in_step:
        @dg.asset(key=ORDERS, output_required=False, check_specs=ORDER_CHECKS.specs(ORDERS))
        def orders():
            yield from ORDER_CHECKS.not_applicable(ORDERS, "no opportunities")

        return [orders]

    @dg.asset(key=ORDERS, output_required=False)
    def orders_before():
        yield from ()

    return [orders_before, ORDER_CHECKS.checks[0].asset_check(ORDERS)]




def evaluate(instance, defs, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                 resources={"alerts": ALERTS}) as context:
        return check_failure_alerts(context), context.cursor


def test_in_step_failed_checks_alert_with_their_severity_and_details():
    defs = dg.Definitions(assets=[quotes])
    with dg.instance_for_test() as instance:
        result = dg.materialize([quotes], instance=instance, raise_on_error=False)
        assert not result.success  # the blocking ERROR check failed the step
        outcome, cursor = evaluate(instance, defs)
    assert outcome.skip_message == "2 failed check evaluation(s): 2 alert(s) sent, the rest de-duplicated"
    by_key = {key: (sev, body) for sev, _, body, key in SENT}
    assert set(by_key) == {check_dedup_key(dg.AssetCheckKey(QUOTES, "quotes_contract")),
                           check_dedup_key(dg.AssetCheckKey(QUOTES, "quotes_fresh"))}
    severity, body = by_key["asset_check:quotes:quotes_contract"]
    assert severity == "critical" and "odds_above_1" in body and "2 failures" in body
    assert by_key["asset_check:quotes:quotes_fresh"][0] == "warning"
    assert cursor is not None


@pytest.mark.parametrize("in_step", [True, False], ids=["in-step", "separate-step-left-planned"])
def test_a_conditional_asset_does_not_hold_later_alerts_back(in_step):
    """In step, the asset answers its check; as a separate step, the evaluation stays PLANNED, but its run
    has finished, so nothing can answer it any more and the sensor passes over it at once."""
    orders = orders_assets(in_step)
    defs = dg.Definitions(assets=[quotes, orders[0]], asset_checks=orders[1:])
    with dg.instance_for_test() as instance:
        idle = dg.materialize(orders, instance=instance)
        assert idle.success and not idle.get_asset_materialization_events()
        dg.materialize([quotes], instance=instance, raise_on_error=False)  # a later run's failures
        evaluate(instance, defs)
    assert {key for *_, key in SENT} == {"asset_check:quotes:quotes_contract", "asset_check:quotes:quotes_fresh"}


def test_a_planned_evaluation_of_a_run_still_going_holds_the_cursor_until_that_run_finishes():
    orders = orders_assets(in_step=False)
    defs = dg.Definitions(assets=[quotes, orders[0]], asset_checks=orders[1:])
    with dg.instance_for_test() as instance:
        idle = dg.materialize(orders, instance=instance)
        dg.materialize([quotes], instance=instance, raise_on_error=False)
        run = instance.get_run_by_id(idle.run_id)
        # as if the idle run were still going: its PLANNED evaluation may yet turn FAILED
        instance.run_storage.handle_run_event(run.run_id, dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name))
        assert not instance.get_run_by_id(idle.run_id).is_finished
        outcome, cursor = evaluate(instance, defs)
        assert SENT == [] and "no failed asset check" in outcome.skip_message
        instance.run_storage.handle_run_event(run.run_id, dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name))
        evaluate(instance, defs, cursor)
    assert {key for *_, key in SENT} == {"asset_check:quotes:quotes_contract", "asset_check:quotes:quotes_fresh"}

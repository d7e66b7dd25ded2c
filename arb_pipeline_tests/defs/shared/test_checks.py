"""The stage checks written once (`FrameCheck`/`StageChecks`) and evaluated in the asset's own step or as a
separate check step: the same evaluations either way, the same specs, the same blocking semantics."""

from dataclasses import replace
from decimal import Decimal

import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.defs.execution.checks import EXECUTED_ORDERS_CHECKS
from arb_pipeline.defs.ingest.checks import KALSHI_MARKETS_CHECKS, SPORTSBOOK_ODDS_CHECKS
from arb_pipeline.defs.opportunities.checks import ARB_OPPORTUNITIES_CHECKS
from arb_pipeline.defs.pricing.checks import IMPLIED_PROBABILITIES_CHECKS
from arb_pipeline.defs.resolve.checks import RESOLVED_EVENTS_CHECKS
from arb_pipeline.defs.shared.checks import ERROR, WARN, FrameCheck, StageChecks, schema, warn
from arb_pipeline.services import stages
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, SCAN_EXTRA_FIELDS

STAGE = dg.AssetKey("stage_under_test")


@pytest.fixture(scope="module")
def sample_values():
    """Every scan stage's value on the recorded sample snapshot, as the scan job's assets build them."""
    from arb_pipeline.connectors.snapshot import load_snapshot
    from arb_pipeline.services.mappings import configured_scan
    from arb_pipeline.settings import get_settings

    settings = get_settings()
    config = configured_scan(settings)
    markets, odds = stages.captured(load_snapshot(SAMPLE_SNAPSHOT_DIR, keep_extra=SCAN_EXTRA_FIELDS), 1)
    resolved = stages.resolve_stage(markets, odds, config)
    priced = stages.price_stage(resolved, config, settings.devig_method)
    detected = stages.detect_stage(priced, config)
    return {"kalshi_markets": (KALSHI_MARKETS_CHECKS, markets), "sportsbook_odds": (SPORTSBOOK_ODDS_CHECKS, odds),
            "resolved_events": (RESOLVED_EVENTS_CHECKS, resolved),
            "implied_probabilities": (IMPLIED_PROBABILITIES_CHECKS, priced),
            "arb_opportunities": (ARB_OPPORTUNITIES_CHECKS, detected)}


def corrupted_odds(odds: stages.CapturedOdds) -> stages.CapturedOdds:
    """The sample's odds with one decimal price below 1.0 (impossible) and one far stale quote."""
    frame = odds.frame.copy()
    frame.loc[frame.index[0], "decimal_odds"] = Decimal("0.95")
    frame["quote_age_s"] = 1e9
    return replace(odds, frame=frame)


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, tuple]:
    """What the event log holds of each check evaluation (what the UI and the alerts read)."""
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            e = event.event_specific_data
            out[e.check_name] = (e.asset_key, e.passed, e.severity, e.description, e.blocking, dict(e.metadata))
    return out


def run_in_step(checks: StageChecks, value: object) -> dg.ExecuteInProcessResult:
    @dg.asset(key=STAGE, check_specs=checks.specs(STAGE))
    def stage():
        yield dg.Output(value)
        yield from checks.results(STAGE, value)

    return dg.materialize([stage], raise_on_error=False)


def run_as_check_steps(checks: StageChecks, value: object) -> dg.ExecuteInProcessResult:
    @dg.asset(key=STAGE)
    def stage():
        return value

    return dg.materialize([stage, *(c.asset_check(STAGE) for c in checks.checks)], raise_on_error=False)


@pytest.mark.parametrize("stage", ["kalshi_markets", "sportsbook_odds", "resolved_events", "implied_probabilities",
                                   "arb_opportunities", "corrupted sportsbook_odds"])
def test_in_step_evaluations_equal_the_separate_check_steps(sample_values, stage):
    checks, value = sample_values[stage.split()[-1]]
    if stage.startswith("corrupted"):
        value = corrupted_odds(value)
    in_step, separate = evaluations(run_in_step(checks, value)), evaluations(run_as_check_steps(checks, value))
    assert set(in_step) == set(checks.names)
    assert in_step == separate
    assert [r.passed for r in checks.results(STAGE, value)] == [in_step[n][1] for n in checks.names]
    if stage.startswith("corrupted"):
        assert {n: e[1] for n, e in in_step.items()} == {"sportsbook_odds_schema": False,
                                                         "sportsbook_quotes_fresh": False}
        failed = in_step["sportsbook_odds_schema"][5]["failed_checks"].value
        assert any(c.startswith("decimal_odds:") for c in failed), failed
    else:
        assert all(e[1] for e in in_step.values()), in_step


def test_specs_show_name_description_severity_and_blocking():
    contract = schema("KalshiMarketsFrame", name="markets_schema")
    soft = warn(name="markets_soft", description="why it matters", rule=lambda frame: (True, {}))
    by_name = {s.name: s for s in StageChecks((contract, soft)).specs(STAGE)}
    assert by_name["markets_schema"].blocking and not by_name["markets_soft"].blocking
    assert by_name["markets_schema"].metadata == {"severity": "ERROR", "schema": "KalshiMarketsFrame"}
    assert by_name["markets_soft"].metadata == {"severity": "WARN"}
    assert by_name["markets_soft"].description == "why it matters"
    assert "KalshiMarketsFrame (pandera)" in by_name["markets_schema"].description
    assert {s.asset_key for s in by_name.values()} == {STAGE}
    # the separate step built from the same FrameCheck shows the same
    (spec,) = contract.asset_check(STAGE).check_specs
    assert (spec.name, spec.blocking, spec.metadata, spec.description) == (
        by_name["markets_schema"].name, True, by_name["markets_schema"].metadata, by_name["markets_schema"].description)


@pytest.mark.parametrize("severity,blocking", [(ERROR, True), (WARN, False)])
def test_a_rule_that_raises_is_a_failed_evaluation_naming_the_check_and_the_error(sample_values, severity, blocking):
    def broken(frame):
        return frame["no_such_column"], {}, None

    check = FrameCheck(name="broken_rule", description="d", severity=severity, blocking=blocking, rule=broken)
    result = check.result(STAGE, sample_values["kalshi_markets"][1])
    assert not result.passed and result.severity == severity
    assert result.description.startswith("broken_rule could not be evaluated: KeyError:")
    assert "no_such_column" in result.metadata["error"].value


def test_a_value_that_is_not_a_stage_frame_fails_the_schema_check_saying_what_it_got():
    (result,) = StageChecks((schema("KalshiMarketsFrame", name="s"),)).results(STAGE, "not a frame")
    assert not result.passed and "expected a stage value or a DataFrame, got str" in result.description


def downstream_of(checks: StageChecks, value: object) -> dg.ExecuteInProcessResult:
    @dg.asset(key=STAGE, check_specs=checks.specs(STAGE))
    def stage():
        yield dg.Output(value)
        yield from checks.results(STAGE, value)

    @dg.asset(deps=[STAGE])
    def after():
        return 1

    return dg.materialize([stage, after], raise_on_error=False)


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_a_failed_in_step_error_check_blocks_downstream_and_a_failed_warn_check_does_not(sample_values):
    _, odds = sample_values["sportsbook_odds"]
    bad = corrupted_odds(odds)
    blocked = downstream_of(SPORTSBOOK_ODDS_CHECKS, bad)
    assert not blocked.success
    assert materialized(blocked) == {STAGE.to_user_string()}  # the frame is stored, nothing runs on it
    assert not evaluations(blocked)["sportsbook_odds_schema"][1]

    only_warn = StageChecks(tuple(c for c in SPORTSBOOK_ODDS_CHECKS.checks if c.severity == WARN))
    warned = downstream_of(only_warn, bad)
    assert warned.success and materialized(warned) == {STAGE.to_user_string(), "after"}
    assert not evaluations(warned)["sportsbook_quotes_fresh"][1]


def test_not_applicable_answers_every_check_saying_why():
    results = EXECUTED_ORDERS_CHECKS.not_applicable(dg.AssetKey("executed_orders"), "no opportunities")
    assert [r.check_name for r in results] == list(EXECUTED_ORDERS_CHECKS.names) == ["executed_orders_schema"]
    assert all(r.passed and r.description == "nothing to check: no opportunities" for r in results)
    assert all(r.metadata["rows"].value == 0 for r in results)


# --- rows_preview: only the shown columns copied, the same table as the whole-frame copy --------------


def _reference_rows_preview(frame, mask, columns):
    """`rows_preview` before it copied only the columns shown (frozen)."""
    from arb_pipeline.defs.shared.checks import MAX_FAILING_ROWS_SHOWN, visible
    from arb_pipeline.services.frames import markdown_table

    return dg.MetadataValue.md(markdown_table(visible(frame.loc[mask]), columns, MAX_FAILING_ROWS_SHOWN))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_rows_preview_is_the_table_of_the_whole_masked_frame(data):
    import pandas as pd

    from arb_pipeline.defs.shared.checks import rows_preview

    names = data.draw(st.lists(st.sampled_from(["a", "b", "c|d", "record"]), max_size=4, unique=True))
    if names and data.draw(st.integers(min_value=0, max_value=4)) == 0:
        names.append(names[0])  # a repeated column name
    n = data.draw(st.integers(min_value=0, max_value=30))
    cells = st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=3), st.decimals(places=2, allow_nan=False))
    frame = pd.DataFrame({i: [data.draw(cells) for _ in range(n)] for i in range(len(names))}, index=pd.RangeIndex(n))
    frame.columns = names  # repeated names too
    mask = pd.Series([data.draw(st.booleans()) for _ in range(n)], index=frame.index, dtype=bool)
    columns = data.draw(st.lists(st.sampled_from(["a", "b", "c|d", "record", "missing"]), max_size=4,
                                 unique=data.draw(st.booleans())))
    assert rows_preview(frame, mask, columns) == _reference_rows_preview(frame, mask, columns)


@pytest.mark.parametrize(("names", "columns"), [
    (["a", "record"], ["a", "record"]),  # the domain records are never shown
    (["a", "a", "b"], ["a", "b"]),  # a repeated column name in the frame
    (["a", "b"], ["a", "a"]),  # a repeated column asked for
    (["a", "record"], ["record", "missing"]),  # nothing to show
    (["a", "b"], []),
])
def test_rows_preview_of_unusual_shapes_is_the_table_of_the_whole_masked_frame(names, columns):
    import pandas as pd

    from arb_pipeline.defs.shared.checks import rows_preview

    frame = pd.DataFrame([[f"{n}{i}" for n in names] for i in range(25)])
    frame.columns = names
    mask = pd.Series([i % 3 != 0 for i in range(25)], index=frame.index)
    assert rows_preview(frame, mask, columns) == _reference_rows_preview(frame, mask, columns)

"""Checks of a stage frame: the pandera contract as a blocking ERROR check, softer rules as WARN checks.

A check is written once, as a `FrameCheck` (name, description, severity, blocking, and how it evaluates a
frame), and used two ways:

* **in the asset's own step** (the scan stages): `StageChecks.specs(asset)` goes into the asset's
  `check_specs` and the step yields `StageChecks.results(asset, value)` right after its `Output`. A
  separate check step cost the scan run ~0.1 s of Dagster step overhead each (step events written to
  the event store) and the blocking ones sat between the stages, on the way to the paper order (issue
  #11). A failed ERROR check whose spec is `blocking` still stops everything downstream: Dagster fails
  the step once it has yielded its events, exactly as a failed `blocking=True` check step did;
* **as a separate `@asset_check` step** (`FrameCheck.asset_check`): the daily-partitioned history
  assets keep theirs that way (backfills, not latency-bound, and the Great Expectations checks beside
  them are separate steps too).

Every check carries its severity in its spec metadata (`severity`), so the definitions' shape test
and the UI both show it before the check ever runs.
"""

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dagster as dg

from arb_pipeline.defs.shared.types import frame_of

if TYPE_CHECKING:  # pandas and pandera are imported when a check runs, not when the definitions load
    import pandas as pd
    import pandera.pandas as pa

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN
MAX_FAILING_ROWS_SHOWN = 20
HIDDEN_COLUMNS = ("record",)  # domain objects ride along in some frames; never shown


def visible(frame: "pd.DataFrame") -> "pd.DataFrame":
    return frame.drop(columns=[c for c in HIDDEN_COLUMNS if c in frame.columns])


def schema_failure_metadata(model: "str | type[pa.DataFrameModel]", frame: Any) -> dict[str, Any] | None:
    """None when `frame` satisfies `model` (a model of `arb_pipeline.schemas`, or its name); else metadata
    naming the failed checks and failing rows."""
    import pandas as pd
    import pandera.errors as pa_errors

    from arb_pipeline import schemas
    from arb_pipeline.services.frames import markdown_table

    if not isinstance(frame, pd.DataFrame):
        return {"error": dg.MetadataValue.text(f"expected a pandas DataFrame, got {type(frame).__name__}")}
    try:
        (getattr(schemas, model) if isinstance(model, str) else model).validate(frame, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases.copy()
        for column in ("failure_case", "index"):
            if column in cases:
                cases[column] = cases[column].map(lambda v: None if v is None else str(v))
        index_values = [] if "index" not in cases else [v for v in err.failure_cases["index"].dropna().unique()]
        failing = frame.loc[[i for i in frame.index if i in set(index_values)]]
        failed_checks = sorted({f"{row.get('column') or '<frame>'}: {row.get('check')}"
                                for row in cases.to_dict("records")})
        return {
            "num_failures": len(cases),
            "failing_row_count": len(failing),
            "failed_checks": dg.MetadataValue.json(failed_checks),
            "failure_cases": dg.MetadataValue.md(markdown_table(
                cases, ["schema_context", "column", "check", "failure_case", "index"], MAX_FAILING_ROWS_SHOWN)),
            "failing_rows": dg.MetadataValue.md(markdown_table(visible(failing), limit=MAX_FAILING_ROWS_SHOWN)),
        }
    except pa_errors.SchemaError as err:  # raised for a frame-level structural failure even in lazy mode
        return {"num_failures": 1, "failing_row_count": 0,
                "failed_checks": dg.MetadataValue.json([str(err)[:500]])}
    return None


Rule = Callable[["pd.DataFrame"], tuple[bool, Mapping[str, Any]]]


@dataclass(frozen=True)
class FrameCheck:
    """One check of a stage's frame: what the UI shows before it runs (name, description, severity in the
    spec metadata, blocking) and how it evaluates a frame (`rule`: passed + metadata, and optionally a
    description of the failure)."""

    name: str
    description: str
    severity: dg.AssetCheckSeverity
    blocking: bool
    rule: Callable[["pd.DataFrame"], tuple[bool, Mapping[str, Any], str | None]]
    spec_metadata: Mapping[str, Any] = field(default_factory=dict)

    def spec(self, asset: dg.AssetKey) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(name=self.name, asset=asset, description=self.description, blocking=self.blocking,
                                 metadata={"severity": self.severity.value, **self.spec_metadata})

    def result(self, asset: dg.AssetKey, value: object) -> dg.AssetCheckResult:
        """The check evaluated on `value`'s frame. A rule that raises is a failed evaluation naming the
        check and the error (for a blocking check: still blocking), never a failed asset step: a WARN
        rule's error must not stop the stages downstream, as a failing separate WARN step did not."""
        try:
            passed, metadata, description = self.rule(frame_of(value))
        except Exception as error:  # noqa: BLE001 - reported as the check's failure, with what raised
            return dg.AssetCheckResult(
                asset_key=asset, check_name=self.name, passed=False, severity=self.severity,
                description=f"{self.name} could not be evaluated: {type(error).__name__}: {error}"[:2000],
                metadata={"error": dg.MetadataValue.text(f"{type(error).__name__}: {error}"[:2000])})
        return dg.AssetCheckResult(asset_key=asset, check_name=self.name, passed=passed, severity=self.severity,
                                   metadata=dict(metadata), description=description)

    def asset_check(self, asset: dg.AssetKey, *,
                    partitions_def: dg.PartitionsDefinition | None = None) -> dg.AssetChecksDefinition:
        """The same check as its own `@asset_check` step (the history assets' checks)."""

        def _check(value: object) -> dg.AssetCheckResult:
            return self.result(asset, value)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks (history) are "preview"
            return dg.asset_check(
                asset=asset, name=self.name, blocking=self.blocking, description=self.description,
                metadata={"severity": self.severity.value, **self.spec_metadata}, partitions_def=partitions_def,
            )(_check)


def schema(model: str, *, name: str) -> FrameCheck:
    """The stage's whole pandera contract (`model`: its name in `arb_pipeline.schemas`) as a **blocking**,
    severity ERROR check."""

    def _rule(frame: "pd.DataFrame") -> tuple[bool, Mapping[str, Any], str | None]:
        failure = schema_failure_metadata(model, frame)
        if failure is None:
            return True, {"rows": len(frame)}, None
        return False, failure, f"{model}: {failure.get('num_failures')} failure(s)"

    return FrameCheck(
        name=name, severity=ERROR, blocking=True, rule=_rule, spec_metadata={"schema": model},
        description=f"{model} (pandera): columns, dtypes, exact Decimal money and value rules. "
                    "Blocking: nothing downstream runs on a frame that fails it.",
    )


def warn(*, name: str, description: str, rule: Rule) -> FrameCheck:
    """A soft expectation (coverage, overround band, staleness): WARN, never blocks."""

    def _rule(frame: "pd.DataFrame") -> tuple[bool, Mapping[str, Any], str | None]:
        passed, metadata = rule(frame)
        return passed, metadata, None

    return FrameCheck(name=name, description=description, severity=WARN, blocking=False, rule=_rule)


@dataclass(frozen=True)
class StageChecks:
    """The checks one stage's frame gets inside the asset step that produces it."""

    checks: Sequence[FrameCheck]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks)

    def specs(self, asset: dg.AssetKey) -> list[dg.AssetCheckSpec]:
        """For the asset's `check_specs`: the UI lists them (names, descriptions, severity) before a run."""
        return [c.spec(asset) for c in self.checks]

    def results(self, asset: dg.AssetKey, value: object) -> list[dg.AssetCheckResult]:
        """Every check evaluated on `value`'s frame: yield them right after the asset's `Output`, so each
        evaluation targets this run's materialization."""
        return [c.result(asset, value) for c in self.checks]

    def not_applicable(self, asset: dg.AssetKey, why: str) -> list[dg.AssetCheckResult]:
        """Results for a step that produced no frame (a conditional asset that did not materialize). Required:
        Dagster fails a step that leaves one of its in-step checks unanswered (and a skipped separate check
        step left its evaluation PLANNED, which holds `check_failure_alerts`' cursor back for up to its
        grace period, delaying every later alert). Passed with nothing checked, saying why."""
        return [dg.AssetCheckResult(asset_key=asset, check_name=c.name, passed=True, severity=c.severity,
                                    description=f"nothing to check: {why}"[:2000],
                                    metadata={"rows": 0, "not_evaluated": dg.MetadataValue.text(why[:2000])})
                for c in self.checks]


def schema_check(
    asset: dg.AssetKey,
    model: str,
    *,
    name: str,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetChecksDefinition:
    """`schema(model)` as its own blocking check step (the history assets)."""
    return schema(model, name=name).asset_check(asset, partitions_def=partitions_def)


def rows_preview(frame: "pd.DataFrame", mask: "pd.Series", columns: list[str]) -> dg.MetadataValue:
    """The first rows of `frame` where `mask` holds, `columns` of them, as a markdown table.

    Only the columns shown are copied (the same table: copying every column of every masked row was ~3 ms a
    check at 1,000 games); unusual shapes (no column to show, repeated names) take the whole-frame path."""
    from arb_pipeline.services.frames import markdown_table

    shown = [c for c in columns if c in frame.columns and c not in HIDDEN_COLUMNS]
    if shown and frame.columns.is_unique and len(set(shown)) == len(shown):
        return dg.MetadataValue.md(markdown_table(frame.loc[mask, shown], shown, MAX_FAILING_ROWS_SHOWN))
    return dg.MetadataValue.md(markdown_table(visible(frame.loc[mask]), columns, MAX_FAILING_ROWS_SHOWN))

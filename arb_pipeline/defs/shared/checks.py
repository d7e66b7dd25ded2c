"""Asset-check factories: the pandera contract as a blocking ERROR check, softer rules as WARN checks.

Every check carries its severity in its spec metadata (`severity`), so the definitions' shape test
and the UI both show it before the check ever runs.
"""

import warnings
from collections.abc import Callable, Mapping
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


def schema_check(
    asset: dg.AssetKey,
    model: str,
    *,
    name: str,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetChecksDefinition:
    """The stage's whole pandera contract (`model`: its name in `arb_pipeline.schemas`) as a **blocking**,
    severity ERROR check."""

    def _schema_check(value: object) -> dg.AssetCheckResult:
        frame = frame_of(value)
        failure = schema_failure_metadata(model, frame)
        if failure is None:
            return dg.AssetCheckResult(passed=True, severity=ERROR, metadata={"rows": len(frame)})
        return dg.AssetCheckResult(
            passed=False, severity=ERROR, metadata=failure,
            description=f"{model}: {failure.get('num_failures')} failure(s)",
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks (history) are "preview"
        return dg.asset_check(
            asset=asset,
            name=name,
            blocking=True,
            description=f"{model} (pandera): columns, dtypes, exact Decimal money and value rules. "
                        "Blocking: nothing downstream runs on a frame that fails it.",
            metadata={"severity": ERROR.value, "schema": model},
            partitions_def=partitions_def,
        )(_schema_check)


def warn_check(
    asset: dg.AssetKey,
    *,
    name: str,
    description: str,
    rule: Callable[["pd.DataFrame"], tuple[bool, Mapping[str, Any]]],
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetChecksDefinition:
    """A soft expectation (coverage, overround band, staleness): WARN, never blocks."""

    @dg.asset_check(asset=asset, name=name, blocking=False, description=description,
                    metadata={"severity": WARN.value}, partitions_def=partitions_def)
    def _warn_check(value: object) -> dg.AssetCheckResult:
        passed, metadata = rule(frame_of(value))
        return dg.AssetCheckResult(passed=passed, severity=WARN, metadata=dict(metadata))

    return _warn_check


def rows_preview(frame: "pd.DataFrame", mask: "pd.Series", columns: list[str]) -> dg.MetadataValue:
    from arb_pipeline.services.frames import markdown_table

    return dg.MetadataValue.md(markdown_table(visible(frame.loc[mask]), columns, MAX_FAILING_ROWS_SHOWN))

"""Resolve checks: the contract (blocking) and coverage of active markets (WARN)."""

from typing import TYPE_CHECKING, Any

from arb_pipeline.defs.resolve.assets import RESOLVED_EVENTS
from arb_pipeline.defs.shared.checks import rows_preview, schema_check, warn_check

if TYPE_CHECKING:  # pandas is imported when a step runs, not when the definitions load
    import pandas as pd

RESOLVED_EVENTS_SCHEMA = "resolved_events_schema"
RESOLVED_EVENTS_COVERAGE = "resolved_events_coverage"
MIN_COVERAGE = 0.5


def coverage_rule(frame: "pd.DataFrame") -> tuple[bool, dict[str, Any]]:
    if not len(frame):
        return True, {"coverage": 1.0, "markets": 0}
    resolved = frame["resolved"].astype(bool)
    coverage = float(resolved.mean())
    return coverage >= MIN_COVERAGE, {
        "coverage": coverage,
        "min_coverage": MIN_COVERAGE,
        "markets": len(frame),
        "unresolved": int((~resolved).sum()),
        "unresolved_markets": rows_preview(frame, ~resolved, ["ticker", "reason"]),
    }


resolved_events_schema = schema_check(RESOLVED_EVENTS, "ResolvedEventsFrame", name=RESOLVED_EVENTS_SCHEMA)
resolved_events_coverage = warn_check(
    RESOLVED_EVENTS, name=RESOLVED_EVENTS_COVERAGE, rule=coverage_rule,
    description=f"At least {MIN_COVERAGE:.0%} of the captured Kalshi markets resolve to a sportsbook game.",
)

CHECKS = [resolved_events_schema, resolved_events_coverage]

"""Resolve checks: the contract (blocking) and coverage of active markets (WARN), evaluated inside the
`resolved_events` step."""

from typing import TYPE_CHECKING, Any

from arb_pipeline.defs.shared.checks import StageChecks, rows_preview, schema, warn

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


RESOLVED_EVENTS_CHECKS = StageChecks((
    schema("ResolvedEventsFrame", name=RESOLVED_EVENTS_SCHEMA),
    warn(name=RESOLVED_EVENTS_COVERAGE, rule=coverage_rule,
         description=f"At least {MIN_COVERAGE:.0%} of the captured Kalshi markets resolve to a sportsbook game."),
))

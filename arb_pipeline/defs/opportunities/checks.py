"""Opportunity checks: the contract (blocking: nothing is executed from a bad frame) and edge sanity,
evaluated inside the `arb_opportunities` step."""

from typing import TYPE_CHECKING, Any

from arb_pipeline.defs.shared.checks import StageChecks, rows_preview, schema, warn
from arb_pipeline.defs.shared.resources import current_settings

if TYPE_CHECKING:  # pandas is imported when a step runs, not when the definitions load
    import pandas as pd

ARB_OPPORTUNITIES_SCHEMA = "arb_opportunities_schema"
ARB_OPPORTUNITIES_EDGE_SANE = "arb_opportunities_edge_sane"


def edge_sane_rule(frame: "pd.DataFrame") -> tuple[bool, dict[str, Any]]:
    limit = float(current_settings().max_edge_bps)
    if not len(frame):
        return True, {"max_edge_bps_allowed": limit}
    too_big = frame["edge_bps"] > limit
    return not bool(too_big.any()), {
        "max_edge_bps_allowed": limit,
        "suspicious": int(too_big.sum()),
        "rows": rows_preview(frame, too_big, ["opportunity_id", "event_ticker", "kalshi_legs", "edge_bps"]),
    }


ARB_OPPORTUNITIES_CHECKS = StageChecks((
    schema("OpportunitiesFrame", name=ARB_OPPORTUNITIES_SCHEMA),
    warn(name=ARB_OPPORTUNITIES_EDGE_SANE, rule=edge_sane_rule,
         description="No edge above ARB_MAX_EDGE_BPS: an edge that large is usually a mapping or data error."),
))

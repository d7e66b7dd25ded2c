"""Pricing checks: the contract (blocking) and a plausible bookmaker overround band (WARN), evaluated
inside the `implied_probabilities` step."""

from typing import TYPE_CHECKING, Any

from arb_pipeline.defs.shared.checks import StageChecks, rows_preview, schema, warn

if TYPE_CHECKING:  # pandas is imported when a step runs, not when the definitions load
    import pandas as pd

IMPLIED_PROBABILITIES_SCHEMA = "implied_probabilities_schema"
OVERROUND_BAND = "implied_probabilities_overround_band"
OVERROUND_MIN = -0.01  # a tiny negative margin happens on exchanges; much below is a data error
OVERROUND_MAX = 0.15  # above 15 % the "consensus" is built from very soft or wrong prices


def overround_rule(frame: "pd.DataFrame") -> tuple[bool, dict[str, Any]]:
    if not len(frame):
        return True, {"rows": 0}
    low, high = frame["overround_min"], frame["overround_max"]
    outside = (low.notna() & (low < OVERROUND_MIN)) | (high.notna() & (high > OVERROUND_MAX))
    return not bool(outside.any()), {
        "band": f"[{OVERROUND_MIN}, {OVERROUND_MAX}]",
        "outside_band": int(outside.sum()),
        "rows_outside": rows_preview(frame, outside, ["ticker", "books_used", "overround_min", "overround_max"]),
    }


IMPLIED_PROBABILITIES_CHECKS = StageChecks((
    schema("ImpliedProbabilitiesFrame", name=IMPLIED_PROBABILITIES_SCHEMA),
    warn(name=OVERROUND_BAND, rule=overround_rule,
         description=f"Bookmaker overround within [{OVERROUND_MIN}, {OVERROUND_MAX}] for every priced market."),
))

"""Opportunities: arbitrage and +EV opportunities, sized against the book, net of Kalshi fees."""

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import dagster as dg

from arb_pipeline.defs.opportunities.checks import ARB_OPPORTUNITIES_CHECKS
from arb_pipeline.defs.pricing.assets import IMPLIED_PROBABILITIES
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview
from arb_pipeline.defs.shared.observe import record_detection, timed_stage
from arb_pipeline.defs.shared.resources import AppDatabaseResource, ScanConfigResource
from arb_pipeline.defs.shared.types import column_schema, stage_type
from arb_pipeline.services import stages
from arb_pipeline.services.stages import DetectedStage, PricedStage

if TYPE_CHECKING:  # pandas is imported when a step runs, not when the definitions load
    import pandas as pd

GROUP = "opportunities"
ARB_OPPORTUNITIES = dg.AssetKey("arb_opportunities")
TOP_COLUMNS = ["kind", "event_ticker", "executable", "kalshi_legs", "hedge", "cost", "profit", "edge_bps",
               "max_quote_age_s", "not_executable"]


def opportunities_metadata(frame: "pd.DataFrame", rejected: int, **extra) -> dict:
    kinds = frame["kind"].value_counts().to_dict() if len(frame) else {}
    ordered = frame.sort_values("edge_bps", ascending=False) if len(frame) else frame
    return frame_metadata(
        frame,
        opportunities=len(frame),
        arbitrage=int(kinds.get("arbitrage", 0)),
        value=int(kinds.get("value", 0)),
        executable=int(frame["executable"].sum()) if len(frame) else 0,
        rejected=rejected,
        best_edge_bps=column_stat(frame, "edge_bps", "max"),
        profit_total=str(sum((v for v in frame["profit"] if isinstance(v, Decimal)), Decimal("0"))),
        quote_age_s_max=column_stat(frame, "max_quote_age_s", "max"),
        top_opportunities=preview(ordered, TOP_COLUMNS, 10),
        **extra,
    )


@dg.asset(
    key=ARB_OPPORTUNITIES,
    group_name=GROUP,
    check_specs=ARB_OPPORTUNITIES_CHECKS.specs(ARB_OPPORTUNITIES),
    kinds={"pandas", "pandera"},
    dagster_type=stage_type("OpportunitiesFrame", DetectedStage),
    metadata=column_schema("OpportunitiesFrame"),
    ins={"implied_probabilities": dg.AssetIn(IMPLIED_PROBABILITIES)},
    description="Arbitrage and +EV opportunities: edge net of Kalshi fees (rounded up to the cent), "
                "sized by walking the order book, with the sportsbook hedge instruction. Exact Decimal "
                "money columns + float mirrors; the UI preview shows the best ones.",
)
def arb_opportunities(
    context: dg.AssetExecutionContext,
    implied_probabilities: PricedStage,
    database: AppDatabaseResource,
    scan_config: ScanConfigResource,
) -> Iterator[dg.Output[DetectedStage] | dg.AssetCheckResult]:
    with timed_stage(database, "detect"):
        value = stages.detect_stage(implied_probabilities, scan_config.to_scan_config())
    captured_at = value.snapshot.captured_at
    record_detection(database, value.snapshot_id, value.detection, captured_at)
    frame = value.frame
    rejected = len(value.detection.rejected)
    context.log.info(f"snapshot {value.snapshot_id}: {len(frame)} opportunities, {rejected} rejected")
    yield dg.Output(
        value,
        metadata=opportunities_metadata(
            frame, rejected, snapshot_id=value.snapshot_id, detected_at=captured_at.isoformat()),
    )
    yield from ARB_OPPORTUNITIES_CHECKS.results(ARB_OPPORTUNITIES, value)

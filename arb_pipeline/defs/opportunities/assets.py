"""Opportunities: arbitrage and +EV opportunities, sized against the book, net of Kalshi fees."""

from decimal import Decimal

import dagster as dg
import pandas as pd

from arb_pipeline.defs.pricing.assets import IMPLIED_PROBABILITIES
from arb_pipeline.defs.shared import stages
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview, snapshot_id_of
from arb_pipeline.defs.shared.observe import record_detection, timed_stage
from arb_pipeline.defs.shared.resources import ScanConfigResource, SnapshotStoreResource
from arb_pipeline.defs.shared.types import column_schema, frame_type
from arb_pipeline.schemas import OpportunitiesFrame
from arb_pipeline.services import frames

GROUP = "opportunities"
ARB_OPPORTUNITIES = dg.AssetKey("arb_opportunities")
TOP_COLUMNS = ["kind", "event_ticker", "executable", "kalshi_legs", "hedge", "cost", "profit", "edge_bps",
               "max_quote_age_s", "not_executable"]


def opportunities_metadata(frame: pd.DataFrame, rejected: int, **extra) -> dict:
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
    kinds={"pandas", "pandera"},
    dagster_type=frame_type(OpportunitiesFrame),
    metadata=column_schema(OpportunitiesFrame),
    ins={"implied_probabilities": dg.AssetIn(IMPLIED_PROBABILITIES)},
    description="Arbitrage and +EV opportunities: edge net of Kalshi fees (rounded up to the cent), "
                "sized by walking the order book, with the sportsbook hedge instruction. Exact Decimal "
                "money columns + float mirrors; the UI preview shows the best ones.",
)
def arb_opportunities(
    context: dg.AssetExecutionContext,
    implied_probabilities: pd.DataFrame,
    snapshot_store: SnapshotStoreResource,
    scan_config: ScanConfigResource,
) -> dg.Output[pd.DataFrame]:
    snapshot_id = snapshot_id_of(implied_probabilities)
    if snapshot_id is None:
        frame = frames.opportunities_frame([], detected_at=pd.Timestamp.now(tz="UTC").to_pydatetime())
        return dg.Output(frame, metadata=opportunities_metadata(frame, rejected=0))
    snapshot = snapshot_store.load(snapshot_id)
    config = scan_config.to_scan_config()
    with timed_stage(snapshot_store.database, "detect"):
        detection = stages.detection((context.run.run_id, snapshot_store.database.effective_url(), snapshot_id),
                                     snapshot, config)
    record_detection(snapshot_store.database, snapshot_id, detection, snapshot.captured_at)
    frame = frames.opportunities_frame(detection.opportunities, snapshot.captured_at, snapshot_id)
    rejected = len(getattr(detection, "rejected", ()) or ())
    context.log.info(f"snapshot {snapshot_id}: {len(frame)} opportunities, {rejected} rejected")
    return dg.Output(
        frame,
        metadata=opportunities_metadata(
            frame, rejected, snapshot_id=snapshot_id, detected_at=snapshot.captured_at.isoformat()),
    )

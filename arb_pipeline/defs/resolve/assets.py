"""Resolve: which sportsbook game and outcome every Kalshi market pays on (`services.scan`)."""

import dagster as dg
import pandas as pd

from arb_pipeline.defs.ingest.assets import KALSHI_MARKETS, SPORTSBOOK_ODDS
from arb_pipeline.defs.shared import stages
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview, snapshot_id_of
from arb_pipeline.defs.shared.observe import timed_stage
from arb_pipeline.defs.shared.resources import ScanConfigResource, SnapshotStoreResource
from arb_pipeline.defs.shared.types import column_schema, frame_type
from arb_pipeline.schemas import ResolvedEventsFrame, empty_frame
from arb_pipeline.services import frames

GROUP = "resolve"
RESOLVED_EVENTS = dg.AssetKey("resolved_events")


@dg.asset(
    key=RESOLVED_EVENTS,
    group_name=GROUP,
    kinds={"pandas", "pandera"},
    dagster_type=frame_type(ResolvedEventsFrame),
    metadata=column_schema(ResolvedEventsFrame),
    ins={"kalshi_markets": dg.AssetIn(KALSHI_MARKETS), "sportsbook_odds": dg.AssetIn(SPORTSBOOK_ODDS)},
    description="Every Kalshi market with the sportsbook game and outcome it pays on, the match "
                "confidence and method; unresolved markets are rows with a reason.",
)
def resolved_events(
    context: dg.AssetExecutionContext,
    kalshi_markets: pd.DataFrame,
    sportsbook_odds: pd.DataFrame,
    snapshot_store: SnapshotStoreResource,
    scan_config: ScanConfigResource,
) -> dg.Output[pd.DataFrame]:
    snapshot_id = snapshot_id_of(kalshi_markets, sportsbook_odds)
    if snapshot_id is None:
        frame = empty_frame(ResolvedEventsFrame)
        return dg.Output(frame, metadata=frame_metadata(frame, note="empty capture: nothing to resolve"))
    snapshot = snapshot_store.load(snapshot_id)
    config = scan_config.to_scan_config()
    with timed_stage(snapshot_store.database, "resolve"):
        resolution = stages.resolution((context.run.run_id, snapshot_store.database.effective_url(), snapshot_id),
                                       snapshot, config)
    frame = frames.resolved_events_frame(snapshot, resolution, snapshot_id)
    matched = int(frame["resolved"].sum()) if len(frame) else 0
    context.log.info(f"snapshot {snapshot_id}: {matched}/{len(frame)} Kalshi markets resolved")
    return dg.Output(
        frame,
        metadata=frame_metadata(
            frame,
            snapshot_id=snapshot_id,
            resolved=matched,
            unresolved=len(frame) - matched,
            coverage=(matched / len(frame)) if len(frame) else None,
            min_confidence=column_stat(frame, "confidence", "min"),
            unresolved_preview=preview(frame[~frame["resolved"]] if len(frame) else frame,
                                       ["ticker", "reason"]),
            preview=preview(frame[frame["resolved"]] if len(frame) else frame,
                            ["ticker", "league", "home_team", "away_team", "outcome", "confidence", "method"]),
        ),
    )

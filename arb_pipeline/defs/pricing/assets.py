"""Pricing: de-vigged consensus probabilities next to Kalshi's prices (`services.scan`)."""

import dagster as dg
import pandas as pd

from arb_pipeline.defs.resolve.assets import RESOLVED_EVENTS
from arb_pipeline.defs.shared import stages
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview, snapshot_id_of
from arb_pipeline.defs.shared.observe import timed_stage
from arb_pipeline.defs.shared.resources import ScanConfigResource, SnapshotStoreResource
from arb_pipeline.defs.shared.types import column_schema, frame_type
from arb_pipeline.schemas import ImpliedProbabilitiesFrame, empty_frame
from arb_pipeline.services import frames

GROUP = "pricing"
IMPLIED_PROBABILITIES = dg.AssetKey("implied_probabilities")


@dg.asset(
    key=IMPLIED_PROBABILITIES,
    group_name=GROUP,
    kinds={"pandas", "pandera"},
    dagster_type=frame_type(ImpliedProbabilitiesFrame),
    metadata=column_schema(ImpliedProbabilitiesFrame),
    ins={"resolved_events": dg.AssetIn(RESOLVED_EVENTS)},
    description="Per Kalshi market of every assembled game: the de-vigged sportsbook consensus probability "
                "(devig method and books shown), the bookmakers' overround and Kalshi's best YES/NO asks "
                "(exact Decimal + float mirrors); a missing fair probability says why.",
)
def implied_probabilities(
    context: dg.AssetExecutionContext,
    resolved_events: pd.DataFrame,
    snapshot_store: SnapshotStoreResource,
    scan_config: ScanConfigResource,
) -> dg.Output[pd.DataFrame]:
    snapshot_id = snapshot_id_of(resolved_events)
    settings = scan_config.settings()
    if snapshot_id is None:
        frame = empty_frame(ImpliedProbabilitiesFrame)
        return dg.Output(frame, metadata=frame_metadata(frame, devig_method=settings.devig_method))
    snapshot = snapshot_store.load(snapshot_id)
    config = scan_config.to_scan_config()
    memo_key = (context.run.run_id, snapshot_store.database.effective_url(), snapshot_id)
    with timed_stage(snapshot_store.database, "price"):
        lines = stages.fair_lines(memo_key, snapshot, config)
    skipped = dict(stages.assembly(memo_key, snapshot, config).problems)  # a bad book skips its game only
    frame = frames.implied_probabilities_frame(snapshot, lines, settings.devig_method, snapshot_id)
    return dg.Output(
        frame,
        metadata=frame_metadata(
            frame,
            snapshot_id=snapshot_id,
            devig_method=settings.devig_method,
            games=int(frame["event_ticker"].nunique()) if len(frame) else 0,
            priced=int(frame["fair_prob"].notna().sum()) if len(frame) else 0,
            overround_max=column_stat(frame, "overround_max", "max"),
            best_yes_edge_bps=column_stat(frame, "yes_edge_bps", "max"),
            best_no_edge_bps=column_stat(frame, "no_edge_bps", "max"),
            games_skipped=dg.MetadataValue.json(dict(list(skipped.items())[:50])),
            preview=preview(frame, ["ticker", "label", "n_books", "fair_prob", "kalshi_yes_ask", "kalshi_no_ask",
                                    "yes_edge_bps", "reason"]),
        ),
    )

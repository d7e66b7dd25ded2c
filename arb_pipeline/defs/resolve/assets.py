"""Resolve: which sportsbook game and outcome every Kalshi market pays on (`services.scan`)."""

from collections.abc import Iterator

import dagster as dg

from arb_pipeline.defs.ingest.assets import KALSHI_MARKETS, SPORTSBOOK_ODDS
from arb_pipeline.defs.resolve.checks import RESOLVED_EVENTS_CHECKS
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview
from arb_pipeline.defs.shared.observe import timed_stage
from arb_pipeline.defs.shared.resources import AppDatabaseResource, ScanConfigResource
from arb_pipeline.defs.shared.types import column_schema, stage_type
from arb_pipeline.services import stages
from arb_pipeline.services.stages import CapturedMarkets, CapturedOdds, ResolvedStage

GROUP = "resolve"
RESOLVED_EVENTS = dg.AssetKey("resolved_events")


@dg.asset(
    key=RESOLVED_EVENTS,
    group_name=GROUP,
    check_specs=RESOLVED_EVENTS_CHECKS.specs(RESOLVED_EVENTS),
    kinds={"pandas", "pandera"},
    dagster_type=stage_type("ResolvedEventsFrame", ResolvedStage),
    metadata=column_schema("ResolvedEventsFrame"),
    ins={"kalshi_markets": dg.AssetIn(KALSHI_MARKETS), "sportsbook_odds": dg.AssetIn(SPORTSBOOK_ODDS)},
    description="Every Kalshi market with the sportsbook game and outcome it pays on, the match "
                "confidence and method; unresolved markets are rows with a reason.",
)
def resolved_events(
    context: dg.AssetExecutionContext,
    kalshi_markets: CapturedMarkets,
    sportsbook_odds: CapturedOdds,
    database: AppDatabaseResource,
    scan_config: ScanConfigResource,
) -> Iterator[dg.Output[ResolvedStage] | dg.AssetCheckResult]:
    with timed_stage(database, "resolve"):
        try:
            value = stages.resolve_stage(kalshi_markets, sportsbook_odds, scan_config.to_scan_config())
        except stages.MixedSnapshots as error:
            raise dg.Failure(str(error)) from error
    frame = value.frame
    matched = int(frame["resolved"].sum()) if len(frame) else 0
    context.log.info(f"snapshot {value.snapshot_id}: {matched}/{len(frame)} Kalshi markets resolved")
    yield dg.Output(
        value,
        metadata=frame_metadata(
            frame,
            snapshot_id=value.snapshot_id,
            note="empty capture: nothing to resolve" if value.empty_capture else None,
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
    yield from RESOLVED_EVENTS_CHECKS.results(RESOLVED_EVENTS, value)

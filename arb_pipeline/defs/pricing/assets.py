"""Pricing: de-vigged consensus probabilities next to Kalshi's prices (`services.scan`)."""

from collections.abc import Iterator

import dagster as dg

from arb_pipeline.defs.pricing.checks import IMPLIED_PROBABILITIES_CHECKS
from arb_pipeline.defs.resolve.assets import RESOLVED_EVENTS
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview
from arb_pipeline.defs.shared.observe import timed_stage
from arb_pipeline.defs.shared.resources import AppDatabaseResource, ScanConfigResource
from arb_pipeline.defs.shared.types import column_schema, stage_type
from arb_pipeline.services import stages
from arb_pipeline.services.stages import PricedStage, ResolvedStage

GROUP = "pricing"
IMPLIED_PROBABILITIES = dg.AssetKey("implied_probabilities")


@dg.asset(
    key=IMPLIED_PROBABILITIES,
    group_name=GROUP,
    check_specs=IMPLIED_PROBABILITIES_CHECKS.specs(IMPLIED_PROBABILITIES),
    kinds={"pandas", "pandera"},
    dagster_type=stage_type("ImpliedProbabilitiesFrame", PricedStage),
    metadata=column_schema("ImpliedProbabilitiesFrame"),
    ins={"resolved_events": dg.AssetIn(RESOLVED_EVENTS)},
    description="Per Kalshi market of every assembled game: the de-vigged sportsbook consensus probability "
                "(devig method and books shown), the bookmakers' overround and Kalshi's best YES/NO asks "
                "(exact Decimal + float mirrors); a missing fair probability says why.",
)
def implied_probabilities(
    context: dg.AssetExecutionContext,
    resolved_events: ResolvedStage,
    database: AppDatabaseResource,
    scan_config: ScanConfigResource,
) -> Iterator[dg.Output[PricedStage] | dg.AssetCheckResult]:
    settings = scan_config.settings()
    with timed_stage(database, "price"):
        value = stages.price_stage(resolved_events, scan_config.to_scan_config(), settings.devig_method)
    frame = value.frame
    skipped = dict(value.assembly.problems)  # a bad book skips its game only
    yield dg.Output(
        value,
        metadata=frame_metadata(
            frame,
            snapshot_id=value.snapshot_id,
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
    yield from IMPLIED_PROBABILITIES_CHECKS.results(IMPLIED_PROBABILITIES, value)

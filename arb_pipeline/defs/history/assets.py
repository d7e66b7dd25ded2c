"""History: daily partitions that re-derive resolved events, probabilities and opportunities from
the stored market snapshots with *today's* rules (mapping overrides, devig method, limits).

A trader who changed a mapping rule or the devig method rematerializes a past week from the UI
(select the partitions, "Materialize"); each partition replays every snapshot captured that UTC
day through `services.scan.scan` — the same code as the live scan. Nothing here depends on
execution, and `executed_orders` refuses partitioned and backfill runs: a replay never trades.

One op produces the three assets so each snapshot is parsed and resolved once per replay. Their
contracts run as blocking ERROR checks after it: a failing contract fails the run and alerts, but
cannot stop its two siblings (made by the same op); none of them feeds anything that trades.
"""

import os
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview
from arb_pipeline.defs.shared.resources import ScanConfigResource, SnapshotStoreResource
from arb_pipeline.defs.shared.types import column_schema, frame_type

GROUP = "history"
HISTORY_RESOLVED_EVENTS = dg.AssetKey("history_resolved_events")
HISTORY_IMPLIED_PROBABILITIES = dg.AssetKey("history_implied_probabilities")
HISTORY_OPPORTUNITIES = dg.AssetKey("history_opportunities")
REPLAY_OP = "replay_market_history"
HISTORY_START_DATE = os.environ.get("ARB_HISTORY_START_DATE") or "2026-11-01"

history_partitions = dg.DailyPartitionsDefinition(start_date=HISTORY_START_DATE, timezone="UTC", end_offset=1)


class HistoryReplayConfig(dg.Config):
    """Thin out a long day: replay every n-th stored snapshot, at most `max_snapshots` of them."""

    every_nth: int = Field(default=1, ge=1, description="replay every n-th snapshot of the day")
    max_snapshots: int | None = Field(default=None, ge=1, description="stop after this many snapshots")
    what_if: list[str] = Field(
        default_factory=list,
        description="variants whose simulated P&L is reported beside the configured rules', each "
                    "'[label:] ARB_NAME=value; ARB_NAME=value' (e.g. 'shin: ARB_DEVIG_METHOD=shin', "
                    "'ARB_MIN_EDGE_BPS=50; ARB_TRADE_VALUE=true'). Simulated only: no order is ever placed.")


def _concat(parts: list, model: str):
    """One frame of a day's per-snapshot frames (`model`: the frame's model in `arb_pipeline.schemas`)."""
    import pandas as pd

    from arb_pipeline import schemas

    parts = [p for p in parts if len(p)]
    if not parts:
        return schemas.empty_frame(getattr(schemas, model))
    return pd.concat(parts, ignore_index=True)


@dg.multi_asset(
    name=REPLAY_OP,
    partitions_def=history_partitions,
    outs={
        HISTORY_RESOLVED_EVENTS.path[-1]: dg.AssetOut(
            key=HISTORY_RESOLVED_EVENTS, group_name=GROUP, kinds={"pandas", "sqlalchemy"},
            dagster_type=frame_type("HistoryResolvedEventsFrame"),
            metadata=column_schema("HistoryResolvedEventsFrame"),
            description="resolved_events re-derived for every snapshot stored that day (today's mapping rules).",
        ),
        HISTORY_IMPLIED_PROBABILITIES.path[-1]: dg.AssetOut(
            key=HISTORY_IMPLIED_PROBABILITIES, group_name=GROUP, kinds={"pandas"},
            dagster_type=frame_type("HistoryImpliedProbabilitiesFrame"),
            metadata=column_schema("HistoryImpliedProbabilitiesFrame"),
            description="implied_probabilities re-derived for every snapshot stored that day (today's devig).",
        ),
        HISTORY_OPPORTUNITIES.path[-1]: dg.AssetOut(
            key=HISTORY_OPPORTUNITIES, group_name=GROUP, kinds={"pandas"},
            dagster_type=frame_type("HistoryOpportunitiesFrame"),
            metadata=column_schema("HistoryOpportunitiesFrame"),
            description="arb_opportunities re-derived for every snapshot stored that day. Never executed.",
        ),
    },
    internal_asset_deps={
        HISTORY_RESOLVED_EVENTS.path[-1]: set(),
        HISTORY_IMPLIED_PROBABILITIES.path[-1]: {HISTORY_RESOLVED_EVENTS},
        HISTORY_OPPORTUNITIES.path[-1]: {HISTORY_IMPLIED_PROBABILITIES},
    },
    can_subset=False,
)
def replay_market_history(
    context: dg.AssetExecutionContext,
    config: HistoryReplayConfig,
    snapshot_store: SnapshotStoreResource,
    scan_config: ScanConfigResource,
) -> Iterator[dg.Output]:
    from arb_pipeline.services import frames
    from arb_pipeline.services.scan import scan
    from arb_pipeline.services.whatif import render_table, simulate_day

    window = context.partition_time_window
    settings = scan_config.settings()
    scan_cfg = scan_config.to_scan_config()
    resolved, implied, opportunities = [], [], []
    found: dict[int, tuple] = {}  # id(snapshot) -> its opportunities under the configured rules

    def replayed_snapshots() -> Iterator:
        count = 0
        for index, (snapshot_id, snapshot) in enumerate(snapshot_store.between(window.start, window.end)):
            if index % config.every_nth:
                continue
            if config.max_snapshots is not None and count >= config.max_snapshots:
                break
            result = scan(snapshot, scan_cfg, as_of=snapshot.captured_at)
            resolved.append(frames.resolved_events_frame(snapshot, result.resolution, snapshot_id))
            implied.append(frames.implied_probabilities_frame(snapshot, result.fair, settings.devig_method,
                                                              snapshot_id))
            opportunities.append(frames.opportunities_frame(result.detection.opportunities, snapshot.captured_at,
                                                            snapshot_id))
            found[id(snapshot)] = result.detection.opportunities
            count += 1
            yield snapshot

    # the what-if variants are scanned snapshot by snapshot beside the configured rules; nothing trades
    days = simulate_day(replayed_snapshots(), settings, config.what_if, scan_config.scan_config_for,
                        base_results=lambda snapshot: found.pop(id(snapshot)))
    replayed = days[0].snapshots
    context.log.info(f"partition {context.partition_key}: replayed {replayed} stored snapshots "
                     f"({window.start.isoformat()} .. {window.end.isoformat()})")

    common = {"partition": context.partition_key, "snapshots_replayed": replayed,
              "devig_method": settings.devig_method}
    resolved_frame = _concat(resolved, "HistoryResolvedEventsFrame")
    yield dg.Output(resolved_frame, output_name=HISTORY_RESOLVED_EVENTS.path[-1], metadata=frame_metadata(
        resolved_frame, **common,
        coverage=float(resolved_frame["resolved"].mean()) if len(resolved_frame) else None))
    implied_frame = _concat(implied, "HistoryImpliedProbabilitiesFrame")
    yield dg.Output(implied_frame, output_name=HISTORY_IMPLIED_PROBABILITIES.path[-1], metadata=frame_metadata(
        implied_frame, **common, overround_max=column_stat(implied_frame, "overround_max", "max")))
    opp_frame = _concat(opportunities, "HistoryOpportunitiesFrame")
    ordered = opp_frame.sort_values("edge_bps", ascending=False) if len(opp_frame) else opp_frame
    yield dg.Output(opp_frame, output_name=HISTORY_OPPORTUNITIES.path[-1], metadata=frame_metadata(
        opp_frame, **common,
        simulated_pnl=str(days[0].pnl),
        what_if=dg.MetadataValue.md(render_table(days)),
        what_if_json=dg.MetadataValue.json([d.to_dict() for d in days]),
        best_edge_bps=column_stat(opp_frame, "edge_bps", "max"),
        top_opportunities=preview(ordered, ["detected_at", "kind", "event_ticker", "kalshi_legs", "edge_bps",
                                            "profit"])))

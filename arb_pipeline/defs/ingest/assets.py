"""Ingest: capture Kalshi markets and sportsbook odds *together*, store the raw snapshot, show it.

One op produces both assets so a scan never mixes a Kalshi book from one moment with odds from
another; the raw payloads are appended to the market-history table with their capture time
before anything is derived from them (that is what the history assets replay). Each frame's checks
(`defs/ingest/checks.py`) are evaluated in this step, right after its output.
"""

from collections.abc import Iterator

import dagster as dg

from arb_pipeline.defs.execution.resources import CircuitBreakerResource
from arb_pipeline.defs.ingest.checks import KALSHI_MARKETS_CHECKS, SPORTSBOOK_ODDS_CHECKS
from arb_pipeline.defs.ingest.resources import MarketDataResource
from arb_pipeline.defs.shared.metadata import column_stat, frame_metadata, preview
from arb_pipeline.defs.shared.observe import record_capture, timed_stage
from arb_pipeline.defs.shared.resources import SnapshotStoreResource
from arb_pipeline.defs.shared.types import column_schema, stage_type
from arb_pipeline.services import stages
from arb_pipeline.services.stages import CapturedMarkets, CapturedOdds

GROUP = "ingest"


def odds_credit_projection() -> dg.MetadataValue:
    """Projected monthly Odds API credits next to the plan's quota (`services.odds_credits`)."""
    from arb_pipeline.defs.ingest.sensors import scan_interval_s
    from arb_pipeline.defs.shared.resources import current_settings
    from arb_pipeline.services.odds_credits import project_monthly_credits

    projection = project_monthly_credits(current_settings(), scan_interval_s=scan_interval_s())
    return dg.MetadataValue.json({"summary": projection.describe(), **projection.as_dict()})
KALSHI_MARKETS = dg.AssetKey("kalshi_markets")
SPORTSBOOK_ODDS = dg.AssetKey("sportsbook_odds")
CAPTURE_OP = "capture_market_snapshot"


@dg.multi_asset(
    name=CAPTURE_OP,
    outs={
        KALSHI_MARKETS.path[-1]: dg.AssetOut(
            key=KALSHI_MARKETS,
            group_name=GROUP,
            kinds={"kalshi", "pandas"},
            dagster_type=stage_type("KalshiMarketsFrame", CapturedMarkets),
            metadata=column_schema("KalshiMarketsFrame"),
            description="Kalshi game markets with top of book and depth (exact Decimal prices + float "
                        "mirrors), from one captured snapshot. The raw payloads are stored in market history.",
            is_required=True,
        ),
        SPORTSBOOK_ODDS.path[-1]: dg.AssetOut(
            key=SPORTSBOOK_ODDS,
            group_name=GROUP,
            kinds={"sportsbook", "pandas"},
            dagster_type=stage_type("SportsbookOddsFrame", CapturedOdds),
            metadata=column_schema("SportsbookOddsFrame"),
            description="Sportsbook prices per bookmaker/game/outcome (exact Decimal odds + float mirrors), "
                        "captured with the Kalshi markets.",
            is_required=True,
        ),
    },
    check_specs=[*KALSHI_MARKETS_CHECKS.specs(KALSHI_MARKETS), *SPORTSBOOK_ODDS_CHECKS.specs(SPORTSBOOK_ODDS)],
    can_subset=False,
)
def capture_market_snapshot(
    context: dg.AssetExecutionContext,
    market_data: MarketDataResource,
    snapshot_store: SnapshotStoreResource,
    circuit_breaker: CircuitBreakerResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    with timed_stage(snapshot_store.database, "capture"):
        # every venue HTTP attempt (retries too, and also when the capture fails) counts toward the
        # breaker's API error rate: market-data 5xx bursts, 429 storms and timeouts are not invisible
        # odds still within their refresh interval are reused from the latest stored capture (credits)
        previous = None if market_data.dedupe else snapshot_store.latest_payloads(market_data.source)
        capture = market_data.capture(on_api_calls=circuit_breaker.breaker().record_api_calls, previous=previous)
        snapshot = capture.snapshot
        # a recorded directory replayed again is the same capture: stored once
        snapshot_id = snapshot_store.append(snapshot, capture.payloads, dedupe=market_data.dedupe)
    record_capture(snapshot_store.database, snapshot, snapshot_id, quota_remaining=capture.quota_remaining,
                   sports_failed=len(capture.notes.get("sports_failed", {})))
    context.log.info(
        f"captured snapshot {snapshot_id} from {market_data.describe()} at {snapshot.captured_at.isoformat()}: "
        f"{len(snapshot.markets)} Kalshi markets, {len(snapshot.quotes)} sportsbook quotes"
    )

    markets_value, odds_value = stages.captured(snapshot, snapshot_id)
    markets = markets_value.frame
    yield dg.Output(
        markets_value,
        output_name=KALSHI_MARKETS.path[-1],
        metadata=frame_metadata(
            markets,
            snapshot_id=snapshot_id,
            source=market_data.describe(),
            captured_at=snapshot.captured_at.isoformat(),
            events=len(snapshot.events),
            active_markets=int((markets["status"].isin(["active", "open"])).sum()) if len(markets) else 0,
            exchange_trading_active=bool(snapshot.exchange.trading_active),
            book_age_s=column_stat(markets, "book_age_s", "max"),
            preview=preview(markets, ["ticker", "status", "yes_bid", "yes_ask", "no_bid", "no_ask", "yes_depth"]),
        ),
    )
    yield from KALSHI_MARKETS_CHECKS.results(KALSHI_MARKETS, markets_value)

    odds = odds_value.frame
    yield dg.Output(
        odds_value,
        output_name=SPORTSBOOK_ODDS.path[-1],
        metadata=frame_metadata(
            odds,
            snapshot_id=snapshot_id,
            games=int(odds["event_id"].nunique()) if len(odds) else 0,
            bookmakers=int(odds["bookmaker"].nunique()) if len(odds) else 0,
            quote_age_s_median=column_stat(odds, "quote_age_s", "median"),
            quote_age_s_max=column_stat(odds, "quote_age_s", "max"),
            quota_remaining=capture.quota_remaining,
            odds_reused=dg.MetadataValue.json(list(capture.notes["odds_reused"]))
            if "odds_reused" in capture.notes else None,
            odds_credits=odds_credit_projection(),
            # the error *type* only: an HTTP error text may carry a URL with the odds API key (rule 7)
            sports_failed=dg.MetadataValue.json({sport: str(error).split(":", 1)[0] for sport, error in
                                                 capture.notes["sports_failed"].items()})
            if "sports_failed" in capture.notes else None,
            problems=dg.MetadataValue.json(capture.notes["problems"]) if "problems" in capture.notes else None,
            preview=preview(odds, ["league", "home_team", "away_team", "bookmaker", "outcome", "decimal_odds"]),
        ),
    )
    yield from SPORTSBOOK_ODDS_CHECKS.results(SPORTSBOOK_ODDS, odds_value)

"""The scan's stages as values that flow through the Dagster graph, each computed from its upstream.

Every scan asset's value is one of the dataclasses below: the stage's contract frame (what the
blocking pandera check validates, what the UI shows) *and* the domain records the next stage
computes on (the snapshot, the resolution, the assembled games and fair lines, the detection).
A stage never re-reads the snapshot or recomputes an earlier stage: it takes its upstream value
from the IO manager (in memory within one process, pickled between processes) and calls the same
`services.scan` stage functions as `scan()` itself — so there is no second implementation here and
no process-wide memo.

Times: every stage judges the snapshot at its own capture time (staleness, game start), exactly as
the live scan always has; execution later measures freshness against its own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cheap to import: `arb_pipeline.definitions` loads this module in every run process
    import pandas as pd

    from arb_pipeline.arb.results import DetectionResult
    from arb_pipeline.domain import MarketSnapshot
    from arb_pipeline.mapping.results import Resolution
    from arb_pipeline.services.scan import FairLine, GameAssembly, ScanConfig


class MixedSnapshots(ValueError):
    """Two inputs of one stage come from different captures: refusing to combine them."""


@dataclass(frozen=True, eq=False)
class StageValue:
    """What every stage hands downstream: its contract frame and the capture it was derived from."""

    frame: pd.DataFrame
    snapshot_id: int
    snapshot: MarketSnapshot

    @property
    def empty_capture(self) -> bool:
        return not self.snapshot.markets and not self.snapshot.quotes


@dataclass(frozen=True, eq=False)
class CapturedMarkets(StageValue):
    """`kalshi_markets`: the captured Kalshi markets (frame) and the whole snapshot."""


@dataclass(frozen=True, eq=False)
class CapturedOdds(StageValue):
    """`sportsbook_odds`: the captured sportsbook quotes (frame) and the whole snapshot."""


@dataclass(frozen=True, eq=False)
class ResolvedStage(StageValue):
    """`resolved_events`: every Kalshi market's resolution."""

    resolution: Resolution


@dataclass(frozen=True, eq=False)
class PricedStage(StageValue):
    """`implied_probabilities`: the games detection can use (and why others were skipped), priced."""

    resolution: Resolution
    assembly: GameAssembly
    fair: tuple[FairLine, ...]


@dataclass(frozen=True, eq=False)
class DetectedStage(StageValue):
    """`arb_opportunities`: the detection (opportunities carry their `Opportunity` records), and the priced
    games it ran on: execution records them as the games' marks (start, consensus: the closing line)."""

    detection: DetectionResult
    assembly: GameAssembly | None = None
    fair: tuple[FairLine, ...] = ()


def captured(snapshot: MarketSnapshot, snapshot_id: int) -> tuple[CapturedMarkets, CapturedOdds]:
    """The two ingest values of one stored capture."""
    from arb_pipeline.services import frames

    return (CapturedMarkets(frames.kalshi_markets_frame(snapshot, snapshot_id), snapshot_id, snapshot),
            CapturedOdds(frames.sportsbook_odds_frame(snapshot, snapshot_id), snapshot_id, snapshot))


def resolve_stage(markets: CapturedMarkets, odds: CapturedOdds, config: ScanConfig) -> ResolvedStage:
    if markets.snapshot_id != odds.snapshot_id:
        raise MixedSnapshots(f"kalshi_markets is snapshot {markets.snapshot_id} but sportsbook_odds is snapshot "
                             f"{odds.snapshot_id}; refusing to mix them")
    from arb_pipeline.services import frames
    from arb_pipeline.services.scan import resolve_snapshot

    snapshot = markets.snapshot
    resolution = resolve_snapshot(snapshot, config, snapshot.captured_at)
    frame = frames.resolved_events_frame(snapshot, resolution, markets.snapshot_id)
    return ResolvedStage(frame, markets.snapshot_id, snapshot, resolution)


def price_stage(resolved: ResolvedStage, config: ScanConfig, devig_method: str) -> PricedStage:
    from arb_pipeline.services import frames
    from arb_pipeline.services.scan import build_games, price_games

    assembly = build_games(resolved.snapshot, resolved.resolution, config)
    fair = price_games(assembly.games, config)
    frame = frames.implied_probabilities_frame(resolved.snapshot, fair, devig_method, resolved.snapshot_id)
    return PricedStage(frame, resolved.snapshot_id, resolved.snapshot, resolved.resolution, assembly, fair)


def detect_stage(priced: PricedStage, config: ScanConfig) -> DetectedStage:
    from arb_pipeline.services import frames
    from arb_pipeline.services.scan import detect_opportunities

    snapshot = priced.snapshot
    detection = detect_opportunities(priced.assembly.games, config, snapshot.captured_at,
                                     trading_active=snapshot.exchange.trading_active)
    frame = frames.opportunities_frame(detection.opportunities, snapshot.captured_at, priced.snapshot_id)
    return DetectedStage(frame, priced.snapshot_id, snapshot, detection, priced.assembly, priced.fair)

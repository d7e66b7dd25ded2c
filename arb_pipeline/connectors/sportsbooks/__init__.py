"""Sportsbook odds: one `OddsProvider` protocol, The Odds API v4, a replay of recordings, a registry.

Modules: `base` (protocol, results, league codes), `normalize` (pure response → quotes),
`the_odds_api` (HTTP provider), `quota` (cost, quota floor), `replay` (recorded odds),
`registry` (name → provider factory), `prices` / `jsonio` (exact numbers), `errors`.
`TheOddsApiProvider` is imported on first use so that importing this package never pulls in httpx.
"""

from __future__ import annotations

from typing import Any

from arb_pipeline.connectors.sportsbooks.base import (
    LEAGUE_BY_SPORT_KEY,
    NormalizeProblem,
    NormalizeResult,
    OddsProvider,
    league_for_sport,
)
from arb_pipeline.connectors.sportsbooks.errors import (
    OddsApiError,
    OddsAuthError,
    OddsError,
    OddsPayloadError,
    OddsQuotaExhausted,
    OddsRateLimited,
    OddsReplayError,
    OddsRequestError,
    OddsServerError,
    OddsTransientError,
    QuotaFloorReached,
)
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_response
from arb_pipeline.connectors.sportsbooks.quota import AlertHook, QuotaState, estimate_cost
from arb_pipeline.connectors.sportsbooks.registry import get_provider, register_provider, registered_providers
from arb_pipeline.connectors.sportsbooks.replay import RecordedOdds, ReplayProvider, SnapshotSource

__all__ = [
    "LEAGUE_BY_SPORT_KEY", "AlertHook", "NormalizeProblem", "NormalizeResult", "OddsApiError", "OddsAuthError",
    "OddsError", "OddsPayloadError", "OddsProvider", "OddsQuotaExhausted", "OddsRateLimited", "OddsReplayError",
    "OddsRequestError", "OddsServerError", "OddsTransientError", "QuotaFloorReached", "QuotaState",
    "RecordedOdds", "ReplayProvider", "SnapshotSource", "TheOddsApiProvider", "estimate_cost", "get_provider",
    "league_for_sport", "normalize_odds_response", "register_provider", "registered_providers",
]


def __getattr__(name: str) -> Any:
    if name == "TheOddsApiProvider":
        from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider

        return TheOddsApiProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

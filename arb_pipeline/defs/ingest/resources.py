"""Where market data comes from: the Dagster face of the one market-data port (`services.market_data`).

`MarketDataResource.source` names the implementation (env ARB_MARKET_SOURCE): `live`, `simulator`
or `recorded` (env ARB_SNAPSHOT_DIR); `services.market_data.open_market_data` chooses it. HTTP
timeouts and retries are explicit fields handed to the connectors (which own the retry loop, rate
limits and pagination); this resource only carries the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from pydantic import Field

from arb_pipeline.defs.shared.resources import current_settings, env_int_or, env_or
from arb_pipeline.services.market_data import (
    SOURCES,
    ApiCallObserver,
    Capture,
    Clock,
    MarketData,
    MarketDataConfig,
    MarketDataError,
    connector_settings,
    open_market_data,
)
from arb_pipeline.settings import Settings

__all__ = ["MARKET_DATA_KEY", "SOURCES", "Capture", "MarketDataResource", "market_data"]

MARKET_DATA_KEY = "market_data"


class MarketDataResource(dg.ConfigurableResource):
    """Kalshi markets + order books and sportsbook odds, captured together as one `MarketSnapshot`."""

    # str, not Literal: a field bound to an EnvVar is validated with the variable's name at load time
    source: str = Field(default="simulator", description="live | simulator | recorded (ARB_MARKET_SOURCE)")
    snapshot_dir: str | None = Field(default=None, description="recorded source: the snapshot directory")
    kalshi_base_url: str | None = Field(default=None, description="override KALSHI_BASE_URL")
    odds_api_base_url: str | None = Field(default=None, description="override ODDS_API_BASE_URL")
    connect_timeout_s: float = Field(default=3.0, description="HTTP connect timeout, seconds")
    read_timeout_s: float = Field(default=10.0, description="HTTP read timeout, seconds")
    max_retries: int = Field(default=4, description="HTTP retries on 429/5xx/timeouts (with backoff)")

    def config(self) -> MarketDataConfig:
        return MarketDataConfig(source=self.source, snapshot_dir=self.snapshot_dir,
                                kalshi_base_url=self.kalshi_base_url, odds_api_base_url=self.odds_api_base_url,
                                connect_timeout_s=self.connect_timeout_s, read_timeout_s=self.read_timeout_s,
                                max_retries=self.max_retries)

    def connector_settings(self) -> Settings:
        """The settings the connectors get: URLs and timeouts from this resource, secrets untouched."""
        return connector_settings(self.config(), current_settings())

    def port(self) -> MarketData:
        try:
            return open_market_data(self.config(), current_settings())
        except MarketDataError as error:
            raise dg.Failure(str(error)) from error

    def describe(self) -> str:
        return self.config().describe()

    def capture(self, on_api_calls: ApiCallObserver | None = None,
                previous: Mapping[str, str] | None = None) -> Capture:
        """One capture. `on_api_calls(attempts, failed)` is told every venue HTTP attempt (the breaker's
        API error rate); a recorded source makes none. `previous`: the latest stored capture's payloads
        (odds within their refresh interval are reused, not fetched)."""
        port = self.port()
        try:
            return port.capture(on_api_calls, previous)
        except MarketDataError as error:
            raise dg.Failure(str(error)) from error

    def clock(self, snapshot) -> Clock:
        """The "now" execution measures freshness against (see `services.market_data`)."""
        return self.port().clock(snapshot)

    @property
    def dedupe(self) -> bool:
        return self.port().dedupe


market_data = MarketDataResource(
    source=env_or("ARB_MARKET_SOURCE", "simulator"),
    snapshot_dir=env_or("ARB_SNAPSHOT_DIR"),
    kalshi_base_url=env_or("KALSHI_BASE_URL"),
    odds_api_base_url=env_or("ODDS_API_BASE_URL"),
    max_retries=env_int_or("KALSHI_MAX_RETRIES", 4),
)

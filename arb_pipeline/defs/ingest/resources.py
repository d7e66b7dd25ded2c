"""Where market data comes from: live venues, the local simulator, or a recorded snapshot directory.

`MarketDataResource.source` chooses the implementation (env ARB_MARKET_SOURCE):

* `live`      — Kalshi's and the odds provider's real APIs (URLs and credentials from the settings);
* `simulator` — the local venue simulator (`arb-pipeline sim`), same wire formats, no account;
* `recorded`  — a snapshot directory (env ARB_SNAPSHOT_DIR): deterministic replays and tests.

HTTP timeouts and retries are explicit fields handed to the connectors (which own the retry loop,
rate limits and pagination); this resource only picks and configures them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from arb_pipeline.defs.shared.resources import current_settings, env_int_or, env_or

MARKET_DATA_KEY = "market_data"
SOURCES = ("live", "simulator", "recorded")
SIMULATOR_KALSHI_URL = "http://127.0.0.1:8765/trade-api/v2"
SIMULATOR_ODDS_URL = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Capture:
    """One capture: the parsed snapshot, its raw payloads (stored verbatim) and provider quota."""

    snapshot: Any  # arb_pipeline.domain.MarketSnapshot
    payloads: dict[str, str]  # file name -> raw JSON text, as the venue sent it
    quota_remaining: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)


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

    def describe(self) -> str:
        if self.source == "recorded":
            return f"recorded:{self.snapshot_dir}"
        return self.source

    def connector_settings(self):
        """The settings the connectors get: URLs and timeouts from this resource, secrets untouched."""
        settings = current_settings()
        update: dict[str, Any] = {
            "kalshi_connect_timeout_s": self.connect_timeout_s,
            "kalshi_read_timeout_s": self.read_timeout_s,
            "kalshi_max_retries": self.max_retries,
        }
        if self.source == "simulator":
            from arb_pipeline.services.simulator import simulator_settings

            # zero configuration: unconfigured credentials are the simulator's demo ones
            settings = simulator_settings(settings)
            update["kalshi_base_url"] = self.kalshi_base_url or SIMULATOR_KALSHI_URL
            update["odds_api_base_url"] = self.odds_api_base_url or SIMULATOR_ODDS_URL
            update["pinnacle_base_url"] = self.odds_api_base_url or SIMULATOR_ODDS_URL  # the same server
        else:
            if self.kalshi_base_url:
                update["kalshi_base_url"] = self.kalshi_base_url
            if self.odds_api_base_url:
                update["odds_api_base_url"] = self.odds_api_base_url
        return settings.model_copy(update=update)

    def capture(self, on_api_calls: Any = None) -> Capture:
        """One capture. `on_api_calls(attempts, failed)` is told every venue HTTP attempt (the breaker's
        API error rate); a recorded source makes none."""
        if self.source not in SOURCES:
            raise dg.Failure(f"market_data.source must be one of {SOURCES}, got {self.source!r} (ARB_MARKET_SOURCE)")
        if self.source == "recorded":
            return self._capture_recorded()
        return self._capture_venues(on_api_calls)

    def execution_clock(self, snapshot: Any) -> datetime:
        """The "now" execution measures freshness against: a replay's own capture time, else the wall clock."""
        return snapshot.captured_at if self.source == "recorded" else datetime.now(UTC)

    # --- implementations ---------------------------------------------------------------------------

    def _capture_recorded(self) -> Capture:
        if not self.snapshot_dir:
            raise dg.Failure("market_data.source is 'recorded' but no snapshot_dir (ARB_SNAPSHOT_DIR) is set")
        directory = Path(self.snapshot_dir).expanduser()
        if not directory.is_dir():
            raise dg.Failure(f"recorded snapshot directory {directory} does not exist")
        from arb_pipeline.connectors.snapshot import load_snapshot

        snapshot = load_snapshot(directory)
        # the files' texts, verbatim: numbers keep every digit when stored and replayed
        payloads = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.json"))}
        if not snapshot.source:
            from dataclasses import replace

            snapshot = replace(snapshot, source=str(directory))
        return Capture(snapshot=snapshot, payloads=payloads)

    def _capture_venues(self, on_api_calls: Any = None) -> Capture:
        from arb_pipeline.services.ingest import capture_from_settings

        result = capture_from_settings(self.connector_settings(), source=self.source, on_api_calls=on_api_calls)
        notes: dict[str, Any] = {}
        if result.problems:
            notes["problems"] = list(result.problems)[:50]
        if result.sports_failed:
            notes["sports_failed"] = dict(result.sports_failed)
        return Capture(snapshot=result.snapshot, payloads=dict(result.payloads),
                       quota_remaining=result.quota_remaining, notes=notes)


market_data = MarketDataResource(
    source=env_or("ARB_MARKET_SOURCE", "simulator"),
    snapshot_dir=env_or("ARB_SNAPSHOT_DIR"),
    kalshi_base_url=env_or("KALSHI_BASE_URL"),
    odds_api_base_url=env_or("ODDS_API_BASE_URL"),
    max_retries=env_int_or("KALSHI_MAX_RETRIES", 4),
)

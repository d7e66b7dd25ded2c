"""The one market-data port: live venues, the local simulator, or a recorded snapshot directory.

`open_market_data(config, settings)` is the one place that chooses the implementation; the Dagster
resource (`defs/ingest/resources.py`), the headless runner and the CLI all describe the source with
a `MarketDataConfig` and call it. Every implementation answers the same three questions:

* `capture()`  — one consistent `Capture` of both venues (parsed snapshot + the raw payloads);
* `clock(snapshot)` — the "now" execution measures freshness against: the wall clock for venues,
  the replay's own capture time (advancing with real elapsed time) for a recording;
* `dedupe`     — whether an identical capture is the same stored snapshot (a directory replayed again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.settings import Settings

LIVE = "live"
SIMULATOR = "simulator"
RECORDED = "recorded"
SAMPLE = "sample"  # the shipped sample snapshot: a recorded source
SOURCES = (LIVE, SIMULATOR, RECORDED)
SIMULATOR_KALSHI_URL = "http://127.0.0.1:8765/trade-api/v2"
SIMULATOR_ODDS_URL = "http://127.0.0.1:8765"

ApiCallObserver = Callable[[int, int], object]  # (attempts, failed): every venue HTTP attempt
Clock = Callable[[], datetime]


class MarketDataError(ValueError):
    """The market-data source is misconfigured (which setting, and what is wrong with it)."""


@dataclass(frozen=True)
class Capture:
    """One capture: the parsed snapshot, its raw payloads (stored verbatim) and provider quota."""

    snapshot: MarketSnapshot
    payloads: Mapping[str, str]  # file name -> raw JSON text, as the venue sent it
    quota_remaining: int | None = None
    notes: Mapping[str, object] = field(default_factory=dict)


class MarketData(Protocol):
    source: str

    @property
    def dedupe(self) -> bool: ...

    def describe(self) -> str: ...

    def capture(self, on_api_calls: ApiCallObserver | None = None,
                previous: Mapping[str, str] | None = None) -> Capture: ...

    def clock(self, snapshot: MarketSnapshot) -> Clock: ...


@dataclass(frozen=True)
class MarketDataConfig:
    """Which source, and how to reach it. Secrets are never here: the connectors read the settings."""

    source: str = SIMULATOR
    snapshot_dir: str | None = None
    kalshi_base_url: str | None = None
    odds_api_base_url: str | None = None
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    max_retries: int = 4

    def describe(self) -> str:
        return f"{RECORDED}:{self.snapshot_dir}" if self.source == RECORDED else self.source


def sample_config() -> MarketDataConfig:
    from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR

    return MarketDataConfig(source=RECORDED, snapshot_dir=str(SAMPLE_SNAPSHOT_DIR))


@dataclass(frozen=True)
class VenueMarketData:
    """Kalshi's and the odds provider's HTTP APIs: the real ones (`live`) or the simulator's."""

    source: str
    settings: Settings  # the connectors' settings: URLs and timeouts resolved, secrets untouched

    @property
    def dedupe(self) -> bool:
        return False

    def describe(self) -> str:
        return self.source

    def capture(self, on_api_calls: ApiCallObserver | None = None,
                previous: Mapping[str, str] | None = None) -> Capture:
        """`previous`: the payloads of this source's latest stored capture; its odds still within their
        refresh interval are reused instead of fetched (`services.odds_credits`), and so are its Kalshi
        series metadata and empty series answers within their ages (`services.kalshi_reuse`)."""
        from arb_pipeline.services.ingest import capture_from_settings
        from arb_pipeline.services.kalshi_reuse import reusable_series
        from arb_pipeline.services.odds_credits import reusable_odds

        now = datetime.now(UTC)
        reuse = reusable_odds(previous, now, self.settings) if previous else {}
        # Kalshi series metadata within KALSHI_SERIES_TTL_S, and series that listed nothing within
        # KALSHI_QUIET_SERIES_RECHECK_S, are not asked again (`services.kalshi_reuse`)
        series = reusable_series(previous, now, ttl_s=self.settings.kalshi_series_ttl_s,
                                 quiet_recheck_s=self.settings.kalshi_quiet_series_recheck_s)
        result = capture_from_settings(self.settings, source=self.source, on_api_calls=on_api_calls,
                                       reuse_odds=reuse, reuse_series=series)
        notes: dict[str, object] = {"odds_reused": sorted(reuse)} if reuse else {}
        if result.problems:
            notes["problems"] = list(result.problems)[:50]
        if result.sports_failed:
            notes["sports_failed"] = dict(result.sports_failed)
        return Capture(snapshot=result.snapshot, payloads=dict(result.payloads),
                       quota_remaining=result.quota_remaining, notes=notes)

    def clock(self, snapshot: MarketSnapshot) -> Clock:
        return lambda: datetime.now(UTC)


@dataclass(frozen=True)
class RecordedMarketData:
    """A snapshot directory: deterministic replays and tests. Makes no HTTP call."""

    directory: Path
    source: str = RECORDED

    @property
    def dedupe(self) -> bool:
        return True

    def describe(self) -> str:
        return f"{RECORDED}:{self.directory}"

    def capture(self, on_api_calls: ApiCallObserver | None = None,
                previous: Mapping[str, str] | None = None) -> Capture:
        from arb_pipeline.connectors.snapshot import load_snapshot
        from arb_pipeline.services.scan import SCAN_EXTRA_FIELDS

        if not self.directory.is_dir():
            raise MarketDataError(f"recorded snapshot directory {self.directory} does not exist (ARB_SNAPSHOT_DIR)")
        # read for the scan: only the unmapped fields it reads (the payloads below stay verbatim)
        snapshot = load_snapshot(self.directory, keep_extra=SCAN_EXTRA_FIELDS)
        # the files' texts, verbatim: numbers keep every digit when stored and replayed
        payloads = {p.name: p.read_text(encoding="utf-8") for p in sorted(self.directory.glob("*.json"))}
        if not snapshot.source:
            snapshot = replace(snapshot, source=str(self.directory))
        return Capture(snapshot=snapshot, payloads=payloads)

    def clock(self, snapshot: MarketSnapshot) -> Clock:
        from arb_pipeline.services.execute import running_clock

        # a replay runs on its own capture time, advancing with real elapsed time: the same on any day
        return running_clock(snapshot.captured_at)


def connector_settings(config: MarketDataConfig, settings: Settings) -> Settings:
    """The settings the connectors get: URLs and timeouts from `config`, secrets untouched."""
    update: dict[str, object] = {
        "kalshi_connect_timeout_s": config.connect_timeout_s,
        "kalshi_read_timeout_s": config.read_timeout_s,
        "kalshi_max_retries": config.max_retries,
    }
    if config.source == SIMULATOR:
        from arb_pipeline.services.simulator import simulator_settings

        # zero configuration: unconfigured credentials are the simulator's demo ones
        settings = simulator_settings(settings)
        update["kalshi_base_url"] = config.kalshi_base_url or SIMULATOR_KALSHI_URL
        update["odds_api_base_url"] = config.odds_api_base_url or SIMULATOR_ODDS_URL
        update["pinnacle_base_url"] = config.odds_api_base_url or SIMULATOR_ODDS_URL  # the same server
    else:
        if config.kalshi_base_url:
            update["kalshi_base_url"] = config.kalshi_base_url
        if config.odds_api_base_url:
            update["odds_api_base_url"] = config.odds_api_base_url
    return settings.model_copy(update=update)


def open_market_data(config: MarketDataConfig, settings: Settings) -> MarketData:
    """The implementation `config.source` names — the one place the choice is made."""
    if config.source == RECORDED:
        if not config.snapshot_dir:
            raise MarketDataError("market data source is 'recorded' but no snapshot directory (ARB_SNAPSHOT_DIR) "
                                  "is set")
        return RecordedMarketData(Path(config.snapshot_dir).expanduser())
    if config.source in (LIVE, SIMULATOR):
        return VenueMarketData(config.source, connector_settings(config, settings))
    raise MarketDataError(f"market data source must be one of {SOURCES}, got {config.source!r} (ARB_MARKET_SOURCE)")

"""The one market-data port: the implementation chosen in one place, each answering the same questions."""

from datetime import UTC, datetime

import pytest

from arb_pipeline.services.market_data import (
    MarketDataConfig,
    MarketDataError,
    RecordedMarketData,
    VenueMarketData,
    open_market_data,
    sample_config,
)
from arb_pipeline.settings import Settings


def settings() -> Settings:
    # configured credentials: the simulator source then needs no demo key on disk
    return Settings(_env_file=None, KALSHI_BASE_URL="https://kalshi.invalid/trade-api/v2", KALSHI_API_KEY_ID="k",
                    KALSHI_PRIVATE_KEY_PEM="not a key", ODDS_API_KEY="o")


def test_recorded_replays_the_directory_on_its_own_clock_and_dedupes():
    port = open_market_data(sample_config(), settings())
    assert isinstance(port, RecordedMarketData) and port.dedupe
    capture = port.capture()
    assert capture.snapshot.markets and "meta.json" in capture.payloads
    clock = port.clock(capture.snapshot)
    assert capture.snapshot.captured_at <= clock() < datetime(2100, 1, 1, tzinfo=UTC)
    assert (clock() - capture.snapshot.captured_at).total_seconds() < 60  # the replay's time, not today's


def test_the_simulator_and_live_sources_are_the_venues_with_their_urls():
    sim = open_market_data(MarketDataConfig(source="simulator", read_timeout_s=2.5), settings())
    assert isinstance(sim, VenueMarketData) and not sim.dedupe
    assert sim.settings.kalshi_base_url == "http://127.0.0.1:8765/trade-api/v2"
    assert sim.settings.kalshi_read_timeout_s == 2.5
    live = open_market_data(MarketDataConfig(source="live"), settings())
    assert live.describe() == "live" and live.settings.kalshi_base_url == "https://kalshi.invalid/trade-api/v2"
    assert abs((live.clock(None)() - datetime.now(UTC)).total_seconds()) < 60


@pytest.mark.parametrize(("config", "message"), [
    (MarketDataConfig(source="recorded"), "no snapshot directory"),
    (MarketDataConfig(source="vendor"), "must be one of ('live', 'simulator', 'recorded'), got 'vendor'"),
])
def test_a_misconfigured_source_says_what_is_wrong(config, message):
    with pytest.raises(MarketDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_market_data(config, settings())


def test_a_missing_recorded_directory_is_named(tmp_path):
    port = open_market_data(MarketDataConfig(source="recorded", snapshot_dir=str(tmp_path / "gone")), settings())
    with pytest.raises(MarketDataError, match="gone does not exist"):
        port.capture()

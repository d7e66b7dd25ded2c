"""The websocket client against the simulator over a real socket: books equal the exchange's,
through dropped connections, sequence gaps and delayed messages (0 missed updates)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import websockets

from arb_pipeline.connectors.kalshi import KalshiSigner
from arb_pipeline.connectors.kalshi.ws import KalshiWsClient, WsConfig, WsThread
from arb_pipeline.settings import Settings
from arb_pipeline.sim.scenario import ScenarioConfig
from arb_pipeline.sim.server import SimConfig, SimHandle, start_simulator
from arb_pipeline.sim.ws import _levels
from arb_pipeline_tests.waiting import wait_until

START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    config = SimConfig(scenario=ScenarioConfig(seed=5, start=START, games_per_league=2, tick_s=60.0,
                                               arb_rate_per_hour=0.0, value_rate_per_hour=0.0),
                       kalshi_tier=None, odds_calls_per_second=None)
    with start_simulator(config) as handle:
        yield handle


class Feed:
    """A client on its own thread, and the comparison with the simulator's books."""

    def __init__(self, sim: SimHandle, **config: object) -> None:
        self.sim = sim
        self.tickers = tuple(sorted(sim.scenario.exchange.books))
        assert sim.private_key_pem is not None
        signer = KalshiSigner.from_pem(sim.key_id, sim.private_key_pem)
        self.changed: list[str] = []
        self.other: list[dict] = []
        options = {"max_markets_per_sub": 8, "backoff_initial_s": 0.05, **config}
        self.client = KalshiWsClient(WsConfig(sim.kalshi_ws_url, self.tickers, **options), signer,  # type: ignore[arg-type]
                                     on_book=self.changed.append, on_message=self.other.append)
        self.thread = WsThread(self.client).start()

    def mismatched(self) -> list[str]:
        with self.sim.scenario.lock:
            want = {t: _levels(self.sim.scenario, t) for t in self.tickers}
        out = []
        for ticker in self.tickers:
            book = self.client.books.get(ticker)
            if book is None or (book.yes, book.no) != want[ticker]:
                out.append(ticker)
        return out

    def in_sync(self) -> bool:
        return not self.mismatched()

    def step(self, seconds: float = 60.0) -> None:
        """Move the world one tick (every market maker requotes) and wait for the books to follow."""
        before = self.client.books.deltas
        self.sim.scenario.advance(seconds)
        assert wait_until(lambda: self.client.books.deltas > before and self.in_sync(), 20), self.mismatched()

    def stop(self) -> None:
        self.thread.stop()
        assert wait_until(lambda: not self.thread.alive, 10)


@pytest.fixture
def feed(sim) -> Iterator[Feed]:
    f = Feed(sim)
    yield f
    f.stop()


def test_books_start_from_snapshots_and_follow_every_delta(feed):
    assert wait_until(feed.in_sync, 20), feed.mismatched()
    assert feed.client.books.snapshots == len(feed.tickers)
    for _ in range(3):
        feed.step()
    assert feed.client.books.deltas > 0
    assert feed.client.gaps == 0 and feed.client.stats.drops == 0
    assert set(feed.changed) == set(feed.tickers)


def test_a_user_order_that_fills_moves_the_book_and_arrives_as_a_fill(feed, sim):
    assert wait_until(feed.in_sync, 20)
    ticker = feed.tickers[0]
    with sim.scenario.lock:
        no_levels = _levels(sim.scenario, ticker)[1]
        ask = 1 - max(no_levels)  # best YES ask
        from decimal import Decimal

        sim.scenario.exchange.place(ticker, "bid", ask, Decimal("3"), time_in_force="immediate_or_cancel",
                                    client_order_id="ws-test-1")
    assert wait_until(lambda: any(m.get("type") == "fill" for m in feed.other) and feed.in_sync(), 20)
    fill = next(m for m in feed.other if m.get("type") == "fill")["msg"]
    assert (fill["market_ticker"], fill["client_order_id"], fill["count_fp"]) == (ticker, "ws-test-1", "3.00")


def test_every_injected_gap_is_detected_and_re_snapshotted(feed, sim):
    assert wait_until(feed.in_sync, 20)
    feed.step()
    for expected in (1, 2, 3):
        sim.faults.set("ws_gap", count=1)
        feed.step()
        assert feed.client.gaps == expected
        assert feed.client.stats.resubscribes == expected
    assert feed.in_sync()
    assert sim.faults.active() == []


def test_a_gap_on_one_market_is_caught_and_only_its_subscription_resnapshotted(feed, sim):
    assert wait_until(feed.in_sync, 20)
    snapshots = feed.client.books.snapshots
    sim.faults.set("ws_gap", count=1, ticker=feed.tickers[-1])
    feed.step()
    feed.step()
    assert feed.client.gaps == 1
    assert feed.client.books.snapshots - snapshots <= 8  # one subscription of max_markets_per_sub markets


def test_dropped_connections_reconnect_and_resnapshot_every_book(feed, sim):
    assert wait_until(feed.in_sync, 20)
    for expected in (1, 2):
        sim.faults.set("ws_drop", count=1)
        assert wait_until(lambda: feed.client.stats.drops == expected, 20)  # noqa: B023
        # reconnected, and every book re-snapshotted to the exchange's
        assert wait_until(lambda: feed.client.stats.connects == expected + 1 and feed.in_sync(), 20)  # noqa: B023
        feed.step()
    assert feed.in_sync()


def test_delayed_messages_still_end_in_the_same_books(feed, sim):
    assert wait_until(feed.in_sync, 20)
    sim.faults.set("ws_delay", delay_s=0.01, count=40)
    feed.step()
    feed.step()
    assert feed.client.gaps == 0


def test_faults_together_miss_nothing(feed, sim):
    """Drops, gaps and delays interleaved with market moves: every gap caught, books equal at the end."""
    assert wait_until(feed.in_sync, 20)
    sim.faults.set("ws_delay", delay_s=0.002, count=100)
    feed.step()
    sim.faults.set("ws_gap", count=1)
    feed.step()
    sim.faults.set("ws_drop", count=1)
    assert wait_until(lambda: feed.client.stats.drops == 1, 20)
    assert wait_until(lambda: feed.client.stats.connects == 2 and feed.in_sync(), 20)
    feed.step()
    sim.faults.set("ws_gap", count=1)
    feed.step()
    assert feed.client.gaps == 2
    assert feed.mismatched() == []


def test_the_feed_goes_stale_when_messages_stop(sim):
    clock = [0.0]
    f = Feed(sim, stale_s=5.0)
    f.client._monotonic = lambda: clock[0]  # the stale rule reads the injected clock only
    f.client.books.clock = f.client._monotonic
    try:
        assert wait_until(f.in_sync, 20)
        assert f.client.feed_stale() is None and f.client.stale_books() == []
        clock[0] += 6.0
        assert "no Kalshi websocket message for more than 5 s" in (f.client.feed_stale() or "")
        assert f.client.stale_books() == list(f.tickers)
        f.step()
        assert f.client.feed_stale() is None
    finally:
        f.stop()


def test_an_unsigned_handshake_is_refused(sim):
    async def unsigned() -> None:
        async with websockets.connect(sim.kalshi_ws_url, open_timeout=20):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus, match="403"):
        asyncio.run(unsigned())


def test_the_default_websocket_url_follows_the_rest_base():
    assert Settings(KALSHI_BASE_URL="https://external-api.kalshi.com/trade-api/v2").effective_kalshi_ws_url == \
        "wss://external-api.kalshi.com/trade-api/ws/v2"
    assert Settings(KALSHI_BASE_URL="http://127.0.0.1:8765/trade-api/v2").effective_kalshi_ws_url == \
        "ws://127.0.0.1:8765/trade-api/ws/v2"
    assert Settings(KALSHI_WS_URL="wss://x/trade-api/ws/v2").effective_kalshi_ws_url == "wss://x/trade-api/ws/v2"


def test_config_refuses_an_http_url():
    with pytest.raises(ValueError, match="ws:// or wss://"):
        WsConfig("http://127.0.0.1/trade-api/ws/v2", ("T",))

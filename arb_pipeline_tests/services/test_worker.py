"""The websocket worker against the simulator over real HTTP and a real websocket, on SQLite and
PostgreSQL: it holds the last stored scan, re-evaluates only the game whose book changed, trades an
injected arbitrage through the scan's execution service when ARB_TRADER=worker and refuses when it
is not the trader; it records every decision, writes its health, and trips the breaker on a stale feed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from arb_pipeline.connectors.kalshi import KalshiSigner
from arb_pipeline.connectors.kalshi.ws import KalshiWsClient, WsConfig, WsThread
from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.services.ingest import capture_from_settings
from arb_pipeline.services.scan import ScanConfig
from arb_pipeline.services.worker import (
    WORKER_BOOKS,
    WORKER_DECISIONS,
    WORKER_HEARTBEAT,
    Worker,
    WorkerRecords,
)
from arb_pipeline.settings import Settings
from arb_pipeline.sim.scenario import ScenarioConfig
from arb_pipeline.sim.server import SimConfig, SimHandle, start_simulator
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Order
from arb_pipeline.storage.repositories import SnapshotRepository
from arb_pipeline.storage.repositories.metrics import MetricRepository
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403
from arb_pipeline_tests.waiting import wait_until

START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    config = SimConfig(scenario=ScenarioConfig(seed=5, start=START, games_per_league=2, tick_s=60.0,
                                               arb_rate_per_hour=0.0, value_rate_per_hour=0.0),
                       kalshi_tier=None, odds_calls_per_second=None)
    with start_simulator(config) as handle:
        yield handle


def make_settings(sim: SimHandle, tmp_path, db_url: str, trader: str) -> Settings:
    return Settings(ARB_DATA_DIR=str(tmp_path), DATABASE_URL=db_url, ARB_TRADER=trader,
                    KALSHI_BASE_URL=sim.kalshi_base_url, KALSHI_API_KEY_ID=sim.key_id,
                    KALSHI_PRIVATE_KEY_PEM=sim.private_key_pem.decode(), ODDS_API_BASE_URL=sim.odds_base_url,
                    ODDS_API_KEY=sim.odds_api_key, ARB_PAPER_LATENCY_MS=0, ARB_REENTRY_COOLDOWN_S=0)


def store_scan(settings: Settings, sessions) -> int:
    capture = capture_from_settings(settings, source="simulator")
    with session_scope(sessions) as session:
        return SnapshotRepository(session).append(
            captured_at=capture.snapshot.captured_at, source="simulator", payloads=capture.payloads,
            books_captured_at=capture.snapshot.books_captured_at, stored_at=capture.snapshot.captured_at)


class Rig:
    def __init__(self, sim: SimHandle, settings: Settings, sessions) -> None:
        self.sim, self.settings, self.sessions = sim, settings, sessions
        self.clock = sim.scenario.now  # the simulator's (fixed) clock is "now" for detection and the TTL
        self.breaker = CircuitBreaker(sessions, BreakerConfig.from_settings(settings), clock=self.clock)
        self.worker = Worker(settings=settings, sessions=sessions, config=ScanConfig.from_settings(settings),
                             books=None, clock=self.clock, breaker=self.breaker)
        assert self.worker.refresh()
        signer = KalshiSigner.from_settings(settings)
        self.client = KalshiWsClient(WsConfig(sim.kalshi_ws_url, self.worker.view.tickers), signer,
                                     on_book=self.worker.on_book)
        self.worker.books = self.client.books
        self.worker.stale_books = lambda ts: self.client.books.stale(30.0, ts)
        self.thread = WsThread(self.client).start()
        assert wait_until(lambda: len(self.client.books.books) == len(self.worker.view.tickers), 20)
        self.worker.step()  # the initial snapshots: every game once, nothing to trade in a quiet world

    def decide_until(self, done, seconds: float = 20.0) -> list:
        seen: list = []

        def poll() -> bool:
            seen.extend(self.worker.step())
            return done(seen)

        assert wait_until(poll, seconds), seen
        return seen

    def stop(self) -> None:
        self.thread.stop()
        assert wait_until(lambda: not self.thread.alive, 10)


@pytest.fixture
def rig_for(sim, tmp_path, db_url, engine, session_factory):
    rigs: list[Rig] = []

    def make(trader: str) -> Rig:
        settings = make_settings(sim, tmp_path, db_url, trader)
        store_scan(settings, session_factory)
        rig = Rig(sim, settings, session_factory)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.stop()


def test_the_worker_trades_an_injected_arbitrage_through_the_execution_service(rig_for, sim):
    rig = rig_for("worker")
    game = next(iter(rig.worker.view.games))
    window = sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    decisions = rig.decide_until(lambda seen: any(d.outcome == "executed" for d in seen))
    executed = next(d for d in decisions if d.outcome == "executed")
    assert executed.event == game and executed.found >= 1
    assert window["market_ticker"] in executed.trigger
    assert any(o["status"] in ("filled", "partially_filled") for o in executed.orders)
    with session_scope(rig.sessions) as session:
        orders = session.scalars(select(Order)).all()
        assert {o.ticker for o in orders} >= {window["market_ticker"]}
        assert all(o.mode == "paper" for o in orders)
    records, _ = WorkerRecords(rig.settings.data_dir / "worker").read_after(0)
    assert any(r["outcome"] == "executed" and r["event"] == game for r in records)
    # only the changed game was re-evaluated
    assert {d.event for d in decisions} == {game}


def test_a_clock_that_moves_between_reads_still_trades(rig_for, sim):
    """Books are stamped at the instant detection judges them: never a quote "from the future"."""
    rig = rig_for("worker")
    ticks = [0]

    def moving() -> datetime:
        ticks[0] += 1
        return rig.clock() + timedelta(milliseconds=ticks[0])

    rig.worker.clock = moving
    game = sorted(rig.worker.view.games)[-1]
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    decisions = rig.decide_until(lambda seen: any(d.outcome == "executed" for d in seen))
    assert any(d.event == game and d.outcome == "executed" for d in decisions)


def test_when_the_scan_is_the_trader_the_worker_is_refused_by_the_same_service(rig_for, sim):
    rig = rig_for("scan")
    game = next(iter(rig.worker.view.games))
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    decisions = rig.decide_until(lambda seen: any(d.outcome == "refused" for d in seen))
    refused = next(d for d in decisions if d.outcome == "refused")
    assert "ARB_TRADER=scan" in refused.reason
    with session_scope(rig.sessions) as session:
        assert session.scalars(select(Order)).all() == []


def test_a_newer_stored_scan_replaces_the_one_held(rig_for):
    rig = rig_for("worker")
    held = rig.worker.view.snapshot_id
    assert rig.worker.refresh() is False
    newer = store_scan(rig.settings, rig.sessions)
    assert rig.worker.refresh() is True and rig.worker.view.snapshot_id == newer != held


def test_health_goes_to_the_metric_registry(rig_for):
    rig = rig_for("worker")
    rig.worker.flush_health(books_held=10, stale=2, feed_age_s=0.5, gaps=1, reconnects=0)
    with session_scope(rig.sessions) as session:
        series = {(s.name, tuple(sorted(s.labels.items())), s.le): s.value for s in MetricRepository(session).all()}
    assert series[(WORKER_BOOKS, (("state", "stale"),), "gauge")] == 2.0
    assert series[(WORKER_HEARTBEAT, (), "gauge")] == rig.clock().timestamp()
    assert any(name == WORKER_DECISIONS for name, _, _ in series)


def test_the_breaker_trips_on_a_stale_feed_only_when_the_worker_trades(rig_for):
    rig = rig_for("scan")
    rig.worker.check_feed("no Kalshi websocket message for more than 10 s")
    assert rig.breaker.status().state is BreakerState.CLOSED
    rig.worker.settings = rig.settings.model_copy(update={"trader": "worker"})
    rig.worker.check_feed("no Kalshi websocket message for more than 10 s")
    status = rig.breaker.status()
    assert status.state is BreakerState.OPEN and "stale market data feed" in status.reason


def test_a_game_with_a_missing_book_is_not_evaluated(rig_for):
    rig = rig_for("worker")
    view = rig.worker.view
    event = next(iter(view.games))
    ticker = next(iter(view.games[event].kalshi.values())).ticker
    rig.worker.stale_books = lambda ts: [t for t in ts if t == ticker]
    decision = rig.worker.evaluate(view, event, rig.worker.monotonic())
    assert decision.outcome == "skipped" and ticker in decision.reason


def test_records_are_read_back_in_whole_lines(tmp_path):
    records = WorkerRecords(tmp_path)
    records.append({"type": "decision", "n": 1})
    records.append({"type": "decision", "n": 2})
    first, offset = records.read_after(0, limit=1)
    rest, end = records.read_after(offset)
    assert [r["n"] for r in first + rest] == [1, 2]
    with records.path.open("a") as handle:
        handle.write('{"partial": ')
    assert records.read_after(end) == ([], end)


def test_fills_from_the_websocket_are_recorded_and_other_messages_ignored(tmp_path):
    records = WorkerRecords(tmp_path)
    worker = Worker(settings=Settings(_env_file=None), sessions=None, config=None, books=None,
                    clock=lambda: START, records=records)
    worker.on_message({"type": "ticker", "sid": 2, "msg": {"market_ticker": "T"}})
    worker.on_message({"type": "fill", "sid": 3, "msg": {"trade_id": "t1", "order_id": "o1", "client_order_id": "c1",
                                                         "market_ticker": "T", "count_fp": "3.00",
                                                         "yes_price_dollars": "0.4100"}})
    (fill,), _ = records.read_after(0)
    assert fill["type"] == "fill" and fill["client_order_id"] == "c1" and fill["count_fp"] == "3.00"
    assert fill["at"] == START.isoformat()


def test_an_arbitrage_gone_on_the_second_read_is_not_sent(rig_for, sim):
    """Detection reads the books twice before anything is sent: a state seen between two deltas of one
    exchange update (here: the second read sees the books without the window) is skipped, not traded."""
    from arb_pipeline.arb.book import OrderBook

    rig = rig_for("worker")
    game = sorted(rig.worker.view.games)[0]
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    view = rig.worker.view
    real = rig.worker.game_with_live_books
    reads: list[int] = []

    def second_read_without_window(v, event, now):
        reads.append(1)
        got = real(v, event, now)
        if len(reads) % 2 or isinstance(got, str):
            return got
        original = v.snapshot.orderbooks
        contracts = {o: replace(c, book=OrderBook.from_levels(original[c.ticker]), quote_time=now)
                     for o, c in v.games[event].kalshi.items()}
        return replace(v.games[event], kalshi=contracts), {t: original[t] for t in got[1]}

    rig.worker.game_with_live_books = second_read_without_window
    assert wait_until(lambda: rig.client.books.get(sim.scenario.active_windows()[0]["market_ticker"]) is not None)
    rig.worker.take_dirty()
    decision = None

    def skipped() -> bool:
        nonlocal decision
        decision = rig.worker.evaluate(view, game, rig.worker.monotonic())
        return decision.outcome == "skipped"

    assert wait_until(skipped, 20), decision
    assert "gone when the books were read again" in decision.reason
    with session_scope(rig.sessions) as session:
        assert session.scalars(select(Order)).all() == []

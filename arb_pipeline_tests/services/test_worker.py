"""The websocket worker against the simulator over real HTTP and a real websocket, on SQLite and
PostgreSQL: it holds the last stored scan, re-evaluates only the game whose book changed, trades an
injected arbitrage through the scan's execution service when ARB_TRADER=worker and refuses when it
is not the trader; it records every decision, writes its health, and trips the breaker on a stale feed."""

from __future__ import annotations

import time
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


def make_settings(sim: SimHandle, tmp_path, db_url: str, trader: str, **overrides) -> Settings:
    return Settings(**{"ARB_DATA_DIR": str(tmp_path), "DATABASE_URL": db_url, "ARB_TRADER": trader,
                       "KALSHI_BASE_URL": sim.kalshi_base_url, "KALSHI_API_KEY_ID": sim.key_id,
                       "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode(), "ODDS_API_BASE_URL": sim.odds_base_url,
                       "ODDS_API_KEY": sim.odds_api_key, "ARB_PAPER_LATENCY_MS": 0, "ARB_REENTRY_COOLDOWN_S": 0,
                       **overrides})


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
        while self.worker.step():  # the initial snapshots: every game once, nothing to trade in a quiet world
            pass

    def decide_until(self, done, seconds: float = 20.0) -> list:
        """Decide and execute on this thread (the execution queue drained after each step) until `done`."""
        seen: list = []

        def poll() -> bool:
            seen.extend(d for d in self.worker.step() if d.outcome != "executing")
            while (finished := self.worker.execute_next()) is not None:
                seen.append(finished)
            return done(seen)

        assert wait_until(poll, seconds), seen
        return seen

    def stop(self) -> None:
        self.thread.stop()
        assert wait_until(lambda: not self.thread.alive, 10)


@pytest.fixture
def rig_for(sim, tmp_path, db_url, engine, session_factory):
    rigs: list[Rig] = []

    def make(trader: str, **overrides) -> Rig:
        settings = make_settings(sim, tmp_path, db_url, trader, **overrides)
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


# ------------------------------------------------------------------ coalescing, batches, the execution thread


class Ticks:
    """A monotonic clock that moves one second per read: which mark a pending game kept is visible."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def tickers_of(view, event: str) -> list[str]:
    return [c.ticker for c in view.games[event].kalshi.values()]


def test_pending_work_is_coalesced_by_game_and_bounded_by_the_games_held(rig_for):
    rig = rig_for("worker")
    worker, view = rig.worker, rig.worker.view
    worker.monotonic = Ticks()
    first, second = sorted(view.games)[:2]
    for _ in range(5):  # five updates of each of the first game's markets before it is evaluated
        for ticker in tickers_of(view, first):
            worker.on_book(ticker)
    worker.on_book(tickers_of(view, second)[0])
    assert worker.pending == 2
    worker.on_book("NOT-A-HELD-MARKET")  # a market of no game held is not work
    assert worker.pending == 2
    taken = worker.take_pending()
    assert list(taken) == [first, second]  # oldest first
    assert taken[first] == 1.0  # the first unhandled update's time is kept, later marks coalesce into it
    for _ in range(3):  # every market of every game, three times over: at most one entry per game
        for ticker in view.game_of:
            worker.on_book(ticker)
    assert worker.pending == len(view.games)
    decisions = []
    while batch := worker.step():
        decisions.extend(batch)
    assert sorted(d.event for d in decisions) == sorted(view.games)  # each game decided exactly once
    assert worker.pending == 0 and not worker.wake.is_set()


def test_games_are_decided_in_small_batches_oldest_first(rig_for):
    rig = rig_for("worker", ARB_WORKER_BATCH_GAMES=2)
    worker, view = rig.worker, rig.worker.view
    assert worker.batch_games == 2
    games = sorted(view.games)[:5]
    for event in games:
        worker.on_book(tickers_of(view, event)[0])
    batches = []
    while batch := worker.step():
        batches.append([d.event for d in batch])
    assert batches == [games[0:2], games[2:4], games[4:5]]  # the first games did not wait for the last


def _executing_decision(rig, game: str):
    """Poll (a real websocket delivers the injected window) until the worker hands `game`'s trade to the
    execution queue; nothing is executed here."""
    made: list = []

    def handed() -> bool:
        made.extend(rig.worker.step())
        return any(d.event == game and d.outcome == "executing" for d in made)

    assert wait_until(handed, 20), made
    # the window's deltas may arrive over several steps: each decides the game again and replaces its
    # waiting trade; the one queued is the last
    return [d for d in made if d.event == game and d.outcome == "executing"][-1]


def test_a_game_waiting_for_execution_keeps_one_trade_the_latest_and_is_never_executed_twice(rig_for, sim):
    rig = rig_for("worker", ARB_REENTRY_COOLDOWN_S=600)
    worker, view = rig.worker, rig.worker.view
    game = sorted(view.games)[0]
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    decision = _executing_decision(rig, game)
    assert decision.decided_s == decision.lag_s and decision.executed_s is None  # latency is to the decision
    assert worker.executing(game) and worker.queued_executions == 1
    finished: list = []
    worker.listeners.append(finished.append)
    for _ in range(5):  # updates for the game while its trade waits: decided once more, on the newer books
        for ticker in tickers_of(view, game):
            worker.on_book(ticker)
    (newer,) = [d for d in worker.step() if d.event == game]
    assert newer.outcome == "executing" and worker.queued_executions == 1  # it replaced the waiting trade
    assert finished == [decision] and decision.outcome == "skipped" and "superseded" in decision.reason
    done = worker.execute_next()
    assert done is newer and done.outcome == "executed" and done.executed_s >= done.decided_s
    assert worker.execute_next() is None and not worker.executing(game)
    for _ in range(5):  # updates that arrive while its execution runs wait for it (test below, threaded)
        worker.on_book(tickers_of(view, game)[0])
    with session_scope(rig.sessions) as session:
        sent = session.scalars(select(Order)).all()
    assert sent and len({o.opportunity_id for o in sent}) == 1
    # the updates that came meanwhile are evaluated once, on the books now: the same window is still
    # open (paper orders do not move the simulator's books), so it is found again - and not traded again
    again = [d for d in worker.step() if d.event == game]
    assert len(again) == 1 and again[0].outcome == "executing"
    second = worker.execute_next()
    assert second.outcome == "skipped" and not any(o["status"] != "not_sent" for o in second.orders)
    assert "never resent" in second.reason or "cooldown" in second.reason, second.reason
    with session_scope(rig.sessions) as session:
        assert len(session.scalars(select(Order)).all()) == len(sent)


def test_decisions_do_not_wait_behind_an_execution(rig_for, sim):
    """The execution thread is held inside the execution service; meanwhile other games are still decided
    on the evaluation thread, and the held game's own updates wait for its execution to finish."""
    import threading

    rig = rig_for("worker")
    worker, view = rig.worker, rig.worker.view
    game, other = sorted(view.games)[:2]
    gate, inside = threading.Event(), threading.Event()
    real = worker.execute

    def held(*args, **kwargs):
        inside.set()
        while not gate.is_set():  # polled (libfaketime): released by the test
            time.sleep(0.005)
        return real(*args, **kwargs)

    worker.execute = held
    finished: list = []
    worker.listeners.append(finished.append)
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    _executing_decision(rig, game)
    worker.start_executions()
    try:
        assert wait_until(inside.is_set, 20)
        worker.on_book(tickers_of(view, other)[0])
        worker.on_book(tickers_of(view, game)[0])
        decided = worker.step()
        assert [d.event for d in decided] == [other]  # decided while the execution is still held
        assert decided[0].outcome == "no_opportunity" and worker.executing(game)
        gate.set()
        assert wait_until(lambda: any(d.event == game and d.outcome == "executed" for d in finished), 20)
        assert wait_until(lambda: worker.pending == 1, 5)  # its own update is pending again, once
    finally:
        gate.set()
        worker.stop_executions()


def test_an_execution_that_raises_is_recorded_and_releases_its_game(rig_for, sim):
    rig = rig_for("worker")
    worker = rig.worker
    game = sorted(worker.view.games)[0]

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    worker.execute = broken
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    _executing_decision(rig, game)
    done = worker.execute_next()
    assert done.outcome == "error" and "database went away" in done.reason and not worker.executing(game)
    records, _ = WorkerRecords(rig.settings.data_dir / "worker").read_after(0)
    assert records[-1]["outcome"] == "error" and records[-1]["event"] == game


def test_the_lag_window_is_bounded_and_its_p99_follows_the_samples():
    from hypothesis import given
    from hypothesis import strategies as st

    from arb_pipeline.services.worker import LagWindow

    window = LagWindow(size=100)
    for i in range(100_000):
        window.add(i / 100_000)
    assert len(window) == 100 and window.count == 100_000 and window.max == 0.99999
    assert 0.9 <= window.quantile(0.99) <= 1.0  # a uniform sample of 0..1: its p99 is near the top
    taken = window.take()
    assert taken.count == 100_000 and len(window) == 0 and window.quantile(0.99) is None

    @given(st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=1, max_size=50))
    def exact_while_it_fits(values):
        w = LagWindow(size=64)
        for v in values:
            w.add(v)
        ordered = sorted(values)
        assert w.quantile(0.99) == ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        assert w.max == max(values)

    exact_while_it_fits()
    with pytest.raises(ValueError, match="LagWindow size"):
        LagWindow(size=0)


def test_a_finished_market_has_its_book_dropped(rig_for):
    rig = rig_for("worker")
    worker, view = rig.worker, rig.worker.view
    game = sorted(view.games)[0]
    ticker = tickers_of(view, game)[0]
    assert rig.client.books.get(ticker) is not None
    worker.on_message({"type": "market_lifecycle_v2", "sid": 9, "msg": {"market_ticker": ticker,
                                                                         "event_type": "determined"}})
    assert rig.client.books.get(ticker) is None and ticker not in rig.client.books.stale(30.0)
    decision = worker.evaluate(view, game, worker.monotonic())
    assert decision.outcome == "skipped" and f"no book for {ticker}" in decision.reason


def test_a_trade_that_waited_past_the_ttl_in_the_queue_is_shed_without_touching_the_ledger(rig_for, sim):
    rig = rig_for("worker")
    worker = rig.worker
    game = sorted(worker.view.games)[0]
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"))
    decision = _executing_decision(rig, game)
    ttl = rig.settings.opportunity_ttl_s
    worker.clock = lambda: rig.clock() + timedelta(seconds=ttl + 1)  # its turn comes after the TTL
    called: list = []
    worker.execute = lambda *a, **k: called.append(1)
    done = worker.execute_next()
    assert done is decision and done.outcome == "skipped" and "expired in the execution queue" in done.reason
    assert called == [] and not worker.executing(game)
    with session_scope(rig.sessions) as session:
        assert session.scalars(select(Order)).all() == []


def test_a_waiting_trade_is_withdrawn_when_the_game_is_decided_again_without_it(rig_for, sim):
    rig = rig_for("worker")
    worker, view = rig.worker, rig.worker.view
    game = sorted(view.games)[0]
    sim.scenario.inject_arbitrage(game, edge=Decimal("0.03"), lifetime_s=5)
    _executing_decision(rig, game)
    finished: list = []
    worker.listeners.append(finished.append)
    sim.scenario.advance(10)  # the window closes before the trade's turn: its books change back

    def withdrawn() -> bool:
        worker.step()
        return worker.queued_executions == 0

    assert wait_until(withdrawn, 20), finished
    last = [d for d in finished if d.event == game][-1]  # the trade that was waiting when the window closed
    assert last.outcome == "skipped" and "gone before its turn to execute" in last.reason, last
    assert worker.execute_next() is None
    with session_scope(rig.sessions) as session:
        assert session.scalars(select(Order)).all() == []


def test_a_newer_scan_is_loaded_off_the_evaluation_thread(rig_for):
    rig = rig_for("worker")
    newer = store_scan(rig.settings, rig.sessions)
    stop = rig.worker.start_refreshing(0.05)
    try:
        assert wait_until(lambda: rig.worker.view.snapshot_id == newer, 20)
    finally:
        stop.set()


@pytest.mark.parametrize("trade_value", [False, True])
def test_an_opportunity_of_a_kind_not_executed_is_decided_without_queueing_a_trade(rig_for, sim, trade_value):
    rig = rig_for("worker", ARB_TRADE_VALUE=trade_value)
    worker = rig.worker
    game = sorted(worker.view.games)[0]
    sim.scenario.inject_value(game, edge=Decimal("0.02"))
    made: list = []

    def decided() -> bool:
        made.extend(d for d in worker.step() if d.event == game and d.found)
        return bool(made)

    assert wait_until(decided, 20), made
    assert "value" in made[-1].kinds
    if trade_value:
        assert made[-1].outcome == "executing" and worker.queued_executions == 1
    else:
        assert made[-1].outcome == "skipped" and "not executed (ARB_TRADE_VALUE)" in made[-1].reason
        assert worker.queued_executions == 0

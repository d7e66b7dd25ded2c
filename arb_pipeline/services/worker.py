"""The fast path: a long-running worker that trades on Kalshi's websocket books (`arb-pipeline worker`).

Dagster stays the control plane: the scan job captures, resolves and stores snapshots on its own
cadence (odds keep their polling cadence). The worker

* holds the **resolved games and their sportsbook quotes from the latest stored scan** (the same
  `services.scan` stages: resolve at the snapshot's capture time, `build_games`), and reloads them
  when a newer snapshot is stored (`refresh`, every ARB_WORKER_REFRESH_S);
* keeps the Kalshi books of those games live from the websocket (`connectors.kalshi.ws`);
* on a book change **re-evaluates only that game** - the game with its books replaced by the
  websocket's, `services.scan.detect_opportunities` (the same `arb/` detection) - and
* executes through **exactly the scan's path**: `services.execute.execute_opportunities` with the
  same breaker, order desk, lease and ledger, as trader "worker". Whether it may trade at all is
  decided there by ARB_TRADER (`scan` by default: the worker then only observes and records).
* records every decision (JSON lines under ARB_DATA_DIR/worker/, read by the Dagster sensor in
  `defs/worker`) and its health in the shared metric registry (`metric_series`, shown on /metrics);
* trips the circuit breaker when the feed goes stale while it is the trader.

A game is not evaluated while any of its books is missing (before its snapshot, after a gap or a
drop) or stale (no message within KALSHI_WS_STALE_S).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.market import GameLine
from arb_pipeline.domain import MarketSnapshot, OrderBookLevels
from arb_pipeline.services.scan import ScanConfig, build_games, detect_opportunities, resolve_snapshot
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope

log = logging.getLogger(__name__)
RECORDS_FILE = "records.jsonl"

# metric names (read by api/metrics.py)
WORKER_HEARTBEAT = "arb_worker_heartbeat_timestamp_seconds"  # gauge: wall time of the last heartbeat
WORKER_BOOKS = "arb_worker_books"  # gauge: books held / stale (label state)
WORKER_FEED_AGE = "arb_worker_feed_age_seconds"  # gauge: since the last websocket message
WORKER_LAG_P99 = "arb_worker_decision_lag_p99_seconds"  # gauge: book update -> decision, last window
WORKER_DECISIONS = "arb_worker_decisions_total"  # counter by outcome
WORKER_WS_EVENTS = "arb_worker_ws_events_total"  # counter by event (gap, reconnect)
WORKER_TRADING = "arb_worker_trading"  # gauge: 1 while the worker runs with ARB_TRADER=worker


def records_dir(settings: Settings) -> Path:
    return settings.data_dir / "worker"


# ------------------------------------------------------------------------------------------------ state


@dataclass(frozen=True)
class ScanView:
    """The games the latest stored scan resolved, by event, and which game each market belongs to."""

    snapshot_id: int
    snapshot: MarketSnapshot
    games: Mapping[str, GameLine]
    game_of: Mapping[str, str]  # market ticker -> event ticker
    book_event: Mapping[str, str] = field(default_factory=dict)  # event ticker -> sportsbook event id
    columns: Any = None  # the snapshot's quotes column-wise (services.scan.quote_columns_of)

    def scan_games(self, games: Sequence[GameLine]) -> Any:
        """`games` with their h2h quotes as the scan hands them to detection (`ScanGames`)."""
        from arb_pipeline.arb.quotes import QuoteTable
        from arb_pipeline.services.scan import ScanGames

        table = QuoteTable.for_games(self.columns, games, [self.book_event[g.event_ticker] for g in games])
        return ScanGames(games, table)

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(sorted(self.game_of))


def scan_view(snapshot_id: int, snapshot: MarketSnapshot, config: ScanConfig, as_of: datetime) -> ScanView:
    """Resolve and assemble a stored snapshot with the scan's stages, judged at `as_of` (the worker's
    now: its guards, e.g. "game started", are about trading now; detection re-checks at each decision)."""
    resolution = resolve_snapshot(snapshot, config, as_of)
    assembly = build_games(snapshot, resolution, config)
    from arb_pipeline.services.scan import quote_columns_of

    games = {g.event_ticker: g for g in assembly.games}
    game_of = {c.ticker: g.event_ticker for g in assembly.games for c in g.kalshi.values()}
    book_event = {r.kalshi_event: r.sportsbook_event_id for r in resolution.rows if r.kalshi_event in games}
    return ScanView(snapshot_id, snapshot, games, game_of, book_event, quote_columns_of(snapshot))


def latest_stored_id(sessions: sessionmaker[Session], source: str | None = None) -> int | None:
    from sqlalchemy import select

    from arb_pipeline.storage.models import Snapshot

    with session_scope(sessions) as session:
        query = select(Snapshot.id)
        if source is not None:
            query = query.where(Snapshot.source == source)
        return session.scalars(query.order_by(Snapshot.captured_at.desc(), Snapshot.id.desc()).limit(1)).first()


def load_view(sessions: sessionmaker[Session], snapshot_id: int, config: ScanConfig, as_of: datetime) -> ScanView:
    from arb_pipeline.services.market_history import rebuild
    from arb_pipeline.storage.repositories import SnapshotRepository

    with session_scope(sessions) as session:
        stored = SnapshotRepository(session).get(snapshot_id)
    if stored is None:
        raise KeyError(f"no stored snapshot with id {snapshot_id}")
    return scan_view(snapshot_id, rebuild(stored), config, as_of)


# ------------------------------------------------------------------------------------------------ records


class WorkerRecords:
    """Decisions and fills as JSON lines, appended by the worker and read by the Dagster sensor."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / RECORDS_FILE
        self._lock = threading.Lock()

    def append(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, default=str, separators=(",", ":"))
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def read_after(self, offset: int, limit: int = 500) -> tuple[list[dict[str, Any]], int]:
        """Whole lines from byte `offset` on (at most `limit`), and the offset after the last one read.
        A file shorter than `offset` (replaced) is read from the start."""
        if not self.path.exists():
            return [], 0
        size = self.path.stat().st_size
        if offset > size:
            offset = 0
        out: list[dict[str, Any]] = []
        with self.path.open("rb") as handle:
            handle.seek(offset)
            while len(out) < limit:
                line = handle.readline()
                if not line.endswith(b"\n"):
                    break  # a line still being written
                offset += len(line)
                try:
                    out.append(json.loads(line))
                except ValueError:
                    log.warning("worker records: line at byte %d is not JSON; skipped", offset - len(line))
        return out, offset


# ------------------------------------------------------------------------------------------------ worker


@dataclass
class Decision:
    at: datetime
    event: str
    trigger: str
    lag_s: float  # book update received -> decision made (orders, when any, recorded)
    found: int
    kinds: tuple[str, ...] = ()
    outcome: str = "no_opportunity"  # no_opportunity / skipped / refused / executed
    reason: str = ""
    orders: list[dict[str, Any]] = field(default_factory=list)
    decided_s: float | None = None  # book update received -> opportunity found, handed to execution

    def record(self) -> dict[str, Any]:
        return {"type": "decision", "at": self.at.isoformat(), "event": self.event, "trigger": self.trigger,
                "lag_ms": round(self.lag_s * 1000, 3),
                "decided_ms": None if self.decided_s is None else round(self.decided_s * 1000, 3), "found": self.found, "kinds": list(self.kinds),
                "outcome": self.outcome, "reason": self.reason[:500], "orders": self.orders}


Execute = Callable[..., Any]


class Worker:
    """Re-evaluates the games whose books changed; see the module docstring.

    Thread model: `on_book` runs on the websocket thread and only marks the market dirty; `step`
    (the worker's own thread, `run`) takes the dirty set, evaluates each touched game once, and
    executes. `books` reads the websocket's books (a `BookStore`-like object with `get`).
    """

    def __init__(self, *, settings: Settings, sessions: sessionmaker[Session], config: ScanConfig,
                 books: Any, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic, breaker: Any = None,
                 records: WorkerRecords | None = None, execute: Execute | None = None,
                 stale_books: Callable[[Sequence[str]], list[str]] | None = None) -> None:
        from arb_pipeline.services.execute import execute_opportunities

        self.settings, self.sessions, self.config, self.books = settings, sessions, config, books
        self.clock, self.monotonic = clock, monotonic
        self.breaker = breaker
        self.records = records or WorkerRecords(records_dir(settings))
        self.execute = execute or execute_opportunities
        self.stale_books = stale_books or (lambda tickers: [t for t in tickers if books.get(t) is None])
        self.view: ScanView | None = None
        self._dirty: dict[str, float] = {}  # ticker -> monotonic time of the first unhandled update
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.lags: list[float] = []  # this window's book update -> decision times (seconds)
        self.decisions: dict[str, int] = {}

    # ------------------------------------------------------------ scan state

    def refresh(self) -> bool:
        """Load the latest stored scan when it is newer than the one held; True when it changed."""
        latest = latest_stored_id(self.sessions)
        if latest is None or (self.view is not None and latest == self.view.snapshot_id):
            return False
        self.view = load_view(self.sessions, latest, self.config, self.clock())
        log.info("worker: holding scan %s (%d games, %d markets)", latest, len(self.view.games),
                 len(self.view.game_of))
        return True

    # ------------------------------------------------------------ events

    def on_book(self, ticker: str) -> None:
        now = self.monotonic()
        with self._lock:  # set under the lock: a wake-up is never cleared after a mark it did not take
            self._dirty.setdefault(ticker, now)
            self.wake.set()

    def on_message(self, message: Mapping[str, Any]) -> None:
        """Non-book websocket messages: the member's fills are recorded as they arrive (live mode; the
        ledger itself records fills from the execution path, and reconciliation checks it)."""
        if message.get("type") != "fill" or not isinstance(message.get("msg"), Mapping):
            return
        msg = message["msg"]
        self.records.append({"type": "fill", "at": self.clock().isoformat(),
                             **{k: msg.get(k) for k in ("trade_id", "order_id", "client_order_id", "market_ticker",
                                                        "outcome_side", "book_side", "yes_price_dollars",
                                                        "count_fp", "fee_cost", "is_taker", "ts_ms")}})

    def take_dirty(self) -> dict[str, float]:
        with self._lock:
            self.wake.clear()
            dirty, self._dirty = self._dirty, {}
        return dirty

    # ------------------------------------------------------------ deciding

    def step(self) -> list[Decision]:
        """Evaluate every game touched since the last step (each once, however many updates), all of
        them in one columnar detection pass, then execute what was found game by game."""
        dirty = self.take_dirty()
        view = self.view
        if not dirty or view is None:
            return []
        first: dict[str, float] = {}
        for ticker, at in dirty.items():
            event = view.game_of.get(ticker)
            if event is not None:
                first[event] = min(at, first.get(event, at))
        return self.evaluate_many(view, first)

    def game_with_live_books(self, view: ScanView, event: str,
                             now: datetime) -> tuple[GameLine, dict[str, OrderBookLevels]] | str:
        """The game with its Kalshi books replaced by the websocket's, quoted at `now` - the same
        instant detection judges (a later stamp would be a quote "from the future")."""
        game = view.games[event]
        tickers = [c.ticker for c in game.kalshi.values()]
        stale = self.stale_books(tickers)
        if stale:
            return f"book(s) not current: {', '.join(stale)}"
        levels: dict[str, OrderBookLevels] = {}
        contracts = {}
        for outcome, contract in game.kalshi.items():
            book = self.books.get(contract.ticker)
            if book is None:
                return f"no book for {contract.ticker}"
            levels[contract.ticker] = book.levels()
            contracts[outcome] = replace(contract, book=OrderBook.from_levels(levels[contract.ticker]), quote_time=now)
        return replace(game, kalshi=contracts), levels

    def evaluate(self, view: ScanView, event: str, since: float) -> Decision:
        return self.evaluate_many(view, {event: since})[0]

    def evaluate_many(self, view: ScanView, since: Mapping[str, float]) -> list[Decision]:
        """Re-evaluate the games `since` names (event -> when its first unhandled update arrived)."""
        now = self.clock()
        out: list[Decision] = []
        live: dict[str, tuple[GameLine, dict[str, OrderBookLevels]]] = {}
        for event in since:
            got = self.game_with_live_books(view, event, now)
            if isinstance(got, str):
                out.append(self._done(Decision(now, event, "", self.monotonic() - since[event], 0,
                                               outcome="skipped", reason=got), record=False))
            else:
                live[event] = got
        if not live:
            return out
        result = detect_opportunities(view.scan_games([game for game, _ in live.values()]), self.config, now,
                                      trading_active=view.snapshot.exchange.trading_active)
        by_event: dict[str, list[Any]] = {}
        for opportunity in result.opportunities:
            by_event.setdefault(opportunity.event, []).append(opportunity)
        for event, (_game, levels) in live.items():
            found = by_event.get(event, [])
            decision = Decision(now, event, ",".join(sorted(levels)), 0.0, len(found),
                                tuple(sorted({o.kind for o in found})))
            if not found:
                decision.lag_s = self.monotonic() - since[event]
                out.append(self._done(decision, record=False))
                continue
            confirmed = self._confirm(view, event)  # the books may have been read between two deltas
            if isinstance(confirmed, str):
                decision.outcome, decision.reason = "skipped", confirmed
                decision.lag_s = self.monotonic() - since[event]
                out.append(self._done(decision, record=True))
                continue
            found, levels, now = confirmed
            decision.found, decision.kinds = len(found), tuple(sorted({o.kind for o in found}))
            decision.decided_s = self.monotonic() - since[event]
            report = self._execute(view, found, levels, now)
            decision.lag_s = self.monotonic() - since[event]
            if report.refused:
                decision.outcome, decision.reason = "refused", report.refused
            elif report.orders:
                decision.outcome = "executed"
                decision.orders = [{"client_order_id": o.client_order_id, "ticker": o.ticker, "side": o.side,
                                    "status": o.status, "fill_count": str(o.fill_count), "cost": str(o.cost),
                                    "reason": o.reason} for o in report.orders]
            else:
                decision.outcome = "skipped"
                decision.reason = "; ".join(f"{what}: {why}" for what, why in report.skipped)
            out.append(self._done(decision, record=True))
        return out

    def _confirm(self, view: ScanView, event: str) -> tuple[list[Any], dict[str, OrderBookLevels], datetime] | str:
        """Read the game's books again and detect once more before anything is sent: a book read while
        the websocket thread was between two deltas of one exchange update is a state that never
        existed; only what is still there on a second read goes to execution."""
        now = self.clock()
        got = self.game_with_live_books(view, event, now)
        if isinstance(got, str):
            return got
        game, levels = got
        found = list(detect_opportunities(view.scan_games([game]), self.config, now,
                                          trading_active=view.snapshot.exchange.trading_active).opportunities)
        if not found:
            return "gone when the books were read again (an intermediate state between deltas)"
        return found, levels, now

    def _execute(self, view: ScanView, found: Sequence[Any], levels: Mapping[str, OrderBookLevels],
                 now: datetime) -> Any:
        from arb_pipeline.services.execute import ExecutionContext

        event = next(e for e in view.snapshot.events if e.event_ticker in {o.event for o in found})
        snapshot = replace(view.snapshot, events=(event,), orderbooks=dict(levels), captured_at=now,
                           books_captured_at=now)
        from arb_pipeline.services.scans import executed_kinds

        context = ExecutionContext(mode=self.settings.mode, allow_orders=True, is_backfill=False, as_of=now,
                                   kinds=executed_kinds(self.settings), trader="worker")
        return self.execute(found, context=context, snapshot=snapshot, sessions=self.sessions,
                            breaker=self.breaker, settings=self.settings, paper_book_after=self.paper_book_after(),
                            alert=getattr(self.breaker, "alert", None), clock=self.clock)

    def paper_book_after(self) -> Any:
        """Where a paper order fills (`services.paper_books`, as for the scan): the venue's book
        ARB_PAPER_LATENCY_MS after it was sent - here the websocket's own live book, read after the
        latency - or None (ARB_PAPER_FILL_BOOK=detection: the detection book)."""
        from arb_pipeline.services.paper_books import FILL_BOOKS

        if self.settings.paper_fill_book not in FILL_BOOKS:
            raise ValueError(f"ARB_PAPER_FILL_BOOK must be one of {FILL_BOOKS}, got {self.settings.paper_fill_book!r}")
        if self.settings.mode != "paper" or self.settings.paper_fill_book == "detection":
            return None
        latency_s = self.settings.paper_latency_ms / 1000

        def book(ticker: str, _at: datetime) -> OrderBookLevels:
            if latency_s:
                time.sleep(latency_s)
            live = self.books.get(ticker) if self.books is not None else None
            return live.levels() if live is not None else OrderBookLevels(ticker, (), ())  # gone: no fill

        return book

    def _done(self, decision: Decision, *, record: bool) -> Decision:
        self.lags.append(decision.lag_s)
        self.decisions[decision.outcome] = self.decisions.get(decision.outcome, 0) + 1
        if record:
            self.records.append(decision.record())
            log.info("worker: %s %s (%d found) %s", decision.event, decision.outcome, decision.found,
                     decision.reason[:200])
        return decision

    # ------------------------------------------------------------ health

    def flush_health(self, *, books_held: int, stale: int, feed_age_s: float | None, gaps: int = 0,
                     reconnects: int = 0) -> None:
        """Write liveness, lag and book state to the shared metric registry (one transaction)."""
        from arb_pipeline.storage.repositories.metrics import MetricRepository

        lags, self.lags = sorted(self.lags), []
        decisions, self.decisions = self.decisions, {}
        with session_scope(self.sessions) as session:
            repo = MetricRepository(session)
            repo.set_gauge(WORKER_HEARTBEAT, self.clock().timestamp())
            repo.set_gauge(WORKER_TRADING, 1.0 if self.settings.trader == "worker" else 0.0)
            repo.set_gauge(WORKER_BOOKS, float(books_held), {"state": "held"})
            repo.set_gauge(WORKER_BOOKS, float(stale), {"state": "stale"})
            repo.set_gauge(WORKER_FEED_AGE, feed_age_s if feed_age_s is not None else -1.0)
            if lags:
                repo.set_gauge(WORKER_LAG_P99, lags[min(len(lags) - 1, int(len(lags) * 0.99))])
            for outcome, count in decisions.items():
                repo.inc(WORKER_DECISIONS, count, {"outcome": outcome})
            if gaps:
                repo.inc(WORKER_WS_EVENTS, gaps, {"event": "gap"})
            if reconnects:
                repo.inc(WORKER_WS_EVENTS, reconnects, {"event": "reconnect"})

    def check_feed(self, stale_reason: str | None) -> None:
        """The breaker trips on a stale feed - only when the worker is the trader (it is its feed)."""
        if stale_reason and self.breaker is not None and self.settings.trader == "worker":
            self.breaker.report_stale_feed(stale_reason)


# ------------------------------------------------------------------------------------------------ health


@dataclass(frozen=True)
class WorkerHealth:
    """The worker's last reported health, as another process (Dagster, the API) reads it."""

    heartbeat_age_s: float | None  # None: the worker never reported
    books_held: float | None
    stale_books: float | None
    feed_age_s: float | None
    lag_p99_s: float | None

    def problem(self, max_heartbeat_age_s: float, stale_s: float) -> str | None:
        """Why the worker is not healthy, or None."""
        if self.heartbeat_age_s is None:
            return "the worker has never reported (is `arb-pipeline worker` running?)"
        if self.heartbeat_age_s > max_heartbeat_age_s:
            return f"no worker heartbeat for {self.heartbeat_age_s:.0f} s (limit {max_heartbeat_age_s:g} s)"
        if self.feed_age_s is None or self.feed_age_s < 0 or self.feed_age_s > stale_s:
            return f"the worker's websocket feed is stale (last message {self.feed_age_s} s ago, limit {stale_s:g} s)"
        if self.stale_books:
            return f"{self.stale_books:.0f} of {self.books_held or 0:.0f} books are stale"
        return None


def read_health(session: Session, now: datetime) -> WorkerHealth:
    from arb_pipeline.storage.repositories.metrics import GAUGE, MetricRepository

    gauges = {(s.name, s.labels.get("state", "")): s.value for s in MetricRepository(session).all("arb_worker_")
              if s.le == GAUGE}
    beat = gauges.get((WORKER_HEARTBEAT, ""))
    return WorkerHealth(None if beat is None else max(0.0, now.timestamp() - beat),
                        gauges.get((WORKER_BOOKS, "held")), gauges.get((WORKER_BOOKS, "stale")),
                        gauges.get((WORKER_FEED_AGE, "")), gauges.get((WORKER_LAG_P99, "")))


def worker_claims_trading(sessions: sessionmaker[Session], now: datetime, max_age_s: float) -> bool:
    """True when a worker reported within `max_age_s` that it runs with ARB_TRADER=worker: a process
    configured with ARB_TRADER=scan must then not trade either (the switch is read per process; this is
    the cross-check that catches two processes configured differently)."""
    from arb_pipeline.storage.repositories.metrics import GAUGE, MetricRepository

    with session_scope(sessions) as session:
        gauges = {s.name: s.value for s in MetricRepository(session).all("arb_worker_")
                  if s.le == GAUGE and not s.labels}
    beat, trading = gauges.get(WORKER_HEARTBEAT), gauges.get(WORKER_TRADING)
    return bool(trading) and beat is not None and 0 <= now.timestamp() - beat <= max_age_s


# ------------------------------------------------------------------------------------------------ running


def worker_settings(settings: Settings) -> Settings:
    """The settings the worker runs with: against the simulator (the default market source) the
    simulator's demo credentials fill in whatever is not configured, as for `arb-pipeline run`."""
    import os

    if os.environ.get("ARB_MARKET_SOURCE", "simulator") in ("", "simulator"):
        from arb_pipeline.services.simulator import simulator_settings

        return simulator_settings(settings)
    return settings


def _nap(stop: threading.Event, seconds: float) -> bool:
    """Sleep up to `seconds` in small steps; True as soon as `stop` is set."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stop.is_set():
            return True
        time.sleep(0.05)
    return stop.is_set()


def run_worker(settings: Settings, *, stop: threading.Event | None = None, max_seconds: float | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """`arb-pipeline worker`: run until `stop` is set (Ctrl-C) or `max_seconds` pass. Returns an exit code."""
    from arb_pipeline.connectors.kalshi.signing import KalshiSigner
    from arb_pipeline.connectors.kalshi.ws import KalshiWsClient, WsConfig, WsThread
    from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
    from arb_pipeline.services.alerts import default_alerter
    from arb_pipeline.storage.db import get_engine, session_factory

    stop = stop or threading.Event()
    sessions = session_factory(get_engine(settings.effective_database_url))
    alert = default_alerter(settings).send
    breaker = CircuitBreaker(sessions, BreakerConfig.from_settings(settings), alert=alert, clock=clock)
    config = ScanConfig.from_settings(settings)
    holder: dict[str, Any] = {}

    def stale(tickers: Sequence[str]) -> list[str]:
        client = holder.get("client")
        return list(tickers) if client is None else client.books.stale(settings.kalshi_ws_stale_s, tickers)

    worker = Worker(settings=settings, sessions=sessions, config=config, books=None, clock=clock,
                    breaker=breaker, stale_books=stale)
    started = time.monotonic()
    while worker.view is None:
        if worker.refresh():
            break
        log.warning("worker: no stored scan yet; waiting for the scan job to store one")
        if _nap(stop, settings.worker_refresh_s) or (max_seconds and time.monotonic() - started > max_seconds):
            return 1
    print(f"worker: trading is for ARB_TRADER={settings.trader}; {settings.mode} mode; "
          f"{len(worker.view.games)} games from scan {worker.view.snapshot_id}", flush=True)
    signer = KalshiSigner.from_settings(settings)
    thread: WsThread | None = None
    tickers: tuple[str, ...] = ()
    last_refresh = last_flush = time.monotonic()
    seen_gaps = seen_drops = 0
    try:
        while not stop.is_set():
            if worker.view.tickers != tickers:  # a new scan with other markets: a new subscription
                if thread is not None:
                    thread.stop()
                tickers = worker.view.tickers
                client = KalshiWsClient(WsConfig.from_settings(settings, tickers), signer, on_book=worker.on_book,
                                        on_message=worker.on_message)
                holder["client"] = client
                worker.books = client.books
                seen_gaps = seen_drops = 0
                thread = WsThread(client).start()
            if not worker.wake.is_set():
                time.sleep(0.002)  # polled, never a timed wait (tests run under libfaketime)
            worker.step()
            now = time.monotonic()
            if now - last_refresh >= settings.worker_refresh_s:
                last_refresh = now
                worker.refresh()
            if now - last_flush >= 1.0:
                last_flush = now
                client = holder["client"]
                reason = client.feed_stale() if now - started > settings.kalshi_ws_stale_s else None
                worker.check_feed(reason)
                worker.flush_health(books_held=len(client.books.books), stale=len(client.stale_books()),
                                    feed_age_s=client.feed_age(), gaps=client.gaps - seen_gaps,
                                    reconnects=client.stats.drops - seen_drops)
                seen_gaps, seen_drops = client.gaps, client.stats.drops
            if max_seconds is not None and now - started > max_seconds:
                break
    finally:
        if thread is not None:
            thread.stop()
    return 0

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
  same breaker, order desk, lease and ledger, as trader "worker", on an execution thread of its own
  (decisions never wait behind an execution; a game in execution is not executed again until it is
  done). Whether it may trade at all is decided there by ARB_TRADER (`scan` by default: the worker
  then only observes and records).
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
from collections import OrderedDict
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
    grouped: Any = None  # `arb.quotes.h2h_by_event(columns)`, once per view (not once per decision)

    def scan_games(self, games: Sequence[GameLine]) -> Any:
        """`games` with their h2h quotes as the scan hands them to detection (`ScanGames`)."""
        from arb_pipeline.arb.quotes import QuoteTable
        from arb_pipeline.services.scan import ScanGames

        table = QuoteTable.for_games(self.columns, games, [self.book_event[g.event_ticker] for g in games],
                                     grouped=self.grouped)
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
    from arb_pipeline.arb.quotes import h2h_by_event

    columns = quote_columns_of(snapshot)
    return ScanView(snapshot_id, snapshot, games, game_of, book_event, columns, h2h_by_event(columns))


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


def trade_snapshot(view: ScanView, found: Sequence[Any], levels: Mapping[str, OrderBookLevels],
                   now: datetime) -> MarketSnapshot:
    """What execution reads of the scan for one game's trade: its Kalshi event, the websocket books it
    was decided on (captured `now`), fees, milestones and the exchange status - not the quotes of every
    game (execution does not read them, and a queued trade would keep them alive)."""
    events = {o.event for o in found}
    event = next(e for e in view.snapshot.events if e.event_ticker in events)
    return replace(view.snapshot, events=(event,), orderbooks=dict(levels), captured_at=now, books_captured_at=now,
                   quotes=(), quote_columns=None, structured_targets={},
                   series_fees={k: v for k, v in view.snapshot.series_fees.items() if k == event.series_ticker})


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
    lag_s: float  # book update received -> decision made (for a trade: handed to the execution thread)
    found: int
    kinds: tuple[str, ...] = ()
    outcome: str = "no_opportunity"  # no_opportunity / skipped / executing -> refused / executed / skipped / error
    reason: str = ""
    orders: list[dict[str, Any]] = field(default_factory=list)
    decided_s: float | None = None  # book update received -> opportunity confirmed, handed to execution
    executed_s: float | None = None  # book update received -> its orders recorded (execution finished)

    def record(self) -> dict[str, Any]:
        return {"type": "decision", "at": self.at.isoformat(), "event": self.event, "trigger": self.trigger,
                "lag_ms": round(self.lag_s * 1000, 3),
                "decided_ms": None if self.decided_s is None else round(self.decided_s * 1000, 3),
                "executed_ms": None if self.executed_s is None else round(self.executed_s * 1000, 3),
                "found": self.found, "kinds": list(self.kinds),
                "outcome": self.outcome, "reason": self.reason[:500], "orders": self.orders}


Execute = Callable[..., Any]


class LagWindow:
    """Book update -> decision times of one reporting window, in bounded memory.

    A fixed-size uniform reservoir (Vitter's algorithm R): up to `size` samples are kept exactly, beyond
    that each new one replaces a random kept one with probability size/n, so the kept ones stay a
    uniform sample of the window and its p99 an unbiased estimate, however many decisions it saw.
    The maximum is kept exactly. `take` hands the window over and starts the next one.
    """

    def __init__(self, size: int = 4096, seed: int = 0) -> None:
        if size < 1:
            raise ValueError(f"LagWindow size must be >= 1, got {size}")
        import random

        self.size = size
        self._rng = random.Random(seed)
        self.samples: list[float] = []
        self.count = 0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.max = max(self.max, seconds)
        if len(self.samples) < self.size:
            self.samples.append(seconds)
        else:
            slot = self._rng.randrange(self.count)
            if slot < self.size:
                self.samples[slot] = seconds

    def quantile(self, q: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    def take(self) -> LagWindow:
        window = LagWindow(self.size)
        window.samples, window.count, window.max = self.samples, self.count, self.max
        self.samples, self.count, self.max = [], 0, 0.0
        return window

    def __len__(self) -> int:
        return len(self.samples)


@dataclass
class _Job:
    """A confirmed decision waiting for (or in) execution. It holds only its own game's part of the scan
    (`trade_snapshot`), never the scan view: a queued trade must not keep a replaced scan alive."""

    decision: Decision
    snapshot: MarketSnapshot
    found: Sequence[Any]
    now: datetime
    since: float


class Worker:
    """Re-evaluates the games whose books changed; see the module docstring.

    Thread model:

    * `on_book` (the websocket thread) only marks the market's **game** pending, with the time of its
      first unhandled update: pending work is coalesced by game (a game touched five times before it is
      evaluated is evaluated once, on the books as they are then), so it is bounded by the number of
      games, never a queue of events;
    * `step` (the worker's evaluation thread, `run_worker`) takes the oldest `batch_games` pending games,
      evaluates them in one detection pass and decides each; a confirmed opportunity is handed to the
      execution queue - a game's latency is measured to that decision;
    * the execution queue holds at most one trade per game, its latest decision (first queued, first
      executed): a game decided again before its turn replaces its queued trade, or withdraws it when
      the opportunity is gone; a trade whose turn comes after ARB_OPPORTUNITY_TTL_S is shed;
    * `execute_next` runs the oldest queued trade through `services.execute` (`start_executions` runs it on
      an execution thread of its own, so evaluation never waits behind the ~0.3 s of database work an
      executed arbitrage costs). While a game's execution runs, its updates wait (coalesced) and are
      evaluated once it is done, on the books then, so an opportunity is never executed twice at once.
      The DB lease, the breaker and the all-or-none preflight are the execution service's, unchanged.

    `books` reads the websocket's books (a `BookStore`-like object with `get`).
    """

    def __init__(self, *, settings: Settings, sessions: sessionmaker[Session], config: ScanConfig,
                 books: Any, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic, breaker: Any = None,
                 records: WorkerRecords | None = None, execute: Execute | None = None,
                 stale_books: Callable[[Sequence[str]], list[str]] | None = None,
                 batch_games: int | None = None) -> None:
        from arb_pipeline.services.execute import execute_opportunities

        self.settings, self.sessions, self.config, self.books = settings, sessions, config, books
        self.clock, self.monotonic = clock, monotonic
        self.breaker = breaker
        self.records = records or WorkerRecords(records_dir(settings))
        self.execute = execute or execute_opportunities
        self.stale_books = stale_books or (lambda tickers: [t for t in tickers if books.get(t) is None])
        self.batch_games = batch_games if batch_games is not None else settings.worker_batch_games
        if self.batch_games < 1:
            raise ValueError(f"ARB_WORKER_BATCH_GAMES must be >= 1, got {self.batch_games}")
        from arb_pipeline.services.scans import executed_kinds

        self.kinds = executed_kinds(settings)  # what execution acts on (arbitrage; value with ARB_TRADE_VALUE)
        self.view: ScanView | None = None
        # event -> monotonic time of its first unhandled update; insertion order is arrival order
        self._pending: dict[str, float] = {}
        self._deferred: dict[str, float] = {}  # the same, for games touched while in execution
        # a game's latest confirmed trade waiting for the execution thread (one per game, first queued first)
        self._queue: OrderedDict[str, _Job] = OrderedDict()
        self._running: set[str] = set()  # games whose execution is in progress
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.lags = LagWindow()  # this window's book update -> decision times
        self.decisions: dict[str, int] = {}
        self.listeners: list[Callable[[Decision], None]] = []  # told of every finished decision
        self._exec_stop = threading.Event()
        self._exec_thread: threading.Thread | None = None

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

    def start_refreshing(self, every_s: float) -> threading.Event:
        """Look for a newer stored scan every `every_s` seconds on a thread of its own: loading one takes
        a second or two at 1,000 games, which the evaluation thread must not wait for (it picks up the
        new view at its next step; the swap is one assignment). Set the returned event to stop it."""
        stop = threading.Event()

        def loop() -> None:
            while not _nap(stop, every_s):
                try:
                    self.refresh()
                except Exception:  # noqa: BLE001 - the held scan stays; retried at the next period
                    log.exception("worker: loading the latest stored scan failed; keeping scan %s",
                                  self.view.snapshot_id if self.view is not None else None)

        threading.Thread(target=loop, name="worker-refresh", daemon=True).start()
        return stop

    # ------------------------------------------------------------ events

    def on_book(self, ticker: str) -> None:
        """A market's book changed: mark its game pending (once, with the time of its first update)."""
        view = self.view
        event = view.game_of.get(ticker) if view is not None else None
        if event is None:
            return  # not a market of a game held: nothing to evaluate
        now = self.monotonic()
        with self._lock:  # set under the lock: a wake-up is never cleared after a mark it did not take
            if event in self._running:
                self._deferred.setdefault(event, now)
            else:
                self._pending.setdefault(event, now)
                self.wake.set()

    def on_message(self, message: Mapping[str, Any]) -> None:
        """Non-book websocket messages: the member's fills are recorded as they arrive (live mode; the
        ledger itself records fills from the execution path, and reconciliation checks it); a market
        determined or settled is finished - its book is dropped and no longer kept."""
        kind = message.get("type")
        msg = message.get("msg")
        if not isinstance(msg, Mapping):
            return
        if kind == "market_lifecycle_v2" and msg.get("event_type") in ("determined", "settled"):
            retire = getattr(self.books, "retire", None)
            if retire is not None and isinstance(msg.get("market_ticker"), str):
                retire(msg["market_ticker"])
            return
        if kind != "fill":
            return
        self.records.append({"type": "fill", "at": self.clock().isoformat(),
                             **{k: msg.get(k) for k in ("trade_id", "order_id", "client_order_id", "market_ticker",
                                                        "outcome_side", "book_side", "yes_price_dollars",
                                                        "count_fp", "fee_cost", "is_taker", "ts_ms")}})

    def take_pending(self, limit: int | None = None) -> dict[str, float]:
        """Up to `limit` pending games (all when None), oldest first; games in execution stay aside."""
        with self._lock:
            taken: dict[str, float] = {}
            for event in list(self._pending):
                if limit is not None and len(taken) >= limit:
                    break
                since = self._pending.pop(event)
                if event in self._running:
                    self._deferred.setdefault(event, since)
                else:
                    taken[event] = since
            if not self._pending:
                self.wake.clear()
        return taken

    def take_dirty(self) -> dict[str, float]:
        """Forget every pending game (e.g. the initial snapshots, which are not a change)."""
        return self.take_pending()

    @property
    def pending(self) -> int:
        """Games waiting for evaluation (at most the number of games held)."""
        with self._lock:
            return len(self._pending) + len(self._deferred)

    @property
    def queued_executions(self) -> int:
        with self._lock:
            return len(self._queue)

    def executing(self, event: str) -> bool:
        with self._lock:
            return event in self._running or event in self._queue

    # ------------------------------------------------------------ deciding

    def step(self) -> list[Decision]:
        """Decide the oldest `batch_games` pending games in one columnar detection pass; the trades found
        are queued for execution (`execute_next`). Returns the decisions made."""
        view = self.view
        if view is None:
            return []
        taken = self.take_pending(self.batch_games)
        since = {event: at for event, at in taken.items() if event in view.games}
        return self.evaluate_many(view, since) if since else []

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
        """Decide the games `since` names (event -> when its first unhandled update arrived): one
        detection pass over them all; each confirmed opportunity is queued for execution."""
        now = self.clock()
        out: list[Decision] = []
        live: dict[str, tuple[GameLine, dict[str, OrderBookLevels]]] = {}
        for event in since:
            got = self.game_with_live_books(view, event, now)
            if isinstance(got, str):
                out.append(self._decided(Decision(now, event, "", self.monotonic() - since[event], 0,
                                                  outcome="skipped", reason=got), record=False))
                self._drop_queued(event, f"withdrawn before its turn to execute: {got}")
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
                out.append(self._decided(decision, record=False))
                self._drop_queued(event, "gone before its turn to execute: no opportunity on newer books")
                continue
            if not any(o.kind in self.kinds for o in found):  # e.g. value bets without ARB_TRADE_VALUE
                decision.outcome = "skipped"
                decision.reason = f"nothing to trade: {', '.join(decision.kinds)} not executed (ARB_TRADE_VALUE)"
                decision.lag_s = self.monotonic() - since[event]
                out.append(self._decided(decision, record=False))
                self._drop_queued(event, "gone before its turn to execute: nothing to trade on newer books")
                continue
            confirmed = self._confirm(view, event)  # the books may have been read between two deltas
            if isinstance(confirmed, str):
                decision.outcome, decision.reason = "skipped", confirmed
                decision.lag_s = self.monotonic() - since[event]
                out.append(self._decided(decision, record=True))
                self._drop_queued(event, "gone before its turn to execute: no opportunity on newer books")
                continue
            found, levels, decided_at = confirmed
            decision.found, decision.kinds = len(found), tuple(sorted({o.kind for o in found}))
            decision.outcome = "executing"
            decision.lag_s = decision.decided_s = self.monotonic() - since[event]
            with self._lock:
                if event in self._running:  # its execution started meanwhile: decide again once it is done
                    self._deferred.setdefault(event, since[event])
                    continue
                replaced = self._queue.get(event)
                self._queue[event] = _Job(decision, trade_snapshot(view, found, levels, decided_at), found,
                                          decided_at, since[event])
            if replaced is not None:
                self._supersede(replaced, "superseded before its turn to execute: the game was decided again "
                                          "on newer books", record=False)  # the newer decision is recorded
            out.append(self._decided(decision, record=False))
        return out

    def _drop_queued(self, event: str, why: str) -> None:
        """A game decided again without a trade: a trade of it still waiting in the queue is withdrawn."""
        with self._lock:
            job = self._queue.pop(event, None)
        if job is not None:
            self._supersede(job, why)

    def _supersede(self, job: _Job, why: str, *, record: bool = True) -> None:
        job.decision.outcome, job.decision.reason = "skipped", why
        job.decision.executed_s = self.monotonic() - job.since
        self._finished(job.decision, record=record)

    def _confirm(self, view: ScanView, event: str) -> tuple[list[Any], dict[str, OrderBookLevels], datetime] | str:
        """Read the game's books again and detect once more before anything is sent: a book read while
        the websocket thread was between two deltas of one exchange update is a state that never
        existed; only what is still there on a second read goes to execution."""
        now = self.clock()
        got = self.game_with_live_books(view, event, now)
        if isinstance(got, str):
            return got
        game, levels = got
        found = [o for o in detect_opportunities(view.scan_games([game]), self.config, now,
                                                 trading_active=view.snapshot.exchange.trading_active).opportunities
                 if o.kind in self.kinds]
        if not found:
            return "gone when the books were read again (an intermediate state between deltas)"
        return found, levels, now

    # ------------------------------------------------------------ executing

    def execute_next(self) -> Decision | None:
        """Run the oldest queued execution on the calling thread; its finished decision, or None when
        nothing is queued. The game's updates that arrived meanwhile are then pending again."""
        with self._lock:
            if not self._queue:
                return None
            event, job = self._queue.popitem(last=False)
            self._running.add(event)
        decision = job.decision
        waited = (self.clock() - job.now).total_seconds()
        if waited > self.settings.opportunity_ttl_s:  # shed at once: the service would refuse it at send time
            decision.outcome = "skipped"
            decision.reason = (f"expired in the execution queue: decided {waited:.1f}s ago, "
                               f"ARB_OPPORTUNITY_TTL_S {self.settings.opportunity_ttl_s:g}s")
            report = None
        else:
            try:
                report = self._execute(job.snapshot, job.found, job.now)
            except Exception as exc:  # noqa: BLE001 - recorded and logged; the worker keeps deciding
                log.exception("worker: execution of %s failed", decision.event)
                decision.outcome, decision.reason = "error", f"execution failed: {type(exc).__name__}: {exc}"
                report = None
        if report is not None:
            if report.refused:
                decision.outcome, decision.reason = "refused", report.refused
            else:
                decision.orders = [{"client_order_id": o.client_order_id, "ticker": o.ticker, "side": o.side,
                                    "status": o.status, "fill_count": str(o.fill_count), "cost": str(o.cost),
                                    "reason": o.reason} for o in report.orders]
                if report.orders_sent:
                    decision.outcome = "executed"
                else:  # nothing left (refused by the preflight, or already sent: never resent)
                    decision.outcome = "skipped"
                    decision.reason = "; ".join(f"{what}: {why}" for what, why in report.skipped)
        decision.executed_s = self.monotonic() - job.since
        with self._lock:
            self._running.discard(decision.event)
            again = self._deferred.pop(decision.event, None)
            if again is not None:
                self._pending.setdefault(decision.event, again)
                self.wake.set()
        self._finished(decision)
        return decision

    def start_executions(self) -> None:
        """Run the queued executions on a thread of their own (stopped by `stop_executions`)."""
        if self._exec_thread is not None and self._exec_thread.is_alive():
            return
        self._exec_stop.clear()

        def loop() -> None:
            while not self._exec_stop.is_set():
                if self.execute_next() is None:
                    time.sleep(0.002)  # polled, never a timed wait (tests run under libfaketime)

        self._exec_thread = threading.Thread(target=loop, name="worker-executions", daemon=True)
        self._exec_thread.start()

    def stop_executions(self) -> None:
        """Stop the execution thread after the execution in progress (queued ones are left)."""
        self._exec_stop.set()
        thread = self._exec_thread
        if thread is not None:
            while thread.is_alive():  # polled join (libfaketime)
                time.sleep(0.01)
        self._exec_thread = None

    def _execute(self, snapshot: MarketSnapshot, found: Sequence[Any], now: datetime) -> Any:
        from arb_pipeline.services.execute import ExecutionContext
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

    def _decided(self, decision: Decision, *, record: bool) -> Decision:
        """A decision made on the evaluation thread: its latency counts now; a trade is finished later."""
        with self._lock:
            self.lags.add(decision.lag_s)
        if decision.outcome != "executing":
            self._finished(decision, record=record)
        return decision

    def _finished(self, decision: Decision, *, record: bool = True) -> None:
        with self._lock:
            self.decisions[decision.outcome] = self.decisions.get(decision.outcome, 0) + 1
        if record:
            self.records.append(decision.record())
            log.info("worker: %s %s (%d found) %s", decision.event, decision.outcome, decision.found,
                     decision.reason[:200])
        for listener in self.listeners:
            listener(decision)

    # ------------------------------------------------------------ health

    def flush_health(self, *, books_held: int, stale: int, feed_age_s: float | None, gaps: int = 0,
                     reconnects: int = 0) -> None:
        """Write liveness, lag and book state to the shared metric registry (one transaction)."""
        from arb_pipeline.storage.repositories.metrics import MetricRepository

        with self._lock:
            lags = self.lags.take()
            decisions, self.decisions = self.decisions, {}
        with session_scope(self.sessions) as session:
            repo = MetricRepository(session)
            repo.set_gauge(WORKER_HEARTBEAT, self.clock().timestamp())
            repo.set_gauge(WORKER_TRADING, 1.0 if self.settings.trader == "worker" else 0.0)
            repo.set_gauge(WORKER_BOOKS, float(books_held), {"state": "held"})
            repo.set_gauge(WORKER_BOOKS, float(stale), {"state": "stale"})
            repo.set_gauge(WORKER_FEED_AGE, feed_age_s if feed_age_s is not None else -1.0)
            p99 = lags.quantile(0.99)
            if p99 is not None:
                repo.set_gauge(WORKER_LAG_P99, p99)
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


def _every(seconds: float, action: Callable[[], None], name: str) -> threading.Event:
    """Run `action` every `seconds` on a daemon thread until the returned event is set; a failure is
    logged and the next period tries again."""
    stop = threading.Event()

    def loop() -> None:
        while not _nap(stop, seconds):
            try:
                action()
            except Exception:  # noqa: BLE001 - logged; the worker keeps running
                log.exception("worker: %s failed", name)

    threading.Thread(target=loop, name=name, daemon=True).start()
    return stop


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
    seen: dict[str, Any] = {"client": None, "gaps": 0, "drops": 0}

    def report_health() -> None:
        """Once a second, on its own thread (a database write can wait for a lock - SQLite's, held by the
        scan job storing a snapshot - and decisions must not wait with it): the breaker's stale-feed rule,
        liveness, lag and book state."""
        client = holder.get("client")
        if client is None:
            return
        if seen["client"] is not client:  # a new subscription counts from zero
            seen.update(client=client, gaps=0, drops=0)
        reason = client.feed_stale() if time.monotonic() - started > settings.kalshi_ws_stale_s else None
        worker.check_feed(reason)
        worker.flush_health(books_held=len(client.books.books), stale=len(client.stale_books()),
                            feed_age_s=client.feed_age(), gaps=client.gaps - seen["gaps"],
                            reconnects=client.stats.drops - seen["drops"])
        seen.update(gaps=client.gaps, drops=client.stats.drops)

    health = _every(1.0, report_health, "worker-health")
    worker.start_executions()
    refresher = worker.start_refreshing(settings.worker_refresh_s)
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
                thread = WsThread(client).start()
            if not worker.wake.is_set():
                time.sleep(0.002)  # polled, never a timed wait (tests run under libfaketime)
            worker.step()
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
    finally:
        if thread is not None:
            thread.stop()
        refresher.set()
        health.set()
        worker.stop_executions()
    return 0

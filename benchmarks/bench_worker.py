"""The websocket worker: book update -> order decision latency at 1,000 games, faults, and memory over a soak.

Set up like the field: the **venue simulator runs in a process of its own** (Kalshi is remote in
production), and this process holds only what the worker process holds in production - the websocket
client (`connectors.kalshi.ws`, one connection, `orderbook_delta` in subscriptions of 500 markets) and
the worker (`services.worker.Worker`, ARB_TRADER=worker, paper mode, SQLite, executions on their own
thread), driven by the same loop as `run_worker` (step when woken, 2 ms poll, health flushed every
second). Nothing is stubbed. Book changes are made in the simulator's matching engine through a pipe
to its process (a market-maker order placed at, or cancelled from, the best bid, under the engine
lock), and stamped there with the system-wide monotonic clock, which this process reads too.

* **isolated updates** (`--updates`): one market at a time. *internal* = the first websocket message for
  the game received -> decision made (detection through `services.scan`, a trade handed to the execution
  thread); *end to end* = book changed in the simulator's engine -> decision made (includes the
  simulator's 20 ms publishing interval, the websocket and the client's parsing);
* **bursts** (`--bursts` x `--burst-size` markets changed at once, in one engine transaction): every
  game's decision is timed; games are decided `ARB_WORKER_BATCH_GAMES` at a time, oldest first;
* **arbitrages** (`--arbs`): an arbitrage injected in the simulator (edge 0.03): injection -> trade
  decided, and injection -> paper orders recorded (`services.execute`, on the execution thread);
* **faults** (`--fault-rounds`): rounds of changes with `ws_delay`, `ws_gap` and `ws_drop` switched on in
  the simulator; then every change must have reached a decision, every gap must have been detected and
  re-snapshotted, and every book the client holds must equal the simulator's exactly (Decimal levels);
* **soak** (`--soak-s`): `--soak-rate` updates per second, every `--soak-tick-s` one random-walk step of
  the whole simulated world (every market requotes: a burst of all books), an arbitrage injected every
  `--soak-arb-s`, and - as the scan job does - a fresh capture stored every `--soak-scan-s` (by the
  simulator's process, so the odds the worker holds are current; the worker reloads it as `run_worker`
  does, every ARB_WORKER_REFRESH_S). This process's RSS is printed at the start, after a minute, every
  5 minutes and at the end, with that interval's decision lag, the pending games, the queued
  executions, gaps and reconnects and the load average. `--tracemalloc` adds the top allocation
  growth between minute 1 and the end (slower: for finding leaks, not for the latency figures).

    uv run --frozen python benchmarks/bench_worker.py                     # 1,000 games, no soak
    nice -n 10 uv run --frozen python benchmarks/bench_worker.py --updates 0 --bursts 0 --arbs 0 \\
        --fault-rounds 0 --soak-s 1800 --book-age-s 180
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_MS = 100.0  # issue #13: book update -> order decision <= 100 ms p99 at 1,000 games


# ------------------------------------------------------------------------------------------ the venue process


def capture_and_store(settings, db_url: str) -> None:  # noqa: ANN001 - Settings
    """One capture from the simulator, stored as a scan's snapshot (what the worker loads its view from)."""
    from arb_pipeline.services.ingest import capture_from_settings
    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.repositories import SnapshotRepository

    capture = capture_from_settings(settings, source="simulator")
    with session_scope(session_factory(get_engine(db_url))) as session:
        SnapshotRepository(session).append(captured_at=capture.snapshot.captured_at, source="simulator",
                                           payloads=capture.payloads,
                                           books_captured_at=capture.snapshot.books_captured_at,
                                           stored_at=datetime.now(UTC))


def sim_main(conn, games: int, seed: int, db_url: str, book_age_s: float) -> None:  # noqa: C901 - a command loop
    """The simulator's own process: serves HTTP + websocket, and answers the benchmark's commands."""
    from bench_pipeline_latency import games_per_league, multi_day_slate

    import arb_pipeline.sim.scenario as sim_scenario
    from arb_pipeline.sim.exchange import MM
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    scenario = ScenarioConfig(seed=seed, live_clock=True, games_per_league=games_per_league(games),
                              tick_s=3600.0, arb_rate_per_hour=0.0, value_rate_per_hour=0.0,
                              window_lifetime_s=20.0)
    one_day = sim_scenario.build_slate
    sim_scenario.build_slate = multi_day_slate(one_day)
    try:
        manager = start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None))
        sim = manager.__enter__()
    finally:
        sim_scenario.build_slate = one_day
    engine = sim.scenario
    conn.send({"kalshi_base_url": sim.kalshi_base_url, "kalshi_ws_url": sim.kalshi_ws_url, "key_id": sim.key_id,
               "pem": sim.private_key_pem.decode(), "odds_base_url": sim.odds_base_url,
               "odds_key": sim.odds_api_key})
    resting: dict[str, str] = {}  # ticker -> the bench's resting order (the next change cancels it)

    def change(tickers):
        out = []
        with engine.lock:
            for ticker in tickers:
                order = engine.exchange.orders.get(resting.pop(ticker, ""))
                if order is not None and order.status == "resting":  # (a requote may have taken it)
                    engine.exchange.cancel(order.order_id)
                else:
                    yes, _ = engine.exchange.books[ticker].levels()
                    price = yes[-1][0] if yes else Decimal("0.05")
                    order, _ = engine.exchange.place(ticker, "bid", price, Decimal("1"), owner=MM, tag="bench")
                    resting[ticker] = order.order_id
                out.append((ticker, time.monotonic()))
        return out

    def store_scan() -> float:
        from arb_pipeline.settings import Settings

        started = time.monotonic()
        settings = Settings(_env_file=None, DATABASE_URL=db_url, KALSHI_BASE_URL=sim.kalshi_base_url,
                            KALSHI_API_KEY_ID=sim.key_id, KALSHI_PRIVATE_KEY_PEM=sim.private_key_pem.decode(),
                            ODDS_API_BASE_URL=sim.odds_base_url, ODDS_API_KEY=sim.odds_api_key,
                            ARB_MAX_BOOK_QUOTE_AGE_S=book_age_s)
        capture_and_store(settings, db_url)
        return time.monotonic() - started

    try:
        while True:
            command, arg = conn.recv()
            try:
                if command == "stop":
                    conn.send(None)
                    break
                if command == "change":
                    conn.send(change(arg))
                elif command == "inject":
                    t0 = time.monotonic()
                    try:
                        window = engine.inject_arbitrage(arg, edge=Decimal("0.03"), lifetime_s=20)
                    except ValueError as exc:
                        conn.send(("refused", str(exc)))
                        continue
                    conn.send((t0, window))
                elif command == "tick":
                    with engine.lock:  # one random-walk step now, clock untouched: every market requotes
                        engine._step(engine.now())
                        engine._requote_all()
                    conn.send(None)
                elif command == "fault":
                    kind, params = arg
                    sim.faults.set(kind, **params)
                    conn.send(None)
                elif command == "faults_left":
                    conn.send(sim.faults.active())
                elif command == "books":
                    with engine.lock:
                        conn.send({t: tuple(tuple((str(p), str(c)) for p, c in side)
                                            for side in engine.exchange.books[t].levels()) for t in arg})
                elif command == "store_scan":
                    conn.send(store_scan())
                elif command == "rss":
                    conn.send(rss_mb())
                else:
                    conn.send(("error", f"unknown command {command!r}"))
            except Exception as exc:  # noqa: BLE001 - reported to the benchmark, which stops
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        manager.__exit__(None, None, None)


class Venue:
    """The benchmark's end of the pipe to the simulator's process."""

    def __init__(self, games: int, seed: int, db_url: str, book_age_s: float) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=sim_main, args=(child, games, seed, db_url, book_age_s), daemon=True,
                                   name="bench-simulator")
        self.process.start()
        self.lock = threading.Lock()
        self.info = self.conn.recv()

    def ask(self, command: str, arg=None):
        with self.lock:
            self.conn.send((command, arg))
            reply = self.conn.recv()
        if isinstance(reply, tuple) and reply and reply[0] == "error":
            raise SystemExit(f"simulator: {reply[1]}")
        return reply

    def stop(self) -> None:
        try:
            self.ask("stop")
        finally:
            self.process.join(30)
            if self.process.is_alive():
                self.process.kill()


# ------------------------------------------------------------------------------------------ measuring


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def show(name: str, values_s: list[float], target_ms: float | None = None) -> None:
    ms = [v * 1000 for v in values_s]
    if not ms:
        print(f"  {name:40s} no samples")
        return
    verdict = ""
    if target_ms is not None:
        verdict = f"  (target p99 <= {target_ms:g} ms: {'met' if pct(ms, 0.99) <= target_ms else 'NOT met'})"
    print(f"  {name:40s} n={len(ms):5d}  p50 {statistics.median(ms):7.2f}  p90 {pct(ms, 0.9):7.2f}  "
          f"p99 {pct(ms, 0.99):7.2f}  max {max(ms):7.2f} ms{verdict}")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class Bench:
    """The worker process's side: client + worker + the `run_worker` loop, and the timing of each change."""

    def __init__(self, venue: Venue, settings, *, sample_cap: int = 200_000) -> None:
        from arb_pipeline.connectors.kalshi import KalshiSigner
        from arb_pipeline.connectors.kalshi.ws import KalshiWsClient, WsConfig, WsThread
        from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
        from arb_pipeline.services.scan import ScanConfig
        from arb_pipeline.services.worker import Worker
        from arb_pipeline.storage.db import get_engine, session_factory

        self.venue, self.settings = venue, settings
        sessions = session_factory(get_engine(settings.effective_database_url))
        self.breaker = CircuitBreaker(sessions, BreakerConfig.from_settings(settings), alert=lambda *a: None)
        self.worker = Worker(settings=settings, sessions=sessions, config=ScanConfig.from_settings(settings),
                             books=None, breaker=self.breaker)
        assert self.worker.refresh(), "no stored scan"
        view = self.worker.view
        self.client = KalshiWsClient(WsConfig.from_settings(settings, view.tickers),
                                     KalshiSigner.from_settings(settings), on_book=self.worker.on_book,
                                     on_message=self.worker.on_message)
        self.worker.books = self.client.books
        self.worker.stale_books = lambda ts: self.client.books.stale(settings.kalshi_ws_stale_s, ts)
        self.thread = WsThread(self.client).start()
        self.lock = threading.Lock()
        self.want: dict[str, float] = {}  # event -> monotonic time of its first unanswered change
        self.e2e: list[float] = []
        self.internal: list[float] = []
        self.all_lags: list[float] = []  # every decision's internal lag (soak windows)
        self.sample_cap = sample_cap
        self.decided_at: dict[str, float] = {}  # event -> last "executing" decision time (arbitrages)
        self.executed_at: dict[str, float] = {}  # event -> last executed decision time
        self.outcomes: dict[str, int] = {}
        self.worker.listeners.append(self._finished)
        self.stop = threading.Event()
        self.seen = (0, 0)
        self.loop = threading.Thread(target=self._run, name="worker", daemon=True)

    def _finished(self, decision) -> None:
        now = time.monotonic()
        with self.lock:
            self.outcomes[decision.outcome] = self.outcomes.get(decision.outcome, 0) + 1
            if decision.outcome == "executed":
                self.executed_at[decision.event] = now

    def wait_books(self) -> None:
        deadline = time.monotonic() + 300
        while len(self.client.books.books) < len(self.worker.view.tickers):
            if time.monotonic() > deadline:
                raise SystemExit("the books did not arrive")
            time.sleep(0.05)

    def _run(self) -> None:
        """`run_worker`'s evaluation loop: step when woken (2 ms poll). Health goes to the registry once a
        second and a newer scan is loaded on threads of their own (`health` / `start_refreshing`), as there."""
        while not self.stop.is_set():
            if not self.worker.wake.is_set():
                time.sleep(0.002)
            decisions = self.worker.step()
            now = time.monotonic()
            with self.lock:
                for d in decisions:
                    if len(self.all_lags) < self.sample_cap:
                        self.all_lags.append(d.lag_s)
                    started = self.want.pop(d.event, None)
                    if started is not None and len(self.e2e) < self.sample_cap:
                        self.e2e.append(now - started)
                        self.internal.append(d.lag_s)
                    if d.outcome == "executing":
                        self.decided_at[d.event] = now

    def health(self) -> None:
        client = self.client
        self.worker.flush_health(books_held=len(client.books.books), stale=len(client.stale_books()),
                                 feed_age_s=client.feed_age(), gaps=client.gaps - self.seen[0],
                                 reconnects=client.stats.drops - self.seen[1])
        self.seen = (client.gaps, client.stats.drops)

    def change(self, tickers: list[str]) -> None:
        """Change these markets' books in the simulator at once; each game's clock starts at its first."""
        game_of = self.worker.view.game_of  # a newer scan may have dropped a game (started): not timed
        tickers = [t for t in tickers if t in game_of]
        sent = time.monotonic()
        with self.lock:  # provisional start (before the change): a decision can beat the pipe's reply
            for ticker in tickers:
                self.want.setdefault(game_of[ticker], sent)
        stamped = self.venue.ask("change", tickers) if tickers else []
        with self.lock:
            firsts: dict[str, float] = {}
            for ticker, t0 in stamped:
                firsts.setdefault(game_of[ticker], t0)
            for event, t0 in firsts.items():
                if self.want.get(event) == sent:
                    self.want[event] = t0

    def settle(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if not self.want:
                    return
            if time.monotonic() > deadline:
                with self.lock:
                    raise SystemExit(f"{len(self.want)} change(s) never reached a decision (MISSED updates)")
            time.sleep(0.001)

    def reset(self) -> None:
        with self.lock:
            self.e2e, self.internal, self.all_lags = [], [], []

    def take_lags(self) -> tuple[list[float], list[float]]:
        with self.lock:
            out = (self.all_lags, self.e2e)
            self.all_lags, self.e2e, self.internal = [], [], []
        return out


# ------------------------------------------------------------------------------------------ phases


def isolated(bench: Bench, rng: random.Random, tickers: list[str], n: int) -> None:
    for i in range(n):
        bench.change([rng.choice(tickers)])
        bench.settle()
        if i == 20:
            bench.reset()  # warm-up
    print(f"isolated updates (one market at a time, {n} changes, the first 21 as warm-up):")
    show("internal: ws message -> decision", bench.internal)
    show("end to end: book change -> decision", bench.e2e, TARGET_MS)


def bursts(bench: Bench, rng: random.Random, tickers: list[str], n: int, size: int) -> None:
    bench.reset()
    cpu0, wall0 = cpu_s(), time.monotonic()
    for _ in range(n):
        bench.change(rng.sample(tickers, min(size, len(tickers))))
        bench.settle(120)
        time.sleep(0.5)  # let the burst's last messages drain before the next
    print(f"bursts ({n} x {size} markets changed at once, games decided {bench.worker.batch_games} at a time; "
          f"this process: {cpu_s() - cpu0:.1f} s CPU in {time.monotonic() - wall0:.1f} s):")
    show("internal: ws message -> decision", bench.internal)
    show("end to end: book change -> decision", bench.e2e, TARGET_MS)


def arbitrages(bench: Bench, rng: random.Random, n: int) -> None:
    decided: list[float] = []
    executed: list[float] = []
    games = sorted(bench.worker.view.games)
    for _ in range(n):
        event = rng.choice(games)
        with bench.lock:
            bench.decided_at.pop(event, None)
            bench.executed_at.pop(event, None)
        reply = bench.venue.ask("inject", event)
        if reply[0] == "refused":
            continue
        t0, window = reply
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with bench.lock:
                done = bench.executed_at.get(event)
                made = bench.decided_at.get(event)
            if done is not None:
                decided.append((made or done) - t0)
                executed.append(done - t0)
                break
            time.sleep(0.001)
        else:
            records, _ = bench.worker.records.read_after(0, limit=100_000)
            mine = [r for r in records if r.get("event") == event]
            print(f"  arbitrage on {event} was not executed within 30 s: "
                  f"{[(r['outcome'], r['reason'][:300]) for r in mine][-3:]}")
        time.sleep(0.2)
    print(f"injected arbitrages ({n}, edge 0.03; the clock starts at the injection in the simulator):")
    show("injection -> trade decided", decided, TARGET_MS)
    show("injection -> paper orders recorded", executed)


def faults(bench: Bench, rng: random.Random, tickers: list[str], rounds: int) -> bool:
    """Changes under ws_delay / ws_gap / ws_drop; then nothing may be missing and every book exact."""
    client = bench.client
    gaps0, drops0, resubs0 = client.gaps, client.stats.drops, client.stats.resubscribes
    injected_gaps = injected_drops = 0
    bench.reset()
    for i in range(rounds):
        bench.venue.ask("fault", ("ws_delay", {"delay_s": 0.002, "count": 200}))
        bench.venue.ask("fault", ("ws_gap", {"count": 1}))
        injected_gaps += 1
        if i % 2 == 1:
            bench.venue.ask("fault", ("ws_drop", {"count": 1}))
            injected_drops += 1
        for _ in range(5):
            bench.change(rng.sample(tickers, 20))
            time.sleep(0.05)
        bench.settle(180)
    deadline = time.monotonic() + 120
    while bench.venue.ask("faults_left") and time.monotonic() < deadline:
        bench.change(rng.sample(tickers, 5))  # a gap fault waits for a delta to swallow
        bench.settle(180)
    left = bench.venue.ask("faults_left")
    # quiet: every book snapshotted again after the last fault, then compared with the engine's
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(client.books.books) < len(bench.worker.view.tickers)
                                           or client.feed_age() is None or client.feed_age() < 1.0):
        time.sleep(0.1)
    wanted = sorted(bench.worker.view.game_of)
    truth = bench.venue.ask("books", wanted)
    def exact(levels) -> tuple:
        return tuple(tuple((Decimal(p), Decimal(c)) for p, c in side) for side in levels)

    differ = []
    for ticker in wanted:
        book = client.books.get(ticker)
        if book is None or exact((book.levels().yes, book.levels().no)) != exact(truth[ticker]):
            differ.append(ticker)
    gaps, drops = client.gaps - gaps0, client.stats.drops - drops0
    print(f"faults ({rounds} rounds of 100 changes with ws_delay 2 ms x 200 messages, {injected_gaps} ws_gap, "
          f"{injected_drops} ws_drop):")
    print(f"  gaps detected {gaps} (injected {injected_gaps}), resubscribes {client.stats.resubscribes - resubs0}, "
          f"reconnects {drops} (injected {injected_drops}); faults not consumed: {len(left)}")
    print(f"  every change reached a decision: yes (settled); books equal to the simulator's exactly: "
          f"{len(wanted) - len(differ)} of {len(wanted)}" + (f" - DIFFER: {differ[:5]}" if differ else ""))
    show("end to end under faults: change -> decision", bench.e2e)
    ok = not differ and gaps >= injected_gaps and drops == injected_drops and not left
    print(f"  missed updates: {'0' if ok else 'SOME (see above)'}")
    return ok


def soak(bench: Bench, rng: random.Random, tickers: list[str], args) -> None:
    import tracemalloc

    games = sorted(bench.worker.view.games)
    print(f"soak: {args.soak_s:.0f} s at {args.soak_rate:g} updates/s; every market requotes every "
          f"{args.soak_tick_s:g} s; an arbitrage every {args.soak_arb_s:g} s; a scan stored every "
          f"{args.soak_scan_s:g} s; {load()}", flush=True)
    bench.reset()
    client, worker = bench.client, bench.worker
    start = time.monotonic()
    cpu0 = cpu_s()
    rss0 = rss_mb()
    print(f"  t=    0 s  RSS {rss0:7.1f} MB (simulator process {bench.venue.ask('rss'):.0f} MB)", flush=True)
    marks = [60.0] + [300.0 * k for k in range(1, int(args.soak_s // 300) + 1)]
    marks = [m for m in marks if m < args.soak_s]
    next_tick, next_arb, next_scan = start + args.soak_tick_s, start + args.soak_arb_s, start + args.soak_scan_s
    period = 1.0 / args.soak_rate
    scans, scan_s, arbs = 0, [], 0
    traced = None
    peak = rss0
    last_mark_t, last_cpu = 0.0, cpu0

    def report(t: float) -> None:
        nonlocal last_mark_t, last_cpu
        lags, e2e = bench.take_lags()
        cpu = cpu_s()
        with bench.lock:
            outcomes = dict(bench.outcomes)
        print(f"  t={t:5.0f} s  RSS {rss_mb():7.1f} MB  decisions {len(lags):6d} lag p50 {pct(lags, .5) * 1000:6.1f} "
              f"p99 {pct(lags, .99) * 1000:7.1f} ms, ours end-to-end p99 {pct(e2e, .99) * 1000:7.1f} ms; pending "
              f"{worker.pending}, queued executions {worker.queued_executions}; gaps {client.gaps}, reconnects "
              f"{client.stats.drops}; CPU {(cpu - last_cpu) / max(1e-9, t - last_mark_t) * 100:4.0f} %; "
              f"outcomes {outcomes}; {load()}", flush=True)
        last_mark_t, last_cpu = t, cpu

    while (now := time.monotonic()) - start < args.soak_s:
        bench.change([rng.choice(tickers)])  # timed, not awaited: the flow keeps going
        if now >= next_tick:
            next_tick += args.soak_tick_s
            bench.venue.ask("tick")
        if now >= next_arb:
            next_arb += args.soak_arb_s
            if bench.venue.ask("inject", rng.choice(games))[0] != "refused":
                arbs += 1
        if now >= next_scan:
            next_scan += args.soak_scan_s
            scan_s.append(bench.venue.ask("store_scan"))
            scans += 1
        if marks and now - start >= marks[0]:
            mark = marks.pop(0)
            report(mark)
            if args.tracemalloc and mark == 60.0:
                tracemalloc.start(args.tracemalloc)
                traced = tracemalloc.take_snapshot()
        peak = max(peak, rss_mb())
        time.sleep(period)
    report(time.monotonic() - start)
    with bench.lock:
        outcomes = dict(bench.outcomes)
    print(f"  end: RSS {rss0:.1f} -> {rss_mb():.1f} MB (peak sampled {peak:.1f}); {scans} scans stored "
          f"(capture+store p50 {pct(scan_s, .5):.1f} s in the simulator's process), worker holds scan "
          f"{worker.view.snapshot_id}; {arbs} arbitrages injected; outcomes {outcomes}; gaps {client.gaps}, "
          f"reconnects {client.stats.drops}; this process {cpu_s() - cpu0:.0f} s CPU in "
          f"{time.monotonic() - start:.0f} s; {load()}", flush=True)
    if traced is not None:
        after = tracemalloc.take_snapshot()
        print("  tracemalloc, growth from minute 1 to the end (top 15 lines):")
        for stat in after.compare_to(traced, "traceback" if args.tracemalloc > 1 else "lineno")[:15]:
            print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {stat.traceback.format()[-1].strip()}")
            if args.tracemalloc > 1:
                for line in stat.traceback.format()[:-1][-6:]:
                    print(f"        {line.strip()}")
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--burst-size", type=int, default=200)
    parser.add_argument("--batch-games", type=int, default=None, help="ARB_WORKER_BATCH_GAMES (default: settings)")
    parser.add_argument("--arbs", type=int, default=10)
    parser.add_argument("--fault-rounds", type=int, default=6)
    parser.add_argument("--soak-s", type=float, default=0.0)
    parser.add_argument("--soak-rate", type=float, default=50.0)
    parser.add_argument("--soak-tick-s", type=float, default=60.0)
    parser.add_argument("--soak-arb-s", type=float, default=10.0)
    parser.add_argument("--soak-scan-s", type=float, default=60.0)
    parser.add_argument("--tracemalloc", type=int, default=0, help="frames per allocation traced (0: off)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--book-age-s", type=float, default=86400.0,
                        help="ARB_MAX_BOOK_QUOTE_AGE_S (default a day: without a soak no new scan is stored)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"bench_worker: {args.games} games; simulator in its own process; {load()}; {os.cpu_count()} CPUs",
          flush=True)

    from arb_pipeline.services.worker import _every
    from arb_pipeline.settings import Settings
    from arb_pipeline.storage.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench_worker_") as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade(url)
        started = time.monotonic()
        venue = Venue(args.games, args.seed, url, args.book_age_s)
        print(f"  simulator process up in {time.monotonic() - started:.1f} s", flush=True)
        info = venue.info
        extra = {} if args.batch_games is None else {"ARB_WORKER_BATCH_GAMES": args.batch_games}
        settings = Settings(_env_file=None, ARB_DATA_DIR=tmp, DATABASE_URL=url, ARB_TRADER="worker",
                            KALSHI_BASE_URL=info["kalshi_base_url"], KALSHI_API_KEY_ID=info["key_id"],
                            KALSHI_PRIVATE_KEY_PEM=info["pem"], ODDS_API_BASE_URL=info["odds_base_url"],
                            ODDS_API_KEY=info["odds_key"], ARB_MAPPING_OVERRIDES=f"{tmp}/none.yaml",
                            ARB_PAPER_LATENCY_MS=0, ARB_MAX_BOOK_QUOTE_AGE_S=args.book_age_s, **extra)
        try:
            started = time.monotonic()
            capture_and_store(settings, url)
            print(f"  capture + store: {time.monotonic() - started:.1f} s", flush=True)
            started = time.monotonic()
            bench = Bench(venue, settings)
            view = bench.worker.view
            print(f"  worker holds {len(view.games)} games, {len(view.game_of)} markets "
                  f"(loaded in {time.monotonic() - started:.1f} s)", flush=True)
            started = time.monotonic()
            bench.wait_books()
            print(f"  all {len(view.game_of)} books snapshotted over the websocket in "
                  f"{time.monotonic() - started:.1f} s", flush=True)
            bench.worker.start_executions()
            refresher = bench.worker.start_refreshing(settings.worker_refresh_s)
            health = _every(1.0, bench.health, "worker-health")
            bench.loop.start()
            time.sleep(1.0)
            with bench.lock:
                bench.want.clear()
            bench.reset()
            tickers = list(view.game_of)
            if args.updates:
                isolated(bench, rng, tickers, args.updates)
            if args.bursts:
                bursts(bench, rng, tickers, args.bursts, args.burst_size)
            if args.arbs:
                arbitrages(bench, rng, args.arbs)
            if args.fault_rounds:
                faults(bench, rng, tickers, args.fault_rounds)
            if args.soak_s > 0:
                soak(bench, rng, tickers, args)
            bench.stop.set()
            bench.thread.stop()
            refresher.set()
            health.set()
            bench.worker.stop_executions()
            print(f"done; {load()}", flush=True)
        finally:
            venue.stop()


if __name__ == "__main__":
    main()

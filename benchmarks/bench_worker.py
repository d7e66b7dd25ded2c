"""The websocket worker: book update -> order decision latency at 1,000 games, and memory over a soak.

What is measured (nothing is stubbed):

* the local venue simulator (real HTTP for the capture, a real websocket for the books; rate limits
  off), live clock, no random windows or random walk ticks during the measurement (tick 1 h: the
  benchmark makes the book changes itself), `--games` games over NFL/NBA/NHL/MLB/EPL (a multi-day slate
  as in `bench_pipeline_latency.py`), a uvicorn thread of this process (it shares the GIL with the worker:
  a pessimistic set-up);
* sportsbook quotes do not move (no random-walk ticks), so ARB_MAX_BOOK_QUOTE_AGE_S is lifted to a day:
  otherwise every game would be rejected for stale odds three minutes in and nothing would trade;
* one capture through `services.ingest` stored in a temporary migrated SQLite database, the worker
  (`services.worker.Worker`) holding it, ARB_TRADER=worker, paper mode, its books from
  `connectors.kalshi.ws` (one connection, `orderbook_delta` in subscriptions of 500 markets);
* **isolated updates** (`--updates`): one market at a time, a market-maker order joins the best bid in
  the simulator's matching engine (under the engine lock) at t0; the simulator's hub publishes the
  delta (it pumps every 20 ms), the client applies it, the worker re-evaluates that game (detection
  through `services.scan`, execution through `services.execute` when something is found). Two
  figures: *internal* = first websocket message for the game received -> decision made, and
  *end to end* = book changed in the engine -> decision made (includes the hub's pump interval);
* **bursts** (`--bursts`): `--burst-size` markets changed at once; every game's lag is counted
  (the last game of a burst waits for the ones before it);
* **arbitrages** (`--arbs`): an arbitrage injected in the simulator (edge 0.03) -> the worker's paper
  orders recorded (`executed`), end to end;
* **soak** (`--soak-s`): updates at `--soak-rate` per second, and every `--soak-tick-s` seconds one
  random-walk step of the whole simulated world (every market requotes: a burst of all books; the
  clock is not moved); the worker writes its health to the registry once a second as `run_worker`
  does; the process's RSS (simulator + client + worker) sampled every 10 s. As the held odds are never
  refreshed (no scan job runs), the random walk soon opens gaps against them that detection reports
  and execution trades (paper), so the soak includes execution load.

    uv run --frozen python benchmarks/bench_worker.py                       # 1,000 games, no soak
    uv run --frozen python benchmarks/bench_worker.py --games 1000 --soak-s 1800
"""

from __future__ import annotations

import argparse
import os
import random
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

from bench_pipeline_latency import games_per_league  # noqa: E402
from bench_pipeline_latency import multi_day_slate as _multi_day  # noqa: E402

import arb_pipeline.sim.scenario as sim_scenario  # noqa: E402
from arb_pipeline.connectors.kalshi import KalshiSigner  # noqa: E402
from arb_pipeline.connectors.kalshi.ws import KalshiWsClient, WsConfig, WsThread  # noqa: E402
from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker  # noqa: E402
from arb_pipeline.services.ingest import capture_from_settings  # noqa: E402
from arb_pipeline.services.scan import ScanConfig  # noqa: E402
from arb_pipeline.services.worker import Worker  # noqa: E402
from arb_pipeline.settings import Settings  # noqa: E402
from arb_pipeline.sim.exchange import MM  # noqa: E402
from arb_pipeline.sim.scenario import ScenarioConfig  # noqa: E402
from arb_pipeline.sim.server import SimConfig, start_simulator  # noqa: E402
from arb_pipeline.storage.db import get_engine, session_factory, session_scope  # noqa: E402
from arb_pipeline.storage.migrate import upgrade  # noqa: E402
from arb_pipeline.storage.repositories import SnapshotRepository  # noqa: E402


def multi_day_slate(one_day):
    """`bench_pipeline_latency.multi_day_slate`, passing the slate builder's newer keywords through."""
    def build(catalogue, rng, start, per_league, lead=None, doubleheader=True, **extra):
        def day(cat, r, when, league, lead_, dh):
            kwargs = {} if lead_ is None else {"lead": lead_}
            return one_day(cat, r, when, league, doubleheader=dh, **kwargs, **extra)
        return _multi_day(day)(catalogue, rng, start, per_league, lead, doubleheader)
    return build


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def show(name: str, values_s: list[float]) -> None:
    ms = [v * 1000 for v in values_s]
    if not ms:
        print(f"  {name:34s} no samples")
        return
    print(f"  {name:34s} n={len(ms):5d}  p50 {statistics.median(ms):7.2f}  p90 {pct(ms, 0.9):7.2f}  "
          f"p99 {pct(ms, 0.99):7.2f}  max {max(ms):7.2f} ms")


class Bench:
    def __init__(self, sim, settings: Settings) -> None:
        self.sim, self.engine = sim, sim.scenario
        sessions = session_factory(get_engine(settings.effective_database_url))
        self.breaker = CircuitBreaker(sessions, BreakerConfig.from_settings(settings), alert=lambda *a: None)
        self.worker = Worker(settings=settings, sessions=sessions, config=ScanConfig.from_settings(settings),
                             books=None, breaker=self.breaker)
        assert self.worker.refresh(), "no stored scan"
        view = self.worker.view
        signer = KalshiSigner.from_settings(settings)
        self.client = KalshiWsClient(WsConfig.from_settings(settings, view.tickers), signer,
                                     on_book=self.worker.on_book)
        self.worker.books = self.client.books
        self.worker.stale_books = lambda ts: self.client.books.stale(settings.kalshi_ws_stale_s, ts)
        self.thread = WsThread(self.client).start()
        self.pending: dict[str, float] = {}  # event -> perf_counter when its book was changed
        self.e2e: list[float] = []
        self.internal: list[float] = []
        self.executed: list[tuple[str, float]] = []
        self.decided: list[float] = []  # ws message -> opportunity found and handed to execution
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.flushed = time.perf_counter()
        self.loop = threading.Thread(target=self._run, name="worker", daemon=True)

    def wait_books(self) -> None:
        deadline = time.monotonic() + 300
        while len(self.client.books.books) < len(self.worker.view.tickers):
            if time.monotonic() > deadline:
                raise SystemExit("the books did not arrive")
            time.sleep(0.05)

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.worker.wake.is_set():
                time.sleep(0.0005)
                continue
            decisions = self.worker.step()
            now = time.perf_counter()
            if now - self.flushed >= 1.0:  # as `run_worker` does: health to the registry once a second
                self.flushed = now
                self.worker.flush_health(books_held=len(self.client.books.books), stale=0,
                                         feed_age_s=self.client.feed_age())
            with self.lock:
                for d in decisions:
                    started = self.pending.pop(d.event, None)
                    if started is not None:
                        self.e2e.append(now - started)
                        self.internal.append(d.lag_s)
                    if d.outcome == "executed":
                        self.executed.append((d.event, now))
                        self.decided.append(d.decided_s or 0.0)

    def change(self, ticker: str) -> None:
        """A market-maker order joins the best bid of `ticker` (a real book change in the engine)."""
        engine = self.engine
        with engine.lock:
            book = engine.exchange.books[ticker]
            yes, _ = book.levels()
            price = yes[-1][0] if yes else Decimal("0.05")
            engine.exchange.place(ticker, "bid", price, Decimal("1"), owner=MM, tag="bench")
            with self.lock:
                self.pending.setdefault(self.worker.view.game_of[ticker], time.perf_counter())

    def settle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if not self.pending:
                    return
            if time.monotonic() > deadline:
                with self.lock:
                    raise SystemExit(f"{len(self.pending)} change(s) never reached a decision")
            time.sleep(0.001)

    def reset(self) -> None:
        with self.lock:
            self.e2e, self.internal = [], []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--burst-size", type=int, default=200)
    parser.add_argument("--arbs", type=int, default=5)
    parser.add_argument("--soak-s", type=float, default=0.0)
    parser.add_argument("--soak-rate", type=float, default=50.0)
    parser.add_argument("--soak-tick-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--book-age-s", type=float, default=86400.0,
                        help="ARB_MAX_BOOK_QUOTE_AGE_S for the run (the odds do not move; default a day)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"bench_worker: {args.games} games, load average {os.getloadavg()}, {os.cpu_count()} CPUs")

    scenario = ScenarioConfig(seed=args.seed, live_clock=True, games_per_league=games_per_league(args.games),
                              tick_s=3600.0, arb_rate_per_hour=0.0, value_rate_per_hour=0.0,
                              window_lifetime_s=20.0)
    one_day = sim_scenario.build_slate
    sim_scenario.build_slate = multi_day_slate(one_day)
    try:
        manager = start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None))
        sim = manager.__enter__()
    finally:
        sim_scenario.build_slate = one_day
    with tempfile.TemporaryDirectory(prefix="bench_worker_") as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade(url)
        settings = Settings(_env_file=None, ARB_DATA_DIR=tmp, DATABASE_URL=url, ARB_TRADER="worker",
                            KALSHI_BASE_URL=sim.kalshi_base_url, KALSHI_API_KEY_ID=sim.key_id,
                            KALSHI_PRIVATE_KEY_PEM=sim.private_key_pem.decode(),
                            ODDS_API_BASE_URL=sim.odds_base_url, ODDS_API_KEY=sim.odds_api_key,
                            ARB_MAPPING_OVERRIDES=f"{tmp}/none.yaml", ARB_PAPER_LATENCY_MS=0,
                            # the bookmakers do not move during the benchmark (no random-walk ticks), so
                            # their quotes only age: their age limit is lifted, the Kalshi side is measured
                            ARB_MAX_BOOK_QUOTE_AGE_S=args.book_age_s)
        started = time.perf_counter()
        capture = capture_from_settings(settings, source="simulator")
        with session_scope(session_factory(get_engine(url))) as session:
            SnapshotRepository(session).append(captured_at=capture.snapshot.captured_at, source="simulator",
                                               payloads=capture.payloads,
                                               books_captured_at=capture.snapshot.books_captured_at,
                                               stored_at=datetime.now(UTC))
        print(f"  capture + store: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        bench = Bench(sim, settings)
        view = bench.worker.view
        print(f"  worker holds {len(view.games)} games, {len(view.game_of)} markets "
              f"(loaded in {time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        bench.wait_books()
        print(f"  all {len(view.game_of)} books snapshotted over the websocket in {time.perf_counter() - started:.1f} s")
        bench.loop.start()
        time.sleep(0.5)
        bench.worker.take_dirty()  # the initial snapshots are not what is measured
        tickers = list(view.game_of)

        for i in range(args.updates):
            bench.change(rng.choice(tickers))
            bench.settle()
            if i == 20:
                bench.reset()  # warm-up
        print("isolated updates (one market at a time):")
        show("internal: ws message -> decision", bench.internal)
        show("end to end: book change -> decision", bench.e2e)

        bench.reset()
        for _ in range(args.bursts):
            for ticker in rng.sample(tickers, min(args.burst_size, len(tickers))):
                bench.change(ticker)
            bench.settle(60)
        print(f"bursts ({args.bursts} x {args.burst_size} markets changed at once):")
        show("internal: ws message -> decision", bench.internal)
        show("end to end: book change -> decision", bench.e2e)

        arb_lat: list[float] = []
        with bench.lock:
            bench.decided = []
        games = sorted(view.games)
        for _ in range(args.arbs):
            before = len(bench.executed)
            t0 = time.perf_counter()
            try:
                window = sim.scenario.inject_arbitrage(rng.choice(games), edge=Decimal("0.03"), lifetime_s=20)
            except ValueError:
                continue
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with bench.lock:
                    hit = [t for e, t in bench.executed[before:] if e == window["event_ticker"]]
                if hit:
                    arb_lat.append(hit[0] - t0)
                    break
                time.sleep(0.001)
            else:
                records, _ = bench.worker.records.read_after(0, limit=100_000)
                mine = [r for r in records if r.get("event") == window["event_ticker"]]
                print(f"  arbitrage on {window['event_ticker']} was not executed within 30 s: "
                      f"{[(r['outcome'], r['reason'][:300]) for r in mine][-3:]}")
            bench.settle(60)
        print("injected arbitrage (end to end from the injection):")
        show("ws message -> trade decided", bench.decided)
        show("injection -> paper orders recorded", arb_lat)

        if args.soak_s > 0:
            print(f"soak: {args.soak_s:.0f} s at {args.soak_rate:g} updates/s, every market every "
                  f"{args.soak_tick_s:g} s")
            bench.reset()
            start = time.monotonic()
            samples = [(0.0, rss_mb())]
            next_sample, next_tick, period = start + 10, start + args.soak_tick_s, 1.0 / args.soak_rate
            while time.monotonic() - start < args.soak_s:
                bench.change(rng.choice(tickers))
                now = time.monotonic()
                if now >= next_tick:
                    next_tick += args.soak_tick_s
                    with sim.scenario.lock:  # one random-walk step now, clock untouched: every market requotes
                        sim.scenario._step(sim.scenario.now())
                        sim.scenario._requote_all()
                if now >= next_sample:
                    next_sample += 10
                    samples.append((now - start, rss_mb()))
                time.sleep(period)
            bench.settle(120)
            samples.append((time.monotonic() - start, rss_mb()))
            rss = [m for _, m in samples]
            print(f"  RSS MB: start {rss[0]:.1f}, after 60 s {rss[min(6, len(rss) - 1)]:.1f}, end {rss[-1]:.1f}, "
                  f"max {max(rss):.1f}; gaps {bench.client.gaps}, drops {bench.client.stats.drops}")
            show("soak: ws message -> decision", bench.internal)
            show("soak: book change -> decision", bench.e2e)
        bench.stop.set()
        bench.thread.stop()
        print(f"load average at the end {os.getloadavg()}")
    manager.__exit__(None, None, None)


if __name__ == "__main__":
    main()

"""Latency of one injected arbitrage through Dagster: the scan sensor's run request -> the paper order.

Issue #5: "time from a sensor's run request to the paper order for one injected arbitrage, through
Dagster with the in-process executor, at 100 and 1,000 games".

What is measured, per repetition (nothing is stubbed):

* the local venue simulator (real HTTP, signed Kalshi requests; rate limits off, they would measure the
  limiter, not the pipeline), live clock, no random windows, `--games` games spread evenly over
  NFL/NBA/NHL/MLB/EPL. `sim.slate` schedules a single day (at most half of each league's teams play:
  74 games over the five leagues), so larger slates repeat the draw on the following days, as Kalshi
  lists games days ahead (`multi_day_slate`). By default the simulator runs in a child process, as the
  venues are remote in production (its serving then does not hold the pipeline's GIL); `--sim thread`
  runs it as a uvicorn thread of this process (the earlier setup: it shares the GIL with the pipeline);
* the environment points the project's own `arb_pipeline.definitions.defs` at it, in paper mode
  (`ARB_MARKET_SOURCE=simulator`, as `launch.demo.demo_environment` does), with a temporary migrated
  SQLite application database and a temporary DAGSTER_HOME holding the project's instance template
  (`deploy/dagster.yaml`: SQLite run/event storage, pool `kalshi_orders` limit 1); `--instance
  ephemeral` uses an in-memory instance instead;
* one arbitrage is injected (edge 0.03, a fresh game each repetition, after the previous window has
  closed), then, with the clock started just before:
  1. the real `scan_sensor` is evaluated (`evaluate_tick`, as the daemon does) -> its RunRequest;
  2. `scan_job` (in-process executor, the definitions' own resources and filesystem IO manager) is
     executed with exactly that request's tags and run key, so the execution gate accepts it as
     sensor-launched; every scan captures a fresh snapshot from the simulator;
  3. t1 = when the last Kalshi-leg paper order of the injected arbitrage reached its final state in the
     application database (`orders.updated_at`, written by the repository from the wall clock): filled,
     or partly/not filled when the simulator's book moved past the limit within ARB_PAPER_LATENCY_MS
     (the paper executor fills on the venue's book after that latency; the count filled is printed).
* each run is verified: exactly one executed arbitrage on the injected event, trading the injected
  market, exactly one final paper order per Kalshi leg, and a hedge instruction when a leg filled;
  anything else aborts the benchmark.

The breakdown comes from the run's step events in the instance's event log (STEP_START -> STEP_SUCCESS
per step); "capture" includes the ingest checks, "resolve/price/detect" the three stages and their
checks, "execution" the `executed_orders` step and its check ("execution to order": from that step's start
to t1 - the rest of the step, the other games' marks and later opportunities, comes after the order); "run
overhead" is the rest of the
in-process run (planning, run and event storage, IO manager, gaps between steps). Repetition 0 is a
warm-up and is not counted. Figures go to stdout; Dagster's own run logs go to stderr.

    uv run --frozen python benchmarks/bench_pipeline_latency.py 2>/dev/null     # 100 and 1,000 games, 3 runs
    uv run --frozen python benchmarks/bench_pipeline_latency.py --games 1000 --repeat 5 --steps
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
LEAGUES = ("NFL", "NBA", "NHL", "MLB", "EPL")
EDGE = Decimal("0.03")
FINAL = ("filled", "partially_filled", "unfilled")  # a paper order's final states
WINDOW_LIFETIME_S = 30.0  # long enough for one repetition; the next one waits until it has expired



def games_per_league(total: int) -> dict[str, int]:
    base, extra = divmod(total, len(LEAGUES))
    return {league: base + (1 if i < extra else 0) for i, league in enumerate(LEAGUES)}


def multi_day_slate(one_day: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    """`sim.slate.build_slate` schedules one day: at most half a league's teams play (about 74 games over
    the five leagues). Kalshi lists games days ahead, so a bigger slate is the same day's draw repeated on
    the following days (distinct event tickers: the date is part of them), from the scenario's own rng."""

    def build(catalogue: Any, rng: Any, start: datetime, per_league: dict[str, int],
              lead: timedelta = timedelta(minutes=45), doubleheader: bool = True,
              leagues: tuple[str, ...] = LEAGUES, neutral_site: bool = False) -> list[Any]:
        games: list[Any] = []
        seen: set[str] = set()
        for code in leagues:
            wanted, per_day, day = per_league.get(code, 0), len(catalogue.league(code).teams) // 2, 0
            while wanted > 0:
                if day > 1000:
                    raise RuntimeError(f"could not schedule {per_league[code]} {code} games")
                drawn = one_day(catalogue, rng, start + timedelta(days=day), {code: min(wanted, per_day)}, lead,
                                doubleheader and day == 0, leagues=(code,), neutral_site=neutral_site and day == 0)
                fresh = [g for g in drawn if g.event_ticker not in seen][:wanted]
                seen.update(g.event_ticker for g in fresh)
                games.extend(fresh)
                wanted -= len(fresh)
                day += 1
        return games

    return build


@dataclass
class Sample:
    games: int
    markets: int
    total_s: float  # sensor evaluation start -> last paper order of the injected arbitrage recorded
    sensor_s: float
    run_s: float  # execute_in_process call, start -> return
    steps: dict[str, float]  # capture / resolve+price+detect / execution / run overhead
    orders: int
    hedges: int
    cpu_s: float = 0.0  # CPU time of this (the pipeline's) process from the sensor evaluation to the run's end
    gc_s: float = 0.0  # of which the cyclic garbage collector's (gc.callbacks), all generations
    gc_runs: int = 0


def environment(handle: Any, tmp: Path, database_url: str, dagster_home: Path) -> dict[str, str]:
    """What `launch.demo.demo_environment` sets, for an in-process simulator (its in-memory demo key)."""
    return {
        "ARB_MODE": "paper",
        "ARB_DATA_DIR": str(tmp),
        "ARB_MARKET_SOURCE": "simulator",
        "ARB_SCAN_INTERVAL_S": "1",
        "DATABASE_URL": database_url,
        "KALSHI_BASE_URL": handle.kalshi_base_url,
        "KALSHI_API_KEY_ID": handle.key_id,
        "KALSHI_PRIVATE_KEY_PEM": handle.private_key_pem.decode("ascii"),
        "ODDS_API_BASE_URL": handle.odds_base_url,
        "ODDS_API_KEY": handle.odds_api_key,
        "DAGSTER_HOME": str(dagster_home),
    }


PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")


@contextmanager
def postgres_databases(names: list[str]) -> Iterator[None]:
    """Fresh, empty PostgreSQL databases `names` (dropped afterwards) on BENCH_PG_HOST (trust auth, as on
    this project's machines), for `--instance postgres`."""
    import psycopg2

    admin = psycopg2.connect(host=PG_HOST, user=PG_USER, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cur.execute(f'CREATE DATABASE "{name}"')
        yield
    finally:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def make_instance(kind: str, dagster_home: Path):
    """ephemeral: in memory; home: deploy/dagster.yaml (SQLite, one machine, `make demo`); postgres:
    deploy/dagster.postgres.yaml (production: run and event storage in PostgreSQL, DAGSTER_PG_* set by
    `bench_size`)."""
    import dagster as dg

    if kind == "ephemeral":
        return dg.DagsterInstance.ephemeral()
    dagster_home.mkdir(parents=True, exist_ok=True)
    template = "dagster.postgres.yaml" if kind == "postgres" else "dagster.yaml"
    shutil.copyfile(REPO_ROOT / "deploy" / template, dagster_home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(dagster_home))


def step_breakdown(instance: Any, run_id: str, run_s: float, show: bool = False) -> dict[str, float]:
    import dagster as dg

    starts: dict[str, float] = {}
    durations: dict[str, float] = {}
    records = instance.get_records_for_run(run_id, of_type={dg.DagsterEventType.STEP_START,
                                                            dg.DagsterEventType.STEP_SUCCESS,
                                                            dg.DagsterEventType.STEP_FAILURE}).records
    for record in records:
        entry = record.event_log_entry
        key, kind = entry.step_key, entry.dagster_event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            starts[key] = entry.timestamp
        elif key in starts:
            durations[key] = entry.timestamp - starts[key]
    if show:
        print("      steps: " + ", ".join(f"{key} {seconds:.2f}s" for key, seconds in durations.items()))
        kinds: dict[str, int] = defaultdict(int)
        for record in instance.get_records_for_run(run_id, limit=100_000).records:
            event = record.event_log_entry.dagster_event
            kinds[event.event_type_value if event is not None else "log message"] += 1
        print(f"      {sum(kinds.values())} events: " + ", ".join(
            f"{kind} {count}" for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1])))
    groups: dict[str, float] = defaultdict(float)
    for key, seconds in durations.items():
        if key.startswith(("capture_market_snapshot", "kalshi_markets", "sportsbook_odds")):
            groups["capture"] += seconds
        elif key.startswith("executed_orders"):
            groups["execution"] += seconds
        else:
            groups["resolve/price/detect"] += seconds
    groups["run overhead"] = run_s - sum(durations.values())
    if "executed_orders" in starts:  # when the execution step began (epoch s): "execution to order" below
        groups["execution started at"] = starts["executed_orders"]
    return dict(groups)


def verify(database_url: str, injected: dict[str, Any], run_started: float) -> tuple[float, int, int, int]:
    """(t1 epoch seconds, orders, hedges, orders filled) for the injected arbitrage; SystemExit on anything unexpected."""
    from sqlalchemy import select

    from arb_pipeline.storage.db import get_engine, session_scope
    from arb_pipeline.storage.models import HedgeInstruction, OpportunityRecord, Order

    event = injected["event_ticker"]
    with session_scope(get_engine(database_url)) as session:
        opportunities = [o for o in session.scalars(select(OpportunityRecord).where(OpportunityRecord.event_key == event))
                         if o.payload.get("kind") == "arbitrage" and o.recorded_at.timestamp() >= run_started]
        if len(opportunities) != 1:
            raise SystemExit(f"expected one executed arbitrage on the injected event {event}, found "
                             f"{len(opportunities)}: {[o.opportunity_key for o in opportunities]}")
        (opportunity,) = opportunities
        kalshi_legs = {i: leg for i, leg in enumerate(opportunity.payload["legs"]) if leg["venue"] == "kalshi"}
        orders = list(session.scalars(select(Order).where(Order.opportunity_id == opportunity.id)))
        hedges = list(session.scalars(select(HedgeInstruction).where(HedgeInstruction.opportunity_id == opportunity.id)))
        legs_ordered = sorted(o.leg_index for o in orders)
        if legs_ordered != sorted(kalshi_legs):
            raise SystemExit(f"{event}: orders for legs {legs_ordered}, Kalshi legs {sorted(kalshi_legs)}")
        if injected["market_ticker"] not in {leg["market"] for leg in kalshi_legs.values()}:
            raise SystemExit(f"{event}: the arbitrage does not trade the injected market {injected['market_ticker']}")
        # the paper order is final once it is filled, partly filled or unfilled: the paper executor fills
        # on the simulator's book ARB_PAPER_LATENCY_MS after sending, and the simulator's random walk may
        # have moved that book past the limit (a real outcome, not a failed run)
        bad = [(o.client_order_id, o.mode, o.status) for o in orders if o.mode != "paper" or o.status not in FINAL]
        if bad:
            raise SystemExit(f"{event}: orders not final on paper: {bad}")
        if not hedges and any(o.status != "unfilled" for o in orders):
            raise SystemExit(f"{event}: a Kalshi leg filled but there is no hedge instruction for the sportsbook leg")
        t1 = max(o.updated_at for o in orders)
        t1 = t1 if isinstance(t1, datetime) else datetime.fromisoformat(str(t1))
        return t1.timestamp(), len(orders), len(hedges), sum(o.status == "filled" for o in orders)


def wait_for_next_tick(cursor: str | None, interval_s: int) -> None:
    from arb_pipeline.defs.ingest.sensors import tick_of

    while cursor is not None and tick_of(time.time(), interval_s) <= int(cursor):
        time.sleep(0.05)


def sim_config(games: int) -> Any:
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig

    scenario = ScenarioConfig(seed=7, live_clock=True, games_per_league=games_per_league(games),
                              arb_rate_per_hour=0.0, value_rate_per_hour=0.0)
    return SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None, odds_quota=1_000_000)


@contextmanager
def started_simulator(games: int) -> Iterator[Any]:
    """`sim.server.start_simulator` on a slate of `games` games (see `multi_day_slate`)."""
    from arb_pipeline.sim import scenario as sim_scenario
    from arb_pipeline.sim.server import start_simulator

    one_day = sim_scenario.build_slate
    sim_scenario.build_slate = multi_day_slate(one_day)  # only the slate's size changes
    try:
        with start_simulator(sim_config(games)) as handle:
            sim_scenario.build_slate = one_day
            if len(handle.scenario.games) != games:
                raise SystemExit(f"the simulator scheduled {len(handle.scenario.games)} games, not {games}")
            yield handle
    finally:
        sim_scenario.build_slate = one_day


@dataclass
class Venue:
    """What the pipeline needs from a running simulator, wherever it runs."""

    kalshi_base_url: str
    odds_base_url: str
    key_id: str
    private_key_pem: bytes
    odds_api_key: str
    inject: Callable[[], dict[str, Any]]


def _serve(games: int, conn: Any) -> None:
    """Child process (`--sim process`): serve the simulator until the parent says stop."""
    with started_simulator(games) as h:
        conn.send((h.url, h.kalshi_base_url, h.odds_base_url, h.key_id, h.private_key_pem, h.odds_api_key))
        conn.recv()


@contextmanager
def venue(games: int, where: str) -> Iterator[Venue]:
    if where == "thread":  # the brief's setup: uvicorn in a thread of this process (it shares the GIL)
        with started_simulator(games) as h:
            yield Venue(h.kalshi_base_url, h.odds_base_url, h.key_id, h.private_key_pem, h.odds_api_key,
                        lambda: h.scenario.inject_arbitrage(edge=EDGE, lifetime_s=WINDOW_LIFETIME_S))
        return
    import multiprocessing

    import httpx

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(games, child), daemon=True)
    process.start()
    try:
        if not parent.poll(120):
            raise SystemExit("the simulator process did not start within 120 s")
        url, kalshi, odds, key_id, pem, odds_key = parent.recv()

        def inject() -> dict[str, Any]:
            response = httpx.post(f"{url}/_sim/inject", json={"kind": "arbitrage", "edge": str(EDGE),
                                                              "lifetime_s": WINDOW_LIFETIME_S}, timeout=30)
            response.raise_for_status()
            return response.json()

        yield Venue(kalshi, odds, key_id, pem, odds_key, inject)
    finally:
        parent.send("stop")
        process.join(timeout=15)
        if process.is_alive():
            process.terminate()


class GcTime:
    """Time the cyclic garbage collector spends, from `gc.callbacks` (every generation's start/stop)."""

    def __init__(self) -> None:
        self.seconds, self.runs, self._started = 0.0, 0, 0.0
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.seconds, self.runs = 0.0, 0

    def _callback(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.runs += 1


GC_TIME = GcTime()


def bench_size(games: int, repeat: int, instance_kind: str, where: str, show_steps: bool = False,
               profiler: Any = None) -> list[Sample]:
    from arb_pipeline.settings import get_settings
    from arb_pipeline.storage.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix=f"bench_latency_{games}_"))
    database_url = f"sqlite:///{tmp / 'app.sqlite3'}"
    pg_names = [f"bench_app_{os.getpid()}", f"bench_dagster_{os.getpid()}"] if instance_kind == "postgres" else []
    if pg_names:  # production: the application database and Dagster's storage both in PostgreSQL
        database_url = f"postgresql+psycopg2://{PG_USER}@{PG_HOST}/{pg_names[0]}"
        os.environ.update({"DAGSTER_PG_USERNAME": PG_USER, "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_HOST": PG_HOST,
                           "DAGSTER_PG_DB": pg_names[1]})
    samples: list[Sample] = []
    try:
        with venue(games, where) as handle, postgres_databases(pg_names):
            os.environ.update(environment(handle, tmp, database_url, tmp / "dagster_home"))
            get_settings.cache_clear()
            upgrade(database_url)

            import dagster as dg

            from arb_pipeline.definitions import defs
            from arb_pipeline.defs.ingest.sensors import SCAN_SENSOR, scan_interval_s
            from arb_pipeline.defs.jobs import SCAN_JOB

            sensor = defs.get_sensor_def(SCAN_SENSOR)
            job = defs.resolve_job_def(SCAN_JOB)
            instance = make_instance(instance_kind, tmp / "dagster_home")
            cursor: str | None = None
            expires_at = 0.0
            collector = GC_TIME
            for rep in range(repeat + 1):  # repetition 0 warms up imports, connections and caches
                time.sleep(max(0.0, expires_at - time.time()))  # the previous window has closed
                wait_for_next_tick(cursor, scan_interval_s())
                injected = handle.inject()
                expires_at = time.time() + WINDOW_LIFETIME_S + 1

                collector.reset()
                t0, cpu0 = time.time(), time.process_time()
                tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
                t_sensor = time.time()
                if len(tick.run_requests or []) != 1:
                    raise SystemExit(f"the scan sensor requested {tick.run_requests!r} ({tick.skip_message})")
                (request,) = tick.run_requests
                cursor = tick.cursor
                if profiler is not None and rep:
                    profiler.enable()
                result = job.execute_in_process(
                    instance=instance,
                    tags={**request.tags, "dagster/run_key": request.run_key},
                    raise_on_error=False,
                )
                t_run, cpu_run = time.time(), time.process_time() - cpu0
                gc_s, gc_runs = collector.seconds, collector.runs
                if profiler is not None:
                    profiler.disable()
                if not result.success:
                    raise SystemExit(f"scan run {result.run_id} failed")
                t1, orders, hedges, filled = verify(database_url, injected, t0)
                breakdown = step_breakdown(instance, result.run_id, t_run - t_sensor, show_steps)
                started = breakdown.pop("execution started at", None)
                if started is not None:  # of the execution step, the part before the last leg's order was final
                    breakdown["execution to order"] = t1 - started
                markets = result.get_asset_materialization_events()
                count = next((int(m.materialization.metadata["dagster/row_count"].value) for m in
                              (e.event_specific_data for e in markets)
                              if m.materialization.asset_key.to_user_string() == "kalshi_markets"), -1)
                sample = Sample(games, count, t1 - t0, t_sensor - t0, t_run - t_sensor,
                                breakdown, orders, hedges,
                                cpu_run, gc_s, gc_runs)
                label = "warm-up" if rep == 0 else f"run {rep}"
                print(f"  {games:>5} games, {label:>7}: {sample.total_s:6.2f}s sensor->paper order "
                      f"(sensor {sample.sensor_s * 1000:.0f} ms; " +
                      ", ".join(f"{k} {v:.2f}s" for k, v in sample.steps.items()) +
                      f"; run returned after {t_run - t0:.2f}s, CPU {cpu_run:.2f}s, of it GC {gc_s:.2f}s in {gc_runs} collections); {count} markets, {orders} order(s) ({filled} filled), "
                      f"{hedges} hedge(s); "
                      f"load {os.getloadavg()[0]:.2f}",
                      flush=True)
                if rep:
                    samples.append(sample)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return samples


def summarize(samples: list[Sample]) -> str:
    totals = [s.total_s for s in samples]
    lines = [f"{samples[0].games:>5} games ({samples[0].markets} Kalshi markets), {len(samples)} runs: "
             f"best {min(totals):.2f}s, median {statistics.median(totals):.2f}s sensor->paper order"]
    for part in ("capture", "resolve/price/detect", "execution", "execution to order", "run overhead"):
        values = [s.steps.get(part, 0.0) for s in samples]
        lines.append(f"        {part:<22} median {statistics.median(values):6.2f}s")
    lines.append(f"        {'sensor evaluation':<22} median {statistics.median(s.sensor_s for s in samples) * 1000:6.0f} ms")
    lines.append(f"        {'CPU of the run':<22} median {statistics.median(s.cpu_s for s in samples):6.2f}s "
                 "(this process: sensor + run; the simulator's own process not included)")
    lines.append(f"        {'of it, garbage coll.':<22} median {statistics.median(s.gc_s for s in samples):6.2f}s "
                 f"in {statistics.median(s.gc_runs for s in samples):.0f} collections (gc.callbacks)")
    lines.append("        target: sensor run request -> paper order <= 2 s at 1,000 games (issue #11)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--games", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--instance", choices=("home", "postgres", "ephemeral"), default="home",
                        help="home: temporary DAGSTER_HOME with deploy/dagster.yaml, SQLite (default); postgres: "
                             "deploy/dagster.postgres.yaml and the application database in fresh PostgreSQL "
                             "databases (production); ephemeral: in memory")
    parser.add_argument("--sim", choices=("thread", "process"), default="process",
                        help="process: the simulator in a child process (default), as Kalshi is remote in "
                             "production, so its serving does not hold the pipeline's GIL; thread: in this process")
    parser.add_argument("--steps", action="store_true", help="also print every step's duration")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured runs (not the warm-up) into FILE")
    args = parser.parse_args(argv)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    cpus = os.cpu_count()
    print(f"pipeline latency: python {sys.version.split()[0]}, {cpus} CPU(s), instance={args.instance}, simulator in a {args.sim}, "
          f"load average at start {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    results = []
    for games in args.games:
        results.append(bench_size(games, args.repeat, args.instance, args.sim, args.steps, profiler))
    if profiler is not None:
        profiler.dump_stats(args.profile)
    print()
    for samples in results:
        print(summarize(samples))
    print(f"load average at end {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

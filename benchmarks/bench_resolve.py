"""Benchmark: resolve 10,000 Kalshi markets against 10,000 sportsbook events (a script, not a test).

Run: `uv run --frozen python benchmarks/bench_resolve.py [--markets 10000] [--books 2]`.
Prints the wall and CPU time of `resolve()` alone (inputs are built first; best and median of
`--repeat` runs), its peak traced memory (a separate traced run, since tracemalloc slows Python down),
the process max RSS, and the load average (the machine may be shared: CPU time is the fairer number).
Realistic shapes: five leagues, two books per event, every Kalshi event with its milestone (start and
home/away structured targets, as Kalshi sends them) and every team market with its custom_strike
target, the structured targets passed in as a capture provides them; soccer three-way, many games of
the same team pair on different days.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
import tracemalloc
from datetime import timedelta
from zoneinfo import ZoneInfo

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.resolver import resolve
from arb_pipeline_tests.mapping.factories import TARGETS, game_event, h2h, milestone, utc

ET = ZoneInfo("America/New_York")


def build(markets: int, sportsbook_events: int, books: int, seed: int = 7):
    rng = random.Random(seed)
    cat = load_catalogue()
    leagues = [cat.league(code) for code in ("NBA", "NFL", "NHL", "MLB", "EPL")]
    base = utc(2026, 11, 1)
    quotes, events, milestones, used = [], [], [], set()
    kalshi_markets = 0
    n = 0
    while n < sportsbook_events:
        league = rng.choice(leagues)
        home, away = rng.sample(league.teams, 2)
        start = base + timedelta(days=rng.randrange(300), hours=rng.choice((16, 19, 23, 0, 2)))
        key = (league.code, frozenset((home.id, away.id)), start.astimezone(ET).date())
        if key in used:
            continue
        used.add(key)
        odds = ({Outcome.HOME: "2.50", Outcome.AWAY: "2.90", Outcome.DRAW: "3.40"} if league.three_way
                else {Outcome.HOME: "1.80", Outcome.AWAY: "2.10"})
        quotes += h2h(f"sb{n}", league.code, home.full_name, away.full_name, start, odds,
                      books=[f"book{b}" for b in range(books)], sport_key=league.sport_key)
        n += 1
        if kalshi_markets >= markets:
            continue
        on = start.astimezone(ET).date()
        ticker = f"{league.kalshi_series}-{on:%y}{on:%b}{on:%d}".upper() + f"{away.kalshi_code}{home.kalshi_code}"
        prices = {home.kalshi_code: ("0.52", "0.54"), away.kalshi_code: ("0.44", "0.46"), "TIE": ("0.27", "0.29")}
        if league.three_way:
            prices.update({home.kalshi_code: ("0.37", "0.39"), away.kalshi_code: ("0.32", "0.34")})
        event = game_event(league.code, ticker, [(away.kalshi_code, away.kalshi_label), (home.kalshi_code, home.kalshi_label)],
                           on=on, tie=league.three_way, prices=prices)
        events.append(event)
        kalshi_markets += len(event.markets)
        milestones.append(milestone(ticker, start, home=home.id, away=away.id))
    return events, milestones, quotes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=10_000)
    parser.add_argument("--sportsbook-events", type=int, default=10_000)
    parser.add_argument("--books", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load_catalogue()  # parsed once per process; not part of a scan
    events, milestones, quotes = build(args.markets, args.sportsbook_events, args.books)
    n_markets = sum(len(e.markets) for e in events)
    as_of = utc(2026, 10, 1)

    walls, cpus = [], []
    for _ in range(max(1, args.repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        result = resolve(events, milestones, quotes, as_of=as_of, targets=TARGETS)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)

    tracemalloc.start()
    resolve(events, milestones, quotes, as_of=as_of, targets=TARGETS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"kalshi events: {len(events)}  kalshi markets: {n_markets}  sportsbook events: {args.sportsbook_events}"
          f"  h2h quotes: {len(quotes)}  milestones: {len(milestones)}  structured targets: {len(TARGETS)}")
    print(f"rows: {len(result.rows)}  tradable: {len(result.tradable())}  unresolved items: {len(result.unresolved)}")
    print(f"resolve() wall time: best {min(walls):.3f} s, median {statistics.median(walls):.3f} s "
          f"({len(walls)} runs)")
    print(f"resolve() CPU time:  best {min(cpus):.3f} s, median {statistics.median(cpus):.3f} s")
    print(f"resolve() peak traced memory: {peak / 2**20:.1f} MiB")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    print(f"load average (1/5/15 min) on {os.cpu_count()} CPUs: {os.getloadavg()}")


if __name__ == "__main__":
    main()

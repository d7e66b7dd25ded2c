"""Write a large snapshot directory in the venues' real wire shapes, for the end-to-end benchmarks.

    uv run --frozen python benchmarks/make_snapshot.py --games 5000 --out /tmp/snap5000

The venue simulator (`arb_pipeline.sim`) is served over real HTTP for the recording and
`sim.record.record_snapshot` fetches exactly what a live capture fetches: Kalshi events with nested
markets and milestones, order books in calls of 100, structured targets, series, exchange status, and
The Odds API `/odds` per sport (NFL/NBA with h2h, spreads and totals; American odds for NFL/NHL/MLB,
decimal for NBA/EPL, as the bundled sample). Games are spread evenly over NFL/NBA/NHL/MLB/EPL; a
slate larger than one day repeats the day's draw on the following days (`multi_day_slate`, as the
latency benchmark does). One arbitrage and one value window are injected so detection has work to
confirm. The clock is fixed, so a seed gives the same directory every time.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline_latency import games_per_league, multi_day_slate  # noqa: E402

CAPTURED_AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def make_snapshot(games: int, out: Path, seed: int = 11) -> Path:
    from arb_pipeline.sim import scenario as sim_scenario
    from arb_pipeline.sim.clock import SimClock
    from arb_pipeline.sim.record import _inject_first, record_snapshot

    one_day = sim_scenario.build_slate
    sim_scenario.build_slate = multi_day_slate(one_day)  # only the slate's size changes
    try:
        config = sim_scenario.ScenarioConfig(seed=seed, start=CAPTURED_AT, games_per_league=games_per_league(games),
                                             arb_rate_per_hour=0, value_rate_per_hour=0, window_lifetime_s=3600)
        engine = sim_scenario.ScenarioEngine(config, clock=SimClock.fixed(CAPTURED_AT))
    finally:
        sim_scenario.build_slate = one_day
    _inject_first(engine, "arbitrage", "0.02", ("NBA", "NFL", "NHL"))
    _inject_first(engine, "value", "0.025", ("NHL", "NFL", "NBA", "MLB", "EPL"))
    return record_snapshot(engine, out, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=5000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reuse", action="store_true", help="keep a complete snapshot already in --out")
    args = parser.parse_args()
    if args.reuse and (args.out / "meta.json").exists():
        print(f"{args.out}: snapshot already written (--reuse)")
        return
    started = time.perf_counter()
    path = make_snapshot(args.games, args.out, args.seed)
    size = sum(p.stat().st_size for p in path.glob("*.json")) / 2**20
    print(f"{args.games} games written to {path} ({size:.1f} MiB) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

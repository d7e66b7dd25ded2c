"""CPU of the scan stages' frames and in-step checks in one process, on a stored snapshot (issue #11).

What a scan run's steps do besides the Dagster machinery: `stages.captured` (the kalshi_markets and
sportsbook_odds frames), each stage's frame, and every stage's in-step checks (`StageChecks.results`),
timed one by one with `time.process_time` (median of `--repeat`). Compare commits side by side in the same
minutes (`PYTHONPATH=<other worktree>`): the machine's speed drifts.

    .venv/bin/python benchmarks/make_snapshot.py --games 1000 --out /tmp/snap1000
    .venv/bin/python benchmarks/bench_stage_frames.py --dir /tmp/snap1000 --repeat 5 [--profile F]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="a snapshot directory (make_snapshot.py)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed repetitions here")
    args = parser.parse_args()

    import dagster as dg

    from arb_pipeline.cli import scan_config
    from arb_pipeline.connectors.snapshot import read_snapshot
    from arb_pipeline.defs.ingest.checks import KALSHI_MARKETS_CHECKS, SPORTSBOOK_ODDS_CHECKS
    from arb_pipeline.defs.opportunities.checks import ARB_OPPORTUNITIES_CHECKS
    from arb_pipeline.defs.pricing.checks import IMPLIED_PROBABILITIES_CHECKS
    from arb_pipeline.defs.resolve.checks import RESOLVED_EVENTS_CHECKS
    from arb_pipeline.services import scan as scan_service
    from arb_pipeline.services import stages

    config = scan_config()
    snapshot = read_snapshot(args.dir, keep_extra=scan_service.SCAN_EXTRA_FIELDS).snapshot
    key = dg.AssetKey("x")
    times: dict[str, list[float]] = defaultdict(list)

    def timed(name, fn, *a):  # noqa: ANN001, ANN202
        start = time.process_time()
        out = fn(*a)
        times[name].append(time.process_time() - start)
        return out

    profiler = None
    for rep in range(args.repeat + 1):
        if rep == 1 and args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        if rep == 1:
            times.clear()
        gc.collect()
        markets, odds = timed("captured", stages.captured, snapshot, 1)
        timed("checks kalshi_markets", KALSHI_MARKETS_CHECKS.results, key, markets)
        timed("checks sportsbook_odds", SPORTSBOOK_ODDS_CHECKS.results, key, odds)
        resolved = timed("resolve_stage", stages.resolve_stage, markets, odds, config)
        timed("checks resolved_events", RESOLVED_EVENTS_CHECKS.results, key, resolved)
        priced = timed("price_stage", stages.price_stage, resolved, config, "multiplicative")
        timed("checks implied_probabilities", IMPLIED_PROBABILITIES_CHECKS.results, key, priced)
        detected = timed("detect_stage", stages.detect_stage, priced, config)
        timed("checks arb_opportunities", ARB_OPPORTUNITIES_CHECKS.results, key, detected)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    print(f"load average {os.getloadavg()[0]:.2f}; {len(snapshot.markets):,} markets, "
          f"{len(snapshot.quotes):,} quotes; CPU ms, median of {args.repeat}")
    total = 0.0
    for name, values in times.items():
        med = statistics.median(values)
        total += med
        print(f"  {name:32} {med * 1000:8.1f}")
    print(f"  {'total':32} {total * 1000:8.1f}")


if __name__ == "__main__":
    main()

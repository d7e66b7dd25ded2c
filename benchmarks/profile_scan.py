"""Where `scan --snapshot` spends its CPU and memory, phase by phase, in one process.

    uv run --frozen python benchmarks/profile_scan.py --dir /tmp/snap5000 [--tracemalloc]

Runs what `arb-pipeline scan --snapshot DIR` runs (settings and stored overrides, load, resolve, build
games, price, detect) and prints after each phase the process CPU time spent in it, the resident set
size and the peak RSS so far (the figure issue #11 targets). With `--tracemalloc` the load is traced
too (about 3× slower) and the largest holders of what stays allocated after it are listed by source
line. The machine's load average is printed: on a shared machine compare CPU, not wall, time.
The snapshot comes from `benchmarks/make_snapshot.py`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="a snapshot directory (make_snapshot.py)")
    parser.add_argument("--tracemalloc", action="store_true", help="list what holds the loaded snapshot's memory")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; snapshot {args.dir}")
    print(f"{'phase':28} {'CPU s':>7} {'RSS MiB':>8} {'peak MiB':>9}")
    last = [0.0]

    def phase(name: str) -> None:
        now = time.process_time()
        print(f"{name:28} {now - last[0]:>7.2f} {rss_mib():>8.1f} {peak_mib():>9.1f}", flush=True)
        last[0] = now

    phase("interpreter start")
    from arb_pipeline.cli import scan_config
    from arb_pipeline.connectors.snapshot import read_snapshot
    from arb_pipeline.gcpause import paused_gc
    from arb_pipeline.services import scan as scan_service

    phase("imports")
    config = scan_config()
    phase("settings + stored overrides")
    with paused_gc():  # as scan_directory runs them
        if args.tracemalloc:
            import tracemalloc

            tracemalloc.start()
        snapshot = read_snapshot(args.dir, keep_extra=scan_service.SCAN_EXTRA_FIELDS).snapshot  # as scan_directory
        phase("load snapshot")
        if args.tracemalloc:
            held, top = tracemalloc.get_traced_memory()
            holders = tracemalloc.take_snapshot().statistics("lineno")[:12]
            tracemalloc.stop()
            print(f"  traced after the load: {held / 2**20:.1f} MiB held, {top / 2**20:.1f} MiB at its peak")
            for stat in holders:
                print(f"  {stat.size / 2**20:7.1f} MiB {stat.count:>9,} blocks  {stat.traceback[0]}")
            last[0] = time.process_time()
        when = snapshot.captured_at
        resolution = scan_service.resolve_snapshot(snapshot, config, when)
        phase("resolve")
        assembly = scan_service.build_games(snapshot, resolution, config)
        phase("build games")
        scan_service.price_games(assembly.games, config)
        phase("price")
        detection = scan_service.detect_opportunities(assembly.games, config, when,
                                                      trading_active=snapshot.exchange.trading_active)
        phase("detect")
    print(f"{len(snapshot.markets):,} Kalshi markets, {len(snapshot.quotes):,} sportsbook quotes, "
          f"{len(assembly.games):,} games, {len(detection.opportunities)} opportunities; "
          f"total CPU {time.process_time():.2f} s, peak RSS {peak_mib():.0f} MiB (target <= 150)")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())

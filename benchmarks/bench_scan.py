"""End to end: `arb-pipeline scan --snapshot DIR` against a stdlib-json floor over the same directory.

    uv run --frozen python benchmarks/bench_scan.py [--games 5000] [--repeat 3] [--dir DIR]

The snapshot is written by `benchmarks/make_snapshot.py` (the simulator's real wire shapes) into a
temporary directory unless `--dir` names one already written. Each measurement is a fresh process,
as a user or a cron job runs it (interpreter start and imports included), timed from the outside:

* floor: `python -c` that `json.loads` every file of the directory and walks every quote once (each
  odds outcome's price, each Kalshi market's fields, each order-book level) — the least any parser of
  these files can cost in Python;
* scan: `python -m arb_pipeline.cli scan --snapshot DIR --json` (parse, resolve, price, detect, print).

Floor and scan run alternately, `--repeat` pairs after one untimed warm-up of each that leaves bytecode
caches behind, so each pair shares the same minutes; wall and CPU (user + system) time are the best of
the pairs, and the CPU ratio of every pair is printed with their median; peak RSS is the child's own `ru_maxrss` (os.wait4). On a shared machine the
CPU time is the steadier figure; the machine load (1-minute load average) is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

FLOOR = r"""
import json, sys
from pathlib import Path
n = 0
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    data = json.loads(path.read_bytes())
    name = path.name
    if name.startswith("odds_"):
        for event in data:
            for book in event["bookmakers"]:
                for market in book["markets"]:
                    for outcome in market["outcomes"]:
                        outcome["price"]; outcome.get("point")
                        n += 1
    elif name == "kalshi_events.json":
        for event in data["events"]:
            for market in event["markets"]:
                market["ticker"]; market.get("yes_ask_dollars"); market.get("no_ask_dollars")
                n += 1
    elif name == "kalshi_orderbooks.json":
        for book in data["orderbooks"]:
            for side in book["orderbook_fp"].values():
                for level in side or ():
                    level[0]; level[1]
                    n += 1
print(n)
"""


def run(argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def import_time(module: str, repeat: int) -> float:
    """Best `-X importtime` cumulative seconds of `import module` in a fresh process (bytecode cache
    allowed and warmed first, as an installed package has it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    totals = []
    for _ in range(repeat + 1):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env,
                             capture_output=True, text=True, check=True).stderr
        last = [line for line in out.splitlines() if line.rstrip().endswith(f"| {module}")][-1]
        totals.append(int(last.split("|")[1]) / 1e6)
    return min(totals[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="an already written snapshot directory (else a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arb-bench-scan-") as tmp:
        directory = args.dir
        if directory is None or not (directory / "meta.json").exists():
            from make_snapshot import make_snapshot

            directory = make_snapshot(args.games, directory or Path(tmp) / f"snap{args.games}")
        print(f"snapshot {directory} ({sum(p.stat().st_size for p in directory.glob('*.json')) / 2**20:.1f} MiB), "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        floor_argv = [sys.executable, "-c", FLOOR, str(directory)]
        scan_argv = [sys.executable, "-m", "arb_pipeline.cli", "scan", "--snapshot", str(directory), "--json"]
        # One untimed warm-up of each with bytecode writing allowed, so every module either imports has
        # its .pyc, as an installed environment does (with PYTHONDONTWRITEBYTECODE set and an environment
        # installed without compiling, each child would otherwise compile its imports and measure the
        # compiler rather than the scan).
        warm = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for argv in (floor_argv, scan_argv):
            subprocess.run(argv, env=warm, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        # floor and scan alternate, so each pair shares the same minutes (this machine's speed drifts by
        # up to ~40 % within minutes; measured back to back as two blocks, the drift went into the ratio)
        pairs = [(run(floor_argv), run(scan_argv)) for _ in range(args.repeat)]
        floor_s, floor_cpu = min(f[0] for f, _ in pairs), min(f[1] for f, _ in pairs)
        scan_s, scan_cpu = min(s[0] for _, s in pairs), min(s[1] for _, s in pairs)
        floor_rss, scan_rss = max(f[2] for f, _ in pairs), max(s[2] for _, s in pairs)
        pair_ratios = sorted(s[1] / f[1] for f, s in pairs)
        definitions_s = import_time("arb_pipeline.definitions", args.repeat)
        print(f"{'':24} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
        print(f"{'json floor':24} {floor_s:>8.2f} {floor_cpu:>8.2f} {floor_rss:>13.0f}")
        print(f"{'scan --snapshot':24} {scan_s:>8.2f} {scan_cpu:>8.2f} {scan_rss:>13.0f}   x{scan_s / floor_s:.2f} the "
              f"floor in wall time, x{scan_cpu / floor_cpu:.2f} in CPU time (target <= 2.00); RSS target <= 150 MiB")
        print(f"{'':24} CPU ratio of each interleaved pair: " + ", ".join(f"x{r:.2f}" for r in pair_ratios)
              + f" (median x{statistics.median(pair_ratios):.2f})")
        print(f"{'import definitions':24} {definitions_s:>8.2f} {'':>8} {'':>13}   -X importtime total (target <= 1.50)")
        print(f"load average after the runs {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

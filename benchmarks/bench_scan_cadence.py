"""Realized scan cadence under `dagster dev`: how often the scan sensor really gets a scan run going.

Issue #11: with `ARB_SCAN_INTERVAL_S=10` a scan should start at least every 15 s (1.5 x the interval).
What is measured (nothing stubbed): `dagster dev -w workspace.yaml` (webserver + daemon: the default run
launcher, one new process per run, the QueuedRunCoordinator of `deploy/dagster.yaml`) on a temporary
DAGSTER_HOME holding the project's instance template, a temporary migrated SQLite application
database, `ARB_SENSORS_DEFAULT_ON=1`, paper mode, and the market data source given by `--source`
(`recorded` = the shipped sample snapshot, no simulator process; `simulator` starts `arb-pipeline sim`).
After `--warmup` seconds the clock starts; after `--duration` more seconds the scan_job runs created in
that window are read from the instance: the gaps between consecutive run creations (what the sensor
requested), between consecutive run starts, and each run's launch -> start and start -> end times.
Every process started is killed (its process group) at the end.

`--launcher template` (default) uses the instance template as shipped (`WarmRunLauncher`: each run forked
from a warm process); `--launcher default` swaps in Dagster's `DefaultRunLauncher` (a cold spawned process
per run), for a before/after in the same minutes. The load average is printed at start and end, and the
CPU time used in the measured window by every process the benchmark started (dagster dev, its daemon,
code server, the warm process and the run workers).

    uv run --frozen python benchmarks/bench_scan_cadence.py --duration 180 --port 18210
    uv run --frozen python benchmarks/bench_scan_cadence.py --duration 180 --port 18210 --launcher default
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return (f"n={len(values)} median {statistics.median(values):.1f}s p90 {p90:.1f}s "
            f"max {max(values):.1f}s mean {statistics.fmean(values):.1f}s")


def session_cpu_s(children: list[subprocess.Popen]) -> float:
    """CPU seconds (user + system) used so far by every live process of the children's sessions, with
    the children they have already reaped (a run worker's time is in its parent's cutime/cstime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    sessions = {child.pid for child in children}
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in sessions:  # field 6 of stat: the session id
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before measuring (start-up)")
    parser.add_argument("--interval", type=int, default=10, help="ARB_SCAN_INTERVAL_S")
    parser.add_argument("--port", type=int, default=19210, help="webserver port")
    parser.add_argument("--source", choices=["recorded", "simulator"], default="recorded")
    parser.add_argument("--sim-port", type=int, default=19211)
    parser.add_argument("--launcher", choices=["template", "default"], default="template",
                        help="template: deploy/dagster.yaml as shipped (WarmRunLauncher); default: DefaultRunLauncher")
    parser.add_argument("--max-in-flight", type=int, default=None, help="ARB_SCAN_MAX_IN_FLIGHT (default: unset)")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    cpu_in_window = float("nan")

    tmp = Path(tempfile.mkdtemp(prefix="arb-cadence-"))
    home, data = tmp / "dagster_home", tmp / "data"
    home.mkdir()
    data.mkdir()
    template = (REPO / "deploy" / "dagster.yaml").read_text()
    if args.launcher == "default":
        import yaml

        config = yaml.safe_load(template)
        config.pop("run_launcher", None)  # Dagster's default: DefaultRunLauncher
        template = yaml.safe_dump(config)
    (home / "dagster.yaml").write_text(template)
    database_url = f"sqlite:///{data / 'arb.sqlite3'}"
    env = {**os.environ, "DAGSTER_HOME": str(home), "ARB_DATA_DIR": str(data), "DATABASE_URL": database_url,
           "ARB_SCAN_INTERVAL_S": str(args.interval), "ARB_SENSORS_DEFAULT_ON": "1", "ARB_MODE": "paper",
           "ARB_MARKET_SOURCE": args.source, "ARB_LOG_LEVEL": "WARNING"}
    if args.max_in_flight is not None:
        env["ARB_SCAN_MAX_IN_FLIGHT"] = str(args.max_in_flight)
    children: list[subprocess.Popen] = []
    try:
        from arb_pipeline.storage.migrate import upgrade

        upgrade(database_url)
        if args.source == "recorded":
            env["ARB_SNAPSHOT_DIR"] = str(REPO / "arb_pipeline" / "data" / "sample_snapshot")
        else:
            env["KALSHI_BASE_URL"] = f"http://127.0.0.1:{args.sim_port}/trade-api/v2"
            env["ODDS_API_BASE_URL"] = f"http://127.0.0.1:{args.sim_port}"
            children.append(subprocess.Popen(
                [sys.executable, "-m", "arb_pipeline.cli", "sim", "--host", "127.0.0.1", "--port", str(args.sim_port)],
                env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        dagster = str(Path(sys.executable).with_name("dagster"))
        children.append(subprocess.Popen(
            [dagster, "dev", "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(args.port)],
            env=env, cwd=REPO, stdout=(tmp / "dagster.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True))
        time.sleep(args.warmup)
        window_start = time.time()
        cpu_at_start = session_cpu_s(children)
        time.sleep(args.duration)
        window_end = time.time()
        cpu_in_window = session_cpu_s(children) - cpu_at_start
    finally:
        for child in reversed(children):
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(job_name="scan_job"), ascending=True)
    created = [r.create_timestamp.timestamp() for r in records
               if window_start <= r.create_timestamp.timestamp() < window_end]
    started = sorted(r.start_time for r in records if r.start_time and window_start <= r.start_time < window_end)
    launch_to_start = [r.start_time - r.create_timestamp.timestamp() for r in records
                       if r.start_time and window_start <= r.create_timestamp.timestamp() < window_end]
    start_to_end = [r.end_time - r.start_time for r in records
                    if r.start_time and r.end_time and window_start <= r.start_time < window_end]
    statuses: dict[str, int] = {}
    for r in records:
        if window_start <= r.create_timestamp.timestamp() < window_end:
            statuses[r.dagster_run.status.value] = statuses.get(r.dagster_run.status.value, 0) + 1
    ended = [r.end_time for r in records if r.end_time and window_start <= r.end_time < window_end]
    ended.sort()
    print(f"scan cadence under dagster dev: interval {args.interval}s (target: a scan at least every "
          f"{1.5 * args.interval:.0f}s), launcher {args.launcher}, ARB_SCAN_MAX_IN_FLIGHT "
          f"{args.max_in_flight or 'default'}, source {args.source}, {args.duration:.0f}s measured after "
          f"{args.warmup:.0f}s warm-up")
    print(f"  load average at start {load_at_start[0]:.2f} {load_at_start[1]:.2f} {load_at_start[2]:.2f}, "
          f"at end {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"CPU time of the started processes in the measured {args.duration:.0f}s: {cpu_in_window:.0f}s "
          f"({cpu_in_window / args.duration:.2f} cores)")
    print(f"  runs created in window: {len(created)} ({statuses})")
    print(f"  gap between run requests: {summary([b - a for a, b in zip(created, created[1:], strict=False)])}")
    print(f"  gap between run starts:   {summary([b - a for a, b in zip(started, started[1:], strict=False)])}")
    print(f"  gap between run ends:     {summary([b - a for a, b in zip(ended, ended[1:], strict=False)])}")
    print(f"  request -> run start:     {summary(launch_to_start)}")
    print(f"  run start -> end:         {summary(start_to_end)}")
    print(f"  (instance and logs kept in {tmp})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

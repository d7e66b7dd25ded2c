"""Latency of the desk's REST API: `GET /api/opportunities` under a short, bounded local load.

What is measured (nothing is stubbed):

* a temporary, migrated application database (SQLite by default; `--database-url` for PostgreSQL)
  holding `--scans` scans recorded through the pipeline's own services (`services.scans`), each with
  the bundled sample's opportunities (1 arbitrage, 2 value; the arbitrage executed in paper mode
  through `services.execute`, so the route joins real orders), i.e. what a day of live scanning
  leaves behind at a few thousand rows;
* the real app (`api.app.create_app`) served by uvicorn on 127.0.0.1 only, one worker, in a thread of
  this process (an ephemeral port unless `--port`);
* `--clients` concurrent clients (httpx, keep-alive) each sending requests back to back for
  `--seconds` seconds after a warm-up: the dashboard's call (`/api/opportunities`, the latest scan,
  executable first) and the history view (`?scope=history&limit=100`). Every response must be 200
  with the expected number of opportunities, or the benchmark aborts.

Figures (p50/p90/p99/max in milliseconds, requests per second) go to stdout with the machine load.

    uv run --frozen python benchmarks/bench_api.py                       # 2,000 scans, 4 clients, 10 s each
    uv run --frozen python benchmarks/bench_api.py --scans 200 --clients 1 --seconds 5
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arb_pipeline.api.app import create_app  # noqa: E402
from arb_pipeline.connectors.snapshot import load_snapshot  # noqa: E402
from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker  # noqa: E402
from arb_pipeline.services import scans  # noqa: E402
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities  # noqa: E402
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan  # noqa: E402
from arb_pipeline.settings import Settings  # noqa: E402
from arb_pipeline.storage.db import get_engine, session_factory  # noqa: E402
from arb_pipeline.storage.migrate import upgrade  # noqa: E402


def seed(url: str, n_scans: int, data_dir: Path) -> Settings:
    """`n_scans` scans, one a minute, each with the sample's opportunities; the last one executed."""
    upgrade(url)
    sessions = session_factory(get_engine(url))
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    settings = Settings(_env_file=None, DATABASE_URL=url, ARB_DATA_DIR=str(data_dir))
    config = ScanConfig.from_settings(settings)
    result = scan(snapshot, config, snapshot.captured_at)  # judged at its capture time: 3 opportunities
    base = snapshot.captured_at - timedelta(minutes=n_scans)
    for i in range(n_scans):  # the same findings, one scan a minute (each minute a new opportunity id)
        at = base + timedelta(minutes=i + 1)
        found = [replace(o, detected_at=at) for o in result.detection.opportunities]
        stats = scans.capture_stats(replace(snapshot, captured_at=at), 10_000 + i, quota_remaining=20_000 - i)
        scans.record_capture(sessions, stats, at=at)
        scans.record_detection(sessions, 10_000 + i, found, detected_at=at, rejected=0)
    context = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=result.as_of)
    breaker = CircuitBreaker(sessions, BreakerConfig(), alert=lambda *a: None, clock=lambda: result.as_of)
    execute_opportunities(result.detection.opportunities, context=context, snapshot=result.snapshot,
                          sessions=sessions, breaker=breaker, settings=settings, alert=lambda *a: None)
    return settings


def serve(settings: Settings, port: int) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def load(url: str, path: str, expected: int, clients: int, seconds: float) -> list[float]:
    """Latencies (ms) of back-to-back requests from `clients` threads for `seconds` seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, timeout=10.0) as http:
            while time.monotonic() < stop_at and not errors:
                started = time.perf_counter()
                response = http.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or len(response.json()["opportunities"]) != expected:
                    errors.append(f"{path}: HTTP {response.status_code} {response.text[:200]}")
                    return
                mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=2000, help="scans stored before measuring")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per route")
    parser.add_argument("--port", type=int, default=0, help="127.0.0.1 port (default: ephemeral)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="arb-bench-api-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        settings = seed(url, args.scans, Path(tmp))
        print(f"seeded {args.scans} scans ({3 * args.scans} detected opportunities) on "
              f"{url.split(':')[0]} in {time.perf_counter() - started:.1f}s")
        base, server, thread = serve(settings, args.port)
        print(f"machine: {os.cpu_count()} CPUs, load average at start {os.getloadavg()}")
        try:
            for label, path, expected in (("latest scan (the dashboard's call)", "/api/opportunities", 3),
                                          ("history, limit 100", "/api/opportunities?scope=history&limit=100",
                                           min(100, 3 * args.scans))):
                load(base, path, expected, args.clients, 1.0)  # warm-up
                measured = load(base, path, expected, args.clients, args.seconds)
                print(f"{label}: {len(measured)} requests, {len(measured) / args.seconds:.0f} req/s with "
                      f"{args.clients} client(s); p50 {percentile(measured, 0.50):.1f} ms, "
                      f"p90 {percentile(measured, 0.90):.1f} ms, p99 {percentile(measured, 0.99):.1f} ms, "
                      f"max {max(measured):.1f} ms (mean {statistics.fmean(measured):.1f} ms)")
        finally:
            server.should_exit = True
            thread.join(timeout=10)
        print(f"load average at end {os.getloadavg()}; measured at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()

"""`make demo` / `arb-pipeline demo`: the whole pipeline on one machine, paper mode, no account.

Starts the local venue simulator (a child process, so it outlives nothing), migrates the database,
prints one scan of the simulator as a table, then runs `dagster dev` (webserver + daemon) with the
sensors on, pointed at the simulator — or, with `--cycles N`, runs N headless scan cycles instead of
the UI. Everything lives under ARB_DATA_DIR (default ~/.arb_pipeline).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from arb_pipeline.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER_TEMPLATE = REPO_ROOT / "deploy" / "dagster.yaml"
SIM_READY_TIMEOUT_S = 30.0


def demo_environment(settings: Settings, sim_port: int) -> dict[str, str]:
    """The variables that point every component at the simulator, in paper mode.

    The simulator writes its demo key pair under the data directory on first run; the Kalshi
    client signs with it exactly as it would with a real key.
    """
    from arb_pipeline.sim.auth import DEMO_KEY_FILE, DEMO_KEY_ID_FILE
    from arb_pipeline.sim.server import DEFAULT_ODDS_API_KEY

    key_dir = settings.data_dir / "sim"
    base = f"http://127.0.0.1:{sim_port}"
    return {
        "ARB_MODE": "paper",
        "ARB_DATA_DIR": str(settings.data_dir),
        "ARB_MARKET_SOURCE": "simulator",
        "ARB_SENSORS_DEFAULT_ON": "1",
        "KALSHI_BASE_URL": f"{base}/trade-api/v2",
        "KALSHI_API_KEY_ID": (key_dir / DEMO_KEY_ID_FILE).read_text(encoding="utf-8").strip(),
        "KALSHI_PRIVATE_KEY_PATH": str(key_dir / DEMO_KEY_FILE),
        "ODDS_API_BASE_URL": base,
        "ODDS_API_KEY": DEFAULT_ODDS_API_KEY,
        "DAGSTER_HOME": str(dagster_home(settings)),
    }


def dagster_home(settings: Settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() and DAGSTER_TEMPLATE.exists():
        shutil.copyfile(DAGSTER_TEMPLATE, target)
    return home


def wait_until_ready(base_url: str, process: subprocess.Popen, timeout_s: float = SIM_READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the simulator exited with status {process.returncode} before it was ready")
        try:
            if httpx.get(f"{base_url}/trade-api/v2/exchange/status", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the simulator did not answer on {base_url} within {timeout_s:.0f}s")


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_simulator_process(settings: Settings, port: int) -> subprocess.Popen:
    if port_in_use(port):
        raise RuntimeError(
            f"port {port} is already in use: stop whatever listens there or pass --port to use another"
        )
    env = {**os.environ, "ARB_DATA_DIR": str(settings.data_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "arb_pipeline.cli", "sim", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_until_ready(f"http://127.0.0.1:{port}", process)
    return process


def _apply(env: Mapping[str, str]) -> None:
    os.environ.update(env)
    get_settings.cache_clear()


def run_demo(port: int = 8765, ui_port: int = 3000, headless_cycles: int | None = None) -> int:
    from arb_pipeline.storage.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"arb_pipeline demo — paper mode, data under {settings.data_dir}")
    sim = start_simulator_process(settings, port)
    try:
        env = demo_environment(settings, port)
        _apply(env)
        settings = get_settings()
        upgrade(settings.effective_database_url)
        print(f"simulator: http://127.0.0.1:{port} (Kalshi /trade-api/v2, The Odds API /v4); database migrated")
        print_first_scan(settings)
        if headless_cycles is not None:
            from arb_pipeline.services.headless import run_cycles_cli

            return run_cycles_cli(cycles=headless_cycles, interval_s=0.0, source="simulator")
        return run_dagster_dev(env, ui_port)
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()


def print_first_scan(settings: Settings) -> None:
    """One scan of the simulator right away, so the terminal shows opportunities before the UI loads."""
    from arb_pipeline.services.ingest import capture_from_settings
    from arb_pipeline.services.report import render_opportunities_table
    from arb_pipeline.services.scan import ScanConfig, scan

    capture = capture_from_settings(settings)
    print()
    print(render_opportunities_table(scan(capture.snapshot, ScanConfig.from_settings(settings))))
    print()


def run_dagster_dev(env: Mapping[str, str], ui_port: int) -> int:
    workspace = REPO_ROOT / "workspace.yaml"
    print(f"Dagster UI: http://127.0.0.1:{ui_port}  (sensors on; Ctrl-C stops everything)")
    command = ["dagster", "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(ui_port)]
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or shutil.which("dagster")
    if dagster is None:
        raise RuntimeError("the `dagster` command is not installed in this environment (run `make demo`)")
    command[0] = dagster
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=REPO_ROOT)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()

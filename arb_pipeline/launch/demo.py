"""`make demo` / `arb-pipeline demo`: the whole pipeline on one machine, paper mode, no account.

Starts the local venue simulator, migrates the database, prints one scan of the simulator, then
starts the operator's desk (REST API + dashboard) and `dagster dev` (webserver + daemon) with the
sensors on — or, with `--cycles N`, runs N headless scan cycles instead of the UI. Everything lives
under ARB_DATA_DIR (default ~/.arb_pipeline), so two demos with two data directories (and ports:
SIM_PORT, UI_PORT, API_PORT) never share state; a second demo on the same directory is refused.

Ctrl-C (or SIGTERM) stops every process the demo started, descendants included
(`services.processes`), and marks the runs it interrupted so the next start does not open with a
false "run failed" alert (`defs.monitoring.interrupted`).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from arb_pipeline.services.processes import ChildProcesses
from arb_pipeline.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER_TEMPLATE = REPO_ROOT / "deploy" / "dagster.yaml"
READY_TIMEOUT_S = 60.0
DEFAULT_SIM_PORT, DEFAULT_UI_PORT, DEFAULT_API_PORT = 8765, 3000, 8000
TOKEN_FILE = "api_token"
INTERRUPT_REASON = "make demo was stopped (Ctrl-C)"


class DemoError(RuntimeError):
    """The demo cannot start: what is wrong and what to do (printed without a traceback)."""


def env_port(name: str, default: int) -> int:
    """A port from the environment (make demo UI_PORT=3001 / SIM_PORT / API_PORT), else the default."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DemoError(f"{name}={raw!r} is not a port number (1-65535)")
    return int(raw)


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


def dagster_environment(demo_env: Mapping[str, str], env_file: Path | None = None) -> dict[str, str]:
    """The environment `dagster dev` gets, with the precedence every other process of the demo has.

    Why: `dagster dev` loads the `.env` of its working directory *over* its environment, so after
    `cp .env.example .env` the empty `DAGSTER_HOME=` sent Dagster to a throw-away instance, the empty
    `ARB_SENSORS_DEFAULT_ON=` turned the scan sensor off and `ARB_DATA_DIR` replaced the demo's: the UI
    showed no run and the dashboard no scan. So Dagster runs in the instance directory (no `.env`
    there) and gets the repository's `.env` from here: the process environment over `.env`, an empty
    value meaning the default (as `Settings` reads it), the demo's own variables over both.
    """
    from dotenv import dotenv_values

    path = REPO_ROOT / ".env" if env_file is None else env_file
    from_file = {k: v for k, v in dotenv_values(path).items() if v} if path.is_file() else {}
    return {**from_file, **os.environ, **demo_env}


def dagster_home(settings: Settings) -> Path:
    """The demo's Dagster instance: always under ARB_DATA_DIR, so each data directory is its own demo."""
    home = settings.data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() and DAGSTER_TEMPLATE.exists():
        shutil.copyfile(DAGSTER_TEMPLATE, target)
    return home


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def check_ports(ports: Mapping[str, int]) -> None:
    taken = [f"{name} port {port}" for name, port in ports.items() if port_in_use(port)]
    if len(set(ports.values())) != len(ports):
        raise DemoError(f"the demo's ports must differ: {dict(ports)}")
    if taken:
        raise DemoError(f"{', '.join(taken)} already in use: stop whatever listens there, or choose others "
                        "(make demo SIM_PORT=8766 UI_PORT=3001 API_PORT=8001)")


@contextmanager
def exclusive_data_dir(settings: Settings) -> Iterator[None]:
    """One demo per data directory: a second one would share the database and Dagster's runs."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "demo.lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(f"another demo is running on {settings.data_dir}: stop it, or give this one its own "
                            "data directory (ARB_DATA_DIR=/tmp/demo2 make demo SIM_PORT=8766 UI_PORT=3001 "
                            "API_PORT=8001)") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_until_ready(url: str, process: subprocess.Popen, what: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"the {what} exited with status {process.returncode} before it was ready "
                            f"(see its log under ARB_DATA_DIR/logs)")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(f"the {what} did not answer on {url} within {timeout_s:.0f}s")


def _apply(env: Mapping[str, str]) -> None:
    os.environ.update(env)
    get_settings.cache_clear()


def operator_token_file(settings: Settings) -> Path | None:
    """The dashboard's operator token: the configured one, else a fresh one kept in ARB_DATA_DIR/api_token
    (mode 0600; its value is never printed — `cat` the file to paste it into the dashboard)."""
    if settings.api_token is not None or settings.api_token_file is not None:
        return settings.api_token_file
    path = settings.data_dir / TOKEN_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def start_logged(children: ChildProcesses, name: str, argv: list[str], settings: Settings, *,
                 env: Mapping[str, str]) -> subprocess.Popen:
    """A quiet child: its output goes to ARB_DATA_DIR/logs/<name>.log, not into the terminal."""
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name.lower()}.log", "ab") as log:
        return children.start(name, argv, env=env, stdout=subprocess.DEVNULL, stderr=log)


def start_simulator_process(children: ChildProcesses, settings: Settings, sim_port: int) -> subprocess.Popen:
    """The demo's venue simulator (`arb-pipeline sim`, its demo key under ARB_DATA_DIR/sim), once it answers."""
    sim = start_logged(children, "simulator", [sys.executable, "-m", "arb_pipeline.cli", "sim", "--host",
                                               "127.0.0.1", "--port", str(sim_port)],
                       settings, env={**os.environ, "ARB_DATA_DIR": str(settings.data_dir)})
    wait_until_ready(f"http://127.0.0.1:{sim_port}/trade-api/v2/exchange/status", sim, "simulator")
    return sim


def start_worker_process(children: ChildProcesses, settings: Settings,
                         env: Mapping[str, str]) -> subprocess.Popen | None:
    """With ARB_TRADER=worker the fast path trades: `arb-pipeline worker` beside Dagster (which then does
    not trade), logging to ARB_DATA_DIR/logs/worker.log. Nothing is started otherwise."""
    if settings.trader != "worker":
        return None
    worker = start_logged(children, "worker", [sys.executable, "-m", "arb_pipeline.cli", "worker"], settings,
                          env={**os.environ, **env})
    print("worker: ARB_TRADER=worker - the websocket worker trades, the scan job only scans", flush=True)
    return worker


def dagster_log_level(settings: Settings) -> str:
    """Dagster's own services (webserver, daemon) at WARNING: their INFO is a line per sensor tick.
    The runs log at ARB_LOG_LEVEL (INFO); ARB_LOG_LEVEL=DEBUG brings everything back."""
    return "debug" if settings.log_level.upper() == "DEBUG" else "warning"


def run_demo(port: int | None = None, ui_port: int | None = None, api_port: int | None = None,
             headless_cycles: int | None = None) -> int:
    from arb_pipeline.storage.migrate import upgrade

    sim_port = port or env_port("SIM_PORT", DEFAULT_SIM_PORT)
    ui_port = ui_port or env_port("UI_PORT", DEFAULT_UI_PORT)
    api_port = api_port or env_port("API_PORT", DEFAULT_API_PORT)
    settings = get_settings()
    ports = {"simulator": sim_port} if headless_cycles is not None else {
        "simulator": sim_port, "Dagster UI": ui_port, "API": api_port}
    check_ports(ports)
    children = ChildProcesses()
    # Ctrl-C must work even when started from a shell that ignores SIGINT for background jobs (an
    # ignored signal is inherited across exec, so the children would ignore it too); SIGTERM too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    with exclusive_data_dir(settings):
        print(f"arb_pipeline demo — paper mode, data under {settings.data_dir}", flush=True)
        started_dagster = False
        try:
            start_simulator_process(children, settings, sim_port)
            env = demo_environment(settings, sim_port)
            _apply(env)
            settings = get_settings()
            upgrade(settings.effective_database_url)
            print(f"simulator: http://127.0.0.1:{sim_port} (Kalshi /trade-api/v2, The Odds API /v4); "
                  "database migrated", flush=True)
            print_first_scan(settings)
            if headless_cycles is not None:
                from arb_pipeline.launch.headless import run_cycles_cli

                return run_cycles_cli(cycles=headless_cycles, interval_s=0.0, source="simulator")
            home = Path(env["DAGSTER_HOME"])
            leftovers = _mark_interrupted(home, datetime.now(UTC), "left over from a demo that was not stopped "
                                                                   "cleanly")
            if leftovers:
                print(f"cancelled {len(leftovers)} run(s) left in flight by an earlier demo", flush=True)
            _prepare_instance(home)
            token_file = operator_token_file(settings)
            api_env = {**os.environ, **env, **({"ARB_API_TOKEN_FILE": str(token_file)} if token_file else {})}
            api = start_logged(children, "API", [sys.executable, "-m", "arb_pipeline.cli", "api", "--host",
                                                 "127.0.0.1", "--port", str(api_port)], settings, env=api_env)
            wait_until_ready(f"http://127.0.0.1:{api_port}/api/health", api, "API")
            start_worker_process(children, settings, env)
            dagster = children.start("Dagster", dagster_command(ui_port, dagster_log_level(settings)),
                                     env=dagster_environment(env), cwd=home, interrupt_grace_s=20.0)
            started_dagster = True
            print(banner(api_port, ui_port, token_file), flush=True)
            while dagster.poll() is None:
                time.sleep(0.5)
            return dagster.returncode
        except KeyboardInterrupt:
            return 0
        finally:
            stopping_at = datetime.now(UTC)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon the cleanup
            print("\nstopping the demo (simulator, API, Dagster and its runs)…", flush=True)
            forced = children.stop_all()
            marked = _mark_interrupted(Path(os.environ["DAGSTER_HOME"]), stopping_at, INTERRUPT_REASON) \
                if started_dagster else []
            summary = "stopped everything the demo started"
            if marked:
                summary += f"; {len(marked)} interrupted run(s) marked as such (no 'run failed' alert for them)"
            if forced:
                summary += f"; had to force: {', '.join(forced)}"
            print(summary, flush=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous_term)


def _raise_interrupt(signum, frame):  # noqa: ANN001 - signal handler signature
    raise KeyboardInterrupt


def _prepare_instance(home: Path) -> None:
    """Create the Dagster instance's storages before its processes race to (`defs.monitoring.interrupted`)."""
    from arb_pipeline.defs.monitoring.interrupted import prepare_instance_in_home

    try:
        prepare_instance_in_home(home)
    except Exception as exc:  # noqa: BLE001 - turned into a message a user can act on
        raise DemoError(f"the demo's Dagster instance in {home} cannot be opened ({type(exc).__name__}: {exc}); "
                        "stop every demo using it, or remove that directory to start with a fresh one") from exc


def _mark_interrupted(home: Path, since: datetime, reason: str) -> list[str]:
    """Cancel/tag the runs a stop interrupted (see `defs.monitoring.interrupted`); never fails the stop."""
    try:
        from arb_pipeline.defs.monitoring.interrupted import mark_interrupted_in_home

        return mark_interrupted_in_home(home, since=since, reason=reason)
    except Exception as exc:  # noqa: BLE001 - the processes are stopped; this is bookkeeping
        print(f"could not mark interrupted runs ({type(exc).__name__}: {exc})", file=sys.stderr)
        return []


def dagster_command(ui_port: int, log_level: str) -> list[str]:
    workspace = REPO_ROOT / "workspace.yaml"
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or shutil.which("dagster")
    if dagster is None:
        raise DemoError("the `dagster` command is not installed in this environment (run `make demo`)")
    return [dagster, "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(ui_port), "--log-level", log_level]


def banner(api_port: int, ui_port: int, token_file: Path | None) -> str:
    token = (f"operator token (kill switch, mapping decisions): `cat {token_file}`" if token_file
             else "operator token: ARB_API_TOKEN (as configured)")
    return "\n".join([
        "",
        f"  Dashboard:  http://127.0.0.1:{api_port}/   (opportunities, hedges to place, breaker + kill switch)",
        f"  Dagster UI: http://127.0.0.1:{ui_port}/    (assets, runs, checks; the scan sensor is on)",
        f"  API:        http://127.0.0.1:{api_port}/docs   metrics: http://127.0.0.1:{api_port}/metrics",
        f"  {token}",
        "  Ctrl-C stops everything.",
        "",
    ])


def print_first_scan(settings: Settings) -> None:
    """One scan of the simulator right away, so the terminal shows opportunities before the UI loads."""
    from arb_pipeline.services.ingest import capture_from_settings
    from arb_pipeline.services.report import render_opportunities_table
    from arb_pipeline.services.scan import ScanConfig, scan

    capture = capture_from_settings(settings)
    print()
    print(render_opportunities_table(scan(capture.snapshot, ScanConfig.from_settings(settings))))
    print(flush=True)

"""`make demo`: ports and data directory are the user's choice, the dashboard is started and announced,
Ctrl-C stops every process it started, and the run it interrupted is not reported as a failure."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arb_pipeline.launch import demo
from arb_pipeline.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ports_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.setenv("UI_PORT", "3001")
    assert demo.env_port("UI_PORT", 3000) == 3001
    monkeypatch.setenv("UI_PORT", "")
    assert demo.env_port("UI_PORT", 3000) == 3000
    monkeypatch.setenv("UI_PORT", "three")
    with pytest.raises(demo.DemoError, match="UI_PORT='three' is not a port"):
        demo.env_port("UI_PORT", 3000)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(demo.DemoError, match=f"API port {port} already in use.*API_PORT=8001"):
            demo.check_ports({"simulator": free_port(), "API": port})
    with pytest.raises(demo.DemoError, match="must differ"):
        demo.check_ports({"simulator": 18299, "API": 18299})


def test_one_demo_per_data_directory(tmp_path):
    settings = Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path))
    with demo.exclusive_data_dir(settings):
        with pytest.raises(demo.DemoError, match="another demo is running on .*ARB_DATA_DIR="):
            with demo.exclusive_data_dir(settings):
                pass
    with demo.exclusive_data_dir(Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path / "other"))):
        pass  # another directory is another demo


def test_the_operator_token_is_a_private_file_never_printed(tmp_path):
    settings = Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path))
    path = demo.operator_token_file(settings)
    token = path.read_text().strip()
    assert len(token) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo.operator_token_file(settings) == path and path.read_text().strip() == token  # kept
    text = demo.banner(8000, 3000, path)
    assert "http://127.0.0.1:8000/" in text and f"cat {path}" in text and token not in text
    configured = Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path / "x"), ARB_API_TOKEN="a" * 20)
    assert demo.operator_token_file(configured) is None  # the configured token is used, none is made


def test_demo_help_explains_each_flag(capsys):
    from arb_pipeline import cli

    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    out = capsys.readouterr().out
    for text in ("$SIM_PORT", "$UI_PORT", "$API_PORT", "ARB_DATA_DIR", "--cycles"):
        assert text in out


def processes_using(data_dir: Path) -> list[int]:
    needle = f"ARB_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counts leftover processes through /proc (Linux)")
@pytest.mark.skipif(bool(os.environ.get("FAKETIME")),
                    reason="under libfaketime dagster-daemon's timed waits stall (every daemon heartbeat stops "
                           "after its first loop, so no queued run is ever launched); the demo's stop logic "
                           "reads no calendar date")
def test_ctrl_c_stops_everything_and_marks_the_interrupted_run(tmp_path, monkeypatch):
    import dagster as dg

    data = tmp_path / "demo"
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))  # the instance template reads it
    sim_port, ui_port, api_port = free_port(), free_port(), free_port()
    env = {**os.environ, "ARB_DATA_DIR": str(data), "SIM_PORT": str(sim_port), "UI_PORT": str(ui_port),
           "API_PORT": str(api_port), "PYTHONUNBUFFERED": "1"}
    for name in ("DATABASE_URL", "DAGSTER_HOME", "ARB_API_TOKEN", "ARB_API_TOKEN_FILE"):
        env.pop(name, None)
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "arb_pipeline.cli", "demo"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        home = data / "dagster_home"
        deadline = time.monotonic() + 300
        started = None
        while time.monotonic() < deadline and started is None:
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
            # only once the banner is out: the demo has made Dagster's storage by then (opening it while
            # the demo creates it raced and stamped Alembic's version table twice: "more than one head")
            if "Dashboard:" in log.read_text():
                try:
                    with dg.DagsterInstance.from_config(str(home)) as instance:
                        runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
                        started = runs[0].run_id if runs else None
                except Exception:  # noqa: BLE001 - Dagster is still creating its storage: look again
                    continue
        assert started, "no scan run started: " + log.read_text()[-3000:]
        text = log.read_text()
        assert f"Dashboard:  http://127.0.0.1:{api_port}/" in text and f"http://127.0.0.1:{ui_port}/" in text
        assert len(processes_using(data)) >= 5  # simulator, API, dagster dev, webserver, daemon, run...

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to the demo
        process.wait(timeout=90)
        time.sleep(1)
        assert processes_using(data) == [], log.read_text()[-3000:]  # nothing left behind
        assert "stopped everything the demo started" in log.read_text()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            # a warm-launched scan run takes ~1-2 s, so the one seen STARTED may have finished before the
            # Ctrl-C: then nothing is to be marked. Every run that did not succeed must carry the mark (no
            # run the stop cut short may look like a failure), and the one seen running too unless it succeeded.
            run = instance.get_run_by_id(started)
            assert run.is_finished, run.status  # none is left STARTED after the stop
            assert run.status == dg.DagsterRunStatus.SUCCESS or \
                run.tags.get("arb/interrupted") == demo.INTERRUPT_REASON, run.status
            for other in instance.get_runs():
                assert other.status == dg.DagsterRunStatus.SUCCESS or \
                    other.tags.get("arb/interrupted") == demo.INTERRUPT_REASON, (other.run_id, other.status)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for pid in processes_using(data):
            os.kill(pid, signal.SIGKILL)


def test_dagster_gets_the_repository_env_file_under_the_environment_and_the_demos_own_values(tmp_path, monkeypatch):
    """`dagster dev` loads its working directory's .env over its environment: after `cp .env.example .env`
    the empty DAGSTER_HOME= sent it to a throw-away instance and ARB_SENSORS_DEFAULT_ON= turned the scan
    sensor off. The demo runs it where no .env is and hands the file's values over with the usual precedence."""
    env_file = tmp_path / ".env"
    env_file.write_text("DAGSTER_HOME=\nARB_SENSORS_DEFAULT_ON=\nARB_DATA_DIR=~/.arb_pipeline\n"
                        "ARB_MIN_PROFIT=1.50\nARB_BOOK_COMMISSION=betfair_ex_eu:0.02\n")
    monkeypatch.setenv("ARB_BOOK_COMMISSION", "betfair_ex_eu:0.03")  # the shell's value beats the file's
    monkeypatch.delenv("ARB_MIN_PROFIT", raising=False)
    demo_env = {"DAGSTER_HOME": str(tmp_path / "home"), "ARB_SENSORS_DEFAULT_ON": "1",
                "ARB_DATA_DIR": str(tmp_path)}
    env = demo.dagster_environment(demo_env, env_file=env_file)
    assert env["DAGSTER_HOME"] == str(tmp_path / "home")
    assert env["ARB_SENSORS_DEFAULT_ON"] == "1" and env["ARB_DATA_DIR"] == str(tmp_path)
    assert env["ARB_MIN_PROFIT"] == "1.50"  # the user's setting still reaches the scan runs
    assert env["ARB_BOOK_COMMISSION"] == "betfair_ex_eu:0.03"
    assert demo.dagster_environment(demo_env, env_file=tmp_path / "missing")["DAGSTER_HOME"] == str(tmp_path / "home")



@pytest.mark.slow
def test_with_arb_trader_worker_an_injected_arbitrage_is_traded_by_the_worker_and_shows_everywhere(tmp_path,
                                                                                                    monkeypatch):
    """The issue's Done-when, as `ARB_TRADER=worker make demo` runs it: the demo's simulator process and
    worker process (the demo's own launch functions), a scan stored by the scan job (in process, as the
    headless `arb-pipeline run` does; under ARB_TRADER=worker it refuses to trade), an arbitrage opened
    with `POST /_sim/inject`: the worker's paper orders and the hedge instruction are in the ledger, the
    dashboard's API shows them, and the `worker_records` sensor turns the worker's record into an
    `executed_orders` observation stored by a Dagster instance."""
    import dagster as dg
    import httpx
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from arb_pipeline.api.app import create_app
    from arb_pipeline.defs.execution.assets import EXECUTED_ORDERS
    from arb_pipeline.defs.shared.resources import AppDatabaseResource
    from arb_pipeline.defs.worker.definitions import worker_records
    from arb_pipeline.launch.headless import run_cycles
    from arb_pipeline.services.processes import ChildProcesses
    from arb_pipeline.services.scan import ScanConfig
    from arb_pipeline.services.worker import latest_stored_id, load_view, read_health
    from arb_pipeline.settings import get_settings
    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.migrate import upgrade
    from arb_pipeline.storage.models import HedgeInstruction, Order
    from arb_pipeline_tests.waiting import wait_until

    data = tmp_path / "demo"
    for name in ("DATABASE_URL", "DAGSTER_HOME", "ARB_API_TOKEN", "ARB_API_TOKEN_FILE", "ARB_MARKET_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARB_DATA_DIR", str(data))
    monkeypatch.setenv("ARB_TRADER", "worker")
    monkeypatch.setenv("ARB_WORKER_REFRESH_S", "1")
    get_settings.cache_clear()
    children = ChildProcesses()
    try:
        sim_port = free_port()
        demo.start_simulator_process(children, get_settings(), sim_port)
        env = demo.demo_environment(get_settings(), sim_port)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        settings = get_settings()
        upgrade(settings.effective_database_url)
        (cycle,) = run_cycles(1, settings=settings, source="simulator")
        assert cycle.success and cycle.snapshot_id is not None and cycle.orders_sent == 0
        assert "ARB_TRADER=worker" in (cycle.execution_note or ""), cycle.execution_note

        worker = demo.start_worker_process(children, settings, env)
        assert worker is not None
        sessions = session_factory(get_engine(settings.effective_database_url))

        def feed_live() -> bool:
            assert worker.poll() is None, (data / "logs" / "worker.log").read_text()[-3000:]
            with session_scope(sessions) as session:
                health = read_health(session, datetime.now(UTC))
            return bool(health.books_held) and health.problem(30, 30) is None

        assert wait_until(feed_live, 180), (data / "logs" / "worker.log").read_text()[-3000:]
        view = load_view(sessions, latest_stored_id(sessions), ScanConfig.from_settings(settings), datetime.now(UTC))
        # the demo's simulator opens windows of its own; one game carries one game-winner window at a time,
        # so the arbitrage goes to the first game that has none right now. A two-way game: its arbitrage is
        # one Kalshi leg and a sportsbook leg; in a three-way game it may take two Kalshi legs, and a second
        # leg that the venue's moving book leaves unfilled is unwound with no hedge to write (correct, and
        # alerted, but not what this test is about)
        for game in sorted(g for g, line in view.games.items() if len(line.kalshi) == 2):
            injected_at = time.monotonic()
            reply = httpx.post(f"http://127.0.0.1:{sim_port}/_sim/inject",
                               json={"event_ticker": game, "edge": "0.03", "lifetime_s": 120}, timeout=10)
            if reply.status_code == 200:
                break
        assert reply.status_code == 200, reply.text
        assert reply.json()["event_ticker"] == game

        def traded() -> list:
            with session_scope(sessions) as session:
                return [(o.ticker, o.status, o.mode, o.opportunity_id)
                        for o in session.scalars(select(Order).where(Order.ticker.like(f"{game}%"))).all()]

        assert wait_until(lambda: any(s in ("filled", "partially_filled") for _, s, _, _ in traded()), 60), \
            (data / "logs" / "worker.log").read_text()[-3000:]
        print(f"injection -> the worker's paper order filled in the ledger: "
              f"{(time.monotonic() - injected_at) * 1000:.0f} ms (polled every 10 ms)")
        opportunity = next(o for _, s, _, o in traded() if s in ("filled", "partially_filled"))

        def hedged() -> list:
            with session_scope(sessions) as session:
                return [h.status for h in session.scalars(select(HedgeInstruction).where(
                    HedgeInstruction.opportunity_id == opportunity)).all()]

        def what_happened() -> str:  # the failure's evidence: the game's orders, hedges, decisions, log
            with session_scope(sessions) as session:
                hedges = [(h.opportunity_id, h.leg_index, h.bookmaker, h.status) for h in session.scalars(
                    select(HedgeInstruction).where(HedgeInstruction.event.like(f"%{game}%"))).all()]
            decisions = [line for path in sorted((data / "worker").glob("*")) if path.is_file()
                         for line in path.read_text().splitlines() if game in line][-5:]
            return (f"orders {traded()}\nhedges {hedges}\ndecisions {decisions}\n"
                    f"worker.log: {(data / 'logs' / 'worker.log').read_text()[-4000:]}")

        assert wait_until(hedged, 60), what_happened()  # written once every leg is settled
        assert set(hedged()) == {"pending"}  # the sportsbook leg(s) to place by hand
        orders = traded()
        assert {m for _, _, m, _ in orders} == {"paper"} and {o for *_, o in orders} == {opportunity}
        assert {t for t, *_ in orders} <= {c.ticker for c in view.games[game].kalshi.values()}
        market = orders[0][0]

        # the operator's desk: what the dashboard reads, from the same database
        api = TestClient(create_app(settings))
        assert any(o["ticker"] == market and o["opportunity_id"] == opportunity
                   for o in api.get("/api/orders").json())
        assert any(h["opportunity_id"] == opportunity for h in api.get("/api/hedges").json())
        assert any(p["event"] == game for p in api.get("/api/positions").json()), api.get("/api/positions").json()

        # Dagster: the sensor's observation of executed_orders, stored by an instance
        with dg.instance_for_test() as instance:
            cursor, seen = None, []

            def observed() -> bool:
                nonlocal cursor
                context = dg.build_sensor_context(
                    instance=instance, cursor=cursor,
                    resources={"database": AppDatabaseResource(url=settings.effective_database_url)})
                result = worker_records(context)
                cursor = context.cursor
                for event in getattr(result, "asset_events", None) or []:
                    if isinstance(event, dg.AssetObservation):
                        instance.report_runless_asset_event(event)
                        seen.append(event)
                return any(e.metadata["outcome"].value == "executed" and e.metadata["event"].value == game
                           for e in seen if "outcome" in e.metadata)

            assert wait_until(observed, 30), [e.metadata for e in seen]
            stored = instance.fetch_observations(EXECUTED_ORDERS, limit=100).records
            executed = [r.asset_observation.metadata for r in stored
                        if r.asset_observation.metadata.get("outcome") is not None
                        and r.asset_observation.metadata["outcome"].value == "executed"]
            assert executed and executed[0]["event"].value == game and executed[0]["orders_sent"].value >= 1
            assert executed[0]["trader"].value == "worker"
            print(f"the worker's decision: book update -> decision "
                  f"{executed[0]['book_update_to_decision_ms'].value:.1f} ms")
    finally:
        forced = children.stop_all()
        get_settings.cache_clear()
    assert forced == []  # the worker and the simulator stopped on Ctrl-C semantics

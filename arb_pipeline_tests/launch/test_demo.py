"""`make demo`: ports and data directory are the user's choice, the dashboard is started and announced,
Ctrl-C stops every process it started, and the run it interrupted is not reported as a failure."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
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
            run = instance.get_run_by_id(started)
            assert run.tags.get("arb/interrupted") == demo.INTERRUPT_REASON, run.status
            assert run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.SUCCESS)
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


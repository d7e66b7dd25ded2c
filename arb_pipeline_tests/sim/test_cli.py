"""`arb-pipeline sim` plumbing: configuration, demo key creation, the banner clients read."""

from __future__ import annotations

import httpx
import pytest

from arb_pipeline.sim.auth import signed_headers
from arb_pipeline.sim.cli import build_config, describe
from arb_pipeline.sim.server import SimConfig, create_app, start_simulator


def test_demo_key_is_created_under_the_data_dir_and_announced(tmp_path):
    config = build_config("127.0.0.1", 8765, seed=3, data_dir=tmp_path)
    assert config.live_clock and config.seed == 3
    app = create_app(config)
    sim = app.state.sim
    key_dir = tmp_path / "sim"
    assert sim.created_key_dir == key_dir
    assert (key_dir / "demo_kalshi_key.pem").exists() and (key_dir / "demo_kalshi_key.pub.pem").exists()
    assert (key_dir / "demo_kalshi_key_id.txt").read_text().strip() == sim.key_id
    banner = describe(config, True)
    assert f"KALSHI_PRIVATE_KEY_PATH={key_dir / 'demo_kalshi_key.pem'}" in banner
    assert str(key_dir / "demo_kalshi_key_id.txt") in banner
    assert "KALSHI_BASE_URL=http://127.0.0.1:8765/trade-api/v2" in banner
    assert sim.key_id not in banner and config.odds_api_key not in banner  # secrets are never printed
    again = create_app(build_config("127.0.0.1", 8765, data_dir=tmp_path)).state.sim
    assert again.key_id == sim.key_id and again.created_key_dir is None


def test_key_options_must_come_together(tmp_path):
    with pytest.raises(ValueError):
        build_config("127.0.0.1", 1, kalshi_key_id="only-id", data_dir=tmp_path)


def test_a_client_can_sign_with_the_demo_key_files(tmp_path):
    config = SimConfig(data_dir=tmp_path, games_per_league={"NHL": 1}, kalshi_tier=None)
    with start_simulator(config) as handle:
        pem = (tmp_path / "sim" / "demo_kalshi_key.pem").read_bytes()
        key_id = (tmp_path / "sim" / "demo_kalshi_key_id.txt").read_text().strip()
        assert handle.private_key_pem == pem and handle.key_id == key_id
        assert handle.kalshi_base_url == handle.url + "/trade-api/v2" and handle.odds_base_url == handle.url
        path = "/trade-api/v2/portfolio/balance"
        response = httpx.get(handle.url + path, headers=signed_headers(pem, key_id, "GET", path))
        assert response.json()["balance_dollars"] == "10000.0000"


@pytest.mark.slow
def test_run_sim_serves_in_the_foreground(tmp_path):
    """run_sim blocks serving: start it as a child process, talk to it, then stop that process."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (f"from arb_pipeline.sim.cli import run_sim; run_sim('127.0.0.1', {port}, seed=3, "
            f"data_dir={str(tmp_path)!r})")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/trade-api/v2/exchange/status", timeout=1)
                break
            except httpx.TransportError:
                assert child.poll() is None and time.monotonic() < deadline, "run_sim did not start"
                time.sleep(0.2)
        assert status.json()["exchange_active"] is True
        state = httpx.get(f"http://127.0.0.1:{port}/_sim/state").json()
        assert state["seed"] == 3 and len(state["games"]) == 15
        assert {w["kind"] for w in state["windows"]} == {"arbitrage", "value"}  # the demo opens with both
    finally:
        child.terminate()
        output = child.communicate(timeout=10)[0].decode()
    assert f"KALSHI_BASE_URL=http://127.0.0.1:{port}/trade-api/v2" in output
    assert (tmp_path / "sim" / "demo_kalshi_key.pem").exists()


def test_handle_repr_hides_secrets(make_venue):
    handle = make_venue().handle
    text = repr(handle)
    assert handle.key_id not in text and "PRIVATE KEY" not in text and handle.odds_api_key not in text
    assert handle.url in text


def test_extended_flag_builds_the_extended_slate(tmp_path):
    assert not build_config("127.0.0.1", 8765, data_dir=tmp_path).scenario_config().extended
    assert build_config("127.0.0.1", 8765, data_dir=tmp_path, extended=True).scenario_config().extended

"""`arb-pipeline run --source simulator` needs no credentials: the simulator's demo ones fill in."""

import pytest
from pydantic import SecretStr

from arb_pipeline import cli
from arb_pipeline.services.simulator import simulator_settings
from arb_pipeline.settings import Settings, get_settings

CREDENTIALS = ("KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH", "KALSHI_PRIVATE_KEY_PEM", "ODDS_API_KEY")


@pytest.fixture
def sim(tmp_path):
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    scenario = ScenarioConfig(seed=5, live_clock=True, games_per_league=1, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0)
    with start_simulator(SimConfig(scenario=scenario, data_dir=tmp_path / "data", kalshi_tier=None,
                                   odds_calls_per_second=None)) as handle:
        yield handle


def test_run_against_the_simulator_with_no_credentials_configured(sim, tmp_path, monkeypatch, capsys):
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))  # where the simulator wrote its demo key
    monkeypatch.setenv("KALSHI_BASE_URL", sim.kalshi_base_url)  # only because the test's port is not 8765
    monkeypatch.setenv("ODDS_API_BASE_URL", sim.odds_base_url)
    get_settings.cache_clear()
    try:
        code = cli.main(["run", "--cycles", "1", "--source", "simulator"])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "cycle 1: ok" in out and "ODDS_API_KEY is not set" not in out


def test_configured_credentials_win_and_a_missing_demo_key_is_a_clear_error(tmp_path):
    configured = Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path), KALSHI_API_KEY_ID="mine",
                          KALSHI_PRIVATE_KEY_PATH=str(tmp_path / "mine.pem"), ODDS_API_KEY="my-odds-key")
    assert simulator_settings(configured) == configured
    with pytest.raises(ValueError, match="no simulator demo key under") as exc:
        simulator_settings(Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path)))
    assert "arb-pipeline sim" in str(exc.value)
    odds_only = simulator_settings(Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path), KALSHI_API_KEY_ID="mine",
                                            KALSHI_PRIVATE_KEY_PEM="pem"))
    assert isinstance(odds_only.odds_api_key, SecretStr) and odds_only.kalshi_key_id.get_secret_value() == "mine"

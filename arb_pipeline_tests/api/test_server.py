"""`arb-pipeline api`: what it prints on start, and a bad token configuration stops it with the reason."""

from arb_pipeline import cli
from arb_pipeline.api.server import describe
from arb_pipeline.settings import Settings, get_settings


def test_the_banner_names_the_dashboard_and_whether_actions_are_enabled():
    settings = Settings(_env_file=None)
    text = describe(settings, "0.0.0.0", 8000, token_configured=False)
    assert "dashboard  http://127.0.0.1:8000/" in text and "metrics    http://127.0.0.1:8000/metrics" in text
    assert "read-only until ARB_API_TOKEN" in text
    assert "actions    enabled" in describe(settings, "127.0.0.1", 8001, token_configured=True)


def test_a_weak_token_stops_the_api_with_the_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARB_API_TOKEN", "short")
    get_settings.cache_clear()
    try:
        assert cli.main(["api", "--port", "18299"]) == 2
    finally:
        get_settings.cache_clear()
    assert "at least 16 characters" in capsys.readouterr().err

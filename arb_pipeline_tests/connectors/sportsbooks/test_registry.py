"""Provider registry: built-ins registered, new providers are one registration away."""

from __future__ import annotations

import pytest

from arb_pipeline.connectors.sportsbooks import registry
from arb_pipeline.connectors.sportsbooks.replay import RecordedOdds, ReplayProvider
from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider
from arb_pipeline.settings import Settings

SETTINGS = Settings(_env_file=None, ODDS_API_KEY="0123456789abcdef0123456789abcdef")


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))


def test_builtins_are_registered():
    assert {"the_odds_api", "replay"} <= set(registry.registered_providers())
    provider = registry.get_provider(SETTINGS.odds_provider, SETTINGS, max_attempts=2)
    assert isinstance(provider, TheOddsApiProvider) and provider.regions == ("us", "eu")
    provider.close()


def test_replay_needs_exactly_one_of_directory_or_source(tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        registry.get_provider("replay", SETTINGS)
    source = ReplayProvider(lambda: [])
    assert isinstance(registry.get_provider("replay", SETTINGS, source=lambda: []), ReplayProvider)
    assert isinstance(registry.get_provider("replay", SETTINGS, snapshot_dir=tmp_path), ReplayProvider)
    source.close()


def test_register_and_get_a_new_provider():
    recorded: list[RecordedOdds] = []
    registry.register_provider("archive", lambda settings, **opts: ReplayProvider(lambda: recorded))
    assert registry.get_provider("archive", SETTINGS).sport_keys() == ()
    with pytest.raises(ValueError, match="already registered"):
        registry.register_provider("archive", lambda settings: None)
    registry.register_provider("archive", lambda settings: ReplayProvider(lambda: recorded), replace=True)


def test_unknown_provider_lists_the_registered_ones():
    with pytest.raises(ValueError, match=r"unknown odds provider 'betfair'; registered: .*pinnacle.*the_odds_api"):
        registry.get_provider("betfair", SETTINGS)


def test_odds_provider_is_read_and_an_unknown_name_is_a_clear_error():
    from arb_pipeline.connectors.sportsbooks.pinnacle import PinnacleProvider

    odds_api = registry.live_provider(SETTINGS)
    assert isinstance(odds_api, TheOddsApiProvider)
    odds_api.close()
    pinnacle = Settings(_env_file=None, ODDS_PROVIDER="pinnacle", PINNACLE_USERNAME="u", PINNACLE_PASSWORD="p",
                        PINNACLE_LEAGUES="basketball_nba:4:487")
    provider = registry.live_provider(pinnacle)
    assert isinstance(provider, PinnacleProvider) and provider.leagues == {"basketball_nba": (4, 487)}
    assert "p'" not in repr(provider) and "password" not in repr(provider).lower()
    provider.close()
    with pytest.raises(ValueError, match=r"ODDS_PROVIDER='betfair' is not a live odds provider; choose one of "
                                         r"the_odds_api, pinnacle"):
        registry.live_provider(Settings(_env_file=None, ODDS_PROVIDER="betfair"))
    with pytest.raises(ValueError, match="replay reads recorded snapshots"):
        registry.live_provider(Settings(_env_file=None, ODDS_PROVIDER="replay"))

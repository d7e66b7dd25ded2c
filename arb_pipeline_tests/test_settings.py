"""Settings as a new user meets them: `cp .env.example .env` must give the documented defaults."""

import shutil
from pathlib import Path

import pytest

from arb_pipeline import cli
from arb_pipeline.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = REPO_ROOT / ".env.example"


def example_variables() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


@pytest.fixture
def env_example_as_dotenv(tmp_path, monkeypatch):
    """A working directory holding `.env.example` copied to `.env`, and no variable set outside it
    except ARB_DATA_DIR (the example's `~/.arb_pipeline` must not be touched by a test)."""
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env")
    for name in example_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_every_empty_value_in_the_example_means_the_default(env_example_as_dotenv):
    loaded = Settings()
    defaults = Settings(_env_file=None)
    fields_by_alias = {field.alias: name for name, field in Settings.model_fields.items()}
    empty = [name for name, value in example_variables().items() if value == "" and name in fields_by_alias]
    assert "ARB_MAPPING_OVERRIDES" in empty and "DATABASE_URL" in empty
    for alias in empty:
        field = fields_by_alias[alias]
        assert getattr(loaded, field) == getattr(defaults, field), alias
    assert loaded.overrides_path is None  # not Path("."), which made every scan raise IsADirectoryError


def test_the_example_values_parse_to_what_they_document(env_example_as_dotenv):
    loaded = Settings()
    assert loaded.mode == "paper"
    assert loaded.sharp_book_weights() == {"pinnacle": 3.0, "betfair_ex_eu": 2.0, "betfair_ex_uk": 2.0}
    assert loaded.effective_database_url.startswith("sqlite:///")


@pytest.mark.parametrize("argv", [["scan", "--sample"], ["mapping", "list"], ["breaker", "status"]])
def test_commands_work_with_the_example_as_dotenv(env_example_as_dotenv, capsys, argv):
    assert cli.main(argv) == 0, capsys.readouterr().err


def test_book_settings_parse_and_refuse_bad_items_by_name():
    from decimal import Decimal

    s = Settings(_env_file=None, ARB_BOOK_STAKE_LIMITS="fanduel:100, pinnacle:1000.50",
                 ARB_ACCOUNT_BOOKS="fanduel,pinnacle", ARB_CONSENSUS_BOOKS="pinnacle", ARB_TRADE_VALUE="true")
    assert s.book_stake_limit_map() == {"fanduel": Decimal(100), "pinnacle": Decimal("1000.50")}
    assert s.account_book_set() == frozenset({"fanduel", "pinnacle"}) and s.consensus_book_set() == {"pinnacle"}
    assert s.trade_value is True
    defaults = Settings(_env_file=None)
    assert defaults.book_stake_limit_map() == {} and defaults.account_book_set() is None
    assert defaults.consensus_book_set() is None and defaults.trade_value is False
    for bad, message in (("fanduel", "expected book:amount, got 'fanduel'"), ("fanduel:0", "must be > 0"),
                         ("fanduel:lots", "ARB_BOOK_STAKE_LIMITS amount for 'fanduel'")):
        with pytest.raises(ValueError, match=message):
            Settings(_env_file=None, ARB_BOOK_STAKE_LIMITS=bad).book_stake_limit_map()


def test_the_default_leagues_are_the_catalogues_confirmed_series_and_sport_keys():
    """KALSHI_SERIES / ODDS_SPORTS defaults (issue #12): every catalogued league whose series the
    references confirm, each series the catalogue's own for the league its sport key names."""
    from arb_pipeline.connectors.sportsbooks.base import LEAGUE_BY_SPORT_KEY, league_for_sport
    from arb_pipeline.mapping.catalogue import load_catalogue
    from arb_pipeline.settings import DEFAULT_LEAGUES

    catalogue = load_catalogue()
    settings = Settings(_env_file=None)
    assert settings.kalshi_series.split(",") == [s for lg in DEFAULT_LEAGUES for s in lg[:3] if s]
    assert settings.odds_sports.split(",") == [lg[3] for lg in DEFAULT_LEAGUES]
    for game, spread, total, sport in DEFAULT_LEAGUES:
        league = catalogue.leagues[league_for_sport(sport)]
        assert (league.sport_key, league.kalshi_series, league.spread_series, league.total_series) == (
            sport, game, spread, total)
    # every catalogued league's sport key names it; the opt-in ones are exactly those left out
    for code, league in catalogue.leagues.items():
        assert league_for_sport(league.sport_key) == code or league.sport_key_prefixes
        assert all(league_for_sport(p + "some_open") == code for p in league.sport_key_prefixes)
    assert set(LEAGUE_BY_SPORT_KEY.values()) | {"ATP", "WTA"} == set(catalogue.leagues)
    opt_in = set(catalogue.leagues) - {league_for_sport(lg[3]) for lg in DEFAULT_LEAGUES}
    assert opt_in == {"UEL", "ATP", "WTA"}

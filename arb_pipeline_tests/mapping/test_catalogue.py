from pathlib import Path

import pytest

from arb_pipeline.mapping.catalogue import CatalogueError, league_from_dict, load_catalogue

EXPECTED_COUNTS = {"NFL": 32, "NBA": 30, "NHL": 32, "MLB": 30}


def _league(**overrides: object) -> dict:
    doc = {
        "league": "XL",
        "sport_key": "x_league",
        "kalshi_series": "KXXLGAME",
        "three_way": False,
        "milestone_type": "x_game",
        "teams": [
            {"id": "XL-A", "full_name": "Alpha Ants", "city": "Alpha", "nickname": "Ants", "kalshi_code": "ALP",
             "kalshi_label": "Alpha", "aliases": [], "previous_names": []},
            {"id": "XL-B", "full_name": "Beta Bees", "city": "Beta", "nickname": "Bees", "kalshi_code": "BET",
             "kalshi_label": "Beta", "aliases": ["BB"], "previous_names": []},
        ],
    }
    doc.update(overrides)
    return doc


def test_packaged_catalogue_has_every_team_of_each_us_league() -> None:
    cat = load_catalogue()
    for code, count in EXPECTED_COUNTS.items():
        assert len(cat.league(code).teams) == count, code
    assert len(cat.league("EPL").teams) >= 20


@pytest.mark.parametrize(
    ("league", "sport_key", "series", "three_way", "milestone_type"),
    [
        ("NFL", "americanfootball_nfl", "KXNFLGAME", False, "football_game"),
        ("NBA", "basketball_nba", "KXNBAGAME", False, "basketball_game"),
        ("NHL", "icehockey_nhl", "KXNHLGAME", False, "hockey_match"),
        ("MLB", "baseball_mlb", "KXMLBGAME", False, "baseball_game"),
        ("EPL", "soccer_epl", "KXEPLGAME", True, "soccer_match"),
    ],
)
def test_league_keys(league: str, sport_key: str, series: str, three_way: bool, milestone_type: str) -> None:
    cat = load_catalogue()
    lg = cat.league(league.lower())
    assert (lg.sport_key, lg.kalshi_series, lg.three_way, lg.milestone_type) == (
        sport_key, series, three_way, milestone_type)
    assert cat.by_series(series) is lg
    assert cat.by_sport_key(sport_key) is lg


@pytest.mark.parametrize(
    ("league", "name", "team_id"),
    [
        ("MLB", "New York Y", "MLB-NYY"),
        ("MLB", "New York M", "MLB-NYM"),
        ("MLB", "Los Angeles D", "MLB-LAD"),
        ("NFL", "Los Angeles R", "NFL-LAR"),
        ("NFL", "New York G", "NFL-NYG"),
        ("NFL", "New York J", "NFL-NYJ"),
        ("NBA", "Los Angeles C", "NBA-LAC"),
        ("NBA", "LA Clippers", "NBA-LAC"),
        ("NBA", "Los Angeles Lakers", "NBA-LAL"),
        ("NHL", "New York R", "NHL-NYR"),
        ("NHL", "New York I", "NHL-NYI"),
        ("MLB", "Chicago WS", "MLB-CWS"),
        ("MLB", "Chicago C", "MLB-CHC"),
        ("MLB", "Oakland Athletics", "MLB-ATH"),
        ("MLB", "Athletics", "MLB-ATH"),
        ("NFL", "Washington Commanders", "NFL-WAS"),
        ("NFL", "Washington Redskins", "NFL-WAS"),
        ("EPL", "Manchester United", "EPL-MUN"),
        ("EPL", "Manchester City", "EPL-MCI"),
        ("EPL", "Tottenham Hotspur", "EPL-TOT"),
        ("EPL", "Brighton and Hove Albion", "EPL-BHA"),
        ("EPL", "Wolverhampton Wanderers", "EPL-WOL"),
        ("EPL", "Nottingham Forest", "EPL-NFO"),
        ("NHL", "Montreal Canadiens", "NHL-MTL"),
        ("NHL", "Utah Hockey Club", "NHL-UTA"),
    ],
)
def test_exact_lookups(league: str, name: str, team_id: str) -> None:
    team = load_catalogue().league(league).lookup(name)
    assert team is not None and team.id == team_id


def test_cross_league_labels_do_not_leak() -> None:
    cat = load_catalogue()
    assert cat.league("NFL").lookup("Los Angeles D") is None  # Dodgers label is MLB only
    assert cat.league("MLB").lookup("Los Angeles R") is None  # Rams label is NFL only
    assert cat.league("NBA").lookup("Los Angeles") is None  # shared city alone is never a team
    assert cat.league("EPL").lookup("Manchester") is None
    assert cat.league("EPL").lookup("United") is None


def test_codes_and_team_by_id() -> None:
    cat = load_catalogue()
    assert cat.league("NFL").by_code("la").id == "NFL-LAR"
    assert cat.league("NFL").by_code("LAC").id == "NFL-LAC"
    assert cat.team("MLB-LAD").kalshi_label == "Los Angeles D"
    with pytest.raises(CatalogueError, match="no team with id 'XX-1'"):
        cat.team("XX-1")
    with pytest.raises(CatalogueError, match="unknown league 'CFL'.*EPL"):
        cat.league("CFL")


def test_duplicate_alias_names_both_teams() -> None:
    doc = _league()
    doc["teams"][1]["aliases"] = ["Alpha Ants FC"]
    with pytest.raises(CatalogueError, match=r"x\.yaml: alias 'Alpha Ants FC'.*XL-A \(Alpha Ants\) and XL-B \(Beta Bees\)"):
        league_from_dict(doc, source="x.yaml")


def test_duplicate_code_is_an_error() -> None:
    doc = _league()
    doc["teams"][1]["kalshi_code"] = "ALP"
    with pytest.raises(CatalogueError, match="kalshi_code 'ALP' is used by both XL-A"):
        league_from_dict(doc, source="x.yaml")


def test_missing_field_names_file_and_team() -> None:
    doc = _league()
    del doc["teams"][1]["city"]
    with pytest.raises(CatalogueError, match=r"x\.yaml: team #2 \(XL-B\): missing field\(s\) city"):
        league_from_dict(doc, source="x.yaml")


def test_yaml_boolean_trap_is_reported() -> None:
    doc = _league()
    doc["teams"][1]["aliases"] = [False]  # what an unquoted NO becomes in YAML
    with pytest.raises(CatalogueError, match="XL-B.*'aliases' must be a list of non-empty strings"):
        league_from_dict(doc, source="x.yaml")


def test_unknown_league_field_and_bad_three_way() -> None:
    with pytest.raises(CatalogueError, match="unknown field\\(s\\) colour"):
        league_from_dict(_league(colour="red"), source="x.yaml")
    with pytest.raises(CatalogueError, match="'three_way' must be true or false"):
        league_from_dict(_league(three_way="yes"), source="x.yaml")


def test_load_from_directory(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "xl.yaml").write_text(yaml.safe_dump(_league()), encoding="utf-8")
    cat = load_catalogue(tmp_path)
    assert [t.id for t in cat.league("XL").teams] == ["XL-A", "XL-B"]
    assert cat.league("XL").lookup("bb").id == "XL-B"
    with pytest.raises(CatalogueError, match="no league files"):
        load_catalogue(tmp_path / "empty")


def test_code_like_aliases_back_up_kalshi_codes() -> None:
    cat = load_catalogue()
    assert cat.league("MLB").by_code("AZ").id == "MLB-ARI"
    assert cat.league("NHL").by_code("TB").id == "NHL-TBL" and cat.league("NHL").by_code("TBL").id == "NHL-TBL"
    assert cat.league("NFL").by_code("LAR").id == "NFL-LAR"
    assert cat.league("NBA").by_code("Clippers") is None  # names are not codes


def test_code_like_alias_may_not_be_another_teams_code() -> None:
    doc = _league()
    doc["teams"][1]["aliases"] = ["ALP"]
    with pytest.raises(CatalogueError, match="'ALP'.*used by both XL-A \\(Alpha Ants\\) and XL-B"):
        league_from_dict(doc, source="x.yaml")

from pathlib import Path

import pytest

from arb_pipeline.mapping import commands
from arb_pipeline.mapping.commands import CommandError
from arb_pipeline.mapping.manual_overrides import load_overrides


def test_add_and_list(tmp_path: Path) -> None:
    path = tmp_path / "mapping_overrides.yaml"
    c = commands.confirm(who="ann", why="typo in feed", team_aliases={"LA Clipperz": "NBA-LAC"}, path=path)
    r = commands.reject(who="bob", why="wrong game", kalshi_market="E-BOS", sportsbook_event_id="g1", path=path)
    o = commands.override(who="cy", why="manual", kalshi_market="E-NYK", sportsbook_event_id="g1", outcome="home",
                          path=path)
    assert c["action"] == "confirm" and r["action"] == "reject" and o["outcome"] == "home"
    assert [x["who"] for x in commands.list_mappings(path)["overrides"]] == ["ann", "bob", "cy"]
    assert [x["who"] for x in commands.list_mappings(path, kalshi="E-NYK")["overrides"]] == ["cy"]
    assert len(load_overrides(path)) == 3


def test_errors_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    with pytest.raises(CommandError, match="unknown team id 'NBA-XXX'"):
        commands.confirm(who="a", why="b", team_aliases={"x": "NBA-XXX"}, path=path)
    with pytest.raises(CommandError, match=r"'Manchester City' already names EPL-MCI \(Manchester City\), not EPL-MUN"):
        commands.confirm(who="a", why="b", team_aliases={"Manchester City": "EPL-MUN"}, path=path)
    with pytest.raises(CommandError, match="outcome 'win' must be one of"):
        commands.override(who="a", why="b", kalshi_market="M", sportsbook_event_id="g", outcome="win", path=path)
    with pytest.raises(CommandError, match="'who' is required"):
        commands.reject(who="", why="b", kalshi_event="E", path=path)
    assert not path.exists()


def test_broken_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("overrides: [1]\n")
    with pytest.raises(CommandError, match="expected a mapping"):
        commands.list_mappings(path)
    with pytest.raises(CommandError, match="cannot add to a broken overrides file"):
        commands.reject(who="a", why="b", kalshi_event="E", path=path)
    assert path.read_text() == "overrides: [1]\n"


def test_list_with_a_resolution(tmp_path: Path) -> None:
    from datetime import date

    from arb_pipeline.mapping.resolver import resolve
    from arb_pipeline_tests.mapping.factories import TARGETS, game_event, h2h, milestone, utc

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    ms = [milestone(ev.event_ticker, utc(2026, 11, 4, 0, 30), home="NBA-NYK", away="NBA-BOS")]
    res = resolve([ev], ms, h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)), targets=TARGETS,
                  as_of=utc(2026, 6, 1))
    listed = commands.list_mappings(tmp_path / "none.yaml", kalshi=ev.event_ticker, resolution=res)
    assert listed["overrides"] == [] and listed["unresolved"] == []
    assert sorted(r["kalshi_market"] for r in listed["rows"]) == [m.ticker for m in ev.markets]
    one = commands.list_mappings(tmp_path / "none.yaml", kalshi=ev.markets[0].ticker, resolution=res)
    assert [r["kalshi_market"] for r in one["rows"]] == [ev.markets[0].ticker]


def test_default_path_is_the_repo_root_file() -> None:
    from arb_pipeline.mapping.manual_overrides import DEFAULT_OVERRIDES_PATH

    assert DEFAULT_OVERRIDES_PATH.name == "mapping_overrides.yaml"
    assert (DEFAULT_OVERRIDES_PATH.parent / "pyproject.toml").exists()
    assert isinstance(commands.list_mappings()["overrides"], list)

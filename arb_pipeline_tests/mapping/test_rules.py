from dataclasses import replace
from datetime import date, timedelta

import pytest

from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.rules import (
    ResolverConfig,
    RuleError,
    TeamLookup,
    market_side,
    milestone_for,
    ticker_date_matches,
    ticker_start,
)
from arb_pipeline.mapping.tickers import parse_event_ticker
from arb_pipeline_tests.mapping.factories import market, milestone, utc

CFG = ResolverConfig()


def _nba() -> TeamLookup:
    return TeamLookup(load_catalogue().league("NBA"))


def test_market_side_requires_all_three_signals_to_agree() -> None:
    ev = parse_event_ticker("KXNBAGAME-26NOV03BOSNYK")
    m = market(ev.ticker, "NYK", "New York", opponents=("Boston", "New York"))
    assert market_side(m, ev, _nba()).team.id == "NBA-NYK"
    wrong_rules = replace(m, rules_primary=m.rules_primary.replace("If New York wins", "If Boston wins"))
    with pytest.raises(RuleError, match=r"rules_primary 'Boston'→NBA-BOS"):
        market_side(wrong_rules, ev, _nba())
    no_rules = replace(m, rules_primary="")
    with pytest.raises(RuleError, match=r"rules_primary None→unknown"):
        market_side(no_rules, ev, _nba())
    unknown_code = market(ev.ticker, "XYZ", "New York")
    with pytest.raises(RuleError, match=r"ticker code 'XYZ'→unknown"):
        market_side(unknown_code, ev, _nba())


def test_rules_date_must_be_ticker_date() -> None:
    ev = parse_event_ticker("KXNBAGAME-26NOV03BOSNYK")
    m = market(ev.ticker, "NYK", "New York", on=date(2026, 11, 4))
    with pytest.raises(RuleError, match="rules_primary date 'Nov 4, 2026' disagrees with ticker date 2026-11-03"):
        market_side(m, ev, _nba())


def test_tie_only_in_three_way_leagues_and_labelled_tie() -> None:
    epl = TeamLookup(load_catalogue().league("EPL"))
    ev = parse_event_ticker("KXEPLGAME-26NOV07MUNMCI")
    assert market_side(market(ev.ticker, "TIE", "Tie"), ev, epl).is_draw
    with pytest.raises(RuleError, match="is not Tie/Draw"):
        market_side(market(ev.ticker, "TIE", "Manchester City"), ev, epl)
    with pytest.raises(RuleError, match="names a winner"):
        market_side(market(ev.ticker, "TIE", "Tie", rules="If Manchester City wins the match ..."), ev, epl)
    nba = parse_event_ticker("KXNBAGAME-26NOV03BOSNYK")
    with pytest.raises(RuleError, match="TIE market in two-way league NBA"):
        market_side(market(nba.ticker, "TIE", "Tie"), nba, _nba())


def test_override_aliases_extend_lookup_per_league() -> None:
    lookup = TeamLookup(load_catalogue().league("NBA"), {"Knickerbockers": "NBA-NYK", "Bruins": "NHL-BOS", "u-1": "NBA-BOS"})
    assert lookup.name("knickerbockers").id == "NBA-NYK"
    assert lookup.name("Bruins") is None  # an NHL alias never leaks into the NBA
    assert lookup.target("u-1").id == "NBA-BOS"


def test_ticker_date_is_us_eastern_across_utc_midnight() -> None:
    ev = parse_event_ticker("KXNBAGAME-26NOV03BOSNYK")
    assert ticker_date_matches(ev, utc(2026, 11, 4, 0, 30), CFG)  # 7:30 pm ET Nov 3
    assert not ticker_date_matches(ev, utc(2026, 11, 3, 0, 30), CFG)  # 7:30 pm ET Nov 2
    mlb = parse_event_ticker("KXMLBGAME-26JUL282210SEALAD")
    assert ticker_start(mlb, CFG) == utc(2026, 7, 29, 2, 10)  # 22:10 EDT
    assert ticker_start(ev, CFG) is None


def test_milestone_selection() -> None:
    a = milestone("E1", utc(2026, 1, 1), milestone_id="m1")
    b = milestone("E1", utc(2026, 1, 1), milestone_id="m2")
    related_only = replace(b, primary_event_tickers=())
    assert milestone_for("E1", {"E1": [a, related_only]}).id == "m1"
    with pytest.raises(RuleError, match="2 milestones link to it"):
        milestone_for("E1", {"E1": [a, b]})


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        ResolverConfig(start_buffer=timedelta(minutes=-1))
    with pytest.raises(ValueError, match="tight_tolerance <= start_tolerance <= postponed_window"):
        ResolverConfig(start_tolerance=timedelta(hours=72))
    with pytest.raises(Exception, match="Nowhere/Zone"):
        ResolverConfig(ticker_time_zones=("Nowhere/Zone",))


def test_known_custom_strike_target_must_agree() -> None:
    ev = parse_event_ticker("KXNBAGAME-26NOV03BOSNYK")
    lookup = TeamLookup(load_catalogue().league("NBA"), {"uuid-nyk": "NBA-NYK", "uuid-bos": "NBA-BOS"})
    m = market(ev.ticker, "NYK", "New York", opponents=("Boston", "New York"))
    assert market_side(replace(m, custom_strike={"basketball_team": "uuid-nyk"}), ev, lookup).team.id == "NBA-NYK"
    assert market_side(replace(m, custom_strike={"basketball_team": "uuid-unknown"}), ev, lookup).team.id == "NBA-NYK"
    with pytest.raises(RuleError, match="custom_strike target is NBA-BOS"):
        market_side(replace(m, custom_strike={"basketball_team": "uuid-bos"}), ev, lookup)


def test_confirmed_alias_cannot_relabel_a_catalogue_team() -> None:
    lookup = TeamLookup(load_catalogue().league("EPL"), {"Manchester City": "EPL-MUN"})
    assert lookup.name("Manchester City").id == "EPL-MCI"

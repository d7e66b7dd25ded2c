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
    participants,
    ticker_date_matches,
    ticker_start,
)
from arb_pipeline.mapping.tickers import parse_event_ticker
from arb_pipeline_tests.mapping.factories import TARGETS, market, milestone, target, tid, utc

CFG = ResolverConfig()
EVENT = "KXNBAGAME-26NOV03BOSNYK"


def _nba(**kw) -> TeamLookup:
    return TeamLookup(load_catalogue().league("NBA"), targets=TARGETS, **kw)


def _parts(lookup: TeamLookup, event: str = EVENT, **details):
    ms = milestone(event, utc(2026, 11, 4, 0, 30), home="NBA-NYK", away="NBA-BOS", details=details)
    return participants(event, {event: [ms]}, lookup, CFG)


def test_market_side_is_its_target_and_every_text_can_only_block() -> None:
    ev = parse_event_ticker(EVENT)
    lookup = _nba()
    parts = _parts(lookup)
    m = market(EVENT, "NYK", "New York", opponents=("Boston", "New York"), strike={"basketball_team": tid("NBA-NYK")})
    assert market_side(m, EVENT, ev, parts, lookup).team.id == "NBA-NYK"
    assert market_side(replace(m, rules_primary=""), EVENT, None, parts, lookup).team.id == "NBA-NYK"
    wrong_rules = replace(m, rules_primary=m.rules_primary.replace("If New York wins", "If Boston wins"))
    with pytest.raises(RuleError, match=r"rules_primary 'Boston'→NBA-BOS"):
        market_side(wrong_rules, EVENT, ev, parts, lookup)
    wrong_code = replace(m, ticker=f"{EVENT}-BOS")
    with pytest.raises(RuleError, match=r"ticker code 'BOS'→NBA-BOS"):
        market_side(wrong_code, EVENT, ev, parts, lookup)
    unknown_code = replace(m, ticker=f"{EVENT}-XYZ")
    assert market_side(unknown_code, EVENT, ev, parts, lookup).team.id == "NBA-NYK"  # silent
    with pytest.raises(RuleError, match="no custom_strike structured target"):
        market_side(replace(m, custom_strike=None), EVENT, ev, parts, lookup)
    with pytest.raises(RuleError, match="several targets"):
        market_side(replace(m, custom_strike={"a": tid("NBA-NYK"), "b": tid("NBA-BOS")}), EVENT, ev, parts, lookup)


def test_rules_date_must_be_ticker_date() -> None:
    ev = parse_event_ticker(EVENT)
    lookup = _nba()
    m = market(EVENT, "NYK", "New York", on=date(2026, 11, 4), strike={"basketball_team": tid("NBA-NYK")})
    with pytest.raises(RuleError, match="rules_primary date Nov 4, 2026 disagrees with ticker date 2026-11-03"):
        market_side(m, EVENT, ev, _parts(lookup), lookup)
    assert market_side(m, EVENT, None, _parts(lookup), lookup).team.id == "NBA-NYK"  # no ticker, no check


def test_tie_only_in_three_way_leagues_and_labelled_tie() -> None:
    epl = TeamLookup(load_catalogue().league("EPL"), targets=TARGETS)
    event = "KXEPLGAME-26NOV07MUNMCI"
    ev = parse_event_ticker(event)
    ms = milestone(event, utc(2026, 11, 7, 17, 30), home="EPL-MUN", away="EPL-MCI", kind="soccer_match")
    parts = participants(event, {event: [ms]}, epl, CFG)
    assert market_side(market(event, "TIE", "Tie"), event, ev, parts, epl).is_draw
    with pytest.raises(RuleError, match="is not Tie/Draw"):
        market_side(market(event, "TIE", "Manchester City"), event, ev, parts, epl)
    with pytest.raises(RuleError, match="names a winner"):
        market_side(market(event, "TIE", "Tie", rules="If Manchester City wins the match ..."), event, ev, parts, epl)
    with pytest.raises(RuleError, match="ticker code is 'MCI', not TIE"):
        market_side(market(event, "MCI", "Tie", rules=""), event, ev, parts, epl)
    lookup = _nba()
    with pytest.raises(RuleError, match="no custom_strike structured target"):
        market_side(market(EVENT, "TIE", "Tie"), EVENT, parse_event_ticker(EVENT), _parts(lookup), lookup)


def test_participants_come_from_the_milestone_and_its_targets() -> None:
    lookup = _nba()
    parts = _parts(lookup)
    assert (parts.home.id, parts.away.id, parts.neutral) == ("NBA-NYK", "NBA-BOS", False)
    assert parts.start == utc(2026, 11, 4, 0, 30) and parts.pair == {"NBA-NYK", "NBA-BOS"}
    assert _parts(lookup, neutral_site=True).neutral
    assert _parts(lookup, neutral_site="true").neutral and not _parts(lookup, neutral_site=False).neutral
    with pytest.raises(RuleError, match="no milestone links to event"):
        participants(EVENT, {}, lookup, CFG)
    keys = ResolverConfig(participant_keys=(("competitor_a", "competitor_b"), ("home_team_id", "away_team_id")))
    ms = milestone(EVENT, utc(2026, 11, 4), details={"competitor_a": tid("NBA-BOS"), "competitor_b": tid("NBA-NYK")})
    assert participants(EVENT, {EVENT: [ms]}, lookup, keys).home.id == "NBA-BOS"


def test_identify_a_target_by_confirmed_id_source_id_or_exact_name() -> None:
    from dataclasses import replace as swap

    league = load_catalogue().league("NBA")
    sourced = swap(league.team("NBA-NYK"), target_source_ids=("sr:competitor:3421",))
    league2 = type(league)(**{**{f: getattr(league, f) for f in ("code", "sport_key", "kalshi_series", "three_way",
                                                                "milestone_type", "season", "source")},
                              "teams": tuple(sourced if t.id == "NBA-NYK" else t for t in league.teams)})
    odd_name = target("NBA-NYK", name="NY Knickerbockers", source_id="sr:competitor:3421")
    lookup = TeamLookup(league2, targets={odd_name.id: odd_name})
    assert lookup.identify(odd_name.id).id == "NBA-NYK"  # the name alone is unknown; the source id is confirmed
    clash = target("NBA-NYK", name="Boston Celtics", source_id="sr:competitor:3421")
    with pytest.raises(RuleError, match="ambiguous: confirmed id|ambiguous: name→NBA-BOS, source id #1→NBA-NYK"):
        TeamLookup(league2, targets={clash.id: clash}).identify(clash.id)


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


def test_confirmed_alias_cannot_relabel_a_catalogue_team() -> None:
    lookup = TeamLookup(load_catalogue().league("EPL"), {"Manchester City": "EPL-MUN"})
    assert lookup.name("Manchester City").id == "EPL-MCI"


def test_known_names_are_memoized_with_the_same_answers_and_errors():
    """Asked again, a name gives the same team (or None); a confirmed alias is known; a non-text is still
    refused by normalize_name, not by the memo."""
    lookup = TeamLookup(load_catalogue().league("NBA"), {"Knickerbockers": "NBA-NYK"})
    for _ in range(2):
        assert lookup.known("New York Knicks").id == "NBA-NYK"
        assert lookup.known("Knickerbockers").id == "NBA-NYK"
        assert lookup.known("Nobody FC") is None
    with pytest.raises(TypeError, match="normalize_name expects a str"):
        lookup.known(None)  # type: ignore[arg-type]

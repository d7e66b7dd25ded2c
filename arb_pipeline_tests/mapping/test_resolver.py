"""Table-driven resolution cases per league, including the traps named in issues #4 and #12.

Every case is resolved from Kalshi's identifiers (milestone start and home/away structured targets,
each market's custom_strike target); tickers and titles only cross-check.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.manual_overrides import Override, OverrideAction
from arb_pipeline.mapping.resolver import resolve
from arb_pipeline.mapping.results import MatchMethod
from arb_pipeline_tests.mapping.conftest import assert_each_market_once
from arb_pipeline_tests.mapping.factories import TARGETS, game_event, h2h, milestone, target, tid, utc

AS_OF = utc(2026, 6, 1, 12)


def run(events, milestones, quotes, **kw):
    """resolve() with every catalogue team's structured target available, as a capture provides them."""
    kw.setdefault("targets", TARGETS)
    kw.setdefault("as_of", AS_OF)
    return resolve(events, milestones, quotes, **kw)


def _outcomes(res) -> dict[str, tuple[str, Outcome, str | None]]:
    return {r.kalshi_market: (r.sportsbook_event_id, r.outcome, r.team_id) for r in res.rows}


# (name, league, event ticker, kalshi teams (code, label), on, milestone start or None,
#  sportsbook (home, away, commence), three_way, expected {code: (outcome, team_id)})
CASES = [
    ("nba-utc-midnight", "NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")],
     date(2026, 11, 3), utc(2026, 11, 4, 0, 30), ("New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)),
     False, {"BOS": (Outcome.AWAY, "NBA-BOS"), "NYK": (Outcome.HOME, "NBA-NYK")}),
    ("nba-la-same-city", "NBA", "KXNBAGAME-26NOV05LACLAL", [("LAC", "Los Angeles C"), ("LAL", "Los Angeles L")],
     date(2026, 11, 5), utc(2026, 11, 6, 3, 30), ("LA Clippers", "Los Angeles Lakers", utc(2026, 11, 6, 3, 30)),
     False, {"LAC": (Outcome.HOME, "NBA-LAC"), "LAL": (Outcome.AWAY, "NBA-LAL")}),
    ("mlb-ny-same-city", "MLB", "KXMLBGAME-26JUN051910NYYNYM", [("NYY", "New York Y"), ("NYM", "New York M")],
     date(2026, 6, 5), utc(2026, 6, 5, 23, 10), ("New York Mets", "New York Yankees", utc(2026, 6, 5, 23, 10)),
     False, {"NYY": (Outcome.AWAY, "MLB-NYY"), "NYM": (Outcome.HOME, "MLB-NYM")}),
    ("mlb-athletics-renamed", "MLB", "KXMLBGAME-26JUN052205ATHSEA", [("ATH", "A's"), ("SEA", "Seattle")],
     date(2026, 6, 5), utc(2026, 6, 6, 2, 5), ("Seattle Mariners", "Oakland Athletics", utc(2026, 6, 6, 2, 5)),
     False, {"ATH": (Outcome.AWAY, "MLB-ATH"), "SEA": (Outcome.HOME, "MLB-SEA")}),
    ("mlb-chicago", "MLB", "KXMLBGAME-26JUN071410CWSCHC", [("CWS", "Chicago WS"), ("CHC", "Chicago C")],
     date(2026, 6, 7), utc(2026, 6, 7, 18, 10), ("Chicago Cubs", "Chicago White Sox", utc(2026, 6, 7, 18, 10)),
     False, {"CWS": (Outcome.AWAY, "MLB-CWS"), "CHC": (Outcome.HOME, "MLB-CHC")}),
    ("nfl-la-rams-ny-giants", "NFL", "KXNFLGAME-26SEP21NYGLA", [("NYG", "New York G"), ("LA", "Los Angeles R")],
     date(2026, 9, 21), utc(2026, 9, 21, 20, 25), ("Los Angeles Rams", "New York Giants", utc(2026, 9, 21, 20, 25)),
     False, {"NYG": (Outcome.AWAY, "NFL-NYG"), "LA": (Outcome.HOME, "NFL-LAR")}),
    ("nfl-washington-jets", "NFL", "KXNFLGAME-26SEP28NYJWAS", [("NYJ", "New York J"), ("WAS", "Washington")],
     date(2026, 9, 28), utc(2026, 9, 28, 17, 0), ("Washington Commanders", "New York Jets", utc(2026, 9, 28, 17, 0)),
     False, {"NYJ": (Outcome.AWAY, "NFL-NYJ"), "WAS": (Outcome.HOME, "NFL-WAS")}),
    ("nhl-ny-same-city", "NHL", "KXNHLGAME-26OCT16NYRNYI", [("NYR", "New York R"), ("NYI", "New York I")],
     date(2026, 10, 16), utc(2026, 10, 16, 23, 0), ("New York Islanders", "New York Rangers", utc(2026, 10, 16, 23, 0)),
     False, {"NYR": (Outcome.AWAY, "NHL-NYR"), "NYI": (Outcome.HOME, "NHL-NYI")}),
    ("nhl-montreal-accent", "NHL", "KXNHLGAME-26OCT17MTLTOR", [("MTL", "Montreal"), ("TOR", "Toronto")],
     date(2026, 10, 17), utc(2026, 10, 17, 23, 0), ("Toronto Maple Leafs", "Montréal Canadiens", utc(2026, 10, 17, 23, 0)),
     False, {"MTL": (Outcome.AWAY, "NHL-MTL"), "TOR": (Outcome.HOME, "NHL-TOR")}),
    ("epl-three-way-manchester-derby", "EPL", "KXEPLGAME-26NOV07MUNMCI",
     [("MUN", "Manchester United"), ("MCI", "Manchester City")],
     date(2026, 11, 7), utc(2026, 11, 7, 17, 30), ("Manchester United", "Manchester City", utc(2026, 11, 7, 17, 30)),
     True, {"MUN": (Outcome.HOME, "EPL-MUN"), "MCI": (Outcome.AWAY, "EPL-MCI"), "TIE": (Outcome.DRAW, None)}),
    ("epl-brighton-wolves", "EPL", "KXEPLGAME-26NOV07BHAWOL", [("BHA", "Brighton"), ("WOL", "Wolves")],
     date(2026, 11, 7), utc(2026, 11, 7, 15, 0), ("Brighton and Hove Albion", "Wolverhampton Wanderers", utc(2026, 11, 7, 15, 0)),
     True, {"BHA": (Outcome.HOME, "EPL-BHA"), "WOL": (Outcome.AWAY, "EPL-WOL"), "TIE": (Outcome.DRAW, None)}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_league_cases(case) -> None:
    _, league, ticker, teams, on, start, (home, away, commence), three_way, expected = case
    prices = {"TIE": ("0.24", "0.26")} if three_way else {}
    odds = ({Outcome.HOME: "2.60", Outcome.AWAY: "2.70", Outcome.DRAW: "3.60"} if three_way else None)
    if three_way:
        prices.update({teams[0][0]: ("0.36", "0.38"), teams[1][0]: ("0.35", "0.37")})
    event = game_event(league, ticker, teams, on=on, tie=three_way, prices=prices)
    home_id = next(tid for o, tid in expected.values() if o is Outcome.HOME)
    away_id = next(tid for o, tid in expected.values() if o is Outcome.AWAY)
    milestones = [milestone(ticker, start, home=home_id, away=away_id)]
    res = run([event], milestones, h2h("g1", league, home, away, commence, odds))
    assert_each_market_once([event], res)
    assert _outcomes(res) == {f"{ticker}-{code}": ("g1", o, tid) for code, (o, tid) in expected.items()}
    assert all(r.tradable and r.method is MatchMethod.RULE for r in res.rows), [r.guards for r in res.rows]
    assert all(r.start_time == commence and r.orientation == "yes_backs_outcome" for r in res.rows)
    # Markets are mapped by their own team, never by arrival order.
    from dataclasses import replace

    reversed_event = replace(event, markets=tuple(reversed(event.markets)))
    assert _outcomes(run([reversed_event], milestones, h2h("g1", league, home, away, commence, odds))) == _outcomes(res)
    assert {r.confidence for r in res.rows} == {1.0}
    assert {r.kalshi_start for r in res.rows} == {start}


def test_no_milestone_leaves_the_event_unresolved_though_the_ticker_would_match() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    res = run([ev], [], h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)))
    assert res.rows == ()
    assert_each_market_once([ev], res)
    (miss,) = res.unresolved_for(ev.event_ticker)
    assert "no milestone links to event" in miss.reason and "only a cross-check" in miss.reason


def test_the_ticker_can_only_block() -> None:
    start = utc(2026, 7, 28, 20, 10)
    quotes = h2h("g2", "MLB", "Cleveland Guardians", "Detroit Tigers", start)
    # A ticker outside the observed grammar (a game-number suffix) is silent: identifiers decide.
    odd = game_event("MLB", "KXMLBGAME-26JUL281610DETCLEG2", [("DET", "Detroit"), ("CLE", "Cleveland")],
                     on=date(2026, 7, 28))
    ms = [milestone(odd.event_ticker, start, home="MLB-CLE", away="MLB-DET", kind="baseball_game")]
    res = run([odd], ms, quotes)
    assert {r.kalshi_market: (r.sportsbook_event_id, r.outcome) for r in res.rows} == {
        f"{odd.event_ticker}-DET": ("g2", Outcome.AWAY), f"{odd.event_ticker}-CLE": ("g2", Outcome.HOME)}
    assert all(r.tradable for r in res.rows)
    # A ticker whose codes are two other known teams contradicts the milestone: blocked.
    wrong = game_event("MLB", "KXMLBGAME-26JUL281610NYYBOS", [("DET", "Detroit"), ("CLE", "Cleveland")],
                       on=date(2026, 7, 28))
    res = run([wrong], [milestone(wrong.event_ticker, start, home="MLB-CLE", away="MLB-DET")], quotes)
    assert res.rows == ()
    assert "ticker teams ['MLB-BOS', 'MLB-NYY'] are not the milestone's teams" in res.unresolved_for(
        wrong.event_ticker)[0].reason


def test_doubleheader_each_event_matches_its_own_game() -> None:
    e1 = game_event("MLB", "KXMLBGAME-26JUN061305NYMPHI", [("NYM", "New York M"), ("PHI", "Philadelphia")],
                    on=date(2026, 6, 6))
    e2 = game_event("MLB", "KXMLBGAME-26JUN061535NYMPHI", [("NYM", "New York M"), ("PHI", "Philadelphia")],
                    on=date(2026, 6, 6))
    quotes = (h2h("dh2", "MLB", "Philadelphia Phillies", "New York Mets", utc(2026, 6, 6, 19, 35))
              + h2h("dh1", "MLB", "Philadelphia Phillies", "New York Mets", utc(2026, 6, 6, 17, 5)))
    teams = {"home": "MLB-PHI", "away": "MLB-NYM", "kind": "baseball_game"}
    milestones = [milestone(e1.event_ticker, utc(2026, 6, 6, 17, 5), **teams),
                  milestone(e2.event_ticker, utc(2026, 6, 6, 19, 35), **teams)]
    res = run([e1, e2], milestones, quotes)
    got = {r.kalshi_market: r.sportsbook_event_id for r in res.rows}
    assert got == {f"{e1.event_ticker}-NYM": "dh1", f"{e1.event_ticker}-PHI": "dh1",
                   f"{e2.event_ticker}-NYM": "dh2", f"{e2.event_ticker}-PHI": "dh2"}
    assert all(r.tradable for r in res.rows)


def test_split_doubleheader_with_game_numbered_tickers_resolves_by_milestone_start() -> None:
    """Issue #12's case: Detroit at Cleveland twice in one afternoon, tickers carrying start and game
    number. The games are 3 h apart (inside the 3 h tolerance), so each milestone start picks its own
    game by the 30 min tight tolerance; game 2 is not missed."""
    g1 = game_event("MLB", "KXMLBGAME-26SEP191310DETCLEG1", [("DET", "Detroit"), ("CLE", "Cleveland")],
                    on=date(2026, 9, 19))
    g2 = game_event("MLB", "KXMLBGAME-26SEP191610DETCLEG2", [("DET", "Detroit"), ("CLE", "Cleveland")],
                    on=date(2026, 9, 19))
    quotes = (h2h("late", "MLB", "Cleveland Guardians", "Detroit Tigers", utc(2026, 9, 19, 20, 10))
              + h2h("early", "MLB", "Cleveland Guardians", "Detroit Tigers", utc(2026, 9, 19, 17, 10)))
    teams = {"home": "MLB-CLE", "away": "MLB-DET", "kind": "baseball_game"}
    res = run([g1, g2], [milestone(g1.event_ticker, utc(2026, 9, 19, 17, 10), **teams),
                         milestone(g2.event_ticker, utc(2026, 9, 19, 20, 10), **teams)], quotes)
    assert {r.kalshi_event: r.sportsbook_event_id for r in res.rows} == {g1.event_ticker: "early",
                                                                         g2.event_ticker: "late"}
    assert len(res.rows) == 4 and all(r.tradable for r in res.rows)


def test_midnight_game_does_not_match_previous_days_game() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    # Only the Nov 2 (ET) game exists: same teams, a day earlier: never a silent match.
    res = run([ev], [_bos_nyk_milestone(ev)], h2h("nov2", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 3, 0, 30)))
    assert res.rows and not any(r.tradable for r in res.rows)
    assert all(any("start time changed/postponed" in g for g in r.guards) for r in res.rows)


def test_manchester_united_never_matches_manchester_city() -> None:
    ev = game_event("EPL", "KXEPLGAME-26NOV07MUNARS", [("MUN", "Manchester United"), ("ARS", "Arsenal")],
                    on=date(2026, 11, 7), tie=True)
    quotes = (h2h("city", "EPL", "Manchester City", "Arsenal", utc(2026, 11, 7, 17, 30))
              + h2h("city2", "EPL", "Manchester City FC", "Arsenal FC", utc(2026, 11, 7, 17, 30))
              + h2h("typo", "EPL", "Manchester Cty", "Arsenal", utc(2026, 11, 7, 17, 30)))
    res = run([ev], [milestone(ev.event_ticker, utc(2026, 11, 7, 17, 30), home="EPL-MUN", away="EPL-ARS")], quotes)
    assert res.rows == ()
    assert_each_market_once([ev], res)
    (event_miss,) = res.unresolved_for(ev.event_ticker)
    assert "no sportsbook event" in event_miss.reason


def test_unknown_alias_is_proposed_not_resolved_until_confirmed() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV05LACLAL", [("LAC", "Los Angeles C"), ("LAL", "Los Angeles L")],
                    on=date(2026, 11, 5))
    quotes = h2h("g9", "NBA", "LA Clipperz", "Los Angeles Lakers", utc(2026, 11, 6, 3, 30))
    ms = [milestone(ev.event_ticker, utc(2026, 11, 6, 3, 30), home="NBA-LAC", away="NBA-LAL")]
    res = run([ev], ms, quotes)
    assert {r.method for r in res.rows} == {MatchMethod.FUZZY_PROPOSED}
    assert not any(r.tradable for r in res.rows)
    assert all(0 < r.confidence < 1 for r in res.rows)
    (sb_miss,) = res.unresolved_for("g9")
    proposal = sb_miss.candidates[0]["proposals"][0]
    assert proposal["team_id"] == "NBA-LAC" and proposal["score"] >= 85
    # A human confirms the alias: next scan it is an exact rule match and tradable.
    confirm = Override(OverrideAction.CONFIRM, who="ops", when=utc(2026, 6, 1), why="feed typo",
                       team_aliases={"LA Clipperz": "NBA-LAC"})
    res2 = run([ev], ms, quotes, overrides=[confirm])
    assert {r.method for r in res2.rows} == {MatchMethod.RULE} and all(r.tradable for r in res2.rows)
    assert res2.unresolved == ()
    # Or confirms the game itself: override method, tradable.
    game_ok = Override(OverrideAction.CONFIRM, who="ops", when=utc(2026, 6, 1), why="checked",
                       kalshi_event=ev.event_ticker, sportsbook_event_id="g9")
    res3 = run([ev], ms, quotes, overrides=[game_ok])
    assert {r.method for r in res3.rows} == {MatchMethod.OVERRIDE} and all(r.tradable for r in res3.rows)
    assert _outcomes(res3)[f"{ev.event_ticker}-LAC"] == ("g9", Outcome.HOME, "NBA-LAC")


def test_only_one_team_matching_is_never_resolved() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    quotes = h2h("bkn", "NBA", "Brooklyn Nets", "Boston Celtics", utc(2026, 11, 4, 0, 30))
    res = run([ev], [milestone(ev.event_ticker, utc(2026, 11, 4, 0, 30), home="NBA-NYK", away="NBA-BOS")], quotes)
    assert res.rows == ()
    assert_each_market_once([ev], res)


def test_inverted_price_fires_orientation_guard() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3),
                    prices={"NYK": ("0.19", "0.21"), "BOS": ("0.79", "0.81")})
    odds = {Outcome.HOME: "1.22", Outcome.AWAY: "4.50"}  # books: NYK (home) ~78%
    res = run([ev], [milestone(ev.event_ticker, utc(2026, 11, 4, 0, 30), home="NBA-NYK", away="NBA-BOS")],
              h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30), odds))
    for row in res.rows:
        assert not row.tradable
        (guard,) = row.guards
        assert guard.startswith("possibly inverted") and f"{row.yes_price:.3f}" in guard
    nyk = res.row_for(f"{ev.event_ticker}-NYK")
    assert nyk.yes_price == pytest.approx(0.20) and nyk.fair_probability == pytest.approx(0.7867, abs=1e-3)


def test_supplied_price_overrides_mid() -> None:
    from decimal import Decimal

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3),
                    prices={"NYK": ("0.19", "0.21"), "BOS": ("0.79", "0.81")})
    odds = {Outcome.HOME: "1.22", Outcome.AWAY: "4.50"}
    res = run([ev], [milestone(ev.event_ticker, utc(2026, 11, 4, 0, 30), home="NBA-NYK", away="NBA-BOS")],
              h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30), odds),
              prices={f"{ev.event_ticker}-NYK": Decimal("0.78"), f"{ev.event_ticker}-BOS": Decimal("0.22")})
    assert all(r.tradable for r in res.rows)


def test_started_game_is_not_tradable() -> None:
    ev = game_event("NHL", "KXNHLGAME-26OCT16PITCOL", [("PIT", "Pittsburgh"), ("COL", "Colorado")], on=date(2026, 10, 16))
    start = utc(2026, 10, 17, 1, 0)
    quotes = h2h("g1", "NHL", "Colorado Avalanche", "Pittsburgh Penguins", start)
    ms = [milestone(ev.event_ticker, start, home="NHL-COL", away="NHL-PIT", kind="hockey_match")]
    assert all(r.tradable for r in run([ev], ms, quotes, as_of=start - timedelta(minutes=6)).rows)
    late = run([ev], ms, quotes, as_of=start - timedelta(minutes=4)).rows
    assert late and all(not r.tradable and any(g.startswith("game started") for g in r.guards) for r in late)


def test_postponed_game_is_flagged_not_dropped() -> None:
    ev = game_event("NFL", "KXNFLGAME-26SEP21NYGLA", [("NYG", "New York G"), ("LA", "Los Angeles R")], on=date(2026, 9, 21))
    quotes = h2h("g1", "NFL", "Los Angeles Rams", "New York Giants", utc(2026, 9, 22, 20, 25))  # moved a day
    res = run([ev], [milestone(ev.event_ticker, utc(2026, 9, 21, 20, 25), home="NFL-LAR", away="NFL-NYG")], quotes)
    assert len(res.rows) == 2
    for row in res.rows:
        assert not row.tradable and row.sportsbook_event_id == "g1"
        assert any("start time changed/postponed" in g for g in row.guards)


def test_postponed_game_does_not_block_the_next_days_game() -> None:
    day1 = game_event("MLB", "KXMLBGAME-26JUN051910NYYBOS", [("NYY", "New York Y"), ("BOS", "Boston")], on=date(2026, 6, 5))
    day2 = game_event("MLB", "KXMLBGAME-26JUN061910NYYBOS", [("NYY", "New York Y"), ("BOS", "Boston")], on=date(2026, 6, 6))
    # Day 1 was rained out and dropped by the book; only day 2 is listed.
    quotes = h2h("d2", "MLB", "Boston Red Sox", "New York Yankees", utc(2026, 6, 6, 23, 10))
    teams = {"home": "MLB-BOS", "away": "MLB-NYY", "kind": "baseball_game"}
    res = run([day1, day2], [milestone(day1.event_ticker, utc(2026, 6, 5, 23, 10), **teams),
                             milestone(day2.event_ticker, utc(2026, 6, 6, 23, 10), **teams)], quotes)
    for m in day2.markets:
        assert res.row_for(m.ticker).tradable
    for m in day1.markets:
        row = res.row_for(m.ticker)
        assert not row.tradable and any(g.startswith("start time changed/postponed") for g in row.guards)


def test_duplicate_sportsbook_games_exclude_both() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    start = utc(2026, 11, 4, 0, 30)
    quotes = h2h("a", "NBA", "New York Knicks", "Boston Celtics", start) + h2h("b", "NBA", "New York Knicks", "Boston Celtics", start)
    res = run([ev], [milestone(ev.event_ticker, start, home="NBA-NYK", away="NBA-BOS")], quotes)
    assert res.rows == ()
    (miss,) = res.unresolved_for(ev.event_ticker)
    assert miss.reason.startswith("duplicate mapping") and {c["sportsbook_event_id"] for c in miss.candidates} == {"a", "b"}


def test_duplicate_kalshi_events_on_one_game_are_excluded() -> None:
    start = utc(2026, 11, 4, 0, 30)
    e1 = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    e2 = game_event("NBA", "KXNBAGAME-26NOV03NYKBOS", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    ms = [milestone(e.event_ticker, start, home="NBA-NYK", away="NBA-BOS") for e in (e1, e2)]
    res = run([e1, e2], ms, h2h("g1", "NBA", "New York Knicks", "Boston Celtics", start))
    assert len(res.rows) == 4 and not any(r.tradable for r in res.rows)
    assert all(any(g.startswith("duplicate mapping") for g in r.guards) for r in res.rows)


def test_inactive_market_is_not_tradable() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3),
                    status="inactive")
    res = run([ev], [_bos_nyk_milestone(ev)], h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)))
    assert res.rows and all("market status is 'inactive', not 'active'" in r.guards for r in res.rows)


def _bos_nyk_milestone(ev, start=None):
    return milestone(ev.event_ticker, start or utc(2026, 11, 4, 0, 30), home="NBA-NYK", away="NBA-BOS")


def test_cross_check_disagreement_leaves_market_unresolved() -> None:
    from dataclasses import replace

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    bad = replace(ev.markets[1], yes_sub_title="Boston", no_sub_title="Boston")  # NYK target, Boston label
    ev = replace(ev, markets=(ev.markets[0], bad))
    res = run([ev], [_bos_nyk_milestone(ev)], h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)))
    assert [r.kalshi_market for r in res.rows] == [ev.markets[0].ticker]
    (miss,) = res.unresolved_for(bad.ticker)
    assert f"cross-checks disagree with its custom_strike target {tid('NBA-NYK')} (NBA-NYK)" in miss.reason
    assert "yes_sub_title 'Boston'→NBA-BOS" in miss.reason


@pytest.mark.parametrize(("change", "reason"), [
    ({"custom_strike": None}, "no custom_strike structured target, so its YES team cannot be identified"),
    ({"custom_strike": {"basketball_team": tid("NBA-PHI")}}, "is NBA-PHI, not one of the milestone's teams"),
    ({"custom_strike": {"basketball_team": "4d1b6f7e-0000-4000-8000-000000000000"}}, "structured target "
     "4d1b6f7e-0000-4000-8000-000000000000 is unknown: not in this scan's structured targets"),
    ({"rules_primary": "If Boston wins the Boston vs New York game originally scheduled for Nov 3, 2026, then ..."},
     "rules_primary 'Boston'→NBA-BOS"),
    ({"yes_sub_title": "Tie"}, "yes_sub_title 'Tie' is a tie label"),
    ({"rules_primary": "If New York wins the Boston vs New York game originally scheduled for Nov 4, 2026, then ..."},
     "rules_primary date Nov 4, 2026 disagrees with ticker date 2026-11-03"),
])
def test_market_identity_comes_from_its_target_and_texts_can_only_block(change, reason) -> None:
    from dataclasses import replace

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    nyk = replace(ev.markets[1], **change)
    ev = replace(ev, markets=(ev.markets[0], nyk))
    res = run([ev], [_bos_nyk_milestone(ev)], h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)))
    assert res.row_for(nyk.ticker) is None and res.row_for(ev.markets[0].ticker) is not None
    (miss,) = res.unresolved_for(nyk.ticker)
    assert reason in miss.reason


def test_texts_naming_nobody_are_silent() -> None:
    from dataclasses import replace

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    nyk = replace(ev.markets[1], yes_sub_title="Knicks (NY)", rules_primary="")
    res = run([replace(ev, markets=(ev.markets[0], nyk))], [_bos_nyk_milestone(ev)],
              h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)))
    assert res.row_for(nyk.ticker).outcome is Outcome.HOME and res.row_for(nyk.ticker).tradable


@pytest.mark.parametrize(("targets", "reason"), [
    ({**TARGETS, tid("NBA-NYK"): target("NBA-NYK", name="Gotham Knights")},
     "name 'Gotham Knights' is not a known NBA team"),
    ({**TARGETS, tid("NBA-NYK"): target("NBA-NYK", kind="hockey_team")},
     "is a 'hockey_team', not a NBA 'basketball_team'"),
    ({**TARGETS, tid("NBA-NYK"): target("NBA-NYK", name="Boston Celtics")}, "home and away are the same team"),
    ({k: v for k, v in TARGETS.items() if k != tid("NBA-NYK")}, "is unknown: not in this scan's structured targets"),
])
def test_the_milestone_teams_must_be_identified(targets, reason) -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    res = run([ev], [_bos_nyk_milestone(ev)], h2h("g1", "NBA", "New York Knicks", "Boston Celtics",
                                                  utc(2026, 11, 4, 0, 30)), targets=targets)
    assert res.rows == ()
    assert reason in res.unresolved_for(ev.event_ticker)[0].reason
    assert_each_market_once([ev], res)


def test_confirmed_target_ids_and_source_ids_must_agree_with_the_name() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    quotes = h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30))
    # A human confirmed the NYK target id as the Nets: the target's name says Knicks → ambiguous, blocked.
    wrong = Override(OverrideAction.CONFIRM, who="ops", when=utc(2026, 6, 1), why="typo",
                     team_aliases={tid("NBA-NYK"): "NBA-BKN"})
    res = run([ev], [_bos_nyk_milestone(ev)], quotes, overrides=[wrong])
    assert res.rows == () and "is ambiguous: confirmed id→NBA-BKN, name→NBA-NYK" in res.unresolved_for(
        ev.event_ticker)[0].reason
    # Confirmed ids identify a target the snapshot lacks (e.g. an old recording).
    right = Override(OverrideAction.CONFIRM, who="ops", when=utc(2026, 6, 1), why="checked",
                     team_aliases={tid("NBA-NYK"): "NBA-NYK", tid("NBA-BOS"): "NBA-BOS"})
    res = run([ev], [_bos_nyk_milestone(ev)], quotes, overrides=[right], targets={})
    assert len(res.rows) == 2 and all(r.tradable for r in res.rows)


def test_neutral_site_game_maps_by_identity_and_is_tradable() -> None:
    """A declared neutral site (e.g. a game abroad): the books list the Kalshi away team as home.
    Outcomes follow each market's own team; the swap is no warning. Undeclared, it stays a guard."""
    from dataclasses import replace

    ev = game_event("NFL", "KXNFLGAME-26OCT11JAXBUF", [("JAX", "Jacksonville"), ("BUF", "Buffalo")],
                    on=date(2026, 10, 11), prices={"JAX": ("0.30", "0.32"), "BUF": ("0.68", "0.70")})
    start = utc(2026, 10, 11, 13, 30)
    quotes = h2h("ldn", "NFL", "Jacksonville Jaguars", "Buffalo Bills", start,
                 {Outcome.HOME: "3.10", Outcome.AWAY: "1.40"})
    neutral = milestone(ev.event_ticker, start, home="NFL-BUF", away="NFL-JAX", kind="football_game",
                        details={"neutral_site": True})
    res = run([ev], [neutral], quotes)
    assert {r.kalshi_market: (r.outcome, r.team_id) for r in res.rows} == {
        f"{ev.event_ticker}-JAX": (Outcome.HOME, "NFL-JAX"), f"{ev.event_ticker}-BUF": (Outcome.AWAY, "NFL-BUF")}
    assert all(r.tradable for r in res.rows), [r.guards for r in res.rows]
    plain = replace(neutral, details={k: v for k, v in neutral.details.items() if k != "neutral_site"})
    res = run([ev], [plain], quotes)
    assert len(res.rows) == 2 and all(any("home/away swapped" in g for g in r.guards) for r in res.rows)


def test_overrides_reject_force_and_pairing() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    quotes = h2h("g1", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30))
    when = utc(2026, 6, 1)
    ms = [_bos_nyk_milestone(ev)]
    reject_event = Override(OverrideAction.REJECT, who="ops", when=when, why="bad event", kalshi_event=ev.event_ticker)
    res = run([ev], ms, quotes, overrides=[reject_event])
    assert res.rows == () and "rejected by override (reject by ops" in res.unresolved_for(ev.event_ticker)[0].reason
    reject_pair = Override(OverrideAction.REJECT, who="ops", when=when, why="wrong game",
                           kalshi_market=f"{ev.event_ticker}-BOS", sportsbook_event_id="g1")
    res = run([ev], ms, quotes, overrides=[reject_pair])
    assert [r.kalshi_market for r in res.rows] == [f"{ev.event_ticker}-NYK"]
    force = Override(OverrideAction.FORCE, who="ops", when=when, why="feed mislabels", kalshi_market=f"{ev.event_ticker}-BOS",
                     sportsbook_event_id="g1", outcome=Outcome.HOME)
    later_reject = Override(OverrideAction.REJECT, who="ops2", when=when + timedelta(hours=1), why="undo",
                            kalshi_market=f"{ev.event_ticker}-BOS")
    res = run([ev], ms, quotes, overrides=[force])
    row = res.row_for(f"{ev.event_ticker}-BOS")
    assert (row.method, row.outcome, row.team_id, row.confidence) == (MatchMethod.OVERRIDE, Outcome.HOME, "NBA-NYK", 1.0)
    res = run([ev], ms, quotes, overrides=[later_reject, force])  # latest `when` wins
    assert res.row_for(f"{ev.event_ticker}-BOS") is None
    missing = Override(OverrideAction.FORCE, who="ops", when=when, why="x", kalshi_market=f"{ev.event_ticker}-BOS",
                       sportsbook_event_id="nope", outcome=Outcome.AWAY)
    res = run([ev], ms, quotes, overrides=[missing])
    assert "no h2h quotes" in res.unresolved_for(f"{ev.event_ticker}-BOS")[0].reason


def test_unknown_series_and_bad_ticker_are_reported() -> None:
    from dataclasses import replace

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    other = replace(ev, series_ticker="KXCFLGAME")
    res = run([other], [], [])
    assert "not a game-winner, spread or total series" in res.unresolved_for(ev.event_ticker)[0].reason
    assert_each_market_once([other], res)


def test_winner_markets_use_h2h_quotes_only_and_to_dict_is_json() -> None:
    from dataclasses import replace
    from decimal import Decimal

    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    ms = [_bos_nyk_milestone(ev)]
    start = utc(2026, 11, 4, 0, 30)
    spreads = [replace(q, market="spreads", point=Decimal("-2.5") if q.outcome == "home" else Decimal("2.5"))
               for q in h2h("g1", "NBA", "New York Knicks", "Boston Celtics", start)]
    only_lines = run([ev], ms, spreads)
    assert len(only_lines.rows) == 2  # the game is found, but there is no h2h consensus to check prices with
    assert all(r.guards == ("orientation not verifiable: no sportsbook consensus",) for r in only_lines.rows)
    res = run([ev], ms, h2h("g1", "NBA", "New York Knicks", "Boston Celtics", start))
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["rows"][0]["outcome"] in ("home", "away") and doc["rows"][0]["method"] == "rule"
    assert doc["lines"] == []


def test_naive_as_of_is_rejected() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        resolve([], [], [], as_of=datetime(2026, 6, 1))


# -- properties ---------------------------------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from arb_pipeline.mapping.catalogue import load_catalogue  # noqa: E402

_NBA = load_catalogue().league("NBA")
_TEAMS = [_NBA.team(t) for t in ("NBA-BOS", "NBA-NYK", "NBA-BKN", "NBA-LAL", "NBA-LAC")]
_pair = st.lists(st.sampled_from(_TEAMS), min_size=2, max_size=2, unique_by=lambda t: t.id)
_when = st.builds(lambda d, h: utc(2026, 11, d, h), st.integers(2, 5), st.sampled_from([0, 1, 3, 17, 23]))


@st.composite
def _scenario(draw):
    games = draw(st.lists(st.tuples(_pair, _when), max_size=8))
    quotes = [q for i, ((home, away), when) in enumerate(games)
              for q in h2h(f"g{i}", "NBA", home.full_name, away.full_name, when)]
    events, milestones = [], []
    for (a, b), when in draw(st.lists(st.tuples(_pair, _when), min_size=1, max_size=8)):
        et = when.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).date()
        ticker = f"KXNBAGAME-26NOV{et.day:02d}{a.kalshi_code}{b.kalshi_code}"
        events.append(game_event("NBA", ticker, [(a.kalshi_code, a.kalshi_label), (b.kalshi_code, b.kalshi_label)], on=et))
        if draw(st.booleans()):
            milestones.append(milestone(ticker, when, home=b.id, away=a.id))
    return events, milestones, quotes


@given(_scenario())
def test_property_one_game_per_market_and_both_teams_always_match(scenario) -> None:
    events, milestones, quotes = scenario
    res = run(events, milestones, quotes)
    tickers = [r.kalshi_market for r in res.rows]
    assert len(tickers) == len(set(tickers)), "a Kalshi market mapped to two sportsbook events"
    kalshi_pairs = {e.event_ticker: {m.ticker.rsplit("-", 1)[1] for m in e.markets} for e in events}
    for row in res.rows:
        book_codes = {_NBA.lookup(row.home_team).kalshi_code, _NBA.lookup(row.away_team).kalshi_code}
        assert book_codes == kalshi_pairs[row.kalshi_event], "resolved with only one team matching"
        expected_team = row.home_team if row.outcome is Outcome.HOME else row.away_team
        assert _NBA.lookup(expected_team).id == row.team_id == _NBA.by_code(row.kalshi_market.rsplit("-", 1)[1]).id
    distinct_events = {e.event_ticker: e for e in events}
    assert_each_market_once(list(distinct_events.values()), res)


def test_la_dodgers_and_la_rams_stay_in_their_leagues() -> None:
    start = utc(2026, 9, 21, 20, 10)
    dodgers = game_event("MLB", "KXMLBGAME-26SEP211610SFLAD", [("SF", "San Francisco"), ("LAD", "Los Angeles D")],
                         on=date(2026, 9, 21))
    rams = game_event("NFL", "KXNFLGAME-26SEP21SFLA", [("SF", "San Francisco"), ("LA", "Los Angeles R")],
                      on=date(2026, 9, 21))
    quotes = (h2h("mlb", "MLB", "Los Angeles Dodgers", "San Francisco Giants", start)
              + h2h("nfl", "NFL", "Los Angeles Rams", "San Francisco 49ers", start))
    ms = [milestone(dodgers.event_ticker, start, home="MLB-LAD", away="MLB-SF", kind="baseball_game"),
          milestone(rams.event_ticker, start, home="NFL-LAR", away="NFL-SF", kind="football_game")]
    res = run([dodgers, rams], ms, quotes)
    got = {r.kalshi_market: (r.sportsbook_event_id, r.team_id) for r in res.rows}
    assert got == {
        f"{dodgers.event_ticker}-SF": ("mlb", "MLB-SF"), f"{dodgers.event_ticker}-LAD": ("mlb", "MLB-LAD"),
        f"{rams.event_ticker}-SF": ("nfl", "NFL-SF"), f"{rams.event_ticker}-LA": ("nfl", "NFL-LAR")}
    # A Dodgers target on an NFL market is not an NFL team: unresolved, never the Rams.
    from dataclasses import replace

    wrong = replace(rams.markets[1], custom_strike={"football_team": tid("MLB-LAD")})
    res = run([replace(rams, markets=(rams.markets[0], wrong))], ms, quotes)
    assert res.row_for(wrong.ticker) is None
    assert "is a 'baseball_team', not a NFL 'football_team'" in res.unresolved_for(wrong.ticker)[0].reason


def test_event_level_force_and_market_level_confirm() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    quotes = (h2h("far", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 10))
              + h2h("near", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4, 0, 30)))
    when = utc(2026, 6, 1)
    ms = [_bos_nyk_milestone(ev)]
    force = Override(OverrideAction.FORCE, who="ops", when=when, why="book lists the makeup game",
                     kalshi_event=ev.event_ticker, sportsbook_event_id="far")
    res = run([ev], ms, quotes, overrides=[force])
    assert {(r.sportsbook_event_id, r.method) for r in res.rows} == {("far", MatchMethod.OVERRIDE)}
    assert _outcomes(res)[f"{ev.event_ticker}-NYK"] == ("far", Outcome.HOME, "NBA-NYK")
    wrong_teams = Override(OverrideAction.FORCE, who="ops", when=when, why="typo",
                           kalshi_event=ev.event_ticker, sportsbook_event_id="other")
    other = h2h("other", "NBA", "Brooklyn Nets", "Boston Celtics", utc(2026, 11, 4, 0, 30))
    res = run([ev], ms, quotes + other, overrides=[wrong_teams])
    assert res.rows == () and "are not the Kalshi teams" in res.unresolved_for(ev.event_ticker)[0].reason
    confirm_market = Override(OverrideAction.CONFIRM, who="ops", when=when, why="checked",
                              kalshi_market=f"{ev.event_ticker}-BOS", sportsbook_event_id="near")
    res = run([ev], ms, quotes, overrides=[confirm_market])
    assert res.row_for(f"{ev.event_ticker}-BOS").method is MatchMethod.OVERRIDE
    assert res.row_for(f"{ev.event_ticker}-NYK").method is MatchMethod.RULE


def test_soccer_draw_needs_three_way_book_prices() -> None:
    ev = game_event("EPL", "KXEPLGAME-26NOV07ARSCFC", [("ARS", "Arsenal"), ("CFC", "Chelsea")], on=date(2026, 11, 7),
                    tie=True, prices={"ARS": ("0.45", "0.47"), "CFC": ("0.27", "0.29"), "TIE": ("0.25", "0.27")})
    start = utc(2026, 11, 7, 15)
    two_way = h2h("g", "EPL", "Arsenal", "Chelsea", start)  # a feed without the Draw outcome
    ms = [milestone(ev.event_ticker, start, home="EPL-ARS", away="EPL-CHE", kind="soccer_match")]
    res = run([ev], ms, two_way)
    assert len(res.rows) == 3
    assert all(r.guards == ("orientation not verifiable: no sportsbook consensus",) for r in res.rows)
    three = h2h("g", "EPL", "Arsenal", "Chelsea", start, {Outcome.HOME: "2.10", Outcome.AWAY: "3.50", Outcome.DRAW: "3.60"})
    res = run([ev], ms, three)
    assert all(r.tradable for r in res.rows)
    assert res.row_for(f"{ev.event_ticker}-TIE").fair_probability == pytest.approx(
        (1 / 3.6) / (1 / 2.1 + 1 / 3.5 + 1 / 3.6))


def test_event_problems_are_reported_per_market() -> None:
    ev = game_event("NBA", "KXNBAGAME-26NOV03BOSNYK", [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
    start = utc(2026, 11, 4, 0, 30)
    two = [milestone(ev.event_ticker, start, milestone_id=m, home="NBA-NYK", away="NBA-BOS") for m in ("m1", "m2")]
    res = run([ev, ev], two, h2h("g", "NBA", "New York Knicks", "Boston Celtics", start))
    reasons = [u.reason for u in res.unresolved_for(ev.event_ticker)]
    assert any("2 milestones link to it (m1, m2)" in r for r in reasons)
    assert "duplicate event ticker in input; first kept" in reasons
    assert_each_market_once([ev], res)
    no_teams = milestone(ev.event_ticker, start)
    res = run([ev], [no_teams], [])
    assert "details name no participants (home_team_id+away_team_id)" in res.unresolved_for(ev.event_ticker)[0].reason
    assert_each_market_once([ev], res)


def test_gc_is_restored_after_a_scan_even_on_error() -> None:
    import gc
    from datetime import datetime

    assert gc.isenabled()
    run([], [], [])
    assert gc.isenabled()
    bad = h2h("g", "NBA", "New York Knicks", "Boston Celtics", datetime(2026, 11, 4))  # naive commence
    with pytest.raises(ValueError, match="commence_time must be timezone-aware"):
        run([], [], bad)
    assert gc.isenabled()

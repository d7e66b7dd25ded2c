"""Each new league's catalogue against sample events in the venues' real wire shapes.

For every league a Kalshi `GET /events?with_nested_markets=true&with_milestones=true` response, its
`GET /structured_targets` response and a The Odds API `GET /v4/sports/{sport}/odds` response are
written as JSON the way the venues send them (kalshi-api.md §5, §8, §14; sportsbook-odds.md §1.5),
parsed by the production parsers, and resolved. Each sample is a trap of its league: two clubs of
one city, names that differ by one word, accents and name order, a tennis key per tournament.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from arb_pipeline.connectors.kalshi.models import parse_events_response
from arb_pipeline.connectors.kalshi.targets import parse_structured_targets_response
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_response
from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.resolver import resolve

CAT = load_catalogue()
AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
NS = uuid.UUID("2b0b8a3e-3c55-4f7e-9b1a-0c6f6a1d2e77")


def _target_id(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def _market(ticker: str, event: str, label: str, rules: str, target: str | None, kind: str, bid: str, ask: str
            ) -> dict[str, Any]:
    m: dict[str, Any] = {
        "ticker": ticker, "event_ticker": event, "market_type": "binary", "yes_sub_title": label,
        "no_sub_title": label, "title": f"{label} wins", "created_time": "2026-11-10T12:00:00Z",
        "updated_time": "2026-11-19T12:00:00Z", "open_time": "2026-11-10T14:00:00Z",
        "close_time": "2026-12-08T00:00:00Z", "expected_expiration_time": "2026-11-24T03:00:00Z",
        "latest_expiration_time": "2026-12-15T00:00:00Z", "settlement_timer_seconds": 600, "status": "active",
        "yes_bid_dollars": bid, "yes_bid_size_fp": "500.00", "yes_ask_dollars": ask, "yes_ask_size_fp": "400.00",
        "no_bid_dollars": f"{1 - float(ask):.4f}", "no_ask_dollars": f"{1 - float(bid):.4f}",
        "last_price_dollars": ask, "volume_fp": "12000.00", "volume_24h_fp": "3000.00", "result": "",
        "can_close_early": True, "open_interest_fp": "4000.00", "notional_value_dollars": "1.0000",
        "previous_yes_bid_dollars": bid, "previous_yes_ask_dollars": ask, "previous_price_dollars": ask,
        "settlement_bounds_type": "default", "expiration_value": "", "rules_primary": rules,
        "rules_secondary": "If the game is postponed, the market stays open up to two weeks.",
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}], "exchange_index": 0,
    }
    if target:
        m["strike_type"] = "structured"
        m["custom_strike"] = {kind: target}
    return m


def kalshi_payloads(code: str, event: str, start: str, home: tuple[str, str, str, str], away: tuple[str, str, str, str],
                    *, tie: bool, prices: dict[str, tuple[str, str]], details: dict[str, Any] | None = None,
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(GET /events, GET /structured_targets) for one game: home/away = (target name, market code,
    Kalshi label, price key). rules_primary carries the ticker's (Eastern) date, as Kalshi writes it."""
    lg = CAT.league(code)
    written = datetime.strptime(event.split("-")[1][:7], "%y%b%d")
    on = f"{written:%b} {written.day}, {written.year}"
    kind = lg.target_type
    matchup = f"{away[2]} vs {home[2]}"
    markets = [_market(f"{event}-{c}", event, label, f"If {label} wins the {matchup} game originally scheduled for "
                       f"{on}, then the market resolves to Yes.", _target_id(name), kind, *prices[key])
               for name, c, label, key in (home, away)]
    if tie:
        markets.append(_market(f"{event}-TIE", event, "Tie", f"If the {matchup} game originally scheduled for {on} "
                               "ends in a tie, then the market resolves to Yes.", None, kind, *prices["draw"]))
    events = {"events": [{
        "event_ticker": event, "series_ticker": lg.kalshi_series, "sub_title": matchup, "title": matchup,
        "collateral_return_type": "MECNET" if tie else "", "mutually_exclusive": True,
        "settlement_sources": [{"name": "Official", "url": "https://example.org"}],
        "product_metadata": {"competition": code, "competition_scope": "Game"}, "exchange_index": 0,
        "markets": markets}],
        "milestones": [{
            "id": str(uuid.uuid5(NS, event)), "category": "Sports", "type": lg.milestone_type, "start_date": start,
            "end_date": None, "related_event_tickers": [event], "primary_event_tickers": [event],
            "title": matchup, "notification_message": f"{matchup} is starting soon",
            "details": {"home_team_id": _target_id(home[0]), "away_team_id": _target_id(away[0]), **(details or {})},
            "source_id": None, "last_updated_ts": "2026-11-19T12:00:00Z"}],
        "cursor": ""}
    targets = {"structured_targets": [
        {"id": _target_id(name), "name": name, "type": kind, "details": {"league": code},
         "source_id": f"sr:competitor:{abs(hash(name)) % 10**6}", "source_ids": {},
         "last_updated_ts": "2026-11-01T00:00:00Z"} for name, *_ in (home, away)], "cursor": ""}
    return events, targets


def odds_payload(sport_key: str, start: str, home: str, away: str, prices: dict[str, float]) -> list[dict[str, Any]]:
    outcomes = [{"name": home, "price": prices["home"]}, {"name": away, "price": prices["away"]}]
    if "draw" in prices:
        outcomes.append({"name": "Draw", "price": prices["draw"]})
    books = [{"key": b, "title": b.title(), "last_update": "2026-11-20T11:58:00Z",
              "markets": [{"key": "h2h", "last_update": "2026-11-20T11:58:00Z", "outcomes": outcomes}]}
             for b in ("draftkings", "fanduel", "pinnacle")]
    return [{"id": uuid.uuid5(NS, home + away).hex, "sport_key": sport_key, "sport_title": sport_key,
             "commence_time": start, "home_team": home, "away_team": away, "bookmakers": books}]


TWO = {"home": ("0.61", "0.63"), "away": ("0.37", "0.39")}
TWO_ODDS = {"home": 1.62, "away": 2.55}
THREE = {"home": ("0.44", "0.46"), "away": ("0.27", "0.29"), "draw": ("0.26", "0.28")}
THREE_ODDS = {"home": 2.20, "away": 3.50, "draw": 3.60}

# league, sport key (as the book sends it), kalshi event ticker, start,
# home (target name, code, label), away (…), book home name, book away name, expected home/away team ids
CASES = [
    ("NCAAF", "americanfootball_ncaaf", "KXNCAAFGAME-26NOV21MIAOSU", "2026-11-21T17:00:00Z",
     ("Ohio State Buckeyes", "OSU", "Ohio St."), ("Miami Hurricanes", "MIA", "Miami (FL)"),
     "Ohio State Buckeyes", "Miami Hurricanes", ("NCAAF-OSU", "NCAAF-MIA")),
    ("NCAAF", "americanfootball_ncaaf", "KXNCAAFGAME-26NOV26TEXTAMU", "2026-11-27T00:30:00Z",
     ("Texas A&M Aggies", "TAMU", "Texas A&M"), ("Texas Longhorns", "TEX", "Texas"),
     "Texas A&M Aggies", "Texas Longhorns", ("NCAAF-TAMU", "NCAAF-TEX")),
    ("NCAAMB", "basketball_ncaab", "KXNCAAMBGAME-26NOV24SJUCONN", "2026-11-25T00:00:00Z",
     ("UConn Huskies", "CONN", "UConn"), ("St. John's Red Storm", "SJU", "St. John's"),
     "UConn Huskies", "St. John's Red Storm", ("NCAAMB-CONN", "NCAAMB-SJU")),
    ("NCAAMB", "basketball_ncaab", "KXNCAAMBGAME-26NOV24MSUMICH", "2026-11-25T01:00:00Z",
     ("Michigan", "MICH", "Michigan"), ("Michigan State", "MSU", "Michigan St."),
     "Michigan Wolverines", "Michigan State Spartans", ("NCAAMB-MICH", "NCAAMB-MSU")),
    ("WNBA", "basketball_wnba", "KXWNBAGAME-26NOV22LVLA", "2026-11-23T03:00:00Z",
     ("Los Angeles Sparks", "LA", "Los Angeles"), ("Las Vegas Aces", "LV", "Las Vegas"),
     "Los Angeles Sparks", "Las Vegas Aces", ("WNBA-LA", "WNBA-LV")),
    ("MLS", "soccer_usa_mls", "KXMLSGAME-26NOV22LAGLAFC", "2026-11-23T02:30:00Z",
     ("Los Angeles FC", "LAFC", "LAFC"), ("LA Galaxy", "LAG", "LA Galaxy"),
     "Los Angeles FC", "LA Galaxy", ("MLS-LAFC", "MLS-LAG")),
    ("MLS", "soccer_usa_mls", "KXMLSGAME-26NOV22RBNYNYC", "2026-11-22T20:00:00Z",
     ("New York City FC", "NYC", "New York City"), ("New York Red Bulls", "RBNY", "New York RB"),
     "New York City FC", "New York Red Bulls", ("MLS-NYC", "MLS-RBNY")),
    ("LALIGA", "soccer_spain_la_liga", "KXLALIGAGAME-26NOV22RMAATM", "2026-11-22T20:00:00Z",
     ("Real Madrid", "RMA", "Real Madrid"), ("Atlético Madrid", "ATM", "Atletico Madrid"),
     "Real Madrid", "Atletico Madrid", ("LALIGA-RMA", "LALIGA-ATM")),
    ("SERIEA", "soccer_italy_serie_a", "KXSERIEAGAME-26NOV22INTMIL", "2026-11-22T19:45:00Z",
     ("Inter Milan", "INT", "Inter"), ("AC Milan", "MIL", "AC Milan"),
     "Inter Milan", "AC Milan", ("SERIEA-INT", "SERIEA-MIL")),
    ("BUNDESLIGA", "soccer_germany_bundesliga", "KXBUNDESLIGAGAME-26NOV21BMGBVB", "2026-11-21T17:30:00Z",
     ("Borussia Dortmund", "BVB", "Dortmund"), ("Borussia Mönchengladbach", "BMG", "Gladbach"),
     "Borussia Dortmund", "Borussia Monchengladbach", ("BUNDESLIGA-BVB", "BUNDESLIGA-BMG")),
    ("LIGUE1", "soccer_france_ligue_one", "KXLIGUE1GAME-26NOV22PFCPSG", "2026-11-22T19:45:00Z",
     ("Paris Saint-Germain", "PSG", "Paris SG"), ("Paris FC", "PFC", "Paris FC"),
     "Paris Saint Germain", "Paris FC", ("LIGUE1-PSG", "LIGUE1-PFC")),
    ("UCL", "soccer_uefa_champs_league", "KXUCLGAME-26NOV25FCBRMA", "2026-11-25T20:00:00Z",
     ("Real Madrid", "RMA", "Real Madrid"), ("Bayern Munich", "FCB", "Bayern Munich"),
     "Real Madrid", "Bayern Munich", ("UCL-RMA", "UCL-FCB")),
    ("UEL", "soccer_uefa_europa_league", "KXUELGAME-26NOV26RANLYO", "2026-11-26T20:00:00Z",
     ("Olympique Lyonnais", "LYO", "Lyon"), ("Rangers", "RAN", "Rangers"),
     "Lyon", "Rangers", ("UEL-LYO", "UEL-RAN")),
    ("ATP", "tennis_atp_finals", "KXATPMATCH-26NOV22SINALC", "2026-11-22T18:00:00Z",
     ("Jannik Sinner", "SIN", "Sinner"), ("Carlos Alcaraz", "ALC", "Alcaraz"),
     "Jannik Sinner", "Carlos Alcaraz", ("ATP-jannik-sinner", "ATP-carlos-alcaraz")),
    ("WTA", "tennis_wta_finals", "KXWTAMATCH-26NOV21SWIGAU", "2026-11-21T14:00:00Z",
     ("Iga Świątek", "SWI", "Swiatek"), ("Coco Gauff", "GAU", "Gauff"),
     "Iga Swiatek", "Cori Gauff", ("WTA-iga-swiatek", "WTA-coco-gauff")),
    ("UFC", "mma_mixed_martial_arts", "KXUFCFIGHT-26NOV21SHEZHA", "2026-11-22T04:00:00Z",
     ("Zhang Weili", "ZHA", "Zhang"), ("Valentina Shevchenko", "SHE", "Shevchenko"),
     "Weili Zhang", "Valentina Shevchenko", ("UFC-zhang-weili", "UFC-valentina-shevchenko")),
    ("ATP", "tennis_atp_finals", "KXATPMATCH-26NOV22DEMSON", "2026-11-22T13:00:00Z",  # neither player listed
     ("Lorenzo Sonego", "SON", "Sonego"), ("Alex de Minaur", "DEM", "de Minaur"),
     "Lorenzo Sonego", "Alex De Minaur", ("ATP-lorenzo-sonego", "ATP-alex-de-minaur")),
]


def _resolve(case, *, book_home=None, book_away=None, details=None, targets_override=None, odds=None):
    code, sport_key, event, start, home, away, bh, ba, _ = case
    three = CAT.league(code).three_way
    events, targets = kalshi_payloads(code, event, start, (*home, "home"), (*away, "away"), tie=three,
                                      prices=THREE if three else TWO, details=details)
    evs, milestones, _ = parse_events_response(events)
    parsed_targets, _ = parse_structured_targets_response(targets_override or targets)
    quotes = normalize_odds_response(odds_payload(sport_key, start, book_home or bh, book_away or ba,
                                                odds or (THREE_ODDS if three else TWO_ODDS)),
                                   sport_key=sport_key, fetched_at=AS_OF)
    assert not quotes.problems
    return evs, resolve(evs, milestones, quotes.quotes, as_of=AS_OF, targets=parsed_targets)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[2].split('-')[-1]}" for c in CASES])
def test_league_sample_resolves_every_market_to_its_own_team(case):
    code, _, event, start, home, away, _, _, (home_id, away_id) = case
    evs, res = _resolve(case)
    assert not res.unresolved, [u.to_dict() for u in res.unresolved]
    got = {r.kalshi_market: (r.outcome, r.team_id, r.tradable) for r in res.rows}
    expected = {f"{event}-{home[1]}": (Outcome.HOME, home_id, True), f"{event}-{away[1]}": (Outcome.AWAY, away_id, True)}
    if CAT.league(code).three_way:
        expected[f"{event}-TIE"] = (Outcome.DRAW, None, True)
    assert got == expected, [r.guards for r in res.rows]
    assert {r.league for r in res.rows} == {code}


def test_a_player_spelled_differently_and_not_aliased_stays_unresolved():
    case = next(c for c in CASES if c[2].endswith("DEMSON"))
    _, res = _resolve(case, book_away="A. de Minaur")
    assert res.rows == ()
    assert "no sportsbook event" in res.unresolved_for(case[2])[0].reason


def test_individual_sports_map_by_identity_when_the_books_list_players_the_other_way():
    """No home advantage in tennis: the book's "home" is whoever it lists first; no swap warning."""
    case = next(c for c in CASES if c[0] == "ATP")
    flipped = {"home": TWO_ODDS["away"], "away": TWO_ODDS["home"]}  # the prices follow the players
    _, res = _resolve(case, book_home=case[7], book_away=case[6], odds=flipped)
    assert {r.kalshi_market: (r.outcome, r.team_id) for r in res.rows} == {
        f"{case[2]}-SIN": (Outcome.AWAY, "ATP-jannik-sinner"), f"{case[2]}-ALC": (Outcome.HOME, "ATP-carlos-alcaraz")}
    assert all(r.tradable for r in res.rows), [r.guards for r in res.rows]


def test_a_target_of_the_wrong_type_is_not_identified():
    case = next(c for c in CASES if c[0] == "UFC")
    code, _, event, start, home, away, *_ = case
    _, targets = kalshi_payloads(code, event, start, (*home, "home"), (*away, "away"), tie=False, prices=TWO)
    for t in targets["structured_targets"]:
        t["type"] = "boxing_fighter"
    _, res = _resolve(case, targets_override=targets)
    assert res.rows == () and "is a 'boxing_fighter', not a UFC 'mma_fighter'" in res.unresolved_for(event)[0].reason


def test_every_new_league_is_in_the_catalogue_with_its_keys():
    expected = {"NCAAF": "KXNCAAFGAME", "NCAAMB": "KXNCAAMBGAME", "WNBA": "KXWNBAGAME", "MLS": "KXMLSGAME",
                "UCL": "KXUCLGAME", "UEL": "KXUELGAME", "LALIGA": "KXLALIGAGAME", "SERIEA": "KXSERIEAGAME",
                "BUNDESLIGA": "KXBUNDESLIGAGAME", "LIGUE1": "KXLIGUE1GAME", "ATP": "KXATPMATCH",
                "WTA": "KXWTAMATCH", "UFC": "KXUFCFIGHT"}
    for code, series in expected.items():
        assert CAT.league(code).kalshi_series == series
        assert CAT.by_series(series).code == code
    power = {"NCAAF-ALA", "NCAAF-OSU", "NCAAF-CLEM", "NCAAF-UTAH", "NCAAF-ND", "NCAAMB-DUKE", "NCAAMB-CONN",
             "NCAAMB-VILL", "NCAAMB-KU", "NCAAMB-GONZ"}
    assert all(CAT.team(t) for t in power)
    assert len(CAT.league("NCAAF").teams) >= 68 and len(CAT.league("NCAAMB").teams) >= 80
    assert CAT.by_sport_key("tennis_atp_us_open").code == "ATP" and CAT.by_sport_key("tennis_wta_french_open").code == "WTA"
    assert CAT.market_series("KXNBASPREAD") == (CAT.league("NBA"), "spread")
    assert CAT.market_series("KXNCAAMBSPREAD") is None  # not confirmed by the reference: never guessed

"""The Odds API v4 as simulated: shapes, names, formats, filters, quota headers and errors."""

from __future__ import annotations

from arb_pipeline.sim.server import SimConfig


def test_sports_and_odds_shapes(make_venue):
    venue = make_venue()
    sports = venue.http.get("/v4/sports", params={"apiKey": venue.handle.odds_api_key})
    assert sports.status_code == 200 and sports.headers["x-requests-last"] == "0"
    keys = {s["key"] for s in sports.json()}
    assert keys == {"americanfootball_nfl", "basketball_nba", "icehockey_nhl", "baseball_mlb", "soccer_epl"}
    events = venue.odds("basketball_nba", markets="h2h,spreads,totals", oddsFormat="american").json()
    assert len(events) == 2
    for event in events:
        assert len(event["id"]) == 32 and event["commence_time"].endswith("Z")
        assert {b["key"] for b in event["bookmakers"]} == {"draftkings", "fanduel", "betmgm", "williamhill_us",
                                                          "pinnacle", "betfair_ex_eu"}
        for book in event["bookmakers"]:
            assert book["last_update"] == max(m["last_update"] for m in book["markets"])
            markets = {m["key"]: m for m in book["markets"]}
            assert {o["name"] for o in markets["h2h"]["outcomes"]} == {event["home_team"], event["away_team"]}
            assert all(isinstance(o["price"], int) and abs(o["price"]) >= 100 for o in markets["h2h"]["outcomes"])
            assert all("point" not in o for o in markets["h2h"]["outcomes"])
            spread = {o["name"]: o["point"] for o in markets["spreads"]["outcomes"]}
            assert spread[event["home_team"]] == -spread[event["away_team"]]
            assert {o["name"] for o in markets["totals"]["outcomes"]} == {"Over", "Under"}
    soccer = venue.odds("soccer_epl", oddsFormat="decimal", dateFormat="unix").json()
    outcomes = soccer[0]["bookmakers"][0]["markets"][0]["outcomes"]
    assert [o["name"] for o in outcomes][-1] == "Draw" and len(outcomes) == 3
    assert all(isinstance(o["price"], float) and o["price"] > 1 for o in outcomes)
    assert isinstance(soccer[0]["commence_time"], int) and isinstance(soccer[0]["bookmakers"][0]["last_update"], int)


def test_names_differ_from_kalshi(make_venue):
    venue = make_venue()
    game = next(g for g in venue.handle.scenario.games if g.code == "MLB")
    event = next(e for e in venue.odds("baseball_mlb").json() if e["id"] == game.odds_id)
    assert event["home_team"] == game.home.full_name
    market = venue.public(f"/markets/{game.market_ticker('home')}").json()["market"]
    assert market["yes_sub_title"] == game.home.kalshi_label


def test_filters(make_venue):
    venue = make_venue()
    all_events = venue.odds("icehockey_nhl").json()
    first = min(all_events, key=lambda e: e["commence_time"])
    only = venue.odds("icehockey_nhl", eventIds=first["id"]).json()
    assert [e["id"] for e in only] == [first["id"]]
    later = venue.odds("icehockey_nhl", commenceTimeFrom="2030-01-01T00:00:00Z").json()
    assert later == []
    books = venue.odds("icehockey_nhl", bookmakers="pinnacle,fanduel").json()
    assert {b["key"] for b in books[0]["bookmakers"]} == {"pinnacle", "fanduel"}
    eu = venue.odds("icehockey_nhl", regions="eu").json()
    assert {b["key"] for b in eu[0]["bookmakers"]} == {"pinnacle", "betfair_ex_eu"}


def test_quota_headers_count_down(make_venue):
    venue = make_venue(SimConfig(games_per_league={"NBA": 1}, odds_quota=10, odds_calls_per_second=None))
    first = venue.odds("basketball_nba", markets="h2h,spreads")  # 2 markets x 2 regions
    assert (first.headers["x-requests-last"], first.headers["x-requests-used"],
            first.headers["x-requests-remaining"]) == ("4", "4", "6")
    books = venue.odds("basketball_nba", bookmakers="draftkings,pinnacle")  # up to 10 books = 1 region
    assert books.headers["x-requests-last"] == "1" and books.headers["x-requests-remaining"] == "5"
    empty = venue.odds("icehockey_nhl")  # no NHL games in this slate: empty answer is free
    assert empty.json() == [] and empty.headers["x-requests-last"] == "0"
    venue.odds("basketball_nba", markets="h2h,spreads")
    spent = venue.odds("basketball_nba", markets="h2h,spreads")
    assert spent.status_code == 401 and spent.json()["error_code"] == "OUT_OF_USAGE_CREDITS"
    assert spent.headers["x-requests-remaining"] == "1"


def test_errors_like_the_real_service(make_venue):
    # the per-second cap's clock is frozen, so the 429 below never depends on how fast the machine is
    venue = make_venue(SimConfig(games_per_league={"NBA": 1}, odds_calls_per_second=3, rate_limit_clock=lambda: 0.0))
    bad_key = venue.http.get("/v4/sports/basketball_nba/odds", params={"apiKey": "0" * 32, "regions": "us"})
    assert bad_key.status_code == 401 and bad_key.json()["error_code"] == "INVALID_KEY"
    assert "x-requests-remaining" not in bad_key.headers
    assert set(bad_key.json()) == {"message", "error_code", "details_url"}
    missing = venue.http.get("/v4/sports/basketball_nba/odds", params={"regions": "us"})
    assert missing.status_code == 401 and missing.json()["error_code"] == "MISSING_KEY"
    invalid = venue.odds("basketball_nba", markets="h2h,player_points")
    assert invalid.status_code == 422 and invalid.json()["error_code"] == "INVALID_MARKET"
    assert "player_points" in invalid.json()["message"]
    calls = [venue.odds("basketball_nba") for _ in range(8)]  # 3 calls per second allowed here
    limited = next(c for c in calls if c.status_code != 200)
    assert limited.status_code == 429 and limited.json()["error_code"] == "EXCEEDED_FREQ_LIMIT"


def test_parameter_errors(make_venue):
    venue = make_venue()
    key = venue.handle.odds_api_key
    cases = {
        "UNKNOWN_SPORT": ("/v4/sports/curling_xyz/odds", {"regions": "us"}),
        "MISSING_REGION": ("/v4/sports/basketball_nba/odds", {}),
        "INVALID_REGION": ("/v4/sports/basketball_nba/odds", {"regions": "mars"}),
        "INVALID_ODDS_FORMAT": ("/v4/sports/basketball_nba/odds", {"regions": "us", "oddsFormat": "fractional"}),
        "INVALID_COMMENCE_TIME_FROM": ("/v4/sports/basketball_nba/odds", {"regions": "us", "commenceTimeFrom": "x"}),
        "INVALID_COMMENCE_TIME_RANGE": ("/v4/sports/basketball_nba/odds",
                                        {"regions": "us", "commenceTimeFrom": "2026-11-25T00:00:00Z",
                                         "commenceTimeTo": "2026-11-24T00:00:00Z"}),
        "INVALID_EVENT_IDS": ("/v4/sports/basketball_nba/odds", {"regions": "us", "eventIds": "short"}),
    }
    for code, (path, params) in cases.items():
        response = venue.http.get(path, params={"apiKey": key, **params})
        assert response.json()["error_code"] == code, code
        assert response.status_code == (404 if code == "UNKNOWN_SPORT" else 422)
        assert "x-requests-remaining" in response.headers  # a valid key: quota headers, nothing charged
        assert response.headers["x-requests-last"] == "0"

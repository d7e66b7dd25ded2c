"""The second odds provider, Pinnacle's Lines API, over real HTTP against the simulator's Pinnacle routes
(the wire shape of sportsbook-odds.md §2.1; docs/odds-providers.md), and its normalizer on edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.connectors.sportsbooks.errors import OddsAuthError, OddsPayloadError, OddsRequestError
from arb_pipeline.connectors.sportsbooks.pinnacle import (
    PinnacleProvider,
    normalize_pinnacle_response,
    parse_leagues,
)
from arb_pipeline.sim import pinnacle_api
from arb_pipeline.sim.pricing import decimal_from_american
from arb_pipeline.sim.scenario import ScenarioConfig
from arb_pipeline.sim.server import SimConfig, start_simulator
from arb_pipeline.sim.slate import sim_sport_key

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
THOUSANDTH = Decimal("0.001")


@pytest.fixture(scope="module")
def sim():
    scenario = ScenarioConfig(seed=4, start=START, games_per_league=2, arb_rate_per_hour=0, value_rate_per_hour=0,
                              extended=True)
    with start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None)) as handle:
        yield handle


@pytest.fixture
def provider(sim):
    with PinnacleProvider(username=pinnacle_api.DEFAULT_USERNAME, password=pinnacle_api.DEFAULT_PASSWORD,
                          leagues=pinnacle_api.SIM_LEAGUES, base_url=sim.pinnacle_base_url, max_attempts=1) as p:
        yield p


def served(price) -> Decimal:
    return (decimal_from_american(price) if isinstance(price, int) else price).quantize(THOUSANDTH)


@pytest.mark.parametrize("sport", ["basketball_nba", "soccer_epl", "americanfootball_nfl"])
def test_quotes_are_the_simulators_pinnacle_prices_exactly(sim, provider, sport):
    result = provider.fetch_quotes(sport, markets=("h2h", "spreads", "totals"))
    assert not result.problems, result.problems
    states = [s for s in sim.scenario.states.values() if sim_sport_key(s.game.league) == sport]
    assert {q.event_id for q in result.quotes} == {str(pinnacle_api.event_id(s)) for s in states}
    for state in states:
        game, book = state.game, state.quotes["pinnacle"]
        mine = {(q.market, q.outcome): q for q in result.quotes if q.event_id == str(pinnacle_api.event_id(state))}
        listed_home, listed_away = game.book_home_away()
        assert mine["h2h", "home"].home_team == game.book_name(listed_home)
        assert mine["h2h", "home"].decimal_odds == served(book.h2h[listed_home])
        assert mine["h2h", "away"].decimal_odds == served(book.h2h[listed_away])
        assert (("h2h", "draw") in mine) == ("draw" in game.outcomes)
        point, home_price, away_price = book.spread  # Kalshi home's terms; the listed home may be the other team
        sign = 1 if listed_home == "home" else -1
        assert mine["spreads", "home"].point == sign * point and mine["spreads", "away"].point == -sign * point
        assert mine["spreads", "home"].decimal_odds == served(home_price if sign == 1 else away_price)
        assert mine["totals", "over"].point == mine["totals", "under"].point == book.total[0]
        assert mine["totals", "under"].decimal_odds == served(book.total[2])
        assert all(q.provider == q.bookmaker == "pinnacle" and q.commence_time == game.commence for q in mine.values())
        assert {q.market: q.max_stake for q in mine.values()} == {"h2h": Decimal("3000.0"),
                                                                  "spreads": Decimal("5000.0"),
                                                                  "totals": Decimal("2000.0")}


def test_markets_filter_and_commence_window(provider):
    h2h = provider.fetch_quotes("basketball_nba")  # the protocol's default: h2h only
    assert h2h.quotes and {q.market for q in h2h.quotes} == {"h2h"}
    late = max(q.commence_time for q in h2h.quotes)
    kept = provider.fetch_quotes("basketball_nba", commence_time_from=late)
    assert kept.quotes and all(q.commence_time >= late for q in kept.quotes)
    assert provider.estimate_cost(("h2h", "spreads")) == 0


def test_bad_credentials_and_unmapped_sports_are_clear_errors(sim):
    with PinnacleProvider(username="someone", password="wrong-secret", leagues=pinnacle_api.SIM_LEAGUES,
                          base_url=sim.pinnacle_base_url, max_attempts=1) as p:
        with pytest.raises(OddsAuthError, match="HTTP 401") as err:
            p.fetch_quotes("basketball_nba")
        assert "wrong-secret" not in str(err.value)
        assert p.failed_attempts == p.attempts == 1
        with pytest.raises(OddsRequestError, match="PINNACLE_LEAGUES"):
            p.fetch_quotes("cricket_ipl")
    with pytest.raises(OddsAuthError, match="PINNACLE_USERNAME"):
        PinnacleProvider(username="", password="", leagues={})


def test_parse_leagues():
    assert parse_leagues(" basketball_nba:4:487, soccer_epl:29:1980 ") == {"basketball_nba": (4, 487),
                                                                          "soccer_epl": (29, 1980)}
    for bad in ("basketball_nba:4", "basketball_nba:x:1", "a:1:2,a:1:3"):
        with pytest.raises(ValueError, match="PINNACLE_LEAGUES"):
            parse_leagues(bad)


# --- the normalizer on shapes the simulator does not serve ----------------------------------------------


def payload(period: dict, *, fixture_id: int = 7) -> dict:
    return {"fixtures": {"sportId": 4, "last": 1, "league": [{"id": 487, "events": [
        {"id": fixture_id, "starts": "2026-11-25T00:30:00Z", "home": "Home Team", "away": "Away Team"}]}]},
        "odds": {"sportId": 4, "last": 1, "leagues": [{"id": 487, "events": [{"id": 7, "periods": [period]}]}]}}


PERIOD = {"number": 0, "status": 1, "moneylineUpdatedAt": "2026-11-24T14:59:00Z", "spreadUpdatedAt":
          "2026-11-24T14:58:00Z", "moneyline": {"home": Decimal("1.8"), "away": Decimal("2.05")},
          "spreads": [{"hdp": Decimal("-3.5"), "home": Decimal("1.95"), "away": Decimal("1.9")},
                      {"altLineId": 11, "hdp": Decimal("-5.5"), "home": Decimal("2.4"), "away": Decimal("1.6")}],
          "totals": [{"points": Decimal("221.5"), "over": Decimal("1.9"), "under": Decimal("1.95")}]}


def normalize(data):
    return normalize_pinnacle_response(data, sport_key="basketball_nba", fetched_at=START, source="t")


def test_main_lines_only_and_a_missing_update_time_is_a_problem_not_a_guess():
    result = normalize(payload(PERIOD))
    spreads = {q.outcome: q.point for q in result.quotes if q.market == "spreads"}
    assert spreads == {"home": Decimal("-3.5"), "away": Decimal("3.5")}  # the alternate -5.5 is skipped
    assert not [q for q in result.quotes if q.market == "totals"]  # no totalUpdatedAt: its age is unknown
    (problem,) = result.problems
    assert "totalUpdatedAt" in problem.path and problem.event_id == "7"
    assert {q.last_update for q in result.quotes if q.market == "h2h"} == {datetime(2026, 11, 24, 14, 59,
                                                                                     tzinfo=UTC)}


def test_other_periods_closed_periods_and_orphan_odds():
    half = {**PERIOD, "number": 1}
    assert normalize(payload(half)).quotes == () and normalize(payload(half)).problems == ()
    closed = normalize(payload({**PERIOD, "status": 2}))
    assert closed.quotes == () and "not open" in closed.problems[0].message
    orphan = normalize(payload(PERIOD, fixture_id=8))
    assert orphan.quotes == () and "no fixture" in orphan.problems[0].message
    with pytest.raises(OddsPayloadError, match="fixtures"):
        normalize({"odds": {}})
    bad_price = normalize(payload({**PERIOD, "moneyline": {"home": Decimal("0.9"), "away": Decimal("2")}}))
    assert not [q for q in bad_price.quotes if q.market == "h2h"] and "moneyline.home" in bad_price.problems[0].path


def test_a_recorded_pinnacle_file_is_the_two_bodies_verbatim(sim, provider):
    response = provider.fetch_odds("soccer_epl")
    assert response.file_name == "pinnacle_soccer_epl.json"
    both = json.loads(response.text)
    assert both == {"fixtures": json.loads(response.fixtures_text), "odds": json.loads(response.odds_text)}
    assert response.fixtures_text in response.text and response.odds_text in response.text

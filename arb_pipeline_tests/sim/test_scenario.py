"""Scenario engine: determinism, venue naming, injected opportunities visible over HTTP, lifecycle, traps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.sim.clock import SimClock
from arb_pipeline.sim.kalshi_views import event_json, milestone_json
from arb_pipeline.sim.money import taker_fee
from arb_pipeline.sim.pricing import decimal_from_american
from arb_pipeline.sim.scenario import ScenarioEngine
from arb_pipeline.sim.slate import EASTERN


def world(config) -> list[object]:
    engine = ScenarioEngine(config, clock=SimClock.fixed(config.start))
    engine.advance(1800)
    return [[event_json(engine, s, True), milestone_json(engine, s),
             {b: (q.h2h, q.updated) for b, q in s.quotes.items()}] for s in engine.states.values()]


def test_same_seed_same_world_and_other_seed_differs(quiet):
    assert world(quiet(seed=3, arb_rate_per_hour=20.0)) == world(quiet(seed=3, arb_rate_per_hour=20.0))
    assert world(quiet(seed=3)) != world(quiet(seed=4))


def test_determinism_does_not_depend_on_how_time_is_advanced(quiet):
    config = quiet(seed=9, value_rate_per_hour=30.0)
    one = ScenarioEngine(config, clock=SimClock.fixed(config.start))
    two = ScenarioEngine(config, clock=SimClock.fixed(config.start))
    one.advance(3600)
    for _ in range(12):
        two.advance(300)
        two.sync()
    assert [event_json(one, s, True) for s in one.states.values()] == \
        [event_json(two, s, True) for s in two.states.values()]


@pytest.fixture
def engine(quiet):
    config = quiet(games_per_league=3)
    return ScenarioEngine(config, clock=SimClock.fixed(config.start))


def test_slate_names_differ_between_venues_like_real_ones(engine):
    catalogue = load_catalogue()
    assert {g.code for g in engine.games} == {"NFL", "NBA", "NHL", "MLB", "EPL"}
    for game in engine.games:
        league = catalogue.league(game.code)
        assert game.home in league.teams and game.away in league.teams
        local = game.scheduled.astimezone(EASTERN)
        date_part = local.strftime("%y%b%d").upper()
        hhmm = local.strftime("%H%M") if game.code == "MLB" else ""
        assert game.event_ticker == f"{league.kalshi_series}-{date_part}{hhmm}{game.away.kalshi_code}{game.home.kalshi_code}"
        event = event_json(engine, engine.states[game.event_ticker], True)
        labels = {m["ticker"]: m["yes_sub_title"] for m in event["markets"]}
        assert labels[f"{game.event_ticker}-{game.home.kalshi_code}"] == game.home.kalshi_label
        assert game.book_name("home") == game.home.full_name
        for market in event["markets"]:
            assert market["no_sub_title"] == market["yes_sub_title"]
            assert f"originally scheduled for {local:%b} {local.day}, {local.year}" in market["rules_primary"]
        if game.code == "EPL":
            assert [m["ticker"][-4:] for m in event["markets"]].count("-TIE") == 1 and len(event["markets"]) == 3
        milestone = milestone_json(engine, engine.states[game.event_ticker])
        assert milestone["type"] == league.milestone_type
        home_market = next(m for m in event["markets"] if m["ticker"].endswith("-" + game.home.kalshi_code))
        assert list(home_market["custom_strike"].values()) == [milestone["details"]["home_team_id"]]
        assert milestone["primary_event_tickers"] == [game.event_ticker]


def test_special_cases_doubleheader_and_utc_midnight(engine):
    mlb = [g for g in engine.games if g.code == "MLB"]
    pair = {frozenset((g.home.id, g.away.id)) for g in mlb}
    assert len(pair) < len(mlb), "the first MLB pairing plays twice"
    twins = [g for g in mlb if frozenset((g.home.id, g.away.id)) == frozenset((mlb[0].home.id, mlb[0].away.id))]
    assert twins[0].scheduled.astimezone(EASTERN).date() == twins[1].scheduled.astimezone(EASTERN).date()
    assert twins[0].event_ticker != twins[1].event_ticker
    crossing = [g for g in engine.games if g.commence.date() != g.commence.astimezone(EASTERN).date()]
    assert crossing, "an evening Eastern game starts after 00:00 UTC on the next UTC day"
    assert all(g.event_ticker.split("-")[1].startswith(g.commence.astimezone(EASTERN).strftime("%y%b%d").upper())
               for g in crossing)


def _implied(price: object) -> D:
    """Implied probability as a client reads it: American exactly, decimal as printed."""
    if isinstance(price, int):
        return 1 / decimal_from_american(price)
    return 1 / D(str(price))


def _best_complement(venue, window) -> D:
    """Best bookmaker prices for every other outcome, read over HTTP in BOTH formats (worst reading)."""
    worst = D(0)
    for fmt in ("american", "decimal"):
        events = venue.odds(window["sport_key"], oddsFormat=fmt).json()
        event = next(e for e in events if e["id"] == window["odds_event_id"])
        team_names = {"home": event["home_team"], "away": event["away_team"], "draw": "Draw"}
        others = [team_names[o] for o in ("home", "away", "draw") if o != window["outcome"]]
        if not any(o["name"] == "Draw" for b in event["bookmakers"] for m in b["markets"] for o in m["outcomes"]):
            others = [n for n in others if n != "Draw"]
        total = D(0)
        for name in others:
            total += min(_implied(o["price"]) for b in event["bookmakers"] for m in b["markets"]
                         if m["key"] == "h2h" for o in m["outcomes"] if o["name"] == name)
        worst = max(worst, total)
    return worst


def _kalshi_ask(venue, ticker: str) -> tuple[D, D]:
    book = venue.public(f"/markets/{ticker}/orderbook").json()["orderbook_fp"]
    price, size = max(book["no_dollars"], key=lambda lvl: D(lvl[0]))
    return 1 - D(price), D(size)


def test_injected_arbitrage_is_an_arbitrage_in_the_served_data(make_venue):
    venue = make_venue(games_per_league=2)
    window = venue.handle.scenario.inject_arbitrage(edge="0.02")
    ask, size = _kalshi_ask(venue, window["market_ticker"])
    assert ask == D(window["kalshi_yes_ask"]) and size == D(window["size"])
    complement = _best_complement(venue, window)
    total = ask + taker_fee(size, ask) / size + complement
    assert total <= D("0.98"), f"not an arbitrage: {total}"
    # the sibling markets moved with it: buying every YES on Kalshi alone is no arbitrage
    siblings = venue.public("/markets", params={"event_ticker": window["event_ticker"]}).json()["markets"]
    assert sum(D(m["yes_ask_dollars"]) for m in siblings) >= 1
    # it stays one as the odds move, until it expires
    venue.handle.scenario.advance(60)
    ask, size = _kalshi_ask(venue, window["market_ticker"])
    assert ask + taker_fee(size, ask) / size + _best_complement(venue, window) <= D("0.98")
    venue.handle.scenario.advance(120)
    assert venue.handle.scenario.active_windows() == []
    ask_after, _ = _kalshi_ask(venue, window["market_ticker"])
    assert ask_after + _best_complement(venue, window) > 1


def test_taking_the_arbitrage_consumes_it(make_venue):
    venue = make_venue(games_per_league=2)
    window = venue.handle.scenario.inject_arbitrage(edge="0.02", size=D(50))
    ask, _ = _kalshi_ask(venue, window["market_ticker"])
    taken = venue.order(window["market_ticker"], "bid", f"{ask}", "50").json()
    assert taken["fill_count"] == "50.00"
    venue.handle.scenario.advance(60)  # the market maker requotes; the window's size is used up
    assert venue.handle.scenario.active_windows() == []
    ask_after, _ = _kalshi_ask(venue, window["market_ticker"])
    assert ask_after > ask


def test_injected_value_window_is_positive_ev_but_no_arbitrage(make_venue):
    venue = make_venue(games_per_league=3)
    window = venue.handle.scenario.inject_value(edge="0.02")
    ask, size = _kalshi_ask(venue, window["market_ticker"])
    cost = ask + taker_fee(size, ask) / size
    assert D(window["fair_probability"]) - cost >= D("0.02")
    assert cost + _best_complement(venue, window) >= 1


def test_inject_validation(engine):
    with pytest.raises(ValueError):
        engine.inject_arbitrage(event_ticker="KXNOPE-1")
    with pytest.raises(ValueError):
        engine.inject_arbitrage(edge="0.9")


def test_odds_move_games_start_and_leave_the_feed(make_venue):
    venue = make_venue(games_per_league={"NBA": 1, "NFL": 1})
    scenario = venue.handle.scenario
    nfl = next(g for g in scenario.games if g.code == "NFL")
    before = venue.odds("americanfootball_nfl", oddsFormat="american").json()
    scenario.advance(1800)
    after = venue.odds("americanfootball_nfl", oddsFormat="american").json()
    assert before[0]["bookmakers"] != after[0]["bookmakers"]
    assert max(b["last_update"] for b in after[0]["bookmakers"]) > max(b["last_update"] for b in before[0]["bookmakers"])
    scenario.advance((nfl.commence - scenario.now()).total_seconds() + 60)
    live = venue.odds("americanfootball_nfl").json()
    assert [e["id"] for e in live] == [nfl.odds_id]  # in play: still listed
    assert venue.public(f"/markets/{nfl.market_ticker('home')}").json()["market"]["status"] == "active"
    scenario.advance(nfl.duration.total_seconds())
    assert venue.odds("americanfootball_nfl").json() == []  # completed games leave /odds


def test_traps_are_off_by_default_and_switchable(quiet):
    plain = ScenarioEngine(quiet(), clock=SimClock.fixed(quiet().start))
    assert plain.traps == {}
    config = quiet(inverted_price_trap=True, postponed_game_trap=True, unknown_alias_trap=True)
    engine = ScenarioEngine(config, clock=SimClock.fixed(config.start))
    assert set(engine.traps) == {"inverted_price", "postponed_game", "unknown_alias"}
    inverted = engine.states[engine.traps["inverted_price"]["event_ticker"]]
    home_market = inverted.game.market_ticker("home")
    yes, no = engine.exchange.books[home_market].levels()
    mid = (yes[-1][0] + 1 - no[-1][0]) / 2
    assert abs(float(mid) - inverted.prob("away")) < abs(float(mid) - inverted.prob("home"))
    postponed = engine.states[engine.traps["postponed_game"]["event_ticker"]].game
    assert postponed.commence - postponed.scheduled == timedelta(hours=26)
    assert milestone_json(engine, engine.states[postponed.event_ticker])["start_date"].startswith(
        postponed.commence.strftime("%Y-%m-%dT%H"))
    alias_game = engine.states[engine.traps["unknown_alias"]["event_ticker"]].game
    name = alias_game.book_name("home")
    assert name != alias_game.home.full_name and alias_game.league.lookup(name) is None


def test_asking_for_more_games_than_a_day_holds_is_a_clear_error():
    from datetime import UTC, datetime

    from arb_pipeline.sim.scenario import ScenarioConfig, ScenarioEngine

    with pytest.raises(ValueError, match=r"games_per_league\['NBA'\] = 40.*at most 15 games"):
        ScenarioEngine(ScenarioConfig(start=datetime(2026, 11, 24, 15, tzinfo=UTC), games_per_league={"NBA": 40}))


def _line_complement(venue, window) -> D:
    """Best price of the other side of the window's line at the same point, over HTTP, worst format."""
    market = "totals" if window["line"] == "total" else "spreads"
    (leg,) = window["book_legs"]
    worst = D(0)
    for fmt in ("american", "decimal"):
        events = venue.odds(window["sport_key"], oddsFormat=fmt, markets="h2h,spreads,totals").json()
        event = next(e for e in events if e["id"] == window["odds_event_id"])
        prices = []
        for b in event["bookmakers"]:
            for m in b["markets"]:
                if m["key"] != market:
                    continue
                for o in m["outcomes"]:
                    # the other side is the outcome quoted at the window's point: "Under t", or the
                    # underdog at +s (a spread's two outcomes are quoted at opposite points, s > 0)
                    named = o["name"].lower() == leg["outcome"] if market == "totals" else True
                    if named and D(str(o["point"])) == D(leg["point"]):
                        prices.append(_implied(o["price"]))
        assert prices, (fmt, window)
        worst = max(worst, min(prices))
    return worst


@pytest.mark.parametrize("line", ["spread", "total"])
def test_an_injected_line_arbitrage_is_one_in_the_served_data(make_venue, line):
    venue = make_venue(games_per_league=1, extended=True)
    window = venue.handle.scenario.inject_line_arbitrage(line, edge="0.02")
    assert window["line"] == line and window["strike"] == window["book_point"].lstrip("-")
    ask, size = _kalshi_ask(venue, window["market_ticker"])
    assert ask == D(window["kalshi_yes_ask"]) and size == D(window["size"])
    assert ask + taker_fee(size, ask) / size + _line_complement(venue, window) <= D("0.98")
    # the market still has a bid (two-sided) below the window's ask
    book = venue.public(f"/markets/{window['market_ticker']}/orderbook").json()["orderbook_fp"]
    assert book["yes_dollars"] and max(D(p) for p, _ in book["yes_dollars"]) < ask
    # it stays one as the odds move, then expires and the ask returns to the market maker's
    venue.handle.scenario.advance(60)
    ask, size = _kalshi_ask(venue, window["market_ticker"])
    assert ask + taker_fee(size, ask) / size + _line_complement(venue, window) <= D("0.98")
    venue.handle.scenario.advance(120)
    assert venue.handle.scenario.active_windows() == []
    after, _ = _kalshi_ask(venue, window["market_ticker"])
    assert after + _line_complement(venue, window) > 1


def test_line_injection_validation(engine, make_venue):
    with pytest.raises(ValueError, match="spread"):
        engine.inject_line_arbitrage("moneyline")
    with pytest.raises(ValueError, match="no game can carry a total"):  # the basic slate lists no line markets
        engine.inject_line_arbitrage("total")
    venue = make_venue(games_per_league=1, extended=True)
    answer = venue.http.post("/_sim/inject", json={"kind": "arbitrage", "line": "total", "edge": "0.02"})
    assert answer.status_code == 200 and answer.json()["line"] == "total"


def test_a_window_never_shows_a_kalshi_only_arbitrage_between_two_requotes(quiet):
    """A websocket client sees every requote as it happens: after each one, buying every YES of a
    windowed game on Kalshi alone must still cost at least 1 - on injection (the siblings are lifted
    before the cheap ask shows) and on every later tick (the window is priced before its siblings)."""
    config = quiet(games_per_league=2)
    engine = ScenarioEngine(config, clock=SimClock.fixed(config.start))
    exchange = engine.exchange
    original = exchange.requote
    seen: list[D] = []

    def best_yes_ask(ticker: str) -> D:
        return min((o.price for o in exchange.books[ticker].asks), default=D(1))

    def watched(ticker, bids, asks) -> None:
        original(ticker, bids, asks)
        for window in engine.windows.values():
            state = engine.states[window.event_ticker]
            seen.append(sum(best_yes_ask(state.game.market_ticker(o)) for o in state.game.outcomes))

    exchange.requote = watched  # type: ignore[method-assign]
    for _ in range(3):
        engine.inject_arbitrage(edge="0.03")
    for _ in range(20):
        engine.advance(15)
    assert seen and min(seen) >= 1, f"a Kalshi-only arbitrage was visible: {min(seen)}"

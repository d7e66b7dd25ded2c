"""Issue #4 against the simulator: its whole slate resolves with zero inversions, and each trap it
can inject is caught by the guard meant for it (never silently dropped, never tradable).

The snapshot is recorded over real HTTP from the simulator, then resolved exactly as a scan would.
"""

from datetime import UTC, datetime

import pytest

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.mapping.resolver import resolve
from arb_pipeline.sim.clock import SimClock
from arb_pipeline.sim.record import record_snapshot
from arb_pipeline.sim.scenario import ScenarioConfig, ScenarioEngine

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def recorded(tmp_path, **traps):
    config = ScenarioConfig(seed=3, start=START, games_per_league=4, arb_rate_per_hour=0, value_rate_per_hour=0,
                            **traps)
    engine = ScenarioEngine(config, clock=SimClock.fixed(START))
    snapshot = load_snapshot(record_snapshot(engine, tmp_path / "snap"))
    return engine, snapshot, resolve(snapshot.events, snapshot.milestones, snapshot.quotes, as_of=START,
                                     targets=snapshot.structured_targets)


def test_the_whole_slate_resolves_with_no_inversion(tmp_path):
    engine, snapshot, resolution = recorded(tmp_path)
    assert {e.series_ticker for e in snapshot.events} >= {"KXNFLGAME", "KXNBAGAME", "KXNHLGAME", "KXMLBGAME",
                                                          "KXEPLGAME"}
    assert not resolution.unresolved, [u.to_dict() for u in resolution.unresolved]
    assert len(resolution.rows) == len(snapshot.markets)
    assert all(r.tradable for r in resolution.rows), [r.guards for r in resolution.rows if not r.tradable]
    # zero inversions: the team each YES backs is the simulator's own truth for that market
    for row in resolution.rows:
        state, outcome = engine.market_index[row.kalshi_market]
        assert row.outcome.value == outcome, row.kalshi_market
        assert row.kalshi_event == state.game.event_ticker
        assert row.sportsbook_event_id == state.game.odds_id


def test_the_doubleheader_maps_each_game_to_its_own_sportsbook_event(tmp_path):
    _, snapshot, resolution = recorded(tmp_path)
    mlb = {r.kalshi_event: r.sportsbook_event_id for r in resolution.rows if r.league == "MLB"}
    assert len(set(mlb.values())) == len(mlb), "two Kalshi MLB events share one sportsbook game"


def test_an_inverted_price_is_flagged_and_not_tradable(tmp_path):
    engine, _, resolution = recorded(tmp_path, inverted_price_trap=True)
    trapped = engine.traps["inverted_price"]["event_ticker"]
    rows = [r for r in resolution.rows if r.kalshi_event == trapped]
    assert rows and not any(r.tradable for r in rows)
    assert all(any("inverted" in g for g in r.guards) for r in rows)
    assert all(r.tradable for r in resolution.rows if r.kalshi_event != trapped)


def test_a_postponed_game_is_guarded_with_its_reason(tmp_path):
    engine, _, resolution = recorded(tmp_path, postponed_game_trap=True)
    trapped = engine.traps["postponed_game"]["event_ticker"]
    rows = [r for r in resolution.rows if r.kalshi_event == trapped]
    misses = resolution.unresolved_for(trapped)
    assert rows or misses, "the postponed game vanished without a reason"
    assert not any(r.tradable for r in rows)
    reasons = " ".join([g for r in rows for g in r.guards] + [u.reason for u in misses]).lower()
    assert "postpone" in reasons or "start" in reasons


def test_an_unknown_sportsbook_alias_is_proposed_not_traded(tmp_path):
    engine, _, resolution = recorded(tmp_path, unknown_alias_trap=True)
    trap = engine.traps["unknown_alias"]
    rows = [r for r in resolution.rows if r.kalshi_event == trap["event_ticker"]]
    assert not any(r.tradable for r in rows)
    assert all(r.method.value == "fuzzy-proposed" for r in rows) or resolution.unresolved_for(trap["event_ticker"])


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_other_seeds_resolve_completely_too(tmp_path, seed):
    config = ScenarioConfig(seed=seed, start=START, games_per_league=3, arb_rate_per_hour=0, value_rate_per_hour=0)
    engine = ScenarioEngine(config, clock=SimClock.fixed(START))
    snapshot = load_snapshot(record_snapshot(engine, tmp_path / "snap"))
    resolution = resolve(snapshot.events, snapshot.milestones, snapshot.quotes, as_of=START,
                                     targets=snapshot.structured_targets)
    assert not resolution.unresolved
    assert all(r.outcome.value == engine.market_index[r.kalshi_market][1] for r in resolution.rows)


# -- the extended slate (issue #12): every league, a neutral site, spread and total markets --------------

def recorded_extended(tmp_path, seed=3, games=2):
    config = ScenarioConfig(seed=seed, start=START, games_per_league=games, arb_rate_per_hour=0,
                            value_rate_per_hour=0, extended=True)
    engine = ScenarioEngine(config, clock=SimClock.fixed(START))
    snapshot = load_snapshot(record_snapshot(engine, tmp_path / "snap", markets={"*": "h2h,spreads,totals"}))
    return engine, snapshot, resolve(snapshot.events, snapshot.milestones, snapshot.quotes, as_of=START,
                                     targets=snapshot.structured_targets)


@pytest.mark.parametrize("seed", [3, 8])
def test_the_extended_slate_resolves_every_market_with_no_inversion(tmp_path, seed):
    from arb_pipeline.sim.slate import EXTENDED_LEAGUES

    engine, snapshot, resolution = recorded_extended(tmp_path, seed)
    assert {r.league for r in resolution.rows} == set(EXTENDED_LEAGUES)
    assert not resolution.unresolved, [u.to_dict() for u in resolution.unresolved]
    assert len(resolution.rows) + len(resolution.lines) == len(snapshot.markets)
    assert all(r.tradable for r in resolution.rows), [(r.kalshi_market, r.guards) for r in resolution.rows if not r.tradable]
    for row in resolution.rows:  # winners: the team each YES backs is the simulator's own truth
        state, outcome = engine.market_index[row.kalshi_market]
        assert row.sportsbook_event_id == state.game.odds_id
        assert row.team_id == (state.game.team(outcome).id if state.game.team(outcome) else None)
        assert row.outcome.value == dict(zip(state.game.book_home_away(), ("home", "away"), strict=True)).get(
            outcome, outcome)
    kinds = set()
    for line in resolution.lines:  # lines: the strike, the team and the side on the book's own axis
        state, market = engine.line_index[line.kalshi_market]
        game = state.game
        kinds.add(line.kind)
        assert (line.kind, line.strike, line.sportsbook_event_id) == (market.kind, market.strike, game.odds_id)
        book_home = game.team(game.book_home_away()[0])
        if market.kind == "total":
            assert (line.team_id, line.yes_outcome.value, line.point) == (None, "over", market.strike)
        else:
            subject = game.team(market.subject)
            on_home = subject.id == book_home.id
            assert line.team_id == subject.id
            assert (line.yes_outcome.value, line.point) == (("home", market.strike) if on_home
                                                           else ("away", -market.strike))
        # the line the books quote is one of Kalshi's strikes: that market is tradable (prices agree)
        book_axis = -state.spread_point if line.kind == "spread" else state.total_point
        if game.neutral and line.kind == "spread":
            book_axis = -book_axis  # the books' home is Kalshi's away team
        if line.point == book_axis:
            assert line.tradable, (line.kalshi_market, line.guards)
        else:
            assert line.guards == (f"orientation not verifiable: no sportsbook {line.book_market} line at this point",)
    assert kinds == {"spread", "total"}


def test_the_extended_slate_has_the_special_games(tmp_path):
    engine, snapshot, resolution = recorded_extended(tmp_path)
    neutral = [g for g in engine.games if g.neutral]
    assert len(neutral) == 1
    game = neutral[0]
    rows = [r for r in resolution.rows if r.kalshi_event == game.event_ticker]
    # the books list the Kalshi away team as home; each market still backs its own team, tradable
    assert {r.team_id: r.outcome.value for r in rows} == {game.away.id: "home", game.home.id: "away"}
    assert all(r.tradable for r in rows)
    (milestone,) = [m for m in snapshot.milestones if game.event_ticker in m.primary_event_tickers]
    assert milestone.details["neutral_site"] is True and len(milestone.related_event_tickers) == 3
    mlb = {r.kalshi_event: r.sportsbook_event_id for r in resolution.rows if r.league == "MLB"}
    pairs = [frozenset((g.home.id, g.away.id)) for g in engine.games if g.code == "MLB"]
    assert len(pairs) > len(set(pairs)), "a doubleheader"
    assert len(set(mlb.values())) == len(mlb)
    players = {t.type for t in snapshot.structured_targets.values()}
    assert {"tennis_player", "mma_fighter", "soccer_team", "football_team"} <= players


# -- resolving from the parser's columns (mapping/quote_rows.py) -------------------------------------------

@pytest.mark.parametrize("traps", [{}, {"inverted_price_trap": True}, {"postponed_game_trap": True},
                                   {"unknown_alias_trap": True}, {"extended": True}])
def test_resolving_with_the_parsers_columns_is_the_same_resolution(tmp_path, traps):
    """The quotes grouped into games and the guard's consensus read from the odds parser's own columns give
    the very `Resolution` the quote objects give: rows, lines, guards, fair probabilities to the bit."""
    config = ScenarioConfig(seed=3, start=START, games_per_league=3, arb_rate_per_hour=0, value_rate_per_hour=0,
                            **traps)
    engine = ScenarioEngine(config, clock=SimClock.fixed(START))
    snapshot = load_snapshot(record_snapshot(engine, tmp_path / "snap", markets={"*": "h2h,spreads,totals"}))
    columns = snapshot.quote_columns
    assert columns is not None and len(columns) == len(snapshot.quotes)
    plain, by_columns = (resolve(snapshot.events, snapshot.milestones, snapshot.quotes, as_of=START,
                                 targets=snapshot.structured_targets, columns=c) for c in (None, columns))
    assert by_columns == plain
    assert repr(by_columns) == repr(plain)
    assert plain.rows and any(r.fair_probability is not None for r in plain.rows)
    assert plain.lines or not traps.get("extended")

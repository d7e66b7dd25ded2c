from datetime import timedelta

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.guards import GuardContext, flag_duplicates
from arb_pipeline.mapping.results import MatchMethod, ResolvedMarket
from arb_pipeline.mapping.rules import ResolverConfig, TeamLookup
from arb_pipeline.mapping.sportsbook import group_games
from arb_pipeline_tests.mapping.factories import h2h, market, utc

CAT = load_catalogue()


def _game(start):
    games, _ = group_games(h2h("g", "NBA", "New York Knicks", "Boston Celtics", start), CAT,
                           {c: TeamLookup(lg) for c, lg in CAT.leagues.items()}, ResolverConfig())
    return games[0]


def test_guards_each_give_a_reason() -> None:
    start = utc(2026, 11, 4)
    game = _game(start)
    ctx = GuardContext(start - timedelta(hours=1), ResolverConfig(), {})
    ok, price, fair = ctx.check(market("E", "NYK", "New York", yes_bid="0.50", yes_ask="0.52"), game, Outcome.HOME, None)
    assert ok == [] and price == 0.51 and 0.5 < fair < 0.53
    closed = market("E", "NYK", "New York", status="closed", yes_bid=None)
    guards, _, _ = GuardContext(start, ResolverConfig(), {}).check(closed, game, Outcome.HOME, None)
    assert guards[0] == "market status is 'closed', not 'active'"
    assert guards[1].startswith("game started")
    assert guards[2] == "orientation not verifiable: no Kalshi YES price"
    lenient = ResolverConfig(require_orientation_check=False)
    guards, _, _ = GuardContext(start - timedelta(hours=1), lenient, {}).check(
        market("E", "NYK", "New York", yes_bid=None), game, Outcome.HOME, None)
    assert guards == []


def test_earlier_kalshi_start_counts_for_started() -> None:
    start = utc(2026, 11, 4)
    ctx = GuardContext(start - timedelta(hours=1), ResolverConfig(), {})
    guards, _, _ = ctx.check(market("E", "NYK", "New York"), _game(start), Outcome.HOME, start - timedelta(hours=2))
    assert any(g.startswith("game started") for g in guards)


def test_flag_duplicates() -> None:
    def row(ticker: str, outcome: Outcome) -> ResolvedMarket:
        return ResolvedMarket(ticker, "E", "NBA", "g", "basketball_nba", outcome, None, "x", "h", "a",
                              MatchMethod.RULE, 1.0, utc(2026, 1, 1), None, True, ())

    rows = flag_duplicates([row("A", Outcome.HOME), row("B", Outcome.HOME), row("C", Outcome.AWAY)])
    assert [r.tradable for r in rows] == [False, False, True]
    assert "mapped from 2 Kalshi markets ['A', 'B']" in rows[0].guards[0]


def test_on_time_match_is_not_blocked_by_a_postponed_one() -> None:
    def row(ticker: str) -> ResolvedMarket:
        return ResolvedMarket(ticker, "E", "NBA", "g", "basketball_nba", Outcome.HOME, None, "x", "h", "a",
                              MatchMethod.RULE, 1.0, utc(2026, 1, 1), None, ticker == "ON", ())

    rows = flag_duplicates([row("ON"), row("LATE")], weak={1})
    assert rows[0].tradable and rows[0].guards == ()
    assert not rows[1].tradable and rows[1].guards[0].startswith("duplicate mapping")
    both_weak = flag_duplicates([row("ON"), row("LATE")], weak={0, 1})
    assert all(r.guards for r in both_weak)

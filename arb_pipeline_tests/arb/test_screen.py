"""The float screen must never lose a candidate the exact confirmation would accept."""

import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.arb.combos import covering_combinations
from arb_pipeline.arb.confirm import Context, confirm_arbitrage, confirm_value
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.implied_prob import METHODS
from arb_pipeline.arb.market import GameColumns
from arb_pipeline.arb.quotes import SLOT, QuoteTable
from arb_pipeline.arb.results import Opportunity
from arb_pipeline.arb.screen import _inverse_lines, screen
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import ContractSide
from arb_pipeline.domain import Outcome as O

D = Decimal
def bid_ladder(lo: int, hi: int):
    prices = st.integers(lo, hi).map(lambda c: D(c) / 100)
    return st.lists(st.tuples(prices, st.integers(1, 300)), max_size=3, unique_by=lambda t: t[0])


@st.composite
def uncrossed_bids(draw):
    """YES and NO bids that never cross (best YES bid + best NO bid < $1), like a live book."""
    mid = draw(st.integers(2, 98))
    return draw(bid_ladder(1, mid - 1)), draw(bid_ladder(1, 99 - mid))
odds = st.integers(105, 500).map(lambda c: str(D(c) / 100))


def test_screen_flags_a_plain_arb_only(builders):
    b = builders
    arb = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.60", 100)])},
                 [b.quote("fd", O.HOME, "2.30"), b.quote("fd", O.AWAY, "1.80")])
    fair = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.45", 100)], yes_bids=[("0.53", 100)])},
                  [b.quote("fd", O.HOME, "1.80"), b.quote("fd", O.AWAY, "2.00")])
    arbs, values = screen([arb, fair], QuoteTable.from_games([arb, fair]), Limits(min_value_edge_bps=D(5000)))
    assert [(c.game, [(i.kind, i.outcome) for i in c.combo]) for c in arbs] == [(0, [("yes", O.HOME), ("book", O.AWAY)])]
    assert arbs[0].cost_bound < 1 and not values


def test_duplicate_quotes_make_the_game_a_candidate(builders):
    b = builders
    g = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.45", 100)])},
               [b.quote("fd", O.HOME, "1.80"), b.quote("fd", O.HOME, "1.85"), b.quote("fd", O.AWAY, "2.00")])
    arbs, _ = screen([g], QuoteTable.from_games([g]), Limits())
    assert len(arbs) == len(covering_combinations((O.HOME, O.AWAY)))


@st.composite
def games(draw, b):
    outcomes = draw(st.sampled_from([(O.HOME, O.AWAY), (O.HOME, O.DRAW, O.AWAY)]))
    kalshi = {}
    for o in outcomes:
        if draw(st.booleans()):
            yes_bids, no_bids = draw(uncrossed_bids())
            kalshi[o] = b.contract(f"KX-{o.value}", o, yes_bids=yes_bids, no_bids=no_bids,
                                   multiplier=draw(st.sampled_from(["1", "0.5"])))
    quotes = [b.quote(f"bk{i}", o, draw(odds)) for i in range(draw(st.integers(1, 4))) for o in outcomes
              if draw(st.integers(0, 9))]
    return b.game(kalshi, quotes, outcomes=outcomes)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_screen_never_misses_what_confirmation_accepts(builders, data):
    b = builders
    g = data.draw(games(b))
    method = data.draw(st.sampled_from(METHODS))
    limits = Limits(devig_method=method, consensus_min_books=1, max_edge_bps=D(10_000))
    sizing = SizingPolicy(bankroll=D(10**6), max_per_event=D(10**6), max_per_market=D(10**6),
                          max_total_exposure=D(10**6), max_sportsbook_stake=D(10**6), bankroll_fraction=D(1))
    table = QuoteTable.from_games([g])
    arbs, values = screen([g], table, limits)
    ctx = Context(limits, sizing, b.as_of, True, table)
    flagged = {c.combo for c in arbs}
    for combo in covering_combinations(g.outcomes):
        if any(i.kind != "book" and i.outcome not in g.kalshi for i in combo):
            continue
        if isinstance(confirm_arbitrage(0, g, combo, ctx), Opportunity):
            assert combo in flagged
    flagged_values = {(v.outcome, v.side) for v in values}
    for o in g.kalshi:
        for side in ContractSide:
            if isinstance(confirm_value(0, g, o, side, ctx), Opportunity):
                assert (o, side) in flagged_values


def test_the_screen_prices_exchange_commission_like_confirmation(builders):
    """Kalshi YES home ~0.4168 all-in + back away at 1.75 is a candidate at a commission-free book; at an
    exchange charging 10 % the back nets 1.675 and the cover costs more than $1: not even screened in."""
    b = builders
    kalshi = {O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.60", 100)])}
    for book, rates, found in (("fd", None, 1), ("betfair_ex_eu", {"betfair_ex_eu": D("0.10")}, 0),
                               ("betfair_ex_eu", {"betfair_ex_eu": D("0")}, 1)):
        g = b.game(kalshi, [b.quote(book, O.AWAY, "1.75")])
        arbs, _ = screen([g], QuoteTable.from_games([g]), Limits(min_value_edge_bps=D(5000)), rates)
        assert len(arbs) == found, (book, rates)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_screening_many_games_at_once_equals_screening_each_alone(builders, data):
    """The columnar screen (one array pass over every game, the per-structure bound first, Kalshi columns
    built once) flags for each game exactly what screening that game alone flags, at any commission."""
    b = builders
    lines = data.draw(st.lists(games(b), min_size=1, max_size=6))
    method = data.draw(st.sampled_from(METHODS))
    limits = Limits(devig_method=method, consensus_min_books=data.draw(st.integers(1, 2)),
                    min_value_edge_bps=D(data.draw(st.sampled_from([0, 50, 300]))))
    rates = data.draw(st.sampled_from([None, {"bk1": D("0.05")}, {"bk0": D("0.02"), "bk3": D("0.10")}]))
    columns = GameColumns.of(lines)
    arbs, values = screen(lines, QuoteTable.from_games(lines), limits, rates, columns)
    for i, g in enumerate(lines):
        alone_arbs, alone_values = screen([g], QuoteTable.from_games([g]), limits, rates)
        assert [(c.combo, c.cost_bound) for c in arbs if c.game == i] == [(c.combo, c.cost_bound) for c in alone_arbs]
        assert [(v.outcome, v.side) for v in values if v.game == i] == [(v.outcome, v.side) for v in alone_values]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_structure_bound_never_hides_a_structure_under_one_dollar(builders, data):
    """Every covering structure whose leg bounds sum under $1 (+ tolerance) is a candidate: the per-game
    bound that skips games is checked against costing every structure of the game directly."""
    b = builders
    g = data.draw(games(b))
    rates = data.draw(st.sampled_from([None, {"bk0": D("0.03")}]))
    limits = Limits(min_value_edge_bps=D(10_000))
    table = QuoteTable.from_games([g])
    arbs, _ = screen([g], table, limits, rates)
    flagged = {c.combo for c in arbs}
    columns = GameColumns.of([g])
    for combo in covering_combinations(g.outcomes):
        cost = 0.0
        for leg in combo:
            k = SLOT[leg.outcome]
            if leg.kind == "yes":
                cost += float(columns.yes_cost[k, 0])
            elif leg.kind == "no":
                cost += float(columns.no_cost[k, 0])
            else:
                net = [1 + (float(table.odds[r]) - 1) * (1 - float((rates or {}).get(table.bookmakers[table.book[r]], 0)))
                       for r in table.rows(0) if table.outcome[r] == k]
                cost += 1 / max(net) if net else math.inf
        if cost < 1 + limits.screen_tolerance:
            assert combo in flagged, (combo, cost)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_grid_holds_each_rows_inverse_odds_and_flags_duplicated_quotes(builders, data):
    """`_inverse_lines`: 1/odds at each row's (book, slot, game), inf where no book quotes, 0 on a two-way
    game's draw; a game is flagged exactly when two of its rows share a (book, slot), counted here directly
    (no flags at all, None, when no game has a duplicate)."""
    b = builders
    kinds = data.draw(st.lists(st.booleans(), min_size=1, max_size=5))  # True: three-way
    lines = [b.game({}, [], outcomes=(O.HOME, O.DRAW, O.AWAY) if three else (O.HOME, O.AWAY)) for three in kinds]
    rows = data.draw(st.lists(st.tuples(st.integers(0, len(lines) - 1), st.integers(0, 2), st.integers(0, 2),
                                        st.integers(101, 900)), max_size=25))
    rows = [r for r in rows if r[2] != SLOT[O.DRAW] or kinds[r[0]]]  # a draw only on a three-way game
    table = QuoteTable.from_columns(game=[r[0] for r in rows], outcome=[r[2] for r in rows],
                                    book=[r[1] for r in rows], odds=[r[3] / 100 for r in rows],
                                    updated=[0.0] * len(rows), bookmakers=("a", "b", "c"),
                                    exact_odds=[str(D(r[3]) / 100) for r in rows], n_games=len(lines))
    inverse, dup = _inverse_lines(table, GameColumns.of(lines))
    cells = [(g, bk, k) for g, bk, k, _ in rows]
    expected = [len({c for c in cells if c[0] == g}) < sum(c[0] == g for c in cells) for g in range(len(lines))]
    assert (dup is None) == (not any(expected))  # None: no game has a duplicate
    assert dup is None or dup.tolist() == expected
    for g, three in enumerate(kinds):
        for bk in range(3):
            for k in range(3):
                quoted = [1.0 / (c / 100) for gg, bb, kk, c in rows if (gg, bb, kk) == (g, bk, k)]
                value = float(inverse[bk, k, g])
                if quoted:
                    assert value in quoted
                else:
                    assert value == (0.0 if k == SLOT[O.DRAW] and not three else math.inf)


def test_screen_refuses_a_draw_price_on_a_two_way_game(builders):
    """A table built from columns is not checked against the games' outcomes: the screen does, naming the row."""
    b = builders
    two = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.45", 100)])}, [])
    three = b.game({}, [], outcomes=(O.HOME, O.DRAW, O.AWAY))

    def draws(game):
        return QuoteTable.from_columns(game=game, outcome=[SLOT[O.DRAW]] * 3, book=[0, 1, 1], odds=[3.0, 3.1, 3.2],
                                       updated=[0.0] * 3, bookmakers=("a", "b"), exact_odds=["3.0", "3.1", "3.2"],
                                       n_games=2)

    screen([three, two], draws([0, 0, 0]), Limits())  # draws of game 0, a three-way game
    with pytest.raises(ValueError, match=f"quote row 1: a draw price for two-way game {two.event_ticker}"):
        screen([three, two], draws([0, 1, 1]), Limits())


def test_screen_refuses_columns_of_other_games(builders):
    b = builders
    g1 = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.60", 100)])}, [b.quote("fd", O.AWAY, "1.80")])
    g2 = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.40", 100)])}, [b.quote("fd", O.AWAY, "2.80")])
    with pytest.raises(ValueError, match="GameColumns describe 1 other games"):
        screen([g1], QuoteTable.from_games([g1]), Limits(), None, GameColumns.of([g2]))
    with pytest.raises(ValueError, match="GameColumns describe 2 other games, not the 1 given"):
        screen([g1], QuoteTable.from_games([g1]), Limits(), None, GameColumns.of([g1, g2]))
    # the same games in the same order (here a list, columns from a tuple of them) are accepted
    arbs, _ = screen([g1, g2], QuoteTable.from_games([g1, g2]), Limits(), None, GameColumns.of((g1, g2)))
    assert {c.game for c in arbs} <= {0, 1}

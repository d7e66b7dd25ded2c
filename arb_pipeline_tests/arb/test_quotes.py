from decimal import Decimal

import numpy as np
import pytest

from arb_pipeline.arb.odds import InvalidOdds
from arb_pipeline.arb.quotes import QuoteTable, h2h_by_event
from arb_pipeline.domain import Outcome as O


def _cols(**over):
    cols = dict(game=[1, 0, 1], outcome=[0, 1, 1], book=[0, 0, 1], odds=[2.1, 1.8, 1.95],
                updated=[1.0, 2.0, 3.0], bookmakers=("a", "b"), exact_odds=["2.1", "1.8", "1.95"], n_games=2)
    cols.update(over)
    return cols


def test_from_columns_groups_rows_by_game():
    t = QuoteTable.from_columns(**_cols())
    assert list(t.game) == [0, 1, 1] and list(t.odds) == [1.8, 2.1, 1.95]
    assert list(t.rows(0)) == [0] and list(t.rows(1)) == [1, 2]
    assert t.exact(2) == Decimal("1.95") and t.stake_limit(0) is None
    assert len(t) == 3 and t.n_games == 2


@pytest.mark.parametrize(("over", "match"), [
    ({"odds": [2.1, 1.0, 1.9]}, "row 1"),
    ({"odds": [2.1, float("nan"), 1.9]}, "row 1"),
    ({"game": [0, 5, 1]}, "game"),
    ({"outcome": [0, 3, 1]}, "outcome"),
    ({"book": [0, 2, 1]}, "book"),
    ({"updated": [1.0, 2.0]}, "same length"),
])
def test_from_columns_rejects_bad_rows(over, match):
    with pytest.raises((ValueError, InvalidOdds), match=match):
        QuoteTable.from_columns(**_cols(**over))


def test_misaligned_exact_odds_fail_loudly():
    t = QuoteTable.from_columns(**_cols(exact_odds=["2.1", "1.9", "1.95"]))
    with pytest.raises(ValueError, match="disagree"):
        t.exact(0)


def test_from_games_reads_quote_objects(builders):
    b = builders
    g1 = b.game({}, [b.quote("pin", O.HOME, "1.90"), b.quote("fd", O.AWAY, "2.00", max_stake="75")])
    g2 = b.game({}, [b.quote("fd", O.HOME, "1.50")])
    t = QuoteTable.from_games([g1, g2])
    assert t.bookmakers == ("pin", "fd")
    assert list(t.game) == [0, 0, 1] and list(t.outcome) == [0, 1, 0] and list(t.book) == [0, 1, 1]
    assert np.allclose(t.odds, [1.9, 2.0, 1.5])
    assert t.exact(1) == Decimal("2.00") and t.stake_limit(1) == Decimal("75")
    assert t.updated[0] == (b.as_of.timestamp() - 20.0)


def test_from_games_rejects_foreign_markets(builders):
    b = builders
    with pytest.raises(ValueError, match="outcome 'draw'"):
        QuoteTable.from_games([b.game({}, [b.quote("pin", O.DRAW, "3.5")])])
    bad = b.quote("pin", O.HOME, "1.9")
    object.__setattr__(bad, "market", "totals")
    with pytest.raises(ValueError, match="totals"):
        QuoteTable.from_games([b.game({}, [bad])])


# --- the column path (parser columns → QuoteTable.for_games) against the object path -------------

from dataclasses import replace  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from arb_pipeline.arb.constraints import Limits  # noqa: E402
from arb_pipeline.arb.opportunity import detect  # noqa: E402
from arb_pipeline.arb.sizing import SizingPolicy  # noqa: E402
from arb_pipeline.domain import QuoteColumns  # noqa: E402

_CENTS = st.integers(2, 98).map(lambda c: Decimal(c) / 100)
_ODDS = st.integers(101, 900).map(lambda c: Decimal(c) / 100)


@st.composite
def _slate(draw, b):
    """Games with Kalshi books and h2h quotes (each on its own sportsbook event, sometimes two games on
    one event), plus spread quotes the winner path must ignore."""
    games, event_ids = [], []
    for i in range(draw(st.integers(1, 4))):
        outcomes = draw(st.sampled_from([(O.HOME, O.AWAY), (O.HOME, O.DRAW, O.AWAY)]))
        kalshi = {}
        for o in outcomes:
            if draw(st.booleans()) or not kalshi:
                yes, no = draw(_CENTS), draw(_CENTS)
                if yes + no >= 1:  # never a crossed book
                    yes, no = min(yes, no), Decimal("0.01")
                kalshi[o] = b.contract(f"KX{i}-{o.value.upper()}", o, yes_bids=[(yes, draw(st.integers(1, 400)))],
                                       no_bids=[(no, draw(st.integers(1, 400)))])
        event = f"evt{i}" if not event_ids or draw(st.integers(0, 4)) else event_ids[-1]
        if event_ids and event == event_ids[-1] and len(outcomes) != len(games[-1].outcomes):
            event = f"evt{i}"
        quotes = [replace(b.quote(f"book{k}", o, str(draw(_ODDS)), age_s=draw(st.sampled_from([5.0, 100.0, 500.0]))),
                          event_id=event)
                  for k in range(draw(st.integers(0, 3))) for o in outcomes]
        if event_ids and event == event_ids[-1]:
            quotes = list(games[-1].quotes)  # the same sportsbook event: the same quotes
        games.append(b.game(kalshi, quotes, outcomes=outcomes, ticker=f"KXNBAGAME-26NOV24G{i}"))
        event_ids.append(event)
    return games, event_ids


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_column_path_finds_the_same_opportunities_as_the_object_path(builders, data):
    games, event_ids = data.draw(_slate(builders))
    parsed = list({id(q): q for g in games for q in g.quotes}.values())  # each quote once, like a parse
    parsed = data.draw(st.permutations(parsed))  # the parser's order interleaves games
    spreads = [replace(q, market="spreads", point=Decimal("-1.5")) for q in parsed if q.outcome != "draw"]
    columns = QuoteColumns.from_quotes(data.draw(st.permutations(parsed + spreads)))
    # the object path keeps each game's quotes in parse order too
    order = {id(q): i for i, q in enumerate(q for q in columns_quotes(columns, parsed))}
    games = [replace(g, quotes=tuple(sorted(g.quotes, key=lambda q: order[id(q)]))) for g in games]
    bare = [replace(g, quotes=(), quotes_in_table=True) for g in games]
    limits = data.draw(st.sampled_from([Limits(), Limits(min_arb_profit=Decimal("0"), min_value_edge_bps=Decimal(0))]))
    by_objects = detect(games, limits, SizingPolicy(), as_of=builders.as_of)
    by_columns = detect(bare, limits, SizingPolicy(), as_of=builders.as_of,
                        quotes=QuoteTable.for_games(columns, bare, event_ids))
    assert by_columns.opportunities == by_objects.opportunities  # every leg, price, size, fee, profit to the cent
    assert by_columns.rejected == by_objects.rejected
    assert by_columns.stats["outcome_quotes"] == by_objects.stats["outcome_quotes"]
    # the worker asks for a few games at a time with the columns' grouping kept: the same tables
    grouped = h2h_by_event(columns)
    picked = data.draw(st.lists(st.integers(0, len(bare) - 1), min_size=1, max_size=len(bare), unique=True))
    few, few_ids = [bare[i] for i in picked], [event_ids[i] for i in picked]
    kept = detect(few, limits, SizingPolicy(), as_of=builders.as_of,
                  quotes=QuoteTable.for_games(columns, few, few_ids, grouped=grouped))
    fresh = detect(few, limits, SizingPolicy(), as_of=builders.as_of, quotes=QuoteTable.for_games(columns, few, few_ids))
    assert kept.opportunities == fresh.opportunities and kept.rejected == fresh.rejected


def columns_quotes(columns, quotes):
    """The h2h quote objects in the columns' row order (matched by their exact-odds objects)."""
    by_exact = {id(q.decimal_odds): q for q in quotes}
    return [by_exact[id(x)] for x, market in zip(columns.exact, columns.market, strict=True)
            if market == 0 and id(x) in by_exact]


def test_for_games_selects_h2h_rows_of_each_games_event(builders):
    b = builders
    q = [replace(b.quote("pin", O.HOME, "1.90"), event_id="e2"), replace(b.quote("fd", O.AWAY, "2.05"), event_id="e1"),
         replace(b.quote("pin", O.AWAY, "2.10"), event_id="e2"), replace(b.quote("fd", O.HOME, "1.80"), event_id="e1"),
         replace(b.quote("pin", O.HOME, "1.85"), event_id="e2", market="spreads", point=Decimal("-2.5"))]
    columns = QuoteColumns.from_quotes(q)
    g = [b.game({}, [], ticker="KX-A"), b.game({}, [], ticker="KX-B"), b.game({}, [], ticker="KX-C")]
    bare = [replace(x, quotes_in_table=True) for x in g]
    t = QuoteTable.for_games(columns, bare, ["e1", "e2", "nobody"])
    assert t.n_games == 3 and list(t.rows(2)) == []
    assert [t.exact(r) for r in t.rows(0)] == [Decimal("2.05"), Decimal("1.80")]  # parse order within a game
    assert [t.exact(r) for r in t.rows(1)] == [Decimal("1.90"), Decimal("2.10")]  # the spread is not h2h
    assert [t.bookmakers[t.book[r]] for r in t.rows(1)] == ["pin", "pin"]


def test_for_games_refuses_a_draw_on_a_two_way_game(builders):
    b = builders
    columns = QuoteColumns.from_quotes([b.quote("pin", O.DRAW, "3.40")])
    with pytest.raises(ValueError, match="outcome 'draw'"):
        QuoteTable.for_games(columns, [replace(b.game({}, []), quotes_in_table=True)], ["evt1"])


def test_lines_whose_quotes_live_in_a_table_are_never_read_as_empty(builders):
    b = builders
    bare = replace(b.game({}, []), quotes_in_table=True)
    with pytest.raises(ValueError, match="QuoteTable"):
        QuoteTable.from_games([bare])
    with pytest.raises(ValueError, match="both"):
        replace(b.game({}, [b.quote("pin", O.HOME, "1.9")]), quotes_in_table=True)


def test_every_row_knows_its_cell_in_the_screens_grid():
    """`cells`: (book * 3 + slot) * games + game, after the table sorted its rows by game."""
    table = QuoteTable.from_columns(game=[2, 0, 1], outcome=[1, 0, 2], book=[0, 1, 1], odds=[2.0, 3.0, 4.0],
                                    updated=[0.0, 0.0, 0.0], bookmakers=("a", "b"), exact_odds=["2", "3", "4"],
                                    n_games=3)
    assert table.game.tolist() == [0, 1, 2]
    assert table.cells.tolist() == [(1 * 3 + 0) * 3 + 0, (1 * 3 + 2) * 3 + 1, (0 * 3 + 1) * 3 + 2]

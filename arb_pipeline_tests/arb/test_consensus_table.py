"""`table_consensus` (arrays over every game) gives exactly what `game_consensus` (the per-game reference,
`consensus_fair_probabilities`) gives: the same floats to the bit, the same books, the same reasons."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.arb.consensus_table import NO_QUOTES, game_consensus, table_consensus
from arb_pipeline.arb.quotes import QuoteTable
from arb_pipeline.domain import Outcome

H, A, D = Outcome.HOME, Outcome.AWAY, Outcome.DRAW
BOOKS = ("pinnacle", "fanduel", "draftkings", "betmgm", "circasports")


class _Game(NamedTuple):
    """What the consensus reads of a `GameLine`: its outcomes, in display order."""

    outcomes: tuple[Outcome, ...]


_ORDERS = st.sampled_from([(H, A), (A, H), (H, D, A), (H, A, D), (D, A, H)])
# odds from just above 1 to huge, so booksums below 1, lines the de-vig refuses and tiny inverses all occur
_ODDS = st.one_of(st.floats(1.0001, 30.0), st.sampled_from([1.0 + 2**-40, 2.0, 3.0, 1e300, 1.5, 2.71, 2.69, 2.61]))
# one quote: (book, slot, odds); a game's quotes are any of these, repeats and missing outcomes included
_QUOTE = st.tuples(st.integers(0, len(BOOKS) - 1), st.integers(0, 2), _ODDS)


@st.composite
def _tables(draw):
    games, rows = [], []
    for g in range(draw(st.integers(0, 6))):
        outcomes = draw(_ORDERS)
        games.append(_Game(outcomes))
        slots = sorted({o: i for i, o in enumerate((H, A, D))}[o] for o in outcomes)
        for book, slot, odds in draw(st.lists(_QUOTE, max_size=12)):
            if slot in slots:  # a table never holds a draw row of a two-way game (for_games refuses it)
                rows.append((g, slot, book, odds))
    table = QuoteTable.from_columns(
        game=[r[0] for r in rows], outcome=[r[1] for r in rows], book=[r[2] for r in rows],
        odds=[r[3] for r in rows], updated=[0.0] * len(rows), bookmakers=BOOKS,
        exact_odds=[str(r[3]) for r in rows], n_games=len(games))
    return table, games


_WEIGHTS = st.sampled_from([{}, {"pinnacle": 3.0, "circasports": 2.0}, {"fanduel": 0.5, "betmgm": 7}])
_CONSENSUS_BOOKS = st.sampled_from([None, frozenset({"pinnacle", "fanduel", "betmgm"}), frozenset({"draftkings"})])


def _same(found, expected) -> bool:
    """Equal, floats compared by their exact bits (repr round-trips a float)."""
    return repr(found) == repr(expected)


@settings(max_examples=300, deadline=None)
@given(_tables(), st.sampled_from(["multiplicative", "additive", "power"]), _WEIGHTS, st.integers(1, 3),
       _CONSENSUS_BOOKS)
def test_table_consensus_is_the_per_game_consensus_to_the_bit(table_games, method, weights, min_books, books):
    table, games = table_games
    found = table_consensus(table, games, method, weights, min_books, books)
    expected = [game_consensus(table, g, game, method, weights, min_books, books) for g, game in enumerate(games)]
    assert len(found) == len(games)
    for f, e in zip(found, expected, strict=True):
        assert _same(f, e), (f, e)


def test_a_known_game_priced_by_the_arrays():
    """A two-way and a three-way game, the second book of each incomplete or repeated: the arrays' answer."""
    rows = [  # (game, slot, book, odds)
        (0, 0, 0, 1.9), (0, 1, 0, 2.0), (0, 0, 1, 1.8), (0, 1, 1, 2.1), (0, 0, 2, 1.7),  # book 2: no away price
        (1, 0, 1, 2.5), (1, 2, 1, 3.3), (1, 1, 1, 3.0), (1, 0, 0, 2.6), (1, 1, 0, 2.9), (1, 2, 0, 3.4),
    ]
    table = QuoteTable.from_columns(
        game=[r[0] for r in rows], outcome=[r[1] for r in rows], book=[r[2] for r in rows],
        odds=[r[3] for r in rows], updated=[0.0] * len(rows), bookmakers=BOOKS,
        exact_odds=[str(r[3]) for r in rows], n_games=3)
    games = [_Game((H, A)), _Game((H, D, A)), _Game((A, H))]
    found = table_consensus(table, games, "multiplicative", {"pinnacle": 3.0}, 2, None)
    assert found[0].books_used == ("pinnacle", "fanduel") and found[1].books_used == ("fanduel", "pinnacle")
    r0, r1 = 1 / 1.9 / (1 / 1.9 + 1 / 2.0), 1 / 1.8 / (1 / 1.8 + 1 / 2.1)
    assert found[0].fair[0] == pytest.approx((3.0 * r0 + r1) / 4.0, abs=1e-15)
    assert found[1].fair is not None and sum(found[1].fair) == pytest.approx(1.0)
    assert found[2] == (None, (), None, None, NO_QUOTES)
    for g, game in enumerate(games):
        assert _same(found[g], game_consensus(table, g, game, "multiplicative", {"pinnacle": 3.0}, 2, None))


def test_an_invalid_weight_is_refused_as_the_per_game_code_refuses_it():
    table = QuoteTable.from_columns(game=[0, 0], outcome=[0, 1], book=[0, 0], odds=[1.9, 2.0], updated=[0.0, 0.0],
                                    bookmakers=BOOKS, exact_odds=["1.9", "2.0"], n_games=1)
    with pytest.raises(ValueError, match="weight for book 'pinnacle' must be a positive number"):
        table_consensus(table, [_Game((H, A))], "multiplicative", {"pinnacle": -1.0}, 1, None)


def test_a_three_way_booksum_is_math_fsum_not_a_plain_sum():
    """1/2.71 + 1/2.69 + 1/2.61 summed left to right is one ulp below `math.fsum` (the per-game code's
    booksum): the arrays must not take the plain sum for three outcomes."""
    import math

    table = QuoteTable.from_columns(game=[0, 0, 0], outcome=[0, 1, 2], book=[0, 0, 0], odds=[2.71, 2.69, 2.61],
                                    updated=[0.0] * 3, bookmakers=BOOKS, exact_odds=["2.71", "2.69", "2.61"],
                                    n_games=1)
    x = [1 / 2.71, 1 / 2.69, 1 / 2.61]
    assert math.fsum(x) != (x[0] + x[1]) + x[2]  # the case this test is about
    found = table_consensus(table, [_Game((H, D, A))], "multiplicative", {}, 1, None)[0]
    assert found.booksum_min == (math.fsum(x) - 1.0) + 1.0
    assert found.fair == tuple(v / math.fsum(x) for v in (x[0], x[2], x[1]))
    assert _same(found, game_consensus(table, 0, _Game((H, D, A)), "multiplicative", {}, 1, None))


@pytest.mark.parametrize(("method", "min_books"), [("nonsense", 1), ("multiplicative", 0)])
def test_bad_settings_are_refused_exactly_where_the_per_game_code_refuses_them(method, min_books):
    """Only a game with consensus quotes reaches `consensus_fair_probabilities`, which refuses them."""
    empty = QuoteTable.from_columns(game=[], outcome=[], book=[], odds=[], updated=[], bookmakers=BOOKS,
                                    exact_odds=[], n_games=1)
    assert table_consensus(empty, [_Game((H, A))], method, {}, min_books, None) == [(None, (), None, None, NO_QUOTES)]
    quoted = QuoteTable.from_columns(game=[0, 0], outcome=[0, 1], book=[0, 0], odds=[1.9, 2.0], updated=[0.0, 0.0],
                                     bookmakers=BOOKS, exact_odds=["1.9", "2.0"], n_games=1)
    with pytest.raises(ValueError):
        table_consensus(quoted, [_Game((H, A))], method, {}, min_books, None)

"""`consensus_of_games` (all games' quotes as arrays) equals `consensus_probabilities` game by game, to the bit:
books missing or repeating an outcome, other markets, odds at or below 1, three-way games, book order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping import orientation_batch
from arb_pipeline.mapping.orientation import consensus_probabilities
from arb_pipeline.mapping.orientation_batch import consensus_of_games
from arb_pipeline_tests.mapping import reference
from arb_pipeline_tests.mapping.factories import h2h, utc

H, A, D = Outcome.HOME, Outcome.AWAY, Outcome.DRAW
TWO, THREE = frozenset({H, A}), frozenset({H, A, D})
BASE = h2h("g", "NBA", "H", "A", utc(2026, 1, 1), {H: "2.00"}, books=("b",))[0]
# decimal odds texts: near 1, at 1 and below (skipped lines), ones whose three-term booksum depends on order
_ODDS = st.one_of(st.decimals("1.01", "30", places=2).map(str),
                  st.sampled_from(["1.00", "0.50", "2.71", "2.69", "2.61", "6.76", "7.21", "6.21"]))
_QUOTE = st.tuples(st.sampled_from(["b1", "b2", "b3", "b4"]), st.sampled_from(["home", "away", "draw", "over"]),
                   st.sampled_from(["h2h", "h2h", "h2h", "spreads"]), _ODDS, st.integers(0, 2))


def _quote(game: int, book: str, outcome: str, market: str, odds: str, minutes: int):
    return replace(BASE, event_id=f"g{game}", bookmaker=book, outcome=outcome, market=market,
                   decimal_odds=Decimal(odds), last_update=BASE.last_update + timedelta(minutes=minutes))


@st.composite
def _games(draw):
    games = draw(st.lists(st.tuples(st.lists(_QUOTE, max_size=10), st.sampled_from([TWO, THREE])), max_size=6))
    return ([[_quote(g, *q) for q in quotes] for g, (quotes, _) in enumerate(games)],
            [outcomes for _, outcomes in games])


@settings(max_examples=300, deadline=None)
@given(_games())
def test_consensus_of_games_is_the_per_game_consensus_to_the_bit(games):
    quotes, outcomes = games
    expected = [consensus_probabilities(q, o) for q, o in zip(quotes, outcomes, strict=True)]
    for chunk in (orientation_batch._CHUNK, 2):  # all games in one pass, and in passes of two games
        with patch.object(orientation_batch, "_CHUNK", chunk):
            found = consensus_of_games(quotes, outcomes)
        assert [sorted((o.value, repr(p)) for o, p in d.items()) for d in found] == [
            sorted((o.value, repr(p)) for o, p in d.items()) for d in expected]


def test_a_three_way_booksum_is_summed_in_the_books_own_order():
    """1/6.76 + 1/7.21 + 1/6.21 depends on the order of the terms; the per-game code sums them in the
    order the book first quoted its outcomes, and so must the arrays (two books, two orders)."""
    odds = {H: "6.76", A: "7.21", D: "6.21"}
    first = [_quote(0, "b1", o.value, "h2h", odds[o], 0) for o in (H, A, D)]
    second = [_quote(0, "b2", o.value, "h2h", odds[o], 0) for o in (D, A, H)]
    x = [1 / 6.76, 1 / 7.21, 1 / 6.21]
    assert (x[0] + x[1]) + x[2] != (x[2] + x[1]) + x[0]  # the case this test is about
    quotes = [first + second]
    assert consensus_of_games(quotes, [THREE]) == [consensus_probabilities(quotes[0], THREE)]
    h1, h2 = x[0] / ((x[0] + x[1]) + x[2]), x[0] / ((x[2] + x[1]) + x[0])
    assert consensus_of_games(quotes, [THREE])[0][H] == (h1 + h2) / 2


def test_a_repeated_outcome_takes_the_latest_quote_as_the_per_game_code_does():
    quotes = [[_quote(0, "b1", "home", "h2h", "1.80", 0), _quote(0, "b1", "away", "h2h", "2.10", 0),
               _quote(0, "b1", "home", "h2h", "1.95", 5)]]
    found = consensus_of_games(quotes, [TWO])
    assert found == [consensus_probabilities(quotes[0], TWO)]
    assert found[0][H] == (1 / 1.95) / (1 / 1.95 + 1 / 2.10)


_SETS = st.sampled_from([TWO, THREE, frozenset({A, H}), frozenset({D, A, H}), frozenset({H, A, Outcome.OVER}),
                         frozenset({H}), frozenset()])


@st.composite
def _games_any_outcomes(draw):
    """Games with any outcome sets (also equal sets that are distinct objects, and ones the arrays do not model)."""
    games = draw(st.lists(st.tuples(st.lists(_QUOTE, max_size=8), _SETS.map(lambda s: frozenset(tuple(s)))),
                          max_size=8))
    return ([[_quote(g, *q) for q in quotes] for g, (quotes, _) in enumerate(games)],
            [outcomes for _, outcomes in games])


@settings(max_examples=300, deadline=None)
@given(_games_any_outcomes())
def test_consensus_of_games_is_what_the_replaced_code_returned(games):
    """The outcome sets worked out once per set (`_Kinds`) give the replaced per-game code's dicts: equal,
    in the same key order, with the same floats (`repr`)."""
    quotes, outcomes = games
    for chunk in (orientation_batch._CHUNK, 3):
        with patch.object(orientation_batch, "_CHUNK", chunk), patch.object(reference, "_CHUNK", chunk):
            found, expected = consensus_of_games(quotes, outcomes), reference.consensus_of_games(quotes, outcomes)
        assert found == expected
        assert repr(found) == repr(expected)


@settings(max_examples=300, deadline=None)
@given(_games_any_outcomes(), st.randoms(use_true_random=False))
def test_consensus_of_rows_is_what_the_replaced_code_returned(games, rng):
    """Read from the parser's columns (every game's quotes rows of one table, in any order, bookmakers
    numbered across all games) the consensus is the replaced per-game-object code's: equal dicts, same
    key order, same floats (`repr`)."""
    from arb_pipeline.domain import QuoteColumns
    from arb_pipeline.mapping.orientation_batch import consensus_of_rows

    quotes, outcomes = games
    table = [(g, q) for g, qs in enumerate(quotes) for q in qs]
    rng.shuffle(table)  # the games' rows interleaved in the table; each game's still in its own order below
    columns = QuoteColumns.from_quotes([q for _, q in table])
    rows = [[i for i, (g, _) in enumerate(table) if g == game] for game in range(len(quotes))]
    quotes = [[table[i][1] for i in r] for r in rows]
    at = np.array([i for r in rows for i in r], dtype=np.intp)
    counts = np.array([len(r) for r in rows], dtype=np.intp)
    for chunk in (orientation_batch._CHUNK, 3):
        with patch.object(orientation_batch, "_CHUNK", chunk), patch.object(reference, "_CHUNK", chunk):
            found = consensus_of_rows(columns, at, counts, quotes, outcomes)
            expected = reference.consensus_of_games(quotes, outcomes)
        assert found == expected
        assert repr(found) == repr(expected)


def test_consensus_of_rows_says_what_does_not_add_up():
    import pytest

    from arb_pipeline.domain import QuoteColumns
    from arb_pipeline.mapping.orientation_batch import consensus_of_rows

    quotes = [[_quote(0, "b1", "home", "h2h", "1.80", 0), _quote(0, "b1", "away", "h2h", "2.10", 0)]]
    columns = QuoteColumns.from_quotes(quotes[0])
    with pytest.raises(ValueError, match="consensus_of_rows: 1 games, 1 outcome sets, 1 counts of 3 rows for 2 rows"):
        consensus_of_rows(columns, np.array([0, 1]), np.array([3]), quotes, [TWO])

from decimal import Decimal

import numpy as np
import pytest

from arb_pipeline.arb.odds import InvalidOdds
from arb_pipeline.arb.quotes import QuoteTable
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

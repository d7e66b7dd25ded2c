import math
from datetime import datetime
from decimal import Decimal

import numpy as np
import pytest

from arb_pipeline.arb.market import GameColumns, GameLine, KalshiContract
from arb_pipeline.domain import Outcome as O
from arb_pipeline.domain import SeriesFees


def test_contract_caches_screen_rate(builders):
    c = builders.contract("KX-A", O.HOME, multiplier="0.5")
    assert c.taker_rate_f == pytest.approx(0.035)
    assert math.isnan(builders.contract("KX-A", O.HOME, fee_type="flat").taker_rate_f)


def test_contract_validation(builders):
    c = builders.contract("KX-A", O.HOME)
    with pytest.raises(ValueError, match="timezone-aware"):
        KalshiContract("KX-A", O.HOME, "x", c.book, SeriesFees("S"), (), "active", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="carries the book of KX-A"):
        KalshiContract("KX-B", O.HOME, "x", c.book, SeriesFees("S"), (), "active", c.quote_time)
    with pytest.raises(ValueError):
        KalshiContract("KX-A", "sideways", "x", c.book, SeriesFees("S"), (), "active", c.quote_time)


def test_game_validation(builders):
    b = builders
    home = b.contract("KX-H", O.HOME)
    with pytest.raises(ValueError, match="home/away or home/draw/away"):
        b.game({}, [], outcomes=(O.HOME, O.DRAW))
    with pytest.raises(ValueError, match="home/away or home/draw/away"):
        b.game({}, [], outcomes=(O.HOME, O.HOME))
    with pytest.raises(ValueError, match="keyed"):
        b.game({O.AWAY: home}, [])
    with pytest.raises(ValueError, match="keyed"):
        b.game({O.DRAW: b.contract("KX-T", O.DRAW)}, [])
    with pytest.raises(ValueError, match="label"):
        GameLine("E", "NBA", b.as_of, (O.HOME, O.AWAY), {O.HOME: "h"}, {}, ())
    g = GameLine("E", "EPL", b.as_of, ("home", "draw", "away"), {O.HOME: "h", O.DRAW: "draw", O.AWAY: "a"},
                 {O.HOME: home})
    assert g.outcomes == (O.HOME, O.DRAW, O.AWAY) and g.label(O.DRAW) == "draw"
    assert Decimal(1) == home.fees.fee_multiplier


def test_game_columns_hold_each_contracts_cost_bounds_by_slot(builders):
    """Slot-major, read-only: YES/NO ask + taker rate × P(1−P) from the book's exact levels; inf = no
    contract or no ask; an unsupported fee type screens at rate 0; the kinds' row lists split the games."""
    b = builders
    home = b.contract("KX-H", O.HOME, yes_bids=[("0.38", 10)], no_bids=[("0.55", 10)])
    flat = b.contract("KX-A", O.AWAY, no_bids=[("0.30", 10)], fee_type="flat")
    two = b.game({O.HOME: home, O.AWAY: flat}, [b.quote("fd", O.HOME, "2.0")])
    three = b.game({O.DRAW: b.contract("KX-T", O.DRAW, yes_bids=[("0.20", 5)])}, [],
                   outcomes=(O.HOME, O.DRAW, O.AWAY))
    cols = GameColumns.of([two, three])
    h, a, d = 0, 1, 2
    assert cols.yes_cost[h, 0] == pytest.approx(0.45 + 0.07 * 0.45 * 0.55)
    assert cols.no_cost[h, 0] == pytest.approx(0.62 + 0.07 * 0.62 * 0.38)
    assert cols.yes_cost[a, 0] == pytest.approx(0.70) and math.isinf(cols.no_cost[a, 0])
    assert math.isinf(cols.yes_cost[d, 0]) and math.isinf(cols.yes_cost[h, 1])
    assert cols.no_cost[d, 1] == pytest.approx(0.80 + 0.07 * 0.80 * 0.20) and math.isinf(cols.yes_cost[d, 1])
    assert cols.three_way.tolist() == [False, True]
    assert cols.two_way_rows.tolist() == [0] and cols.three_way_rows.tolist() == [1]
    # the screen's 1/odds grid where a book has no quote: inf, but 0 on a two-way game's (absent) draw
    assert cols.no_quote[d].tolist() == [0.0, math.inf] and np.isinf(cols.no_quote[[h, a]]).all()
    assert not cols.no_quote.flags.writeable
    assert cols.quotes_on_lines == (two.event_ticker,) and len(cols) == 2
    with pytest.raises(ValueError):
        cols.yes_cost[0, 0] = 0.0
    assert cols.require_for([two, three]) is cols
    with pytest.raises(ValueError, match="GameColumns describe 2 other games, not the 2 given"):
        cols.require_for([three, two])

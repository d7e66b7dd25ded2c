import math
from datetime import datetime
from decimal import Decimal

import pytest

from arb_pipeline.arb.market import GameLine, KalshiContract
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

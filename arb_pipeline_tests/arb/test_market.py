import math
from datetime import datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


_MULTIPLIERS = st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-2, max_value=5),
                         st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("0.000"), Decimal("1"), Decimal("1.00"),
                                          Decimal("NaN"), Decimal("Infinity")]),
                         st.integers(-1, 3), st.sampled_from(["0.5", "1", "x", None]))
_FEE_TYPES = st.sampled_from(["quadratic_with_maker_fees", "quadratic_with_combo_maker_fees", "quadratic", "flat",
                              "bogus", ""])


def _reference_rate(fees: SeriesFees):
    """What `KalshiContract` computed per contract before the rates were kept: the rate, NaN, or the error."""
    from arb_pipeline.arb.fees import UnsupportedFeeType, fee_rate

    try:
        return repr(float(fee_rate(maker=False, fee_multiplier=fees.fee_multiplier, fee_type=fees.fee_type)))
    except UnsupportedFeeType:
        return repr(math.nan)
    except Exception as exc:  # noqa: BLE001 - compared by type and message
        return (type(exc), str(exc))


@given(schedules=st.lists(st.tuples(_FEE_TYPES, _MULTIPLIERS), min_size=1, max_size=8), repeat=st.integers(0, 3))
def test_contracts_taker_rate_is_the_per_contract_fee_rate_every_time(schedules, repeat, builders):
    """The kept taker rates (`market._taker_rate_f`) give every contract exactly the rate (to the bit: -0.0
    stays -0.0) or the error `fee_rate` gives it, however often a schedule repeats and whatever came before."""
    book = builders.contract("KX-A", O.HOME).book
    at = builders.as_of
    for fee_type, multiplier in schedules * (repeat + 1):
        fees = SeriesFees("S", fee_type, multiplier)
        want = _reference_rate(fees)
        try:
            got = repr(KalshiContract("KX-A", O.HOME, "x", book, fees, (), "active", at).taker_rate_f)
        except Exception as exc:  # noqa: BLE001
            got = (type(exc), str(exc))
        assert got == want


def test_contract_and_game_times_are_checked_on_any_tzinfo(builders):
    """A fixed-offset `timezone` is taken as aware at once; any other tzinfo is still asked, and refused with
    the same message when it gives no offset."""
    from datetime import timedelta, tzinfo
    from zoneinfo import ZoneInfo

    class NoOffset(tzinfo):
        def utcoffset(self, dt):
            return None

    c = builders.contract("KX-A", O.HOME)
    new_york = datetime(2026, 11, 24, 13, 0, tzinfo=ZoneInfo("America/New_York"))
    assert KalshiContract("KX-A", O.HOME, "x", c.book, SeriesFees("S"), (), "active", new_york).quote_time is new_york
    blank = datetime(2026, 11, 24, 13, 0, tzinfo=NoOffset())
    with pytest.raises(ValueError, match=r"^KalshiContract KX-A quote_time must be a timezone-aware datetime, got "):
        KalshiContract("KX-A", O.HOME, "x", c.book, SeriesFees("S"), (), "active", blank)
    with pytest.raises(ValueError, match=r"^KalshiContract KX-A quote_time must be a timezone-aware datetime, got "):
        KalshiContract("KX-A", O.HOME, "x", c.book, SeriesFees("S"), (), "active", "2026-11-24T13:00Z")
    with pytest.raises(ValueError, match=r"^game E commence_time must be a timezone-aware datetime, got "):
        GameLine("E", "NBA", blank, (O.HOME, O.AWAY), {O.HOME: "h", O.AWAY: "a"}, {})
    assert GameLine("E", "NBA", new_york + timedelta(hours=1), (O.HOME, O.AWAY), {O.HOME: "h", O.AWAY: "a"},
                    {}).commence_time.tzinfo is new_york.tzinfo

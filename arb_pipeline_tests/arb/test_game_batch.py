"""`winner_game` builds exactly what `GameLine(...)` with `KalshiContract(...)`s builds, or declines (None)."""

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.game_batch import THREE_WAY_OUTCOMES, TWO_WAY_OUTCOMES, winner_game
from arb_pipeline.arb.market import GameLine, KalshiContract
from arb_pipeline.domain import Outcome, PriceRange, SeriesFees

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
CENT_GRID = (PriceRange(Decimal("0"), Decimal("1"), Decimal("0.01")),)


def deep(value: object) -> object:
    """Every slot of a game, its contracts and their derived fields, floats by their bits (NaN included)."""
    if isinstance(value, GameLine | KalshiContract):
        return (type(value), tuple((name, deep(getattr(value, name))) for name in type(value).__slots__))
    if isinstance(value, dict):
        return ("dict", tuple((deep(k), deep(v)) for k, v in value.items()))
    if isinstance(value, tuple):
        return ("tuple", tuple(map(deep, value)))
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value), value)


def reference(event_ticker, league, commence_time, outcomes, labels, markets, fees, quote_time, guards) -> GameLine:
    """The game the per-object constructors build (`services.scan._build_winner_games`' slow path)."""
    kalshi = {o: KalshiContract(ticker=ticker, outcome=o, label=label, book=book, fees=fees, price_ranges=ranges,
                                status=status, quote_time=quote_time)
              for o, label, (ticker, book, ranges, status) in zip(outcomes, labels, markets, strict=True)}
    return GameLine(event_ticker=event_ticker, league=league, commence_time=commence_time, outcomes=outcomes,
                    labels={o: label for o, label in zip(outcomes, labels, strict=True)}, kalshi=kalshi,
                    tradable=not guards, blocked_reasons=guards, quotes_in_table=True)


_PRICES = st.integers(1, 99).map(lambda c: Decimal(c) / 100)
_SIDE = st.dictionaries(_PRICES, st.integers(1, 500).map(Decimal), max_size=4)
_TIMES = st.sampled_from([T0, T0.astimezone(timezone(timedelta(hours=-5))), T0.astimezone(ZoneInfo("America/New_York")),
                          T0.replace(tzinfo=None)])
_FEES = st.builds(SeriesFees, st.sampled_from(["KXNBAGAME", "KXEPLGAME"]),
                  st.sampled_from(["quadratic_with_maker_fees", "quadratic", "flat", "no_such_type"]),
                  st.sampled_from([Decimal("1"), Decimal("0.5"), Decimal("1.00"), Decimal("-1"), Decimal("NaN")]))


@st.composite
def games(draw):
    three = draw(st.booleans())
    outcomes = THREE_WAY_OUTCOMES if three else TWO_WAY_OUTCOMES
    if draw(st.integers(0, 9)) == 0:  # an equal tuple that is not the shared one: declined
        outcomes = tuple(outcomes)
    event = draw(st.sampled_from(["KXNBAGAME-26NOV24BOSNYK", "KXEPLGAME-26NOV24ARSCHE"]))
    markets, labels = [], []
    for o in outcomes:
        ticker = f"{event}-{o.value.upper()}"
        book = OrderBook.from_bids(draw(st.sampled_from([ticker, ticker, ticker, "OTHER"])), draw(_SIDE), draw(_SIDE))
        markets.append((ticker, book, CENT_GRID, draw(st.sampled_from(["active", "closed"]))))
        labels.append(draw(st.sampled_from(["Boston", "New York", "Tie", ""])))
    guards = tuple(draw(st.lists(st.sampled_from(["late", "orientation"]), max_size=2, unique=True)))
    return (event, draw(st.sampled_from(["NBA", "EPL"])), draw(_TIMES), outcomes, labels, markets, draw(_FEES),
            draw(_TIMES), guards)


def built(args) -> tuple[str, object]:
    try:
        return "game", deep(reference(*args))
    except Exception as exc:  # noqa: BLE001 - the refusal itself is compared
        return "error", (type(exc), str(exc))


@given(args=games())
def test_winner_game_is_the_constructors_game_or_declines(args):
    fast = winner_game(*args)
    if fast is not None:
        assert ("game", deep(fast)) == built(args)


@given(args=games())
def test_winner_game_declines_only_what_it_cannot_prove(args):
    """It builds every game of the shared outcomes, times on a fixed-offset `timezone`, a fee schedule `fee_rate` accepts and books of
    the contracts' own tickers: the scan's games take the fast path."""
    event, league, start, outcomes, labels, markets, fees, quote_time, guards = args
    plain = (outcomes is TWO_WAY_OUTCOMES or outcomes is THREE_WAY_OUTCOMES) and type(start.tzinfo) is timezone \
        and type(quote_time.tzinfo) is timezone and (fees.fee_type == "flat" or fees.fee_type in ("quadratic_with_maker_fees", "quadratic")
             and not fees.fee_multiplier.is_nan() and fees.fee_multiplier >= 0) and all(b.ticker == t for t, b, _, _ in markets)
    assert (winner_game(*args) is not None) == plain


def test_a_flat_fee_schedule_screens_at_rate_zero_with_a_nan_rate():
    book = OrderBook.from_bids("A-HOME", {Decimal("0.4"): Decimal("5")}, {})
    away = OrderBook.from_bids("A-AWAY", {}, {Decimal("0.3"): Decimal("5")})
    args = ("A", "NBA", T0, TWO_WAY_OUTCOMES, ["Home", "Away"], [("A-HOME", book, CENT_GRID, "active"),
                                                                  ("A-AWAY", away, CENT_GRID, "active")],
            SeriesFees("KX", "flat", Decimal("1")), T0, ())
    fast = winner_game(*args)
    assert math.isnan(fast.kalshi[Outcome.HOME].taker_rate_f)
    assert fast.screen_rows[0][1] == 0.0
    assert deep(fast) == deep(reference(*args))
    assert type(fast) is GameLine and type(fast.kalshi[Outcome.AWAY]) is KalshiContract


def test_what_it_builds_is_frozen():
    book = OrderBook.from_bids("A-HOME", {}, {})
    away = OrderBook.from_bids("A-AWAY", {}, {})
    fast = winner_game("A", "NBA", T0, TWO_WAY_OUTCOMES, ["H", "A"], [("A-HOME", book, CENT_GRID, "active"),
                                                                       ("A-AWAY", away, CENT_GRID, "active")],
                       SeriesFees("KX"), T0, ("late",))
    assert not fast.tradable and fast.blocked_reasons == ("late",)
    with pytest.raises(AttributeError):
        fast.league = "NFL"
    with pytest.raises(AttributeError):
        fast.kalshi[Outcome.HOME].status = "closed"

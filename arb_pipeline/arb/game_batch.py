"""A winner game and its Kalshi contracts built without re-running checks proven for the whole game.

Why: a 5,000-game scan builds 11,000 `KalshiContract`s and 5,000 `GameLine`s; their frozen dataclass
`__init__` and `__post_init__` re-check, object by object, facts that hold for all of them (the canonical
outcome tuples, one capture time, one fee schedule per game): ~0.05 s CPU. `winner_game` checks each of
those facts once, then builds the very objects the constructors build, field by field through the slots'
own descriptors (as `arb.book_batch` builds books). Whatever it cannot prove it leaves to the
constructors (it returns None), which convert or refuse with their own messages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.market import _SLOTS, GameLine, KalshiContract, _plainly_aware, _taker_rate_f
from arb_pipeline.domain import Outcome, PriceRange, SeriesFees

# A winner game's outcomes, shared by every game built here (`GameLine.outcomes` of a two-way / three-way game)
TWO_WAY_OUTCOMES: tuple[Outcome, ...] = (Outcome.HOME, Outcome.AWAY)
THREE_WAY_OUTCOMES: tuple[Outcome, ...] = (Outcome.HOME, Outcome.DRAW, Outcome.AWAY)


class _ContractUnderConstruction:
    """`KalshiContract`'s exact slot layout without its frozen `__setattr__` (as `domain.new_quote`): filled
    with plain slot stores, then made the `KalshiContract` it describes (`__class__` assignment, which CPython
    allows only between identical layouts: a slot added there and not here is a TypeError, never a contract
    with a field missing)."""

    __slots__ = KalshiContract.__slots__

    def __init__(self, ticker, outcome, label, book, fees, price_ranges, status, quote_time, taker_rate_f, slot,
                 screen_row) -> None:
        self.ticker = ticker
        self.outcome = outcome
        self.label = label
        self.book = book
        self.fees = fees
        self.price_ranges = price_ranges
        self.status = status
        self.quote_time = quote_time
        self.taker_rate_f = taker_rate_f
        self.slot = slot
        self.screen_row = screen_row
        self.__class__ = KalshiContract  # type: ignore[assignment]  # from here on it is frozen


class _GameUnderConstruction:
    """`GameLine`'s exact slot layout without its frozen `__setattr__` (see `_ContractUnderConstruction`);
    a winner game of the scan's quote table: no quotes of its own."""

    __slots__ = GameLine.__slots__

    def __init__(self, event_ticker, league, commence_time, outcomes, labels, kalshi, tradable, blocked_reasons,
                 screen_rows, three_way) -> None:
        self.event_ticker = event_ticker
        self.league = league
        self.commence_time = commence_time
        self.outcomes = outcomes
        self.labels = labels
        self.kalshi = kalshi
        self.quotes = ()
        self.tradable = tradable
        self.blocked_reasons = blocked_reasons
        self.quotes_in_table = True
        self.screen_rows = screen_rows
        self.three_way = three_way
        self.__class__ = GameLine  # type: ignore[assignment]  # from here on it is frozen


def winner_game(event_ticker: str, league: str, commence_time: datetime, outcomes: tuple[Outcome, ...],
                labels: Sequence[str], markets: Sequence[tuple[str, OrderBook, tuple[PriceRange, ...], str]],
                fees: SeriesFees, quote_time: datetime, guards: tuple[str, ...]) -> GameLine | None:
    """The game `GameLine(event_ticker, league, commence_time, outcomes, labels={o: label}, kalshi={o:
    KalshiContract(ticker, o, label, book, fees, price_ranges, status, quote_time)}, tradable=not guards,
    blocked_reasons=guards, quotes_in_table=True)` builds, outcome i with `labels[i]` and `markets[i]`
    (ticker, book, price ranges, status); or None when the constructors' checks are not proven here
    (outcomes other than `TWO_WAY_OUTCOMES`/`THREE_WAY_OUTCOMES` themselves, a time that is not plainly
    aware, a fee schedule `fee_rate` refuses, a book of another ticker): build those with the constructors."""
    if outcomes is not TWO_WAY_OUTCOMES and outcomes is not THREE_WAY_OUTCOMES:
        return None
    if len(labels) != len(outcomes) or len(markets) != len(outcomes):
        return None
    if not (_plainly_aware(quote_time) and _plainly_aware(commence_time)):
        return None
    try:
        rate = _taker_rate_f(fees)
    except Exception:  # noqa: BLE001 - the constructor raises it again, in its own words
        return None
    screen_rate = 0.0 if math.isnan(rate) else rate
    kalshi, names, rows = {}, {}, []
    for o, label, (ticker, book, price_ranges, status) in zip(outcomes, labels, markets, strict=True):
        if type(book) is not OrderBook or book.ticker != ticker:
            return None
        slot = _SLOTS[o]
        row = (float(slot), screen_rate, book.best_yes_f, book.best_no_f)
        kalshi[o] = _ContractUnderConstruction(ticker, o, label, book, fees, price_ranges, status, quote_time, rate,
                                               slot, row)
        names[o] = label
        rows.append(row)
    return _GameUnderConstruction(event_ticker, league, commence_time, outcomes, names, kalshi,
                                  not guards, guards, tuple(rows), len(outcomes) == 3)  # type: ignore[return-value]

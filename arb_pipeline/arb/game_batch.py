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
from arb_pipeline.slotted import unfrozen_twin

# A winner game's outcomes, shared by every game built here (`GameLine.outcomes` of a two-way / three-way game)
TWO_WAY_OUTCOMES: tuple[Outcome, ...] = (Outcome.HOME, Outcome.AWAY)
THREE_WAY_OUTCOMES: tuple[Outcome, ...] = (Outcome.HOME, Outcome.DRAW, Outcome.AWAY)


# `KalshiContract(...)` and a winner `GameLine(...)` built by `unfrozen_twin` (as `arb.book_batch` builds books):
# plain slot stores of the values checked here once, then the class swap (CPython allows it only between
# identical layouts; a slot left out here is a TypeError at import). A winner game of the scan's quote table
# has no quotes of its own: `quotes=()`, `quotes_in_table=True` for every game.
_new_contract = unfrozen_twin(KalshiContract, ("ticker", "outcome", "label", "book", "fees", "price_ranges", "status",
                                               "quote_time", "taker_rate_f", "slot", "screen_row"))
_new_game = unfrozen_twin(GameLine, ("event_ticker", "league", "commence_time", "outcomes", "labels", "kalshi",
                                     "tradable", "blocked_reasons", "screen_rows", "three_way"),
                          constants={"quotes": (), "quotes_in_table": True})


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
        kalshi[o] = _new_contract(ticker, o, label, book, fees, price_ranges, status, quote_time, rate, slot, row)
        names[o] = label
        rows.append(row)
    return _new_game(event_ticker, league, commence_time, outcomes, names, kalshi, not guards, guards, tuple(rows),
                     len(outcomes) == 3)

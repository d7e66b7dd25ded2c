"""Many order books from the Kalshi parser's records at once: `OrderBook.from_levels`' books, array-built.

Why: a 5,000-game scan builds 11,000 books of 110,000 levels; `from_levels` checks and orders every level
in Python (~0.2 s). The parser shares one `(price, count)` tuple per distinct pair of texts (~40,000
here), so the distinct pair objects (by identity: an equal pair written with other digits keeps its own
`Level`) are checked together by C-level reductions, each becomes one ask `Level`, and every side is
ordered and checked for a repeated price by one array sort of all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from itertools import chain
from operator import attrgetter, itemgetter, not_

import numpy as np

from arb_pipeline.arb.book import Level, OrderBook, _complement
from arb_pipeline.arb.money import ONE, ZERO
from arb_pipeline.domain import OrderBookLevels
from arb_pipeline.slotted import unfrozen_twin

_BID, _COUNT = itemgetter(0), itemgetter(1)
_SIDES = attrgetter("yes", "no")


def books_from_levels(records: Mapping[str, OrderBookLevels]) -> dict[str, OrderBook]:
    """{key: book} equal to `OrderBook.from_levels(records[key])` for every record it can build. A record
    with a price repeated on one side is left out, and so is every record when a side is not a tuple or
    any level fails `from_levels`' checks (exact Decimals, finite, 0 < price < 1, count >= 0): the caller
    builds what is missing with `from_levels`, which names the error."""
    keys, values = list(records), list(records.values())
    # the records in memory order (by id: the parser's order of creation), so the walks below read each
    # record's levels, and the books come out, in turn; a caller's order (a set's: the scan's wanted
    # tickers) scattered them (~10 % of this function at 5,000 games). The result keeps the caller's order.
    walk = np.argsort(np.fromiter(map(id, values), dtype=np.int64, count=len(values)), kind="stable").tolist()
    walked = list(map(values.__getitem__, walk))
    sides = list(chain.from_iterable(map(_SIDES, walked)))  # yes, no of each record in turn
    if {tuple} != set(map(type, sides)) and sides:
        return {}
    rows = list(chain.from_iterable(sides))
    if not rows:
        return {key: OrderBook._ordered(levels.ticker, (), ()) for key, levels in records.items()}
    # the distinct pair objects (by identity: every row is alive meanwhile) and each row's pair, by one sort
    ids = np.fromiter(map(id, rows), dtype=np.int64, count=len(rows))
    _, first, row_pair = np.unique(ids, return_index=True, return_inverse=True)
    pairs = list(map(rows.__getitem__, first.tolist()))
    if not _all_valid(pairs):
        return {}
    prices = list(map(_BID, pairs))
    # each pair's bid price as a rank among the distinct price values (equal values, equal rank)
    ranks_of = {value: rank for rank, value in enumerate(sorted(set(prices)))}
    pair_rank = np.fromiter(map(ranks_of.__getitem__, prices), dtype=np.int64, count=len(pairs))
    # one `1 - price` (and its float, for the books' best-ask mirrors) per distinct price object: a scan's
    # ~40,000 pairs hold a few hundred of them
    by_id = dict(zip(map(id, prices), prices, strict=True))
    complement = {key: _complement(price) for key, price in by_id.items()}
    as_float = {key: float(ask) for key, ask in complement.items()}
    asks = list(map(_new_level, map(complement.__getitem__, map(id, prices)), map(_COUNT, pairs)))
    asks_f = np.fromiter(map(as_float.__getitem__, map(id, prices)), dtype=np.float64, count=len(pairs))
    lengths = np.fromiter(map(len, sides), dtype=np.int64, count=len(sides))
    row_side = np.repeat(np.arange(len(sides), dtype=np.int64), lengths)
    # every side's rows by descending bid (= ascending ask): best first, as `from_bids` orders them; the
    # ranks are below the number of distinct prices, so one integer key holds the side and the rank
    width = len(ranks_of)
    order = np.argsort(row_side * width + (width - 1 - pair_rank[row_pair]))
    ranked_side, ranked_pair = row_side[order], row_pair[order]
    ranked = pair_rank[ranked_pair]
    repeated = ranked_side[1:][(ranked_side[1:] == ranked_side[:-1]) & (ranked[1:] == ranked[:-1])]
    skip = set((repeated // 2).tolist())  # a record with a repeated price on a side: `from_levels` reports it
    # a zero count is no level (`from_levels` drops it): left out after the repeated-price check saw it
    zero = np.fromiter(map(not_, map(_COUNT, pairs)), dtype=bool, count=len(pairs))
    kept = ranked_pair[~zero[ranked_pair]]
    ordered = list(map(asks.__getitem__, kept.tolist()))
    bounds_at = np.concatenate(([0], np.cumsum(np.bincount(row_side[~zero[row_pair]], minlength=len(sides)))))
    # each side's best ask as a float (NaN: no level), taken at its first kept row
    starts, ends = bounds_at[:-1], bounds_at[1:]
    best_f = np.full(len(sides), np.nan)
    filled = starts < ends
    best_f[filled] = asks_f[kept[starts[filled]]]
    best_f = best_f.tolist()
    bounds = bounds_at.tolist()
    built: list[OrderBook | None] = [None] * len(values)  # by the record's place in `records`
    for i, (at, levels) in enumerate(zip(walk, walked, strict=True)):
        if i in skip:
            continue
        yes_at, no_at, end = bounds[2 * i], bounds[2 * i + 1], bounds[2 * i + 2]
        # as `OrderBook._ordered`: asks increasing, in (0, 1), size > 0 by construction; YES asks: NO bids
        built[at] = _new_book(levels.ticker, tuple(ordered[no_at:end]), tuple(ordered[yes_at:no_at]),
                              best_f[2 * i + 1], best_f[2 * i])
    return {key: book for key, book in zip(keys, built, strict=True) if book is not None}


# Built as `OrderBook._ordered` and `Level(...)` build them, by `unfrozen_twin`: plain slot stores, then the
# class swap (CPython allows it only between identical layouts; a slot left out here is a TypeError at import):
# the same objects for less per-call work than the frozen classes' `object.__setattr__` per field.
_new_level = unfrozen_twin(Level, ("price", "size"))  # `Level(price, size)`
_new_book = unfrozen_twin(OrderBook, ("ticker", "yes_asks", "no_asks", "best_yes_f", "best_no_f"))


def _all_valid(pairs: list[tuple[Decimal, Decimal]]) -> bool:
    """Whether every pair passes `from_levels`' per-level checks (a tuple of two exact Decimals, finite,
    0 < price < 1, count >= 0), by C-level reductions over all of them at once."""
    if {tuple} != set(map(type, pairs)) or {2} != set(map(len, pairs)):
        return False
    prices, counts = list(map(_BID, pairs)), list(map(_COUNT, pairs))
    return ({Decimal} == set(map(type, prices)) == set(map(type, counts))
            and all(map(Decimal.is_finite, prices)) and all(map(Decimal.is_finite, counts))
            and ZERO < min(prices) and max(prices) < ONE and min(counts) >= ZERO)

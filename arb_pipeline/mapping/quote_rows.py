"""A snapshot's quotes grouped by sportsbook event from the odds parser's columns, not quote by quote.

Why: resolution groups ~114,000 quotes (5,000 games) by event and splits each event's h2h quotes from
its spread/total quotes; read off the quote objects that was three Python passes over all of them.
The parser already has each quote's event and market as integer columns (`domain.QuoteColumns`, row i
== quotes[i]), so one stable sort of those arrays gives the same groups: events in the order the
quotes first name them, and in each event its h2h quotes then its line quotes, each in input order —
exactly what `sportsbook.group_games` builds from the objects. The orientation guard reads the h2h
rows' outcome, bookmaker and odds from the same columns (`orientation_batch.consensus_of_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from arb_pipeline.domain import QUOTE_MARKETS, QuoteColumns, SportsbookQuote

_H2H = QUOTE_MARKETS.index("h2h")


class QuoteRows:
    """`quotes` grouped by event via `columns`, which must describe them row for row."""

    def __init__(self, quotes: Sequence[SportsbookQuote], columns: QuoteColumns) -> None:
        n = len(quotes)
        if len(columns) != n or len(columns.event) != n or len(columns.market) != n:
            raise ValueError(f"QuoteRows: the quote columns have {len(columns)} rows ({len(columns.event)} events, "
                             f"{len(columns.market)} markets) for {n} quotes; row i must be quotes[i]")
        self.quotes = quotes
        self.columns = columns
        event = np.frombuffer(columns.event, dtype=f"i{columns.event.itemsize}")
        h2h = np.frombuffer(columns.market, dtype=f"i{columns.market.itemsize}") == _H2H
        order: np.ndarray | None = None  # row numbers event by event, each event's in input order (None: 0..n-1)
        if not (event[1:] < event[:-1]).any():  # (the parser's layout) each event one block, in index order
            first = np.flatnonzero(np.r_[True, event[1:] != event[:-1]]) if n else np.zeros(0, dtype=np.intp)
            size = np.diff(np.r_[first, n])
            ranked = np.repeat(np.arange(len(first), dtype=np.int32), size)  # each row's event, in first-named order
        else:
            ids, first, size = np.unique(event, return_index=True, return_counts=True)
            by_first = np.argsort(first, kind="stable")  # events in the order the quotes first name them
            rank = np.zeros(int(ids[-1]) + 1, dtype=np.int32)
            rank[ids[by_first]] = np.arange(len(ids), dtype=np.int32)
            ranked = rank[event]
            order = np.argsort(ranked, kind="stable")
            first, size = first[by_first], size[by_first]
        start = np.cumsum(size) - size  # each event's first position in `order`
        # an event whose rows are one block of the input (the parser's usual layout) is a slice of it
        self._block = [True] * len(first) if order is None else (order[start + size - 1] - first == size - 1).tolist()
        self._first, self._start, self._size = first.tolist(), start.tolist(), size.tolist()
        self._order = order
        in_order = h2h if order is None else h2h[order]
        self._h2h_mask, self._line_mask = in_order.tobytes(), (~in_order).tobytes()  # (1 byte a row, not a list)
        # the h2h rows event after event, each event's in input order; where each event's begin, how many
        self._h2h_order = (np.flatnonzero(h2h) if order is None else order[in_order]).astype(np.int32)
        self._h2h_size = np.bincount(ranked[h2h], minlength=len(first))
        self._h2h_start = np.cumsum(self._h2h_size) - self._h2h_size
        self._number: dict[str, int] = {}  # event id → its number (in first-named order)

    def events(self) -> Iterator[tuple[SportsbookQuote, tuple[SportsbookQuote, ...], bytes, bytes]]:
        """Per event in first-named order: its first quote, all its quotes in input order, and which of
        them are h2h and which spread/total quotes (a byte per quote, 1 or 0). Numbers each event's id
        for `h2h_rows`."""
        quotes, order, h2h_mask, line_mask, number = (self.quotes, self._order, self._h2h_mask, self._line_mask,
                                                      self._number)
        for k, (first, start, size, block) in enumerate(zip(self._first, self._start, self._size, self._block,
                                                            strict=True)):
            stop = start + size
            qs = (tuple(quotes[first:first + size]) if block
                  else tuple(map(quotes.__getitem__, order[start:stop].tolist())))  # type: ignore[index]
            head = qs[0]
            number[head.event_id] = k
            yield head, qs, h2h_mask[start:stop], line_mask[start:stop]

    def h2h_rows(self, event_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The h2h row numbers of these events (seen by `events`), event after event, each in input
        order, and how many each event has."""
        k = np.fromiter(map(self._number.__getitem__, event_ids), dtype=np.intp, count=len(event_ids))
        start, count = self._h2h_start[k], self._h2h_size[k]
        offset = np.repeat(start - (np.cumsum(count) - count), count)  # position in `_h2h_order` minus in the output
        return self._h2h_order[offset + np.arange(len(offset))], count

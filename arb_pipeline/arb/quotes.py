"""`QuoteTable`: every sportsbook h2h quote of a scan as NumPy columns, for the vectorized screen.

Why columns: the screen looks at every quote of every game on every scan; touching a Python object
per quote costs more than the screen itself. The table keeps, per row, the exact odds (Decimal or
their text) so that survivors are confirmed exactly; floats are only ever used to screen.

Two ways in: `from_games` (reads the `SportsbookQuote` objects of each `GameLine`) and
`from_columns` (the ingest appends columns as it parses the provider's JSON, never building objects).
Rows are grouped by game (sorted by game index); `from_columns` sorts when they are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter

import numpy as np

from arb_pipeline.arb.market import OUTCOME_SLOTS, GameLine
from arb_pipeline.arb.odds import InvalidOdds, parse_decimal_odds
from arb_pipeline.domain import QUOTE_MARKETS, QUOTE_OUTCOMES, Outcome, QuoteColumns

SLOT = {o: i for i, o in enumerate(OUTCOME_SLOTS)}
SLOT.update({o.value: i for i, o in enumerate(OUTCOME_SLOTS)})  # type: ignore[dict-item]
# The parser's outcome codes 0..2 are the screen's slots (home, away, draw): h2h rows need no mapping.
assert QUOTE_OUTCOMES[: len(OUTCOME_SLOTS)] == tuple(o.value for o in OUTCOME_SLOTS)
_H2H = QUOTE_MARKETS.index("h2h")


@dataclass(frozen=True, slots=True)
class QuoteTable:
    game: np.ndarray  # int64 index into the games passed to detect, non-decreasing
    outcome: np.ndarray  # int8 slot: 0 home, 1 away, 2 draw
    book: np.ndarray  # int32 index into `bookmakers`
    odds: np.ndarray  # float64 decimal odds (screen only)
    updated: np.ndarray  # float64 Unix seconds of the bookmaker's last_update
    bookmakers: tuple[str, ...]
    exact_odds: Sequence[Decimal | str]  # per row: the exact odds, parsed on confirmation
    max_stake: Sequence[Decimal | None] | None = None  # per row bet limit, None = unknown
    offsets: np.ndarray = field(init=False, repr=False)  # rows of game g: offsets[g]:offsets[g+1]
    # per row, its cell in the screen's book-major grid (book, slot, game): (book * 3 + slot) * games + game;
    # a layout column computed with the table (like its range checks), so the screen only scatters
    cells: np.ndarray = field(init=False, repr=False)

    @property
    def n_games(self) -> int:
        return len(self.offsets) - 1

    def __len__(self) -> int:
        return len(self.odds)

    def rows(self, game: int) -> range:
        return range(int(self.offsets[game]), int(self.offsets[game + 1]))

    def exact(self, row: int) -> Decimal:
        """Exact odds of a row, cross-checked against the float column so a misaligned table fails loudly."""
        value = parse_decimal_odds(self.exact_odds[row])
        if abs(float(value) - float(self.odds[row])) > 1e-9 * float(value):
            raise ValueError(f"quote row {row}: exact odds {value} disagree with screened odds {self.odds[row]!r}")
        return value

    def stake_limit(self, row: int) -> Decimal | None:
        return None if self.max_stake is None else self.max_stake[row]

    @classmethod
    def from_columns(
        cls,
        *,
        game: Sequence[int] | np.ndarray,
        outcome: Sequence[int] | np.ndarray,
        book: Sequence[int] | np.ndarray,
        odds: Sequence[float] | np.ndarray,
        updated: Sequence[float] | np.ndarray,
        bookmakers: Sequence[str],
        exact_odds: Sequence[Decimal | str],
        max_stake: Sequence[Decimal | None] | None = None,
        n_games: int,
    ) -> QuoteTable:
        g = np.asarray(game, dtype=np.int64)
        o = np.asarray(outcome, dtype=np.int8)
        b = np.asarray(book, dtype=np.int32)
        d = np.asarray(odds, dtype=np.float64)
        u = np.asarray(updated, dtype=np.float64)
        n = len(g)
        if not (len(o) == len(b) == len(d) == len(u) == len(exact_odds) == n) or (
            max_stake is not None and len(max_stake) != n
        ):
            raise ValueError("QuoteTable columns must all have the same length")
        _check_range("game", g, 0, n_games - 1)
        _check_range("outcome", o, 0, len(OUTCOME_SLOTS) - 1)
        _check_range("book", b, 0, len(bookmakers) - 1)
        bad = np.flatnonzero(~(np.isfinite(d) & (d > 1.0)) | ~np.isfinite(u))
        if bad.size:
            i = int(bad[0])
            raise InvalidOdds(f"quote row {i}: odds must be finite and > 1 and time finite, got {d[i]!r}, {u[i]!r}")
        if n and np.any(g[1:] < g[:-1]):
            order = np.argsort(g, kind="stable")
            g, o, b, d, u = g[order], o[order], b[order], d[order], u[order]
            exact_odds = [exact_odds[i] for i in order]
            if max_stake is not None:
                max_stake = [max_stake[i] for i in order]
        table = cls(g, o, b, d, u, tuple(bookmakers), exact_odds, max_stake)
        object.__setattr__(table, "offsets", np.searchsorted(g, np.arange(n_games + 1), side="left"))
        cells = b.astype(np.intp)
        cells *= len(OUTCOME_SLOTS)
        cells += o
        cells *= n_games
        cells += g
        object.__setattr__(table, "cells", cells)
        return table

    @classmethod
    def from_games(cls, games: Sequence[GameLine]) -> QuoteTable:
        """Columns from each game's `SportsbookQuote`s (h2h only; any other market is an input error).

        Column-wise on purpose: one comprehension per field, then C-level maps through dicts, so no
        Python statement runs per quote. The float mirrors of the odds and timestamps are computed once,
        when each quote is created, so a scan never converts Decimal → float per quote.
        """
        elsewhere = [g.event_ticker for g in games if g.quotes_in_table]
        if elsewhere:
            raise ValueError(f"games {elsewhere[:3]} carry their quotes in the scan's QuoteTable "
                             "(QuoteTable.for_games), not on the GameLine: pass that table")
        flat = [q for g in games for q in g.quotes]
        per_game = [len(g.quotes) for g in games]
        if not flat:
            return cls.from_columns(game=[], outcome=[], book=[], odds=[], updated=[], bookmakers=(),
                                    exact_odds=[], max_stake=[], n_games=len(games))
        # One comprehension per field (~35 ns per quote each); the exact Decimals are not copied at all.
        outcomes = [q.outcome for q in flat]
        markets = [q.market for q in flat]
        bookmakers = [q.bookmaker for q in flat]
        n = len(flat)
        game = np.repeat(np.arange(len(games), dtype=np.int64), per_game)
        slots = np.fromiter(map(_SLOT_OR_BAD.__getitem__, outcomes), dtype=np.int8, count=n)
        three = np.fromiter([len(g.outcomes) == 3 for g in games], dtype=bool, count=len(games))
        bad = np.flatnonzero((slots < 0) | ((slots == SLOT[Outcome.DRAW]) & ~three[game]))
        if set(markets) != {"h2h"}:
            bad = np.union1d(bad, [i for i, m in enumerate(markets) if m != "h2h"])
        if bad.size:
            i = int(bad[0])
            g = games[int(game[i])]
            raise ValueError(f"game {g.event_ticker}: quote from {bookmakers[i]} is market {markets[i]!r} "
                             f"outcome {outcomes[i]!r}; expected h2h {[o.value for o in g.outcomes]}")
        names = {name: i for i, name in enumerate(dict.fromkeys(bookmakers))}
        return cls.from_columns(
            game=game,
            outcome=slots,
            book=np.fromiter(map(names.__getitem__, bookmakers), dtype=np.int32, count=n),
            # float mirrors computed once when each quote was made (domain.SportsbookQuote)
            odds=np.fromiter([q.odds_f for q in flat], dtype=np.float64, count=n),
            updated=np.fromiter([q.last_update_ts for q in flat], dtype=np.float64, count=n),
            bookmakers=tuple(names),
            # exact values are read from the quote objects only for the rows a screen lets through
            exact_odds=_FieldView(flat, "decimal_odds"),
            max_stake=_FieldView(flat, "max_stake"),
            n_games=len(games))


    @classmethod
    def for_games(cls, columns: QuoteColumns, games: Sequence[GameLine], event_ids: Sequence[str],
                  grouped: tuple[np.ndarray, np.ndarray] | None = None) -> QuoteTable:
        """The h2h rows of a parse's `columns` for each game, by array operations only.

        Game i's quotes are the h2h rows of sportsbook event `event_ids[i]` (two games may share an
        event), in parse order within a game: exactly the table `from_games` builds from quote objects,
        and the same error for a draw quoted on a two-way game. Exact odds are referenced, not copied.
        `grouped` is `h2h_by_event(columns)` when the caller keeps it (a caller asking for a few games
        at a time of the same columns, like the websocket worker, saves grouping every row each time).
        """
        if len(event_ids) != len(games):
            raise ValueError(f"for_games: {len(event_ids)} event ids for {len(games)} games")
        n_games = len(games)
        outcome = np.frombuffer(columns.outcome, dtype=np.int8) if len(columns) else np.zeros(0, np.int8)
        by_event, sorted_events = grouped if grouped is not None else h2h_by_event(columns)
        wanted = np.fromiter((columns.event_index.get(e, -1) for e in event_ids), dtype=np.int64, count=n_games)
        start = np.searchsorted(sorted_events, wanted, side="left")
        counts = np.searchsorted(sorted_events, wanted, side="right") - start
        counts[wanted < 0] = 0
        total = int(counts.sum())
        game = np.repeat(np.arange(n_games, dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = by_event[np.repeat(start, counts) + within]
        slots = outcome[rows]
        three = np.fromiter((g.three_way for g in games), dtype=bool, count=n_games)
        bad = np.flatnonzero((slots == SLOT[Outcome.DRAW]) & ~three[game])
        if bad.size:
            i, g = int(bad[0]), games[int(game[bad[0]])]
            raise ValueError(f"game {g.event_ticker}: quote from {columns.bookmakers[columns.book[rows[i]]]} is "
                             f"market 'h2h' outcome 'draw'; expected h2h {[o.value for o in g.outcomes]}")
        odds = np.frombuffer(columns.odds, dtype=np.float64)[rows] if total else np.zeros(0)
        updated = np.frombuffer(columns.updated, dtype=np.float64)[rows] if total else np.zeros(0)
        return cls.from_columns(
            game=game, outcome=slots, book=np.frombuffer(columns.book, dtype=np.int32)[rows] if total else [],
            odds=odds, updated=updated, bookmakers=tuple(columns.bookmakers),
            exact_odds=_Take(columns.exact, rows), max_stake=_Take(columns.max_stake, rows), n_games=n_games)


def h2h_by_event(columns: QuoteColumns) -> tuple[np.ndarray, np.ndarray]:
    """The h2h rows of `columns` grouped by sportsbook event (parse order kept within an event), and
    each of those rows' event index: what `QuoteTable.for_games` searches."""
    event = np.frombuffer(columns.event, dtype=np.int32) if len(columns) else np.zeros(0, np.int32)
    market = np.frombuffer(columns.market, dtype=np.int8) if len(columns) else np.zeros(0, np.int8)
    outcome = np.frombuffer(columns.outcome, dtype=np.int8) if len(columns) else np.zeros(0, np.int8)
    h2h = np.flatnonzero((market == _H2H) & (outcome < len(OUTCOME_SLOTS)))
    by_event = h2h[np.argsort(event[h2h], kind="stable")]
    return by_event, event[by_event]


class _Take(Sequence):
    """`items[rows[i]]` as a read-only sequence: the table's rows point into the parse's columns."""

    __slots__ = ("_items", "_rows")

    def __init__(self, items: Sequence[object], rows: np.ndarray) -> None:
        self._items, self._rows = items, rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._items[int(r)] for r in self._rows[index]]
        return self._items[int(self._rows[index])]


class _FieldView(Sequence):
    """`items[i].<name>` as a read-only sequence, without building a list of every value."""

    __slots__ = ("_items", "_get")

    def __init__(self, items: Sequence[object], name: str) -> None:
        self._items, self._get = items, attrgetter(name)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._get(item) for item in self._items[index]]
        return self._get(self._items[index])


class _SlotOrBad(dict):
    def __missing__(self, key: object) -> int:
        return -1


_SLOT_OR_BAD = _SlotOrBad(SLOT)


def _check_range(name: str, values: np.ndarray, lo: int, hi: int) -> None:
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"QuoteTable column {name!r} row {i}: {values[i]} outside [{lo}, {hi}]")

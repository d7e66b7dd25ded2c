"""The orientation guard's book consensus (`orientation.consensus_probabilities`) of many games at once.

Why: resolution asks for the consensus of every matched game (5,000 in a large scan: 66,000 h2h quotes
walked one by one, ~0.07 s). Here the quotes of all games are read column-wise once and de-vigged by
array operations that are **the same float operations in the same order** as the per-game code, so the
results are equal to the bit: each book's booksum summed over its outcomes in the order the book first
quoted them (Python's `sum`, left to right), each outcome's share added book by book in first-seen book
order, divided by the number of books. A game whose quotes the arrays do not mirror — a book quoting one
outcome twice (the latest `last_update` wins there) — is computed by `consensus_probabilities` itself.
`consensus_of_rows` does the same from the odds parser's columns (`domain.QuoteColumns`): each quote's
market, outcome, bookmaker and float odds read from its arrays, no Python per quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from arb_pipeline.domain import QUOTE_MARKETS, QUOTE_OUTCOMES, Outcome, QuoteColumns, SportsbookQuote
from arb_pipeline.mapping.orientation import consensus_probabilities

_SLOTS = (Outcome.HOME, Outcome.AWAY, Outcome.DRAW)
_CHUNK = 1024  # games per pass: ~2.5 MiB of arrays at a time instead of ~13 MiB for 5,000 games
# an h2h quote's outcome → its column; another outcome the per-game code would count (over, push, ...)
# is -2, which sends its game to the per-game code; one it ignores is -1
_SLOT_OF = {**{o.value: -2 for o in Outcome}, **{o.value: i for i, o in enumerate(_SLOTS)}}
_SLOT_OF_CODE = np.array([_SLOT_OF.get(o, -1) for o in QUOTE_OUTCOMES], dtype=np.intp)  # by `QuoteColumns.outcome`
_H2H = QUOTE_MARKETS.index("h2h")


def consensus_of_games(quotes: Sequence[Sequence[SportsbookQuote]],
                       outcomes: Sequence[frozenset[Outcome]]) -> list[dict[Outcome, float]]:
    """`[consensus_probabilities(q, o) for q, o in zip(quotes, outcomes)]`, the same dicts and floats."""
    n = len(quotes)
    if len(outcomes) != n:
        raise ValueError(f"consensus_of_games: {len(outcomes)} outcome sets for {n} games")
    out: list[dict[Outcome, float] | None] = []
    for start in range(0, n, _CHUNK):  # games are independent: a chunk's arrays bound the memory they take
        chunk, wanted = quotes[start:start + _CHUNK], outcomes[start:start + _CHUNK]
        found: list[dict[Outcome, float] | None] = [None] * len(chunk)
        flat = list(chain.from_iterable(chunk))
        if flat:
            game = np.repeat(np.arange(len(chunk), dtype=np.intp), [len(q) for q in chunk])
            slot = np.fromiter([_SLOT_OF.get(q.outcome, -1) if q.market == "h2h" else -1 for q in flat],
                               dtype=np.intp, count=len(flat))
            names = [q.bookmaker for q in flat]
            index = {b: i for i, b in enumerate(dict.fromkeys(names))}
            book = np.fromiter(map(index.__getitem__, names), dtype=np.intp, count=len(flat))
            odds = np.fromiter([q.odds_f for q in flat], dtype=np.float64, count=len(flat))
            _arrays(game, slot, book, len(index), odds, _Kinds(wanted), found)
        out.extend(found)
    return [found if found is not None else consensus_probabilities(q, o)
            for found, q, o in zip(out, quotes, outcomes, strict=True)]


def consensus_of_rows(columns: QuoteColumns, rows: np.ndarray, counts: np.ndarray,
                      quotes: Sequence[Sequence[SportsbookQuote]],
                      outcomes: Sequence[frozenset[Outcome]]) -> list[dict[Outcome, float]]:
    """`consensus_of_games(quotes, outcomes)` with each quote's market, outcome, bookmaker and float odds
    read from the parser's `columns` instead of the objects: game g's quotes are the `counts[g]` rows
    that follow the previous games' in `rows` (row r of `columns` describing the quote `quotes[g][k]`
    in the same order). The objects are read only for a game the arrays do not model."""
    n = len(quotes)
    if len(outcomes) != n or len(counts) != n or int(counts.sum()) != len(rows):
        raise ValueError(f"consensus_of_rows: {len(quotes)} games, {len(outcomes)} outcome sets, {len(counts)} "
                         f"counts of {int(counts.sum())} rows for {len(rows)} rows")
    market = np.frombuffer(columns.market, dtype=f"i{columns.market.itemsize}")
    outcome = np.frombuffer(columns.outcome, dtype=f"i{columns.outcome.itemsize}")
    book = np.frombuffer(columns.book, dtype=f"i{columns.book.itemsize}")
    odds = np.frombuffer(columns.odds, dtype=np.float64)
    ends = np.cumsum(counts)
    out: list[dict[Outcome, float] | None] = []
    for start in range(0, n, _CHUNK):  # as consensus_of_games: a chunk's arrays bound the memory
        stop = min(start + _CHUNK, n)
        found: list[dict[Outcome, float] | None] = [None] * (stop - start)
        first, last = (int(ends[start - 1]) if start else 0), int(ends[stop - 1])
        if last > first:
            at = rows[first:last]
            game = np.repeat(np.arange(stop - start, dtype=np.intp), counts[start:stop])
            slot = np.where(market[at] == _H2H, _SLOT_OF_CODE[outcome[at]], -1)
            _arrays(game, slot, book[at].astype(np.intp), len(columns.bookmakers), odds[at],
                    _Kinds(outcomes[start:stop]), found)
        out.extend(found)
    return [found if found is not None else consensus_probabilities(q, o)
            for found, q, o in zip(out, quotes, outcomes, strict=True)]


class _Kinds:
    """The games' outcome sets, each distinct set object worked out once (a scan has two: two-way and
    three-way), so no Python runs per game for them: `kind[g]` is game g's set among `sets`; per set, the
    outcomes a book must quote (`need`), whether the arrays model it (`ok`: every outcome a column) and
    the columns of its consensus dict in the set's own iteration order (the order the dict is built in).
    Keyed by identity, not equality: two equal sets may iterate in different orders."""

    def __init__(self, outcomes: Sequence[frozenset[Outcome]]) -> None:
        position: dict[int, int] = {}
        self.sets: list[frozenset[Outcome]] = []
        kind: list[int] = []
        for wanted in outcomes:
            k = position.get(id(wanted))
            if k is None:
                k = position[id(wanted)] = len(self.sets)
                self.sets.append(wanted)
            kind.append(k)
        self.kind = np.array(kind, dtype=np.intp)
        self.need = np.array([[o in wanted for o in _SLOTS] for wanted in self.sets], dtype=bool).reshape(-1, 3)
        self.ok = np.array([frozenset(o) <= _SLOT_SET for o in self.sets], dtype=bool)
        self.keys = [tuple(wanted) for wanted in self.sets]
        self.columns = [[_SLOTS.index(o) for o in keys] if ok else [] for keys, ok in zip(self.keys, self.ok.tolist(), strict=True)]


_SLOT_SET = frozenset(_SLOTS)


def _arrays(game: np.ndarray, slot: np.ndarray, book: np.ndarray, n_books: int, odds: np.ndarray, kinds: _Kinds,
            out: list[dict[Outcome, float] | None]) -> None:
    """The consensus of a chunk's games from its quotes' arrays, row by row: the game (0.., rows grouped by
    game, each game's in input order), the slot (`_SLOT_OF`), the bookmaker (any numbering below
    `n_books`, one number per name) and the float odds. Fills `out[g]` for each game the arrays model."""
    need = kinds.need[kinds.kind]  # per game: the outcomes a book must quote (exactly these)
    fast = kinds.ok[kinds.kind]
    fast[game[slot == -2]] = False
    rows = np.flatnonzero(slot >= 0)
    n_books = max(n_books, 1)
    key = game[rows] * n_books + book[rows]  # one (game, book) line
    lines, first, line_of = np.unique(key, return_index=True, return_inverse=True)
    cells = np.bincount(line_of * 3 + slot[rows], minlength=3 * len(lines))
    fast[lines[np.flatnonzero(cells > 1) // 3] // n_books] = False  # a repeated outcome: latest wins there
    for g in np.flatnonzero(fast).tolist():
        out[g] = {}  # no complete line (or no quote): the per-game code's answer too
    if not len(lines):
        return
    order = np.argsort(first, kind="stable")  # lines in first-seen order (rows are grouped by game)
    position = np.empty(len(order), dtype=np.intp)
    position[order] = np.arange(len(order))
    at = position[line_of]
    lines = lines[order]
    present = np.zeros((len(lines), 3), dtype=bool)
    present[at, slot[rows]] = True
    inverse = np.zeros((len(lines), 3))
    inverse[at, slot[rows]] = 1.0 / odds[rows]
    seen = np.full((len(lines), 3), np.iinfo(np.intp).max)  # the row that first quoted each outcome
    seen[at, slot[rows]] = rows
    bad_odds = np.zeros((len(lines), 3), dtype=bool)
    bad_odds[at, slot[rows]] = odds[rows] <= 1.0
    line_game = lines // n_books
    keep = fast[line_game]
    if not keep.all():  # (usually every line is kept: no copies then)
        line_game, present, inverse, seen, bad_odds = (a[keep] for a in (line_game, present, inverse, seen, bad_odds))
    if not len(line_game):
        return
    valid = (present == need[line_game]).all(axis=1) & ~bad_odds.any(axis=1)
    # the booksum as `sum(1.0 / d ...)` adds them: in the order the book first quoted its outcomes
    in_order = np.take_along_axis(inverse, np.argsort(seen, axis=1, kind="stable"), axis=1)
    total = (in_order[:, 0] + in_order[:, 1]) + in_order[:, 2]  # an absent outcome adds 0.0: no change
    share = inverse / np.where(valid, total, 1.0)[:, None]
    starts = np.flatnonzero(np.r_[True, line_game[1:] != line_game[:-1]])
    run = np.diff(np.r_[starts, len(line_game)])
    rank = np.arange(len(line_game)) - np.repeat(starts, run)
    run_of_line = np.repeat(np.arange(len(starts)), run)
    sums = np.zeros((len(starts), 3))
    for k in range(int(run.max())):
        taken = np.flatnonzero((rank == k) & valid)  # at most one line per game
        sums[run_of_line[taken]] += share[taken]
    books = np.bincount(run_of_line, weights=valid, minlength=len(starts))
    games = line_game[starts]
    has_books = books > 0
    for k, (keys, columns) in enumerate(zip(kinds.keys, kinds.columns, strict=True)):
        of_kind = np.flatnonzero((kinds.kind[games] == k) & has_books)
        if not len(of_kind):
            continue
        rows = (sums[of_kind][:, columns] / books[of_kind][:, None]).tolist()  # the mean of each book's share
        for g, row in zip(games[of_kind].tolist(), rows, strict=True):
            out[g] = dict(zip(keys, row, strict=True))

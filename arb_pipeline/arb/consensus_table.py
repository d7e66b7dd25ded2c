"""The books' consensus fair probabilities of every game of a `QuoteTable` at once (the pricing stage).

Why: pricing a 5,000-game scan one game at a time (`consensus_fair_probabilities` on a dict of each
book's line) walks 66,000 quotes and 30,000 book lines in Python. The common case — a two-way game
de-vigged multiplicatively — is a handful of array operations over all games instead, written to give
**the same floats, to the bit**: every operation is the one the per-game code does, in the same order
(1/d, the booksum (`math.fsum` of two terms is their IEEE sum), x/s, the weighted sums accumulated
book by book in each game's first-seen book order). Anything else goes to the per-game code itself
(`game_consensus`): other methods, three-way games (`fsum` of three terms is not a plain sum), a book
quoting one outcome twice, odds that are not finite and > 1, weights that are not positive numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from arb_pipeline.arb.accounts import in_consensus
from arb_pipeline.arb.implied_prob import consensus_fair_probabilities
from arb_pipeline.arb.market import OUTCOME_SLOTS, GameLine
from arb_pipeline.arb.quotes import QuoteTable
from arb_pipeline.domain import Outcome

NO_QUOTES = "no quotes"
_DRAW = OUTCOME_SLOTS.index(Outcome.DRAW)


class GameConsensus(NamedTuple):
    """What pricing shows of one game's consensus: fair probability per `game.outcomes` position (None:
    `reason` says why), the books used (first-seen order), and the lowest and highest booksum."""

    fair: tuple[float, ...] | None
    books_used: tuple[str, ...]
    booksum_min: float | None
    booksum_max: float | None
    reason: str | None


def game_consensus(table: QuoteTable, g: int, game: GameLine, method: str, weights: Mapping[str, float],
                   min_books: int, consensus_books: frozenset[str] | None) -> GameConsensus:
    """One game's consensus the reference way: each consensus book's line (its latest row per outcome,
    in table order) de-vigged by `consensus_fair_probabilities`."""
    position = {o: i for i, o in enumerate(game.outcomes)}
    index = [position.get(o) for o in OUTCOME_SLOTS]  # screen slot → position in game.outcomes
    names, books, slots, odds = table.bookmakers, table.book, table.outcome, table.odds
    per_book: dict[str, list[float | None]] = {}
    for r in range(int(table.offsets[g]), int(table.offsets[g + 1])):
        name = names[books[r]]
        if not in_consensus(name, consensus_books):
            continue
        line = per_book.setdefault(name, [None] * len(game.outcomes))
        slot = index[slots[r]]
        if slot is not None:
            line[slot] = float(odds[r])
    if not per_book:
        return GameConsensus(None, (), None, None, NO_QUOTES)
    consensus = consensus_fair_probabilities(per_book, method=method, weights=weights, min_books=min_books)
    booksums = list(consensus.booksums.values())
    return GameConsensus(consensus.fair, consensus.books_used, min(booksums) if booksums else None,
                         max(booksums) if booksums else None, consensus.insufficient)


def table_consensus(table: QuoteTable, games: Sequence[GameLine], method: str, weights: Mapping[str, float],
                    min_books: int, consensus_books: frozenset[str] | None) -> list[GameConsensus]:
    """`game_consensus` of every game (position = game index), the two-way multiplicative games by array
    operations with the same results, the rest one by one."""
    n = len(games)
    out: list[GameConsensus | None] = [None] * n
    fast = _fast_games(table, games, method, weights, min_books)
    if fast is not None:
        _vectorized(table, games, fast, weights, min_books, consensus_books, out)
    for g, game in enumerate(games):
        if out[g] is None:
            out[g] = game_consensus(table, g, game, method, weights, min_books, consensus_books)
    return out  # type: ignore[return-value]


def _fast_games(table: QuoteTable, games: Sequence[GameLine], method: str, weights: Mapping[str, float],
                min_books: int) -> np.ndarray | None:
    """Which games the array path may price (bool per game), or None when none may."""
    if method != "multiplicative" or isinstance(min_books, bool) or not isinstance(min_books, int) or min_books < 1:
        return None  # another method; an unknown method or invalid min_books is refused by the per-game code
    for name in table.bookmakers:
        w = weights.get(name, 1.0)
        if isinstance(w, bool) or not isinstance(w, int | float) or not (math.isfinite(w) and w > 0.0):
            return None  # the per-game code refuses (or converts) it, naming the book
    return np.ones(len(games), dtype=bool)


def _vectorized(table: QuoteTable, games: Sequence[GameLine], fast: np.ndarray, weights: Mapping[str, float],
                min_books: int, consensus_books: frozenset[str] | None, out: list[GameConsensus | None]) -> None:
    names = table.bookmakers
    n_books, n_slots = max(len(names), 1), len(OUTCOME_SLOTS)
    three = np.fromiter((len(g.outcomes) == 3 for g in games), dtype=bool, count=len(games))
    eligible = np.fromiter((in_consensus(b, consensus_books) for b in names), dtype=bool, count=len(names))
    game, slot, book, odds = table.game, table.outcome.astype(np.intp), table.book.astype(np.intp), table.odds
    rows = np.flatnonzero(eligible[book]) if len(game) else np.zeros(0, dtype=np.intp)
    # a game whose rows the array path does not mirror goes to the per-game code: a draw quote on a
    # two-way game, odds that are not finite and > 1, a book quoting one outcome twice
    odd = rows[((slot[rows] == _DRAW) & ~three[game[rows]]) | ~((odds[rows] > 1.0) & (odds[rows] < math.inf))]
    key = game[rows] * n_books + book[rows]  # one (game, book) line
    lines, first, line_of = np.unique(key, return_index=True, return_inverse=True)
    repeated = np.flatnonzero(np.bincount(line_of * n_slots + slot[rows], minlength=n_slots * len(lines)) > 1)
    fast = fast.copy()
    fast[game[odd]] = False
    fast[lines[repeated // n_slots] // n_books] = False
    # every game of the array path gets its answer; a game with no consensus row has none
    for g in np.flatnonzero(fast).tolist():
        out[g] = GameConsensus(None, (), None, None, NO_QUOTES)
    # lines in first-seen order within each game (rows are sorted by game: first row order = that order)
    order = np.argsort(first, kind="stable")
    lines = lines[order]
    position = np.empty(len(order), dtype=np.intp)
    position[order] = np.arange(len(order))
    grid = np.full((len(lines), n_slots), np.nan)
    grid[position[line_of], slot[rows]] = odds[rows]
    keep = fast[lines // n_books]
    if not keep.all():  # (usually every line is kept: no copies then)
        lines, grid = lines[keep], grid[keep]
    if not len(lines):
        return
    line_game, line_book = lines // n_books, lines % n_books
    line_three = three[line_game]
    complete = ~np.isnan(grid[:, :2]).any(axis=1) & (~np.isnan(grid[:, 2]) | ~line_three)
    grid[~line_three, _DRAW] = np.inf  # a two-way line's draw column: 1/inf = 0, so p = 0 and sums gain 0
    x = 1.0 / grid  # NaN where a book has no price for an outcome of the game
    s = x[:, 0] + x[:, 1]  # a two-way booksum: math.fsum of two terms is their IEEE sum
    fsum3 = np.flatnonzero(line_three & complete)  # three terms: math.fsum itself, line by line
    s[fsum3] = np.fromiter(map(math.fsum, x[fsum3].tolist()), dtype=np.float64, count=len(fsum3))
    booksum = (s - 1.0) + 1.0
    p = x / s[:, None]
    in_range = (p > 0.0) & (p < 1.0)
    in_range[~line_three, _DRAW] = True  # not an outcome of a two-way game
    p_sum = p[:, 0] + p[:, 1]
    p_sum[fsum3] = np.fromiter(map(math.fsum, p[fsum3].tolist()), dtype=np.float64, count=len(fsum3))
    used = complete & (s >= 1.0) & in_range.all(axis=1) & (np.abs(p_sum - 1.0) <= 1e-9)
    w = np.array([float(weights.get(b, 1.0)) for b in names], dtype=np.float64)[line_book]
    # each line's rank within its game, then the games' sums accumulated rank by rank (book order)
    starts = np.flatnonzero(np.r_[True, line_game[1:] != line_game[:-1]])
    run = np.diff(np.r_[starts, len(lines)])
    rank = np.arange(len(lines)) - np.repeat(starts, run)
    run_of_line = np.repeat(np.arange(len(starts)), run)
    total_w = np.zeros(len(starts))
    acc = np.zeros((len(starts), n_slots))
    for k in range(int(run.max())):
        at = np.flatnonzero((rank == k) & used)  # at most one line per game: no repeated index below
        total_w[run_of_line[at]] += w[at]
        acc[run_of_line[at]] += w[at, None] * p[at]
    n_used = np.bincount(run_of_line, weights=used, minlength=len(starts)).astype(np.intp).tolist()
    fair = (acc / np.where(total_w > 0.0, total_w, 1.0)[:, None]).tolist()
    lo = np.minimum.reduceat(np.where(complete, booksum, np.inf), starts).tolist()
    hi = np.maximum.reduceat(np.where(complete, booksum, -np.inf), starts).tolist()
    any_sum = np.logical_or.reduceat(complete, starts).tolist()
    used_names = _names_per_run(names, line_book, used, starts, run)
    slots_of: dict[tuple[Outcome, ...], tuple[int, ...]] = {}
    for i, g in enumerate(line_game[starts].tolist()):
        count = n_used[i]
        low, high = (lo[i], hi[i]) if any_sum[i] else (None, None)
        if count < min_books:
            out[g] = GameConsensus(None, used_names[i], low, high,
                                   f"only {count} complete book line(s), need {min_books}")
            continue
        outcomes = games[g].outcomes
        slots = slots_of.get(outcomes)
        if slots is None:
            slots = slots_of[outcomes] = tuple(OUTCOME_SLOTS.index(o) for o in outcomes)
        row = fair[i]
        out[g] = GameConsensus(tuple(row[k] for k in slots), used_names[i], low, high, None)


def _names_per_run(names: Sequence[str], line_book: np.ndarray, used: np.ndarray, starts: np.ndarray,
                   run: np.ndarray) -> list[tuple[str, ...]]:
    """Per game, the names of its used books in order; one tuple per distinct sequence (games share them)."""
    books = np.where(used, line_book, -1).tolist()
    shared: dict[tuple[int, ...], tuple[str, ...]] = {}
    out = []
    for start, length in zip(starts.tolist(), run.tolist(), strict=True):
        key = tuple(books[start:start + length])
        found = shared.get(key)
        if found is None:
            found = shared[key] = tuple(names[b] for b in key if b >= 0)
        out.append(found)
    return out

"""Vectorized float screen over every game of a scan: which arbitrage structures and value bets
*might* pass, so that only those are confirmed exactly in Decimal.

Every bound here errs towards keeping a candidate:
- a Kalshi leg costs at least its best ask plus the unrounded taker fee rate × P(1−P) (deeper levels
  and fee rounding only add cost; an unknown fee type is screened at rate 0);
- a sportsbook leg costs at least 1/(best odds net of the book's commission of any book, stale or not);
- a consensus fair probability lies between the min and max over books of that book's own fair
  probability (exact per-book values for the multiplicative and additive methods; for the iterative
  methods the always-valid bounds r_i and 1 − Σ_{j≠i} r_j, since every method returns p_i ≤ r_i);
- a game with a duplicated (book, outcome) quote is always a candidate (the exact path resolves it).
A candidate passes if its bound is within `screen_tolerance` of the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import numpy as np

from arb_pipeline.arb.combos import BOOK, NO, YES, Instrument, covering_combinations
from arb_pipeline.arb.commission import commission_rate
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.market import GameColumns, GameLine
from arb_pipeline.arb.quotes import OUTCOME_SLOTS, SLOT, QuoteTable
from arb_pipeline.domain import ContractSide, Outcome

_K = len(OUTCOME_SLOTS)
_SIDES = (ContractSide.YES, ContractSide.NO)  # the order of `GameColumns.costs`
_TWO = (Outcome.HOME, Outcome.AWAY)
_THREE = (Outcome.HOME, Outcome.DRAW, Outcome.AWAY)


@dataclass(frozen=True, slots=True)
class ArbCandidate:
    game: int
    combo: tuple[Instrument, ...]
    cost_bound: float  # lower bound of the cost of $1 of payout


@dataclass(frozen=True, slots=True)
class ValueCandidate:
    game: int
    outcome: Outcome
    side: ContractSide
    edge_bound: float  # upper bound of fair − all-in price per contract


def _inverse_lines(table: QuoteTable, cols: GameColumns) -> tuple[np.ndarray, np.ndarray | None]:
    """1/odds per (book, slot, game): inf = no quote, 0 on a two-way game's draw slot (`GameColumns.no_quote`);
    and a per-game flag for duplicated quotes, None when no game has one. Raises on a draw quote of a two-way
    game.

    Book-major so that every reduction over books is an element-wise pass over contiguous (slot, game)
    planes. Each book's plane starts as a copy of `no_quote`, then 1/odds is scattered through the table's
    precomputed cells. A two-way game's draw slot stays 0 in every book unless a row quotes a draw there
    (1/odds > 0; a three-way game's is inf or below 1, never above its `no_quote` inf). A duplicated (book,
    slot) quote leaves fewer filled cells than rows + the 0 draw cells: counted over the whole grid first
    (one pass), per game only when that count is short (int8 counts: ~8x faster than count_nonzero along an
    axis)."""
    n_books, n = max(1, len(table.bookmakers)), len(cols)
    inverse = np.empty((n_books, _K, n))
    inverse[...] = cols.no_quote
    inverse.reshape(-1)[table.cells] = 1.0 / table.odds
    draw = SLOT[Outcome.DRAW]
    if (inverse[:, draw] > cols.no_quote[draw]).any():
        row = int(np.flatnonzero((table.outcome == draw) & ~cols.three_way[table.game])[0])
        raise ValueError(f"quote row {row}: a draw price for two-way game {cols.games[int(table.game[row])].event_ticker}")
    filled = inverse < np.inf
    if np.count_nonzero(filled) == len(table) + n_books * len(cols.two_way_rows):
        return inverse, None
    per_game = np.add.reduce(filled.reshape(n_books * _K, n), axis=0, dtype=np.int8 if n_books * _K < 128 else np.intp)
    expected = np.diff(table.offsets)
    expected[cols.two_way_rows] += n_books  # the 0 draw cells
    return inverse, per_game != expected


def _fair_bounds(inverse: np.ndarray, three_way: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of each game's consensus fair probability per slot, stacked as the screen compares them with
    `GameColumns.costs`: [upper bound of P(YES pays), upper bound of P(NO pays) = 1 − lower bound], shape
    (2, slots, games); and each game's count of complete lines (a book quoting every outcome of the game).

    `inverse`: 1/odds per (book, slot, game), inf where the book has no quote and 0 on a two-way game's draw
    slot (`_inverse_lines`; overwritten: the multiplicative method divides it in place, saving a temporary
    of its size). No masked operation (they cost ~5x a plain pass): a book's overround s, the sum of its
    three slots (the same sum, in the same order, as home + away (+ draw) of the game's outcomes), is
    infinite exactly when it misses an outcome the game has, s·(s/s) turns that into NaN, NaN propagates
    into every per-book value of an incomplete book, and the bounds are NaN-ignoring (all NaN: no complete
    book, the bound is NaN and never passes). A two-way game's draw slot gets bounds from the 0 there; it
    has no Kalshi contract, so no candidate reads them."""
    s = np.add(inverse[:, 0], inverse[:, 1])  # (books, games)
    s += inverse[:, 2]
    complete = np.isfinite(s)
    method = limits.devig_method
    spread = np.where(three_way, 3.0, 2.0) if method == "additive" else None
    fair = np.full((2, *inverse.shape[1:]), np.nan)
    upper, lower = fair  # the lower bound until the last line
    s *= s / s  # inf (incomplete) -> NaN (invalid operations are silenced by `screen`); finite stays (s > 0)
    # Book by book, so each plane's values are folded into the bounds while still in cache (one pass over
    # the grid); fmax/fmin ignore NaN and select exactly, as a reduction over books would.
    for plane, total in zip(inverse, s[:, None, :], strict=True):  # (slots, games), (1, games)
        if method == "multiplicative":
            lo = hi = np.divide(plane, total, out=plane)  # in place: the screen's last use of `inverse`
        elif method == "additive":
            lo = hi = plane - (total - 1.0) / spread
        else:  # every iterative method returns p_i <= r_i, and p_i >= 1 - sum of the others' r_j
            hi = plane + (total - total)
            lo = 1.0 - (total - plane)
        np.fmax(upper, hi, out=upper)
        np.fmin(lower, lo, out=lower)
    np.subtract(1.0, lower, out=lower)  # P(NO pays) <= 1 - lower (1 - x rounds monotonically: exact order kept)
    # at most 127 books a game (int8 counts: a pairwise add, ~8x faster than count_nonzero along an axis)
    return fair, np.add.reduce(complete, axis=0, dtype=np.int8 if len(complete) < 128 else np.intp)


def _book_costs(inverse: np.ndarray, bookmakers: Sequence[str], book_commission: Mapping[str, Decimal] | None,
                out: np.ndarray) -> None:
    """Lower bound of a sportsbook leg's cost per $1 of payout, per (slot, game), into `out`: the least over
    books of 1/odds, at a book charging commission c 1/(1 + (d - 1)(1 - c)) (odds net of the cut on net
    winnings); inf where no book quotes the outcome. One element-wise pass per book plane."""
    out.fill(np.inf)
    for b, name in enumerate(bookmakers):
        cut = float(commission_rate(name, book_commission))
        if cut > 0.0:
            odds = 1.0 / inverse[b]  # 0 where no quote
            plane = 1.0 / np.where(odds > 0.0, 1.0 + (odds - 1.0) * (1.0 - cut), 0.0)  # 1/0 = inf: no quote
        else:
            plane = inverse[b]
        np.minimum(out, plane, out=out)


@cache
def _combo_table() -> tuple[tuple[tuple[Instrument, ...], ...], np.ndarray, np.ndarray]:
    """Every covering structure (two-way first, then three-way, each in `covering_combinations` order),
    as rows of leg indexes into the stacked unit costs [YES slots, NO slots, BOOK slots, 0], padded with
    the zero row, and whether each is a three-way structure."""
    combos = (*covering_combinations(_TWO), *covering_combinations(_THREE))
    base = {YES: 0, NO: _K, BOOK: 2 * _K}
    legs = np.full((len(combos), 3), 3 * _K, dtype=np.intp)
    for i, combo in enumerate(combos):
        legs[i, : len(combo)] = [base[leg.kind] + SLOT[leg.outcome] for leg in combo]
    three = np.arange(len(combos)) >= len(covering_combinations(_TWO))
    return combos, legs, three


def screen(games: Sequence[GameLine], table: QuoteTable, limits: Limits,
           book_commission: Mapping[str, Decimal] | None = None,
           columns: GameColumns | None = None) -> tuple[list[ArbCandidate], list[ValueCandidate]]:
    """Arbitrage and value candidates. `book_commission`: each exchange's cut on net winnings, so a book
    leg is screened at its odds net of commission, 1 + (d - 1)(1 - c), as confirmation prices it.
    `columns`: the games' Kalshi side as columns (`GameColumns.of(games)`, built here when not given)."""
    n = len(games)
    if table.n_games != n:
        raise ValueError(f"QuoteTable covers {table.n_games} games but {n} GameLines were given")
    cols = GameColumns.of(games) if columns is None else columns.require_for(games)
    inverse, dup = _inverse_lines(table, cols)
    unit = np.empty((3 * _K + 1, n))  # one all-in cost lower bound per instrument row, then a zero row
    unit[:2 * _K] = cols.costs.reshape(2 * _K, n)  # YES slots, then NO slots
    # inf and NaN are the screen's "no quote" / "no complete book" markers (see `_fair_bounds`): silenced
    # once here rather than around each operation (entering errstate costs as much as a pass over a plane)
    with np.errstate(divide="ignore", invalid="ignore"):
        _book_costs(inverse, table.bookmakers, book_commission, unit[2 * _K:3 * _K])
        unit[3 * _K] = 0.0
        arbs = _arb_candidates(unit, dup, cols, limits.screen_tolerance)
        return arbs, _value_candidates(games, inverse, dup, cols, limits)


def _arb_candidates(unit: np.ndarray, dup: np.ndarray | None, cols: GameColumns, tol: float) -> list[ArbCandidate]:
    """Candidates, structure by structure (two-way first), game by game within one.

    First a bound over every structure of a game at once: each outcome is paid by exactly one leg of a
    cover, so a two-way cover costs at least Σ_o min(YES_o, BOOK_o, NO_other), and a three-way cover at
    least min(Σ_o min(YES_o, BOOK_o), min_o NO_o + min(YES_o, BOOK_o)) (three single legs, or a NO plus
    the one outcome it leaves out). Floating-point sums are monotone, so a game whose bound is not under
    the threshold has no structure under it. Only the games left are costed structure by structure."""
    yes, no, book = unit[:_K], unit[_K:2 * _K], unit[2 * _K:3 * _K]
    single = np.minimum(yes, book)
    h, a, d = SLOT[Outcome.HOME], SLOT[Outcome.AWAY], SLOT[Outcome.DRAW]
    bar = 1.0 + 2.0 * tol  # the bound sums legs in another order than the structures: a hair of slack
    two = np.minimum(single[h], no[a]) + np.minimum(single[a], no[h])
    three = single[h] + single[d] + single[a]
    for o in (h, d, a):
        np.minimum(three, no[o] + single[o], out=three)
    maybe = np.where(cols.three_way, three, two) < bar
    if dup is not None:
        maybe |= dup
    rows = np.flatnonzero(maybe)
    if not rows.size:
        return []
    combos, legs, is_three = _combo_table()
    # every structure over the games left, in one set of operations: a structure of the other kind than
    # its game is masked out; row-major order is structure by structure (two-way first), game by game
    sub = unit[:, rows]
    cost = sub[legs[:, 0]]
    cost += sub[legs[:, 1]]
    cost += sub[legs[:, 2]]  # (structures, games left)
    hit = cost < 1.0 + tol
    if dup is not None:
        hit |= dup[rows]
    hit &= is_three[:, None] == cols.three_way[rows]
    ci, gi = np.nonzero(hit)
    return [ArbCandidate(g, combos[c], cost)
            for c, g, cost in zip(ci.tolist(), rows[gi].tolist(), cost[ci, gi].tolist(), strict=True)]


def _value_candidates(games: Sequence[GameLine], inverse: np.ndarray, dup: np.ndarray | None, cols: GameColumns,
                      limits: Limits) -> list[ValueCandidate]:
    """Value candidates from the per-book bounds of the consensus fair probability (`_fair_bounds`): a
    YES on slot k may pay if upper_k − YES cost ≥ the minimum edge, a NO if (1 − lower_k) − NO cost does.
    A game with duplicated quotes gets the widest bounds (0, 1) and no minimum-book rule."""
    tol = limits.screen_tolerance
    min_edge = float(limits.min_value_edge_bps) / 10_000.0
    fair, n_complete = _fair_bounds(inverse, cols.three_way, limits)
    if dup is not None:
        fair[:, :, dup] = 1.0  # upper bound 1, lower bound 0
    enough = n_complete >= limits.consensus_min_books
    if dup is not None:
        enough |= dup
    # inf - inf: no fair bound and no ask, never a candidate (NaN)
    edge = np.subtract(fair, cols.costs, out=fair)  # [YES, NO] (2, slots, games)
    hit = edge >= min_edge - tol
    hit &= enough
    flat = np.flatnonzero(hit)  # flat: ~10x faster than nonzero of a 2-D (or transposed) mask
    if not flat.size:
        return []
    side, slot, game = np.unravel_index(flat, hit.shape)
    order = np.lexsort((slot, game, side))  # YES then NO, game by game, slot by slot, as always listed
    values: list[ValueCandidate] = []
    for i, g, k in zip(side[order].tolist(), game[order].tolist(), slot[order].tolist(), strict=True):
        outcome = OUTCOME_SLOTS[k]
        if outcome in games[g].kalshi:
            values.append(ValueCandidate(g, outcome, _SIDES[i], float(edge[i, k, g])))
    return values

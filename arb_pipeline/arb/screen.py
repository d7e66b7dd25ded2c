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


def _dense_lines(table: QuoteTable, n_games: int) -> tuple[np.ndarray, np.ndarray]:
    """Odds per (book, slot, game) (0 = no quote) and a per-game flag for duplicated quotes.

    Book-major so that every reduction over books is an element-wise pass over contiguous (slot, game)
    planes. A duplicated (book, slot) quote of a game leaves it with fewer filled cells than rows."""
    n_books = max(1, len(table.bookmakers))
    key = table.book.astype(np.intp) * (_K * n_games)
    key += table.outcome.astype(np.intp) * n_games
    key += table.game
    dense = np.zeros(n_books * _K * n_games)
    dense[key] = table.odds
    dense = dense.reshape(n_books, _K, n_games)
    filled = np.count_nonzero(dense.reshape(n_books * _K, n_games), axis=0)
    return dense, filled != np.diff(table.offsets)


def _fair_bounds(dense: np.ndarray, three_way: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper) bounds of each game's consensus fair probability per slot, shape (slots, games), and
    each game's count of complete lines (a book quoting every outcome of the game)."""
    present = dense > 0.0
    r = np.divide(1.0, dense, out=np.zeros_like(dense), where=present)
    needed = np.where(three_way, 3, 2)
    complete = np.count_nonzero(present, axis=1) == needed  # (books, games); a slot the game lacks was rejected
    s = r.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if limits.devig_method == "multiplicative":
            lo_b = hi_b = r / s
        elif limits.devig_method == "additive":
            lo_b = hi_b = r - (s - 1.0) / needed
        else:
            hi_b = r
            lo_b = 1.0 - (s - r)
    mask = present & complete[:, None, :]
    upper = np.where(mask, hi_b, -np.inf).max(axis=0)
    lower = np.where(mask, lo_b, np.inf).min(axis=0)
    return lower, upper, np.count_nonzero(complete, axis=0)


def _best_net_odds(dense: np.ndarray, bookmakers: Sequence[str],
                   book_commission: Mapping[str, Decimal] | None) -> np.ndarray:
    """Best odds per (slot, game) net of each book's commission, 1 + (d - 1)(1 - c); only the planes
    of books that charge one are touched (0 stays 0: no quote)."""
    cut = np.array([float(commission_rate(b, book_commission)) for b in bookmakers], dtype=np.float64)
    charged = np.flatnonzero(cut > 0.0)
    if not charged.size:
        return dense.max(axis=0)
    net = dense.copy()
    sub = net[charged]
    net[charged] = np.where(sub > 0.0, 1.0 + (sub - 1.0) * (1.0 - cut[charged, None, None]), 0.0)
    return net.max(axis=0)


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
    three_way = cols.three_way
    draw_in_two_way = np.flatnonzero((table.outcome == SLOT[Outcome.DRAW]) & ~three_way[table.game])
    if draw_in_two_way.size:
        row = int(draw_in_two_way[0])
        raise ValueError(f"quote row {row}: a draw price for two-way game {games[int(table.game[row])].event_ticker}")
    dense, dup = _dense_lines(table, n)
    best = _best_net_odds(dense, table.bookmakers, book_commission)
    unit = np.empty((3 * _K + 1, n))  # one all-in cost lower bound per instrument row, then a zero row
    unit[:_K] = cols.yes_cost
    unit[_K:2 * _K] = cols.no_cost
    book_cost = unit[2 * _K:3 * _K]
    book_cost.fill(np.inf)
    np.divide(1.0, best, out=book_cost, where=best > 0.0)
    unit[3 * _K] = 0.0

    combos, legs, three = _combo_table()
    cost = unit[legs[:, 0]]
    cost += unit[legs[:, 1]]
    cost += unit[legs[:, 2]]  # (structures, games)
    hit = (cost < 1.0 + limits.screen_tolerance) | dup
    hit &= three[:, None] == three_way
    ci, gi = np.nonzero(hit)
    arbs = [ArbCandidate(g, combos[c], float(cost[c, g])) for c, g in zip(ci.tolist(), gi.tolist(), strict=True)]
    return arbs, _value_candidates(games, dense, dup, cols, limits)


def _value_candidates(games: Sequence[GameLine], dense: np.ndarray, dup: np.ndarray, cols: GameColumns,
                      limits: Limits) -> list[ValueCandidate]:
    """Value candidates from the per-book bounds of the consensus fair probability (`_fair_bounds`): a
    YES on slot k may pay if upper_k − YES cost ≥ the minimum edge, a NO if (1 − lower_k) − NO cost does.
    A game with duplicated quotes gets the widest bounds (0, 1) and no minimum-book rule."""
    tol = limits.screen_tolerance
    min_edge = float(limits.min_value_edge_bps) / 10_000.0
    lower, upper, n_complete = _fair_bounds(dense, cols.three_way, limits)
    if dup.any():
        upper[:, dup] = 1.0
        lower[:, dup] = 0.0
    enough = (n_complete >= limits.consensus_min_books) | dup
    values: list[ValueCandidate] = []
    for side, edge in ((ContractSide.YES, upper - cols.yes_cost), (ContractSide.NO, (1.0 - lower) - cols.no_cost)):
        hit = edge >= min_edge - tol
        hit &= enough
        gi, ki = np.nonzero(hit.T)  # game by game, slot by slot, as the candidates were always listed
        for g, k in zip(gi.tolist(), ki.tolist(), strict=True):
            outcome = OUTCOME_SLOTS[k]
            if outcome in games[g].kalshi:
                values.append(ValueCandidate(g, outcome, side, float(edge[k, g])))
    return values

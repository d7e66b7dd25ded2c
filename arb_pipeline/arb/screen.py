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
from itertools import chain

import numpy as np

from arb_pipeline.arb.combos import BOOK, NO, YES, Instrument, covering_combinations
from arb_pipeline.arb.commission import commission_rate
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.market import GameLine
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


def _game_arrays(games: Sequence[GameLine]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per game: three-way flag, and lower bounds of one YES / NO contract's all-in cost, shape
    (games, 3) (inf = no ask). Reads each contract's precomputed `screen_row` in one pass."""
    n = len(games)
    three = np.fromiter([g.three_way for g in games], dtype=bool, count=n)
    rows_per_game = [g.screen_rows for g in games]
    per_game = np.fromiter(map(len, rows_per_game), dtype=np.intp, count=n)
    flat = chain.from_iterable(chain.from_iterable(rows_per_game))
    data = np.fromiter(flat, dtype=np.float64, count=4 * int(per_game.sum())).reshape(-1, 4)
    where = np.repeat(np.arange(n, dtype=np.intp) * _K, per_game) + data[:, 0].astype(np.intp)
    rate = data[:, 1]
    bounds = []
    for ask in (data[:, 2], data[:, 3]):
        out = np.full(n * _K, np.inf)
        out[where] = np.where(np.isnan(ask), np.inf, ask + rate * ask * (1.0 - ask))
        bounds.append(out.reshape(n, _K))
    return three, bounds[0], bounds[1]


def _dense_lines(table: QuoteTable, n_games: int) -> tuple[np.ndarray, np.ndarray]:
    """Odds per (game, slot, book) (0 = no quote) and a per-game flag for duplicated quotes."""
    n_books = max(1, len(table.bookmakers))
    key = (table.game * _K + table.outcome) * n_books + table.book
    size = n_games * _K * n_books
    dense = np.zeros(size)
    dense[key] = table.odds
    dup = (np.bincount(key, minlength=size) > 1).reshape(n_games, _K * n_books).any(axis=1)
    return dense.reshape(n_games, _K, n_books), dup


def _fair_bounds(dense: np.ndarray, three_way: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper) bounds of each game's consensus fair probability per slot, and complete-line counts."""
    present = dense > 0.0
    r = np.divide(1.0, dense, out=np.zeros_like(dense), where=present)
    needed = np.where(three_way, 3, 2)
    complete = present.sum(axis=1) == needed[:, None]  # (games, books); a slot the game lacks was rejected
    s = r.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if limits.devig_method == "multiplicative":
            lo_b = hi_b = r / s
        elif limits.devig_method == "additive":
            lo_b = hi_b = r - (s - 1.0) / needed[:, None, None]
        else:
            hi_b = r
            lo_b = 1.0 - (s - r)
    mask = complete[:, None, :] & present
    upper = np.where(mask, hi_b, -np.inf).max(axis=2)
    lower = np.where(mask, lo_b, np.inf).min(axis=2)
    return lower, upper, complete.sum(axis=1)


def _best_net_odds(dense: np.ndarray, bookmakers: Sequence[str],
                   book_commission: Mapping[str, Decimal] | None) -> np.ndarray:
    """Best odds per (game, slot) net of each book's commission, 1 + (d - 1)(1 - c); only the columns
    of books that charge one are touched (0 stays 0: no quote)."""
    cut = np.array([float(commission_rate(b, book_commission)) for b in bookmakers], dtype=np.float64)
    charged = np.flatnonzero(cut > 0.0)
    if not charged.size:
        return dense.max(axis=2)
    net = dense.copy()
    sub = net[:, :, charged]
    net[:, :, charged] = np.where(sub > 0.0, 1.0 + (sub - 1.0) * (1.0 - cut[charged]), 0.0)
    return net.max(axis=2)


def screen(games: Sequence[GameLine], table: QuoteTable, limits: Limits,
           book_commission: Mapping[str, Decimal] | None = None) -> tuple[list[ArbCandidate], list[ValueCandidate]]:
    """Arbitrage and value candidates. `book_commission`: each exchange's cut on net winnings, so a book
    leg is screened at its odds net of commission, 1 + (d - 1)(1 - c), as confirmation prices it."""
    n = len(games)
    if table.n_games != n:
        raise ValueError(f"QuoteTable covers {table.n_games} games but {n} GameLines were given")
    three_way, yes_lb, no_lb = _game_arrays(games)
    draw_in_two_way = np.flatnonzero((table.outcome == SLOT[Outcome.DRAW]) & ~three_way[table.game])
    if draw_in_two_way.size:
        row = int(draw_in_two_way[0])
        raise ValueError(f"quote row {row}: a draw price for two-way game {games[int(table.game[row])].event_ticker}")
    dense, dup = _dense_lines(table, n)
    best = _best_net_odds(dense, table.bookmakers, book_commission)
    with np.errstate(divide="ignore"):
        book_lb = np.where(best > 0.0, 1.0 / np.where(best > 0.0, best, 1.0), np.inf)
    unit = {YES: yes_lb, NO: no_lb, BOOK: book_lb}
    tol = limits.screen_tolerance

    arbs: list[ArbCandidate] = []
    for structure, is_kind in ((_TWO, ~three_way), (_THREE, three_way)):
        rows = np.flatnonzero(is_kind)
        if not rows.size:
            continue
        sub = {kind: values[rows] for kind, values in unit.items()}  # index once; legs take column views
        for combo in covering_combinations(structure):
            cost = np.zeros(rows.size)
            for leg in combo:
                cost += sub[leg.kind][:, SLOT[leg.outcome]]
            for i in np.flatnonzero((cost < 1.0 + tol) | dup[rows]):
                arbs.append(ArbCandidate(int(rows[i]), combo, float(cost[i])))

    return arbs, _value_candidates(games, dense, dup, three_way, yes_lb, no_lb, limits)


def _value_candidates(games: Sequence[GameLine], dense: np.ndarray, dup: np.ndarray, three_way: np.ndarray,
                      yes_lb: np.ndarray, no_lb: np.ndarray, limits: Limits) -> list[ValueCandidate]:
    """Two stages. A cheap pre-filter valid for every method: each book's fair p_k ≤ its r_k ≤ max_b r_b,k,
    and fair NO_k = 1 − p_k ≤ Σ_{j≠k} max_b r_b,j. Only games it keeps get the per-book bounds."""
    tol = limits.screen_tolerance
    min_edge = float(limits.min_value_edge_bps) / 10_000.0
    lowest = np.where(dense > 0.0, dense, np.inf).min(axis=2)
    max_r = np.divide(1.0, lowest, out=np.zeros_like(lowest), where=np.isfinite(lowest))
    no_cap = max_r.sum(axis=1, keepdims=True) - max_r
    maybe = ((max_r - yes_lb >= min_edge - tol) | (no_cap - no_lb >= min_edge - tol)).any(axis=1) | dup
    sub = np.flatnonzero(maybe)
    if not sub.size:
        return []
    lower, upper, n_complete = _fair_bounds(dense[sub], three_way[sub], limits)
    enough = (n_complete >= limits.consensus_min_books) | dup[sub]
    upper = np.where(dup[sub, None], 1.0, upper)
    lower = np.where(dup[sub, None], 0.0, lower)
    values: list[ValueCandidate] = []
    for side, edge in ((ContractSide.YES, upper - yes_lb[sub]), (ContractSide.NO, (1.0 - lower) - no_lb[sub])):
        gi, ki = np.nonzero((edge >= min_edge - tol) & enough[:, None])
        for g, k in zip(gi.tolist(), ki.tolist(), strict=True):
            outcome = OUTCOME_SLOTS[k]
            game = int(sub[g])
            if outcome in games[game].kalshi:
                values.append(ValueCandidate(game, outcome, side, float(edge[g, k])))
    return values

"""The inputs of detection: one Kalshi contract with its book, one matched game, and the games'
Kalshi side as screen columns (`GameColumns`, built once when a scan assembles its games).

They are built by the services layer from a `MarketSnapshot` after mapping; `arb/` only reads them.
Validation happens here, at construction, so detection can trust its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import chain

import numpy as np

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.fees import UnsupportedFeeType, fee_rate
from arb_pipeline.domain import Outcome, PriceRange, SeriesFees, SportsbookQuote

OUTCOME_SLOTS: tuple[Outcome, ...] = (Outcome.HOME, Outcome.AWAY, Outcome.DRAW)  # column order of screen arrays
TWO_WAY = frozenset({Outcome.HOME, Outcome.AWAY})
THREE_WAY = frozenset({Outcome.HOME, Outcome.AWAY, Outcome.DRAW})


_SLOTS = {o: i for i, o in enumerate(OUTCOME_SLOTS)}


def _aware(ts: datetime, where: str) -> datetime:
    if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{where} must be a timezone-aware datetime, got {ts!r}")
    return ts


def _plainly_aware(ts: object) -> bool:
    """True for a datetime on a fixed-offset `timezone` (UTC, as the parsers give): aware by construction,
    so `_aware` is skipped - and its message, built per call, with it (a scan builds 16,000 of these
    objects). False means "ask `_aware`", which decides and words the error exactly as before."""
    return type(ts) is datetime and type(ts.tzinfo) is timezone


# taker rate as a float per (fee_type, multiplier object): `fee_rate` for every contract of a scan (11,000 at
# 5,000 games) with a handful of distinct fee schedules. Keyed by the multiplier's identity (the object is
# kept alive and compared with `is`), so an equal value with other digits or sign ("-0") is computed afresh;
# only results are kept (a rate, or NaN for `UnsupportedFeeType`), never another error. Bounded.
_TAKER_RATES: dict[tuple[str, int], tuple[object, float]] = {}
_TAKER_RATES_MAX = 1_000


def _taker_rate_f(fees: SeriesFees) -> float:
    multiplier, fee_type = fees.fee_multiplier, fees.fee_type
    key = (fee_type, id(multiplier))
    kept = _TAKER_RATES.get(key)
    if kept is not None and kept[0] is multiplier:
        return kept[1]
    try:
        rate = float(fee_rate(maker=False, fee_multiplier=multiplier, fee_type=fee_type))
    except UnsupportedFeeType:
        rate = math.nan
    if len(_TAKER_RATES) >= _TAKER_RATES_MAX:
        _TAKER_RATES.clear()
    _TAKER_RATES[key] = (multiplier, rate)
    return rate


@dataclass(frozen=True, slots=True)
class KalshiContract:
    """One Kalshi market of a game (YES pays if `outcome` happens) with its current order book.

    For a spread or total market `outcome` is the side of the line its YES takes (`arb.line_game`)."""

    ticker: str
    outcome: Outcome
    label: str  # display name of the outcome, e.g. "Pittsburgh" or "Tie"
    book: OrderBook
    fees: SeriesFees
    price_ranges: tuple[PriceRange, ...]
    status: str
    quote_time: datetime  # when the book was captured
    # Taker fee coefficient as a float for the screen; NaN when the fee type is not supported.
    taker_rate_f: float = field(init=False, repr=False, compare=False)
    slot: int = field(init=False, repr=False, compare=False)  # column of `outcome` in the screen's arrays
    # (slot, taker rate or 0, best YES ask, best NO ask) as floats: the screen reads one tuple per
    # contract instead of four attributes (NaN ask = none; an unsupported fee type screens at rate 0).
    screen_row: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if type(self.outcome) is not Outcome:  # (an Outcome already: no enum lookup, ~1 µs a contract)
            object.__setattr__(self, "outcome", Outcome(self.outcome))
        if not _plainly_aware(self.quote_time):
            _aware(self.quote_time, f"KalshiContract {self.ticker} quote_time")
        if self.book.ticker != self.ticker:
            raise ValueError(f"KalshiContract {self.ticker} carries the book of {self.book.ticker}")
        rate = _taker_rate_f(self.fees)
        object.__setattr__(self, "taker_rate_f", rate)
        # -1: a line market's side (over/under), which the winner screen's columns never hold
        object.__setattr__(self, "slot", _SLOTS.get(self.outcome, -1))
        object.__setattr__(self, "screen_row", (float(self.slot), 0.0 if math.isnan(rate) else rate,
                                                self.book.best_yes_f, self.book.best_no_f))


@dataclass(frozen=True, slots=True)
class GameLine:
    """One game matched between Kalshi and a sportsbook event: its Kalshi contracts and h2h quotes.

    `outcomes` is (home, away) or (home, draw, away) — draw is Kalshi's TIE market. `quotes` may be
    empty when the quotes are passed column-wise to `detect` as a `QuoteTable` (the fast path).
    """

    event_ticker: str
    league: str
    commence_time: datetime
    outcomes: tuple[Outcome, ...]
    labels: Mapping[Outcome, str]
    kalshi: Mapping[Outcome, KalshiContract]
    quotes: Sequence[SportsbookQuote] = ()
    tradable: bool = True
    blocked_reasons: tuple[str, ...] = ()
    # True: the game's quotes are rows of the scan's `QuoteTable` (parsed column-wise), `quotes` is
    # empty, and reading quotes from the GameLine alone is an error, never an empty line.
    quotes_in_table: bool = False
    # Derived once for the screen: every contract's `screen_row`, and whether the game is three-way.
    screen_rows: tuple[tuple[float, float, float, float], ...] = field(init=False, repr=False, compare=False)
    three_way: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        outcomes = self.outcomes
        if type(outcomes) is not tuple or not all(type(o) is Outcome for o in outcomes):
            outcomes = tuple(Outcome(o) for o in outcomes)
            object.__setattr__(self, "outcomes", outcomes)
        if not _plainly_aware(self.commence_time):
            _aware(self.commence_time, f"game {self.event_ticker} commence_time")
        if len(set(outcomes)) != len(outcomes) or frozenset(outcomes) not in (TWO_WAY, THREE_WAY):
            raise ValueError(f"game {self.event_ticker}: outcomes must be home/away or home/draw/away, got {outcomes}")
        for o, contract in self.kalshi.items():
            if o not in outcomes or contract.outcome != o:
                raise ValueError(f"game {self.event_ticker}: Kalshi contract {contract.ticker} keyed {o!r} "
                                 f"pays on {contract.outcome!r}; outcomes are {outcomes}")
        if self.quotes_in_table and self.quotes:
            raise ValueError(f"game {self.event_ticker}: quotes both on the line and in the scan's table")
        missing = [o for o in outcomes if o not in self.labels]
        if missing:
            raise ValueError(f"game {self.event_ticker}: no display label for outcome(s) {missing}")
        object.__setattr__(self, "screen_rows", tuple(c.screen_row for c in self.kalshi.values()))
        object.__setattr__(self, "three_way", len(outcomes) == 3)

    def label(self, outcome: Outcome) -> str:
        return self.labels[outcome]


@dataclass(frozen=True, slots=True, eq=False)
class GameColumns:
    """The per-game inputs of the screen as NumPy columns, derived once from a tuple of `GameLine`s.

    A scan builds them when it assembles its games (`services.scan.ScanGames`), so `screen` does no
    per-game Python work; `detect` builds them itself when it is not given them. Floats only: each
    contract's best asks as floats of its book's exact levels (`KalshiContract.screen_row`), and lower
    bounds of one contract's all-in cost; confirmation re-prices every survivor in Decimal on the book.
    Arrays are read-only, in slot-major layout (slot k of game g at `[k, g]`, slots = `OUTCOME_SLOTS`).
    """

    games: tuple[GameLine, ...]  # the games described, position = game index
    three_way: np.ndarray  # bool (games,)
    # Lower bound of one YES / NO contract's all-in cost, float64 (slots, games): best ask + the unrounded
    # taker fee rate × P(1−P) (an unsupported fee type screens at rate 0); inf = no contract or no ask.
    yes_cost: np.ndarray
    no_cost: np.ndarray
    quotes_on_lines: tuple[str, ...]  # event tickers of the games that carry `SportsbookQuote`s themselves
    two_way_rows: np.ndarray  # intp: the two-way games' indexes, ascending
    three_way_rows: np.ndarray  # intp: the three-way games' indexes, ascending
    # float64 (slots, games): what the screen's 1/odds grid holds where a book has no quote: inf, except 0 on
    # a two-way game's draw slot (it has no draw outcome), so a book's overround is the plain sum of its
    # three slots, infinite exactly when it misses an outcome the game has (the screen copies this per book)
    no_quote: np.ndarray
    # float64 (2, slots, games): `yes_cost` and `no_cost` stacked (they are views of it), so the screen
    # prices both sides of every contract in one operation
    costs: np.ndarray

    @classmethod
    def of(cls, games: Sequence[GameLine]) -> GameColumns:
        games = tuple(games)
        n = len(games)
        three = np.fromiter([g.three_way for g in games], dtype=bool, count=n)
        rows_per_game = [g.screen_rows for g in games]
        per_game = np.fromiter(map(len, rows_per_game), dtype=np.intp, count=n)
        flat = chain.from_iterable(chain.from_iterable(rows_per_game))
        data = np.fromiter(flat, dtype=np.float64, count=4 * int(per_game.sum())).reshape(-1, 4)
        slot = data[:, 0].astype(np.intp)
        winner = slot >= 0  # a line market's side (slot -1) has no column in the winner screen
        where = (slot * n + np.repeat(np.arange(n, dtype=np.intp), per_game))[winner]
        rate = data[winner, 1]
        costs = np.full((2, len(OUTCOME_SLOTS) * n), np.inf)
        for out, ask in zip(costs, (data[winner, 2], data[winner, 3]), strict=True):
            out[where] = np.where(np.isnan(ask), np.inf, ask + rate * ask * (1.0 - ask))
        costs = costs.reshape(2, len(OUTCOME_SLOTS), n)
        two_rows, three_rows = np.flatnonzero(~three), np.flatnonzero(three)
        no_quote = np.full((len(OUTCOME_SLOTS), n), np.inf)
        no_quote[OUTCOME_SLOTS.index(Outcome.DRAW), two_rows] = 0.0
        for array in (three, two_rows, three_rows, no_quote, costs):
            array.flags.writeable = False
        return cls(games, three, costs[0], costs[1], tuple(g.event_ticker for g in games if g.quotes),
                   two_rows, three_rows, no_quote, costs)

    def __len__(self) -> int:
        return len(self.games)

    def require_for(self, games: Sequence[GameLine]) -> GameColumns:
        """Self, if it describes exactly `games` (same games, same order); else a ValueError. The check is
        one C-level tuple comparison (identical objects compare equal without calling `__eq__`)."""
        given = games if isinstance(games, tuple) else tuple(games)
        if len(given) != len(self.games) or self.games != given:
            raise ValueError(f"GameColumns describe {len(self.games)} other games, not the {len(given)} given "
                             "(build them with GameColumns.of(games))")
        return self

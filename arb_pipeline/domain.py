"""Records that cross layer boundaries: what the connectors produce and the pure layers consume.

Pure standard library on purpose: `arb/` and `mapping/` import these, and they must never pull in
httpx, SQLAlchemy or Dagster. Money-like values (prices, counts, odds that become payouts) are
`Decimal`, parsed from the venues' own strings; floats appear only in vectorized screening, inside
`arb/`, and are always confirmed exactly.

Every record keeps the venue's own identifiers so that any number we show can be traced back to the
response it came from.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from arb_pipeline.slotted import unfrozen_twin


class Outcome(StrEnum):
    """The structural outcome of a game a contract or a bet pays on (never a team *name*).

    Game winner: home / away / draw. A line (spread or total) splits the game's result at a point:
    for a spread the quantity is the home margin, so `HOME` means "home covers" (margin above the
    point) and `AWAY` "away covers"; for a total `OVER` / `UNDER`. `PUSH` is the result landing
    exactly on a whole-number point, where sportsbooks refund the stake (see `arb.lines`).
    """

    HOME = "home"
    AWAY = "away"
    DRAW = "draw"
    OVER = "over"
    UNDER = "under"
    PUSH = "push"


SPREADS, TOTALS = "spreads", "totals"  # sportsbook market keys of the two line markets
SUPPORTED_MARKETS = ("h2h", SPREADS, TOTALS)  # the odds markets the pipeline models (ODDS_API_MARKETS)
_LINE_SIDES = {SPREADS: (Outcome.HOME, Outcome.AWAY), TOTALS: (Outcome.OVER, Outcome.UNDER)}


def line_position(market: str, outcome: str, point: Decimal) -> tuple[Outcome, Decimal]:
    """Where a sportsbook spread/total selection sits on its line: (side, point on the line's axis).

    One axis per line so that both venues' instruments compare exactly: a total's axis is the total
    score; a spread's is the **home margin** (home − away). "Home −3.5" covers when the margin is above
    3.5 → (HOME, 3.5); "Away +3.5" covers when it is below 3.5 → (AWAY, 3.5): the two sides of one
    line share its point. Over/Under t → (OVER, t) / (UNDER, t). The side above the point is HOME /
    OVER, the one below AWAY / UNDER; a result exactly on a whole-number point is a push.
    """
    sides = _LINE_SIDES.get(market)
    if sides is None:
        raise ValueError(f"market {market!r} is not a line market ({SPREADS} or {TOTALS})")
    side = Outcome(outcome)
    if side not in sides:
        raise ValueError(f"outcome {outcome!r} is not a side of a {market} line ({sides[0].value}/{sides[1].value})")
    if not isinstance(point, Decimal) or not point.is_finite():
        raise ValueError(f"{market} {outcome}: point must be a finite Decimal, got {point!r}")
    if market == SPREADS and side is Outcome.HOME:
        return side, -point if point else abs(point)  # a pick'em line is 0, never "-0"
    return side, point


def line_sides(market: str) -> tuple[Outcome, Outcome]:
    """(side above the point, side below it) of a line market: (HOME, AWAY) or (OVER, UNDER)."""
    try:
        return _LINE_SIDES[market]
    except KeyError:
        raise ValueError(f"market {market!r} is not a line market ({SPREADS} or {TOTALS})") from None


class ContractSide(StrEnum):
    """Which side of a Kalshi binary contract we hold. YES pays when the market's outcome happens."""

    YES = "yes"
    NO = "no"


@dataclass(frozen=True, slots=True)
class PriceRange:
    """One band of a Kalshi market's price grid (`price_ranges`): prices in [start, end] step `step`."""

    start: Decimal
    end: Decimal
    step: Decimal


@dataclass(frozen=True, slots=True)
class KalshiMarket:
    """One Kalshi binary market (one outcome of one game), as parsed from a `Market` object."""

    ticker: str
    event_ticker: str
    status: str  # response status: initialized/active/inactive/closed/determined/finalized/...
    market_type: str
    yes_sub_title: str
    no_sub_title: str
    rules_primary: str
    rules_secondary: str
    open_time: datetime | None
    close_time: datetime | None
    expected_expiration_time: datetime | None
    occurrence_datetime: datetime | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    no_bid: Decimal | None
    no_ask: Decimal | None
    price_level_structure: str
    price_ranges: tuple[PriceRange, ...]
    custom_strike: Mapping[str, str] | None = None
    exchange_index: int = 0
    fee_waiver_expiration_time: datetime | None = None
    title: str = ""  # deprecated by Kalshi; kept for display only, never for matching
    extra: Mapping[str, object] = field(default_factory=dict)  # unknown fields, kept verbatim


@dataclass(frozen=True, slots=True)
class KalshiEvent:
    """One Kalshi event (one game) with its nested markets."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    mutually_exclusive: bool
    collateral_return_type: str
    markets: tuple[KalshiMarket, ...]
    product_metadata: Mapping[str, object] = field(default_factory=dict)
    fee_type_override: str | None = None
    fee_multiplier_override: Decimal | None = None
    exchange_index: int = 0
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Milestone:
    """A Kalshi milestone: the scheduled start and the home/away structured targets of a game."""

    id: str
    type: str
    start_date: datetime
    title: str
    related_event_tickers: tuple[str, ...]
    primary_event_tickers: tuple[str, ...]
    details: Mapping[str, object] = field(default_factory=dict)
    end_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class StructuredTarget:
    """A Kalshi structured target (`GET /structured_targets/{id}`): the team or player a market's
    `custom_strike` and a milestone's `details.home_team_id` / `away_team_id` point to.

    Kalshi's own identity for a participant; resolution maps it to a catalogue team by its confirmed
    id, its source ids or its exact name, never by similarity.
    """

    id: str
    name: str
    type: str
    details: Mapping[str, object] = field(default_factory=dict)
    source_id: str | None = None
    source_ids: Mapping[str, str] = field(default_factory=dict)
    last_updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class SeriesFees:
    """How a series is charged (`Series.fee_type`, `Series.fee_multiplier`)."""

    series_ticker: str
    fee_type: str = "quadratic_with_maker_fees"
    fee_multiplier: Decimal = Decimal("1")


@dataclass(frozen=True, slots=True)
class OrderBookLevels:
    """A Kalshi order book exactly as sent: bids only on both sides, `(price_dollars, count)` pairs.

    `no` levels are quoted as NO prices. No sort order is assumed: `arb.book` takes the max.
    """

    ticker: str
    yes: tuple[tuple[Decimal, Decimal], ...]
    no: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    exchange_active: bool = True
    trading_active: bool = True


@dataclass(frozen=True, slots=True)
class SportsbookQuote:
    """One bookmaker's price for one outcome of one game, normalized across odds providers.

    `outcome` is structural (home/away/draw for h2h; over/under for totals; home/away for spreads)
    because names differ by provider; `outcome_name` keeps the provider's own string.
    `decimal_odds` is exact: the provider's decimal number parsed from its text, or the exact
    conversion of its American price (kept in `american_odds`).
    """

    provider: str
    bookmaker: str
    bookmaker_title: str
    sport_key: str
    league: str
    event_id: str
    home_team: str
    away_team: str
    commence_time: datetime
    market: str  # "h2h" first; "spreads" / "totals" are modelled but optional
    outcome: str  # Outcome value for h2h, or "over"/"under"
    outcome_name: str
    decimal_odds: Decimal
    last_update: datetime  # the bookmaker's own timestamp (market level, else bookmaker level)
    fetched_at: datetime  # when we received it
    point: Decimal | None = None
    american_odds: int | None = None
    max_stake: Decimal | None = None  # bet limit when the provider reports one
    # Derived once here, not on every scan: the float mirror of `decimal_odds` (for the vectorized
    # screen and de-vigging only — money is always recomputed from `decimal_odds`) and the bookmaker
    # timestamp in Unix seconds. Converting Decimal → float is the dominant per-quote cost otherwise.
    odds_f: float = field(init=False, repr=False, compare=False)
    last_update_ts: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "odds_f", odds_mirror(self.decimal_odds))
        object.__setattr__(self, "last_update_ts", update_mirror(self.last_update))


_MIRRORS: dict[object, float] = {}  # exact odds / update time → its float (a quote's derived fields)
_MIRRORS_MAX = 20_000  # bounded (a few MiB at most) for long-running processes


def _mirror(value: Decimal | datetime, convert: Callable[..., float]) -> float:
    """`convert(value)`, one shared float per distinct value: a snapshot's 114,000 quotes (5,000 games)
    carry a few hundred distinct odds and update times. Keyed by value, which is all either conversion
    depends on (1.9 and 1.90 are the same float; equal instants the same timestamp)."""
    try:
        found = _MIRRORS.get(value)
    except TypeError:  # an unhashable value (a signalling NaN): convert, which raises for it as before
        return convert(value)
    if found is None:
        if len(_MIRRORS) >= _MIRRORS_MAX:
            _MIRRORS.clear()
        found = _MIRRORS[value] = convert(value)
    return found


def odds_mirror(decimal_odds: Decimal) -> float:
    """`SportsbookQuote.odds_f` of these exact odds (the one rule; shared per distinct value)."""
    return _mirror(decimal_odds, float)


def update_mirror(last_update: datetime) -> float:
    """`SportsbookQuote.last_update_ts` of this bookmaker time: Unix seconds (shared per distinct value)."""
    return _mirror(last_update, datetime.timestamp)


# `new_quote(provider, bookmaker, bookmaker_title, sport_key, league, event_id, home_team, away_team,
# commence_time, market, outcome, outcome_name, decimal_odds, last_update, fetched_at, point, american_odds,
# max_stake, odds_f, last_update_ts) -> SportsbookQuote`: the quote of these fields, built without the
# dataclass' `__init__`/`__post_init__`, for a normalizer building ~100,000 quotes from values it has
# already checked. The frozen dataclass' constructor (one `object.__setattr__` per field, then
# `__post_init__`) was ~2.3 µs a quote, a third of normalizing an odds response; this is ~0.6 µs. The caller
# passes the two derived fields, which MUST be `odds_mirror(decimal_odds)` and `update_mirror(last_update)`
# (a normalizer computes them once per distinct price and update time). The result is indistinguishable
# from `SportsbookQuote(...)` of the same fields: same class, every slot equal (tests compare them all).
# The class itself, not a function calling it: one call less per quote.
# (`unfrozen_twin`: every slot stored, then the class swap, which CPython allows only between identical layouts.)
new_quote: Callable[..., SportsbookQuote] = unfrozen_twin(  # type: ignore[assignment]
    SportsbookQuote, ("provider", "bookmaker", "bookmaker_title", "sport_key", "league", "event_id", "home_team",
                      "away_team", "commence_time", "market", "outcome", "outcome_name", "decimal_odds",
                      "last_update", "fetched_at", "point", "american_odds", "max_stake", "odds_f",
                      "last_update_ts"))


QUOTE_MARKETS: tuple[str, ...] = ("h2h", "spreads", "totals")  # `QuoteColumns.market` codes
QUOTE_OUTCOMES: tuple[str, ...] = ("home", "away", "draw", "over", "under")  # `QuoteColumns.outcome` codes
_OUTCOME_CODE = {name: code for code, name in enumerate(QUOTE_OUTCOMES)}
_MARKET_CODE = {name: code for code, name in enumerate(QUOTE_MARKETS)}


@dataclass(slots=True, eq=False)
class QuoteColumns:
    """Every sportsbook quote of a snapshot column-wise, as the odds parser returns them.

    Row i is `MarketSnapshot.quotes[i]`. Detection reads these columns (`services.scan` turns the h2h
    rows of matched games into the screen's `QuoteTable` with array operations), so a scan never walks
    quote objects to find its input. Line markets keep their market code and `point`, so spreads and
    totals can be selected the same way. Event ids and bookmaker keys are stored once (`events`,
    `bookmakers`) and referenced by index. `odds` and `updated` are float mirrors for the screen only;
    `exact` holds each quote's exact decimal odds, which every decision is confirmed with.
    """

    events: list[str] = field(default_factory=list)
    bookmakers: list[str] = field(default_factory=list)
    event: array = field(default_factory=lambda: array("i"))  # index into `events`
    book: array = field(default_factory=lambda: array("i"))  # index into `bookmakers`
    market: array = field(default_factory=lambda: array("b"))  # index into QUOTE_MARKETS
    outcome: array = field(default_factory=lambda: array("b"))  # index into QUOTE_OUTCOMES
    point: list[Decimal | None] = field(default_factory=list)
    odds: array = field(default_factory=lambda: array("d"))  # float mirror of `exact` (screen only)
    updated: array = field(default_factory=lambda: array("d"))  # bookmaker's last_update, Unix seconds
    exact: list[Decimal] = field(default_factory=list)
    max_stake: list[Decimal | None] = field(default_factory=list)
    event_index: dict[str, int] = field(default_factory=dict, repr=False)
    book_index: dict[str, int] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.exact)

    def append(self, quote: SportsbookQuote) -> None:
        """Add one quote (its market and outcome must be modelled: QUOTE_MARKETS × QUOTE_OUTCOMES)."""
        self.extend((quote,))

    def extend(self, quotes: Iterable[SportsbookQuote]) -> None:
        """Add quotes in order, one comprehension per column (no Python statement per quote)."""
        quotes = quotes if isinstance(quotes, list | tuple) else list(quotes)
        event_ids = [q.event_id for q in quotes]
        bookmakers = [q.bookmaker for q in quotes]
        for event_id in dict.fromkeys(event_ids):
            self._index(self.event_index, self.events, event_id)
        for bookmaker in dict.fromkeys(bookmakers):
            self._index(self.book_index, self.bookmakers, bookmaker)
        try:
            markets = [_MARKET_CODE[q.market] for q in quotes]
            outcomes = [_OUTCOME_CODE[q.outcome] for q in quotes]
        except KeyError as exc:
            raise ValueError(f"QuoteColumns: market/outcome {exc.args[0]!r} is not modelled "
                             f"({QUOTE_MARKETS} × {QUOTE_OUTCOMES})") from None
        self.event.extend(map(self.event_index.__getitem__, event_ids))
        self.book.extend(map(self.book_index.__getitem__, bookmakers))
        self.market.extend(markets)
        self.outcome.extend(outcomes)
        self.point.extend([q.point for q in quotes])
        self.odds.extend([q.odds_f for q in quotes])
        self.updated.extend([q.last_update_ts for q in quotes])
        self.exact.extend([q.decimal_odds for q in quotes])
        self.max_stake.extend([q.max_stake for q in quotes])

    def extend_columns(self, other: QuoteColumns) -> None:
        """Append another parse's rows (e.g. the next sport's odds file) after these, re-indexing its
        events and bookmakers into this table's."""
        events = array("i", (self._index(self.event_index, self.events, e) for e in other.events))
        books = array("i", (self._index(self.book_index, self.bookmakers, b) for b in other.bookmakers))
        self.event.extend(map(events.__getitem__, other.event))
        self.book.extend(map(books.__getitem__, other.book))
        self.market.extend(other.market)
        self.outcome.extend(other.outcome)
        self.point.extend(other.point)
        self.odds.extend(other.odds)
        self.updated.extend(other.updated)
        self.exact.extend(other.exact)
        self.max_stake.extend(other.max_stake)

    @staticmethod
    def _index(index: dict[str, int], names: list[str], name: str) -> int:
        found = index.get(name)
        if found is None:
            found = index[name] = len(names)
            names.append(name)
        return found

    @classmethod
    def from_quotes(cls, quotes: Iterable[SportsbookQuote]) -> QuoteColumns:
        columns = cls()
        columns.extend(quotes)
        return columns


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Everything one scan looks at, captured together: the unit of replay and of backfills."""

    captured_at: datetime
    events: tuple[KalshiEvent, ...]
    milestones: tuple[Milestone, ...]
    orderbooks: Mapping[str, OrderBookLevels]
    quotes: tuple[SportsbookQuote, ...]
    series_fees: Mapping[str, SeriesFees] = field(default_factory=dict)
    exchange: ExchangeStatus = field(default_factory=ExchangeStatus)
    books_captured_at: datetime | None = None  # when the order books were fetched (else captured_at)
    source: str = ""  # where it came from: a directory, "simulator", "kalshi+the-odds-api", ...
    structured_targets: Mapping[str, StructuredTarget] = field(default_factory=dict)  # by target id
    # `quotes` column-wise as the odds parser emitted them (row i = quotes[i]); None when the snapshot
    # was built from quote objects alone (then `quote_columns_of` derives them once).
    quote_columns: QuoteColumns | None = field(default=None, repr=False, compare=False)

    @property
    def markets(self) -> tuple[KalshiMarket, ...]:
        return tuple(m for e in self.events for m in e.markets)

"""The scan use-case: snapshot → resolved markets → fair probabilities → opportunities.

One implementation for every caller — the CLI (`scan`, `resolve`), the Dagster assets and the
headless runner — so a rule lives in one place. Each stage is its own function because the Dagster
graph materializes them as separate assets, each with its contract checked before the next runs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter, is_
from pathlib import Path

from arb_pipeline.arb.accounts import in_consensus
from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.book_batch import books_from_levels
from arb_pipeline.arb.consensus_table import table_consensus
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.game_batch import THREE_WAY_OUTCOMES, TWO_WAY_OUTCOMES, winner_game
from arb_pipeline.arb.implied_prob import consensus_fair_probabilities
from arb_pipeline.arb.line_detect import detect_lines
from arb_pipeline.arb.line_game import LineGame
from arb_pipeline.arb.market import GameColumns, GameLine, KalshiContract
from arb_pipeline.arb.opportunity import detect
from arb_pipeline.arb.quotes import QuoteTable
from arb_pipeline.arb.results import ARBITRAGE, DetectionResult
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.connectors.snapshot import EVENTS_FILE, ORDERBOOKS_FILE, SERIES_FILE
from arb_pipeline.domain import (
    QUOTE_MARKETS,
    QUOTE_OUTCOMES,
    SPREADS,
    TOTALS,
    ContractSide,
    KalshiEvent,
    KalshiMarket,
    MarketSnapshot,
    Outcome,
    QuoteColumns,
    SeriesFees,
    SportsbookQuote,
    line_position,
    line_sides,
)
from arb_pipeline.gcpause import gc_paused
from arb_pipeline.mapping.lines import STRIKE_FIELDS
from arb_pipeline.mapping.manual_overrides import Override, load_overrides
from arb_pipeline.mapping.results import Resolution, ResolvedLine, ResolvedMarket
from arb_pipeline.mapping.rules import ResolverConfig
from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)
SAMPLE_SNAPSHOT_DIR = Path(__file__).resolve().parents[1] / "data" / "sample_snapshot"
H2H_OUTCOMES = frozenset({Outcome.HOME.value, Outcome.AWAY.value, Outcome.DRAW.value})
# the unmapped Kalshi fields (`extra`) a scan reads - a line market's strike (`mapping.lines`); a snapshot
# directory loaded for a scan keeps only these (`connectors.snapshot.read_snapshot(keep_extra=...)`)
SCAN_EXTRA_FIELDS = STRIKE_FIELDS
DEFAULT_FEES = SeriesFees(series_ticker="", fee_type="quadratic_with_maker_fees", fee_multiplier=Decimal("1"))


@dataclass(frozen=True)
class ScanConfig:
    """Everything a scan needs besides its data, built once from the settings."""

    limits: Limits = field(default_factory=Limits)
    sizing: SizingPolicy = field(default_factory=SizingPolicy)
    resolver: ResolverConfig = field(default_factory=ResolverConfig)
    overrides_path: Path | None = None  # None: mapping_overrides.yaml at the repository root
    extra_overrides: tuple[Override, ...] = ()  # e.g. overrides stored in the database
    default_fees: SeriesFees = DEFAULT_FEES  # when a snapshot carries no series and no event override

    @classmethod
    def from_settings(cls, settings: Settings, *, extra_overrides: Sequence[Override] = ()) -> ScanConfig:
        limits = Limits(
            min_arb_profit=settings.min_profit,
            min_arb_roi_bps=Decimal(settings.min_edge_bps),
            min_value_edge_bps=Decimal(settings.min_value_edge_bps),
            max_edge_bps=Decimal(settings.max_edge_bps),
            max_kalshi_age_s=settings.max_kalshi_quote_age_s,
            max_sportsbook_age_s=settings.max_book_quote_age_s,
            pregame_buffer_s=settings.pregame_buffer_s,
            devig_method=settings.devig_method,
            consensus_min_books=settings.min_books,
            book_weights=settings.sharp_book_weights(),
            account_books=settings.account_book_set(),
            consensus_books=settings.consensus_book_set(),
            trade_value=settings.trade_value,
        )
        sizing = SizingPolicy(
            bankroll=settings.bankroll,
            bankroll_fraction=Decimal(str(settings.max_bankroll_fraction)),
            max_per_event=settings.max_stake_per_event,
            max_per_market=settings.max_stake_per_market,
            max_total_exposure=settings.max_total_exposure,
            max_sportsbook_stake=settings.sportsbook_stake_limit,
            kelly_multiplier=settings.kelly_fraction,
            book_stake_limits=settings.book_stake_limit_map(),
            book_commission=settings.book_commission_rates(),
        )
        return cls(
            limits=limits,
            sizing=sizing,
            overrides_path=settings.overrides_path,
            extra_overrides=tuple(extra_overrides),
        )


@dataclass(frozen=True)
class FairLine:
    """One outcome of one matched game: the books' de-vigged consensus next to Kalshi's prices.

    This is the `implied_probabilities` stage. Edges are floats for display and screening only;
    detection recomputes everything exactly. A spread/total market's row has its `market`
    ("spreads"/"totals") and `point` (on the line's axis, `domain.line_position`); its fair
    probability is the consensus of its YES side at exactly that point (on a whole-number line the
    books' numbers exclude the push: see `arb.line_detect`).
    """

    event_ticker: str
    league: str
    outcome: Outcome
    label: str
    kalshi_market: str
    method: str
    fair_probability: float | None
    books_used: tuple[str, ...]
    booksum_min: float | None
    booksum_max: float | None
    yes_ask: Decimal | None
    no_ask: Decimal | None
    reason: str | None  # why there is no fair probability (too few books, ...)
    market: str = "h2h"  # "h2h" | "spreads" | "totals"
    point: Decimal | None = None  # a line's point on its axis; None for h2h

    @property
    def yes_edge_bps(self) -> float | None:
        if self.fair_probability is None or self.yes_ask is None:
            return None
        return (self.fair_probability - float(self.yes_ask)) * 10_000

    @property
    def no_edge_bps(self) -> float | None:
        if self.fair_probability is None or self.no_ask is None:
            return None
        return ((1 - self.fair_probability) - float(self.no_ask)) * 10_000


class _WinnerFairLine:
    """`FairLine(...)` of a winner game's outcome (market "h2h", no point) without the frozen dataclass'
    `__init__` (one `object.__setattr__` per field, ~2 µs; a 5,000-game scan prices 11,000 outcomes): plain
    attribute stores, then the object becomes the `FairLine` it describes (`__class__` assignment, as
    `domain.new_quote`). Every field of `FairLine` is stored, in its order: a test compares `vars()`."""

    def __init__(self, event_ticker, league, outcome, label, kalshi_market, method, fair_probability, books_used,
                 booksum_min, booksum_max, yes_ask, no_ask, reason) -> None:
        self.event_ticker = event_ticker
        self.league = league
        self.outcome = outcome
        self.label = label
        self.kalshi_market = kalshi_market
        self.method = method
        self.fair_probability = fair_probability
        self.books_used = books_used
        self.booksum_min = booksum_min
        self.booksum_max = booksum_max
        self.yes_ask = yes_ask
        self.no_ask = no_ask
        self.reason = reason
        self.market = "h2h"
        self.point = None
        self.__class__ = FairLine  # type: ignore[assignment]  # from here on it is frozen


class ScanGames(tuple):
    """A scan's `GameLine`s (a tuple) with their h2h quotes as one `QuoteTable` (`quotes`), row game i =
    position i. Built by `build_games` from the parser's columns; `price_games` and
    `detect_opportunities` read the table. Each line has `quotes_in_table`, so handing the lines on
    without the table fails loudly instead of pricing them with no quotes."""

    quotes: QuoteTable
    # the spread/total lines (`LineGame`, one per Kalshi event, line market and point) ride along:
    # `price_games` and `detect_opportunities` take them with the winners, so every caller (the
    # Dagster stages, the CLI, the headless runner) trades lines with no code of its own
    lines: tuple[LineGame, ...]

    # the games' Kalshi side as the screen's columns, derived once here (the games are immutable), so
    # detection does no per-game Python work on a scan's games
    columns: GameColumns

    def __new__(cls, games: Sequence[GameLine], quotes: QuoteTable, lines: Sequence[LineGame] = (),
                columns: GameColumns | None = None) -> ScanGames:
        if quotes.n_games != len(games):
            raise ValueError(f"QuoteTable covers {quotes.n_games} games, not {len(games)}")
        self = super().__new__(cls, games)
        self.quotes = quotes
        self.lines = tuple(lines)
        self.columns = GameColumns.of(self) if columns is None else columns.require_for(self)
        return self

    def __reduce__(self):  # pickled by Dagster's IO managers
        return (ScanGames, (tuple(self), self.quotes, self.lines))


def _quote_table(games: Sequence[GameLine]) -> QuoteTable | None:
    return getattr(games, "quotes", None) if isinstance(games, ScanGames) else None


def _game_columns(games: Sequence[GameLine]) -> GameColumns | None:
    return games.columns if isinstance(games, ScanGames) else None


@dataclass(frozen=True)
class GameAssembly:
    """The games detection can look at, and every resolved event that could not become one (why).

    `games` are the winner games (`GameLine`); from `build_games` a `ScanGames` that also carries the
    spread/total lines (`lines`, `ScanGames.lines`)."""

    games: tuple[GameLine, ...]
    problems: Mapping[str, str]  # Kalshi event ticker (a line: its market tickers) → reason

    @property
    def winners(self) -> tuple[GameLine, ...]:
        return tuple(self.games)

    @property
    def lines(self) -> tuple[LineGame, ...]:
        return tuple(getattr(self.games, "lines", ()))

    @property
    def quotes(self) -> QuoteTable | None:
        """The games' h2h quotes column-wise (`ScanGames.quotes`), None when the lines carry them."""
        return _quote_table(self.games)


def quote_columns_of(snapshot: MarketSnapshot) -> QuoteColumns:
    """The snapshot's quotes column-wise: the parser's own columns when they still describe exactly
    `snapshot.quotes` (same rows, same exact odds objects), else derived once from the quote objects
    (a snapshot built or filtered in code)."""
    columns = snapshot.quote_columns
    quotes = snapshot.quotes
    if columns is not None and len(columns) == len(quotes) and all(
            map(is_, columns.exact, map(attrgetter("decimal_odds"), quotes))):
        return columns
    return QuoteColumns.from_quotes(q for q in quotes if q.market in QUOTE_MARKETS and q.outcome in QUOTE_OUTCOMES)


@dataclass(frozen=True)
class ScanResult:
    snapshot: MarketSnapshot
    as_of: datetime
    resolution: Resolution
    assembly: GameAssembly
    fair: tuple[FairLine, ...]
    detection: DetectionResult

    @property
    def games(self) -> tuple[GameLine, ...]:
        return self.assembly.games


# --- stages --------------------------------------------------------------------------------------


def as_of_or_now(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError(f"as_of must be timezone-aware, got {as_of!r}")
    return as_of


def overrides_for(config: ScanConfig) -> tuple[Override, ...]:
    """Overrides from the YAML file plus any supplied by the database; read on every scan so a fix
    made with `arb-pipeline mapping …` takes effect on the next one."""
    return (*load_overrides(config.overrides_path), *config.extra_overrides)


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def resolve_snapshot(snapshot: MarketSnapshot, config: ScanConfig, as_of: datetime | None = None) -> Resolution:
    return _resolve_snapshot(snapshot, config, as_of_or_now(as_of), quote_columns_of(snapshot))


def _resolve_snapshot(snapshot: MarketSnapshot, config: ScanConfig, as_of: datetime,
                      columns: QuoteColumns) -> Resolution:
    """`resolve_snapshot` with the snapshot's `quote_columns_of` already at hand (`scan` reads them once)."""
    from arb_pipeline.mapping.resolver import resolve

    return resolve(
        snapshot.events,
        snapshot.milestones,
        snapshot.quotes,
        as_of=as_of,
        overrides=overrides_for(config),
        config=config.resolver,
        targets=snapshot.structured_targets,
        columns=_row_for_row(columns, snapshot),
    )


def _row_for_row(columns: QuoteColumns, snapshot: MarketSnapshot) -> QuoteColumns | None:
    """`columns` when row i is `snapshot.quotes[i]` (not when unmodelled quotes were left out of them)."""
    return columns if len(columns) == len(snapshot.quotes) else None


def fees_for(event: KalshiEvent, snapshot: MarketSnapshot, config: ScanConfig) -> SeriesFees:
    """Event override beats the series' own fee type and multiplier, which beat the configured default."""
    base = snapshot.series_fees.get(event.series_ticker) or config.default_fees  # (a SeriesFees is always true)
    return SeriesFees(
        event.series_ticker,
        event.fee_type_override or base.fee_type,
        event.fee_multiplier_override if event.fee_multiplier_override is not None else base.fee_multiplier,
    )


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def build_games(snapshot: MarketSnapshot, resolution: Resolution, config: ScanConfig) -> GameAssembly:
    """Winner games (`GameLine`) from the resolved rows, with the spread/total lines (`LineGame`) from the
    resolved lines riding along (`ScanGames.lines`). Anything that cannot become one is reported."""
    return _build_games(snapshot, resolution, config, quote_columns_of(snapshot))


def _build_games(snapshot: MarketSnapshot, resolution: Resolution, config: ScanConfig,
                 columns: QuoteColumns) -> GameAssembly:
    """`build_games` with the snapshot's `quote_columns_of` already at hand (`scan` reads them once)."""
    books = _books(snapshot, resolution)
    winners = _build_winner_games(snapshot, resolution, config, books, columns)
    lines, line_problems = build_line_games(snapshot, resolution.lines, config, books)
    games = winners.games
    return GameAssembly(ScanGames(tuple(games), games.quotes, lines, games.columns),
                        {**winners.problems, **line_problems})


def _books(snapshot: MarketSnapshot, resolution: Resolution) -> Mapping[str, OrderBook]:
    """The order books of the resolved markets, built together (`arb.book.books_from_levels`); a book
    missing from it is built, or refused with its error, by `OrderBook.from_levels` (`_book`)."""
    captured = snapshot.orderbooks
    wanted = {r.kalshi_market for r in resolution.rows} | {r.kalshi_market for r in resolution.lines}
    return books_from_levels({t: captured[t] for t in wanted if t in captured})


def _build_winner_games(snapshot: MarketSnapshot, resolution: Resolution, config: ScanConfig,
                        books: Mapping[str, OrderBook] | None = None,
                        columns: QuoteColumns | None = None) -> GameAssembly:
    """Turn resolved rows into `GameLine`s: a game needs every outcome's Kalshi market mapped to the
    same sportsbook event and an order book for each. Anything else is reported, never guessed."""
    events = {e.event_ticker: e for e in snapshot.events}
    markets = {m.ticker: m for m in snapshot.markets}
    rows_by_event: dict[str, list[ResolvedMarket]] = defaultdict(list)
    for row in resolution.rows:
        rows_by_event[row.kalshi_event].append(row)
    quote_time = snapshot.books_captured_at or snapshot.captured_at
    orderbooks = snapshot.orderbooks
    schedules: dict[tuple[str, str | None, int], SeriesFees] = {}  # the events are alive: their ids are theirs

    games: list[GameLine] = []
    book_events: list[str] = []  # per game: the sportsbook event whose h2h quotes it uses
    problems: dict[str, str] = {}
    for event_ticker, rows in rows_by_event.items():
        event = events.get(event_ticker)
        if event is None:
            problems[event_ticker] = "resolved rows name an event that is not in the snapshot"
            continue
        game_ids = {r.sportsbook_event_id for r in rows}
        if len(game_ids) != 1:
            problems[event_ticker] = f"markets resolved to different sportsbook games {sorted(game_ids)}"
            continue
        by_outcome: dict[Outcome, ResolvedMarket] = {}
        duplicate = False
        for r in rows:
            duplicate |= r.outcome in by_outcome
            by_outcome[r.outcome] = r
        if duplicate:
            problems[event_ticker] = "two markets of the event back the same outcome"
            continue
        wanted = THREE_WAY_OUTCOMES if Outcome.DRAW in by_outcome or len(event.markets) == 3 else TWO_WAY_OUTCOMES
        missing = [o.value for o in wanted if o not in by_outcome]
        if missing:
            problems[event_ticker] = f"no resolved market for outcome(s) {missing}"
            continue
        chosen = [by_outcome[o] for o in wanted]
        no_book = [r.kalshi_market for r in chosen if r.kalshi_market not in orderbooks]
        if no_book:
            problems[event_ticker] = f"no order book captured for {no_book}"
            continue
        # one SeriesFees per distinct schedule (by the override's very object), shared by its games
        schedule = (event.series_ticker, event.fee_type_override, id(event.fee_multiplier_override))
        fees = schedules.get(schedule)
        if fees is None:
            fees = schedules[schedule] = fees_for(event, snapshot, config)
        first = chosen[0]
        guards = tuple(dict.fromkeys(g for r in chosen for g in r.guards)) if any(r.guards for r in chosen) else ()
        game = _winner_game(event_ticker, first, wanted, chosen, markets, books, fees, quote_time, guards)
        if game is not None:  # the constructors' checks proven for the game (`arb.game_batch`)
            games.append(game)
            book_events.append(first.sportsbook_event_id)
            continue
        contracts = {}
        try:
            for o in wanted:
                row = by_outcome[o]
                market = markets[row.kalshi_market]
                contracts[o] = KalshiContract(
                    ticker=market.ticker,
                    outcome=o,
                    label=row.team_name,
                    book=_book(snapshot, event, market.ticker, books),
                    fees=fees,
                    price_ranges=market.price_ranges,
                    status=market.status,
                    quote_time=quote_time,
                )
        except BadMarketInput as exc:  # one bad book or fee schedule skips its game, never the whole scan
            problems[event_ticker] = str(exc)
            log.warning("%s", exc)
            continue
        except ValueError as exc:  # KalshiContract refused the fee schedule (unknown or unsupported fee_type)
            source = EVENTS_FILE if event.fee_type_override else SERIES_FILE
            problems[event_ticker] = (f"{_file(snapshot, source)}: series {event.series_ticker}: fee_type "
                                      f"{fees.fee_type!r}: {exc}; game skipped")
            log.warning("%s", problems[event_ticker])
            continue
        games.append(
            GameLine(
                event_ticker=event_ticker,
                league=first.league,
                commence_time=first.start_time,
                outcomes=wanted,
                labels={o: by_outcome[o].team_name for o in wanted},
                kalshi=contracts,
                tradable=not guards,
                blocked_reasons=guards,
                quotes_in_table=True,
            )
        )
        book_events.append(first.sportsbook_event_id)
    table = QuoteTable.for_games(quote_columns_of(snapshot) if columns is None else columns, games, book_events)
    return GameAssembly(ScanGames(games, table), problems)


def _winner_game(event_ticker: str, first: ResolvedMarket, wanted: tuple[Outcome, ...], chosen: list[ResolvedMarket],
                 markets: Mapping[str, KalshiMarket], books: Mapping[str, OrderBook] | None, fees: SeriesFees,
                 quote_time: datetime, guards: tuple[str, ...]) -> GameLine | None:
    """The game the per-object code below builds, by `arb.game_batch.winner_game`, when every market and
    its book are at hand (`books`); None: build it (or report why not) the per-object way."""
    if books is None:
        return None
    found = []
    for row in chosen:
        market = markets.get(row.kalshi_market)
        if market is None:
            return None
        book = books.get(market.ticker)
        if book is None:
            return None
        found.append((market.ticker, book, market.price_ranges, market.status))
    return winner_game(event_ticker, first.league, first.start_time, wanted, [r.team_name for r in chosen],
                       found, fees, quote_time, guards)


def side_label(line: ResolvedLine, side: Outcome, point: Decimal) -> str:
    """How a trader (and a sportsbook) names one side of a line: "Boston Celtics -3.5", "Under 221.5".

    `point` is on the line's axis (the home margin for a spread): the home side is quoted at −point,
    the away side at +point, both of a total at the point itself."""
    if line.book_market == TOTALS:
        return f"{side.value.capitalize()} {point}"
    team, quoted = (line.home_team, -point) if side is Outcome.HOME else (line.away_team, point)
    return f"{team} {quoted:+}" if quoted else f"{team} 0"


def line_quotes_at(quotes: Sequence[SportsbookQuote], market: str, point: Decimal) -> tuple[SportsbookQuote, ...]:
    """The books' quotes of `market` at exactly `point` on the line's axis (another point is another bet)."""
    out = []
    for q in quotes:
        if q.market != market or q.point is None:
            continue
        try:
            _, at = line_position(q.market, q.outcome, q.point)
        except ValueError:
            continue  # not a side of this line (normalization reports malformed outcomes itself)
        if at == point:
            out.append(q)
    return tuple(out)


def build_line_games(snapshot: MarketSnapshot, lines: Sequence[ResolvedLine], config: ScanConfig,
                     books: Mapping[str, OrderBook] | None = None) -> tuple[tuple[LineGame, ...], dict[str, str]]:
    """One `LineGame` per (Kalshi event, line market, point) of the resolved spread/total markets,
    with the books' quotes of the same sportsbook game at exactly that point.

    A line whose markets name different sportsbook games, two markets on one side of it, a missing
    order book or an unusable fee schedule skips that line (keyed by its Kalshi market tickers) and
    nothing else. A line no book quotes at this point is kept (untradable, as resolution flagged it:
    the implied-probabilities stage shows it without a fair probability).
    """
    if not lines:  # nothing to build: no walk over every event, market and quote
        return (), {}
    events = {e.event_ticker: e for e in snapshot.events}
    markets = {m.ticker: m for m in snapshot.markets}
    quotes_by_game: dict[str, list[SportsbookQuote]] = defaultdict(list)
    for q in snapshot.quotes:
        if q.market in (SPREADS, TOTALS):
            quotes_by_game[q.event_id].append(q)
    quote_time = snapshot.books_captured_at or snapshot.captured_at
    groups: dict[tuple[str, str, Decimal], list[ResolvedLine]] = defaultdict(list)
    for line in lines:
        groups[(line.kalshi_event, line.book_market, line.point)].append(line)
    games: list[LineGame] = []
    problems: dict[str, str] = {}
    for (event_ticker, book_market, point), rows in groups.items():
        key = ",".join(sorted(r.kalshi_market for r in rows))
        where = f"{event_ticker} {book_market} at {point}"
        event = events.get(event_ticker)
        if event is None:
            problems[key] = f"{where}: resolved lines name an event that is not in the snapshot"
            continue
        game_ids = {r.sportsbook_event_id for r in rows}
        if len(game_ids) != 1:
            problems[key] = f"{where}: markets resolved to different sportsbook games {sorted(game_ids)}"
            continue
        sides = [r.yes_outcome for r in rows]
        if len(set(sides)) != len(sides):
            problems[key] = f"{where}: two markets back the same side ({sorted(s.value for s in sides)})"
            continue
        no_book = [r.kalshi_market for r in rows if r.kalshi_market not in snapshot.orderbooks]
        if no_book:
            problems[key] = f"{where}: no order book captured for {no_book}"
            continue
        fees = fees_for(event, snapshot, config)
        first = rows[0]
        labels = {side: side_label(first, side, point) for side in line_sides(book_market)}
        try:
            contracts = {r.yes_outcome: KalshiContract(
                ticker=r.kalshi_market, outcome=r.yes_outcome, label=labels[r.yes_outcome],
                book=_book(snapshot, event, r.kalshi_market, books), fees=fees,
                price_ranges=markets[r.kalshi_market].price_ranges, status=markets[r.kalshi_market].status,
                quote_time=quote_time) for r in rows}
            guards = tuple(dict.fromkeys(g for r in rows for g in r.guards))
            games.append(LineGame(
                event_ticker=event_ticker, league=first.league, commence_time=first.start_time,
                market=book_market, point=point, labels=labels, kalshi=contracts,
                quotes=line_quotes_at(quotes_by_game.get(first.sportsbook_event_id, ()), book_market, point),
                tradable=not guards, blocked_reasons=guards))
        except BadMarketInput as exc:
            problems[key] = str(exc)
            log.warning("%s", exc)
        except ValueError as exc:  # an unusable fee schedule, or a line the maths refuses (quarter point)
            problems[key] = f"{where}: {exc}; line skipped"
            log.warning("%s", problems[key])
    return tuple(games), problems


class BadMarketInput(ValueError):
    """A market's captured input cannot be used (e.g. a malformed order book); the message names where."""


def _file(snapshot: MarketSnapshot, name: str) -> str:
    return f"{name} of {snapshot.source or 'the capture'}"


def _book(snapshot: MarketSnapshot, event: KalshiEvent, ticker: str,
          books: Mapping[str, OrderBook] | None = None) -> OrderBook:
    """The market's book: built already in `books`, else from its levels (a bad book: `BadMarketInput`)."""
    book = books.get(ticker) if books is not None else None
    if book is not None:
        return book
    try:
        return OrderBook.from_levels(snapshot.orderbooks[ticker])
    except ValueError as exc:
        raise BadMarketInput(f"{_file(snapshot, ORDERBOOKS_FILE)}: series {event.series_ticker}: market {ticker}: "
                             f"{exc}; game skipped") from None


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def price_games(games: Sequence[GameLine], config: ScanConfig) -> tuple[FairLine, ...]:
    """De-vig every book's line of every game and take the weighted consensus (the pricing stage)."""
    lines: list[FairLine] = []
    table = _quote_table(games)
    if table is None:
        table = QuoteTable.from_games(games)  # raises for lines whose quotes live in a table not given
    limits = config.limits
    method = limits.devig_method
    per_game = table_consensus(table, games, method, limits.book_weights, limits.consensus_min_books,
                               limits.consensus_books)
    for game, consensus in zip(games, per_game, strict=True):
        fair = consensus.fair
        for i, o in enumerate(game.outcomes):
            contract = game.kalshi[o]
            book = contract.book
            lines.append(_WinnerFairLine(  # = FairLine(<the same fields by name>)
                game.event_ticker,
                game.league,
                o,
                game.labels[o],
                contract.ticker,
                method,
                fair[i] if fair else None,
                consensus.books_used,
                consensus.booksum_min,
                consensus.booksum_max,
                book.yes_asks[0].price if book.yes_asks else None,  # = book.best_ask(YES)
                book.no_asks[0].price if book.no_asks else None,
                None if fair else consensus.reason,
            ))
    for line_game in getattr(games, "lines", ()):
        lines.extend(_price_line(line_game, config))
    return tuple(lines)


def _price_line(game: LineGame, config: ScanConfig) -> list[FairLine]:
    """The consensus of a line at its point: each book's latest price of both sides, de-vigged.

    On a whole-number line the books refund the push, so the de-vigged numbers are probabilities
    given no push; the method says so (detection prices only the bets that bound is safe for)."""
    latest: dict[tuple[str, Outcome], SportsbookQuote] = {}
    for q in game.quotes:
        if not in_consensus(q.bookmaker, config.limits.consensus_books):
            continue
        side, _ = line_position(q.market, q.outcome, q.point)  # type: ignore[arg-type]
        kept = latest.get((q.bookmaker, side))
        if kept is None or q.last_update > kept.last_update:
            latest[(q.bookmaker, side)] = q
    books = sorted({b for b, _ in latest})
    per_book = {b: [float(latest[(b, s)].decimal_odds) if (b, s) in latest else None for s in game.sides]
                for b in books}
    consensus = consensus_fair_probabilities(
        per_book, method=config.limits.devig_method, weights=config.limits.book_weights,
        min_books=config.limits.consensus_min_books) if per_book else None
    booksums = list(consensus.booksums.values()) if consensus else []
    method = config.limits.devig_method + (" (given no push)" if game.whole else "")
    out = []
    for side, contract in game.kalshi.items():
        fair = consensus.fair[game.sides.index(side)] if consensus and consensus.fair else None
        out.append(FairLine(
            event_ticker=game.event_ticker, league=game.league, outcome=side, label=game.label(side),
            kalshi_market=contract.ticker, method=method, fair_probability=fair,
            books_used=consensus.books_used if consensus else (),
            booksum_min=min(booksums) if booksums else None, booksum_max=max(booksums) if booksums else None,
            yes_ask=contract.book.best_ask(ContractSide.YES), no_ask=contract.book.best_ask(ContractSide.NO),
            reason=None if fair is not None else (
                consensus.insufficient if consensus else f"no sportsbook {game.market} quote at {game.point}"),
            market=game.market, point=game.point))
    return out


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def detect_opportunities(
    games: Sequence[GameLine], config: ScanConfig, as_of: datetime | None = None, *, trading_active: bool = True
) -> DetectionResult:
    """Detection over `games`; `build_games`' `ScanGames` hand their parsed quote columns straight in, and
    their spread/total lines (`ScanGames.lines`) go through `arb.line_detect.detect_lines`: one result,
    arbitrage first, then by profit; line statistics under `line_*` keys."""
    when = as_of_or_now(as_of)
    result = detect(
        games, config.limits, config.sizing, as_of=when, exchange_trading_active=trading_active,
        quotes=_quote_table(games), columns=_game_columns(games),
    )
    lines = getattr(games, "lines", ())
    if not lines:
        return result
    found = detect_lines(lines, config.limits, config.sizing, as_of=when, exchange_trading_active=trading_active)
    opportunities = sorted((*result.opportunities, *found.opportunities),
                           key=lambda o: (o.kind != ARBITRAGE, -o.profit))
    stats = {**result.stats, **{f"line_{k}": v for k, v in found.stats.items()},
             "opportunities": len(opportunities), "rejected": len(result.rejected) + len(found.rejected)}
    return DetectionResult(tuple(opportunities), (*result.rejected, *found.rejected), stats)


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def scan(snapshot: MarketSnapshot, config: ScanConfig, as_of: datetime | None = None) -> ScanResult:
    """Run every stage over one snapshot. `as_of` defaults to now (staleness and game start)."""
    when = as_of_or_now(as_of)
    columns = quote_columns_of(snapshot)  # once: resolve and build both read them (a walk of every quote)
    resolution = _resolve_snapshot(snapshot, config, when, columns)
    assembly = _build_games(snapshot, resolution, config, columns)
    fair = price_games(assembly.games, config)
    detection = detect_opportunities(assembly.games, config, when, trading_active=snapshot.exchange.trading_active)
    return ScanResult(snapshot, when, resolution, assembly, fair, detection)


CAPTURE_TIME_NOTE = "the snapshot's capture time; --as-of TIME judges it at another moment"
GIVEN_TIME_NOTE = "given by --as-of"


@gc_paused  # load and every stage in one pause: see arb_pipeline.gcpause
def scan_directory(path: Path, config: ScanConfig, as_of: datetime | None = None) -> ScanResult:
    """Scan a recorded snapshot directory at `as_of`, by default at its own capture time.

    A recording judged "now" is all stale quotes and started games: zero opportunities that say
    nothing about the recording. Replays (Dagster's history, `run --source sample`) use the capture
    time too, so the CLI shows what they see.
    """
    from arb_pipeline.connectors.snapshot import load_snapshot

    snapshot = load_snapshot(path, keep_extra=SCAN_EXTRA_FIELDS)  # the result's snapshot: what the scan reads
    return scan(snapshot, config, as_of or snapshot.captured_at)


@gc_paused  # load and every stage in one pause: see arb_pipeline.gcpause
def resolve_directory(path: Path, config: ScanConfig, as_of: datetime | None = None) -> tuple[Resolution, datetime]:
    """Resolve a recorded snapshot directory at `as_of`, by default at its capture time (see `scan_directory`)."""
    from arb_pipeline.connectors.snapshot import load_snapshot

    snapshot = load_snapshot(path, keep_extra=SCAN_EXTRA_FIELDS)
    when = as_of_or_now(as_of or snapshot.captured_at)
    return resolve_snapshot(snapshot, config, when), when

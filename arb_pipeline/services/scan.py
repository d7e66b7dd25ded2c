"""The scan use-case: snapshot → resolved markets → fair probabilities → opportunities.

One implementation for every caller — the CLI (`scan`, `resolve`), the Dagster assets and the
headless runner — so a rule lives in one place. Each stage is its own function because the Dagster
graph materializes them as separate assets with a contract check between them.
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
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.implied_prob import consensus_fair_probabilities
from arb_pipeline.arb.market import OUTCOME_SLOTS, GameLine, KalshiContract
from arb_pipeline.arb.opportunity import detect
from arb_pipeline.arb.quotes import QuoteTable
from arb_pipeline.arb.results import DetectionResult
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.connectors.snapshot import EVENTS_FILE, ORDERBOOKS_FILE, SERIES_FILE
from arb_pipeline.domain import (
    QUOTE_MARKETS,
    QUOTE_OUTCOMES,
    ContractSide,
    KalshiEvent,
    MarketSnapshot,
    Outcome,
    QuoteColumns,
    SeriesFees,
)
from arb_pipeline.gcpause import gc_paused
from arb_pipeline.mapping.manual_overrides import Override, load_overrides
from arb_pipeline.mapping.results import Resolution, ResolvedMarket
from arb_pipeline.mapping.rules import ResolverConfig
from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)
SAMPLE_SNAPSHOT_DIR = Path(__file__).resolve().parents[1] / "data" / "sample_snapshot"
H2H_OUTCOMES = frozenset({Outcome.HOME.value, Outcome.AWAY.value, Outcome.DRAW.value})
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
    detection recomputes everything exactly.
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


class ScanGames(tuple):
    """A scan's `GameLine`s (a tuple) with their h2h quotes as one `QuoteTable` (`quotes`), row game i =
    position i. Built by `build_games` from the parser's columns; `price_games` and
    `detect_opportunities` read the table. Each line has `quotes_in_table`, so handing the lines on
    without the table fails loudly instead of pricing them with no quotes."""

    quotes: QuoteTable

    def __new__(cls, games: Sequence[GameLine], quotes: QuoteTable) -> ScanGames:
        if quotes.n_games != len(games):
            raise ValueError(f"QuoteTable covers {quotes.n_games} games, not {len(games)}")
        self = super().__new__(cls, games)
        self.quotes = quotes
        return self

    def __reduce__(self):  # pickled by Dagster's IO managers
        return (ScanGames, (tuple(self), self.quotes))


def _quote_table(games: Sequence[GameLine]) -> QuoteTable | None:
    return getattr(games, "quotes", None) if isinstance(games, ScanGames) else None


@dataclass(frozen=True)
class GameAssembly:
    """The games detection can look at, and every resolved event that could not become one (why)."""

    games: tuple[GameLine, ...]
    problems: Mapping[str, str]  # Kalshi event ticker → reason

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
    from arb_pipeline.mapping.resolver import resolve

    return resolve(
        snapshot.events,
        snapshot.milestones,
        snapshot.quotes,
        as_of=as_of_or_now(as_of),
        overrides=overrides_for(config),
        config=config.resolver,
        targets=snapshot.structured_targets,
    )


def fees_for(event: KalshiEvent, snapshot: MarketSnapshot, config: ScanConfig) -> SeriesFees:
    """Event override beats the series' own fee type and multiplier, which beat the configured default."""
    base = snapshot.series_fees.get(event.series_ticker) or SeriesFees(
        event.series_ticker, config.default_fees.fee_type, config.default_fees.fee_multiplier
    )
    return SeriesFees(
        event.series_ticker,
        event.fee_type_override or base.fee_type,
        event.fee_multiplier_override if event.fee_multiplier_override is not None else base.fee_multiplier,
    )


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def build_games(snapshot: MarketSnapshot, resolution: Resolution, config: ScanConfig) -> GameAssembly:
    """Turn resolved rows into `GameLine`s: a game needs every outcome's Kalshi market mapped to the
    same sportsbook event and an order book for each. Anything else is reported, never guessed."""
    events = {e.event_ticker: e for e in snapshot.events}
    markets = {m.ticker: m for m in snapshot.markets}
    rows_by_event: dict[str, list[ResolvedMarket]] = defaultdict(list)
    for row in resolution.rows:
        rows_by_event[row.kalshi_event].append(row)
    quote_time = snapshot.books_captured_at or snapshot.captured_at

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
        wanted = (Outcome.HOME, Outcome.DRAW, Outcome.AWAY) if Outcome.DRAW in by_outcome or len(
            event.markets) == 3 else (Outcome.HOME, Outcome.AWAY)
        missing = [o.value for o in wanted if o not in by_outcome]
        if missing:
            problems[event_ticker] = f"no resolved market for outcome(s) {missing}"
            continue
        no_book = [by_outcome[o].kalshi_market for o in wanted if by_outcome[o].kalshi_market not in snapshot.orderbooks]
        if no_book:
            problems[event_ticker] = f"no order book captured for {no_book}"
            continue
        fees = fees_for(event, snapshot, config)
        contracts = {}
        try:
            for o in wanted:
                row = by_outcome[o]
                market = markets[row.kalshi_market]
                contracts[o] = KalshiContract(
                    ticker=market.ticker,
                    outcome=o,
                    label=row.team_name,
                    book=_book(snapshot, event, market.ticker),
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
        first = by_outcome[wanted[0]]
        guards = tuple(dict.fromkeys(g for o in wanted for g in by_outcome[o].guards))
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
    table = QuoteTable.for_games(quote_columns_of(snapshot), games, book_events)
    return GameAssembly(ScanGames(games, table), problems)


class BadMarketInput(ValueError):
    """A market's captured input cannot be used (e.g. a malformed order book); the message names where."""


def _file(snapshot: MarketSnapshot, name: str) -> str:
    return f"{name} of {snapshot.source or 'the capture'}"


def _book(snapshot: MarketSnapshot, event: KalshiEvent, ticker: str) -> OrderBook:
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
    offsets = table.offsets.tolist()
    slots, books, odds = table.outcome.tolist(), table.book.tolist(), table.odds.tolist()
    names = table.bookmakers
    for g, game in enumerate(games):
        # screen slot (home 0, away 1, draw 2) → position in game.outcomes
        position = {o: i for i, o in enumerate(game.outcomes)}
        index = [position.get(o) for o in OUTCOME_SLOTS]
        per_book: dict[str, list[float | None]] = {}
        for r in range(offsets[g], offsets[g + 1]):
            name = names[books[r]]
            if not in_consensus(name, config.limits.consensus_books):
                continue
            line = per_book.setdefault(name, [None] * len(game.outcomes))
            slot = index[slots[r]]
            if slot is not None:
                line[slot] = odds[r]
        consensus = consensus_fair_probabilities(
            per_book,
            method=config.limits.devig_method,
            weights=config.limits.book_weights,
            min_books=config.limits.consensus_min_books,
        ) if per_book else None
        booksums = list(consensus.booksums.values()) if consensus else []
        for o in game.outcomes:
            contract = game.kalshi[o]
            fair = consensus.fair[position[o]] if consensus and consensus.fair else None
            lines.append(
                FairLine(
                    event_ticker=game.event_ticker,
                    league=game.league,
                    outcome=o,
                    label=game.labels[o],
                    kalshi_market=contract.ticker,
                    method=config.limits.devig_method,
                    fair_probability=fair,
                    books_used=consensus.books_used if consensus else (),
                    booksum_min=min(booksums) if booksums else None,
                    booksum_max=max(booksums) if booksums else None,
                    yes_ask=contract.book.best_ask(ContractSide.YES),
                    no_ask=contract.book.best_ask(ContractSide.NO),
                    reason=None if fair is not None else (consensus.insufficient if consensus else "no quotes"),
                )
            )
    return tuple(lines)


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def detect_opportunities(
    games: Sequence[GameLine], config: ScanConfig, as_of: datetime | None = None, *, trading_active: bool = True
) -> DetectionResult:
    """Detection over `games`; `build_games`' `ScanGames` hand their parsed quote columns straight in."""
    return detect(
        games, config.limits, config.sizing, as_of=as_of_or_now(as_of), exchange_trading_active=trading_active,
        quotes=_quote_table(games),
    )


@gc_paused  # allocation-heavy stage: see arb_pipeline.gcpause
def scan(snapshot: MarketSnapshot, config: ScanConfig, as_of: datetime | None = None) -> ScanResult:
    """Run every stage over one snapshot. `as_of` defaults to now (staleness and game start)."""
    when = as_of_or_now(as_of)
    resolution = resolve_snapshot(snapshot, config, when)
    assembly = build_games(snapshot, resolution, config)
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

    snapshot = load_snapshot(path)
    return scan(snapshot, config, as_of or snapshot.captured_at)


@gc_paused  # load and every stage in one pause: see arb_pipeline.gcpause
def resolve_directory(path: Path, config: ScanConfig, as_of: datetime | None = None) -> tuple[Resolution, datetime]:
    """Resolve a recorded snapshot directory at `as_of`, by default at its capture time (see `scan_directory`)."""
    from arb_pipeline.connectors.snapshot import load_snapshot

    snapshot = load_snapshot(path)
    when = as_of_or_now(as_of or snapshot.captured_at)
    return resolve_snapshot(snapshot, config, when), when

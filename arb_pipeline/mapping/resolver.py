"""Resolve each Kalshi game market to one sportsbook game and what its YES side backs.

Why this shape: every Kalshi market ends up in exactly one place — a `ResolvedMarket` row (winner
markets), a `ResolvedLine` row (spread and total markets) or an `Unresolved` item with the reason —
so nothing is silently dropped. A row is produced only when Kalshi's identifiers (the event's
milestone start and home/away structured targets, each market's `custom_strike` target) establish
the league, BOTH teams and the start time, and a sportsbook game agrees on all three (UTC, within a
tolerance), or a human override says so. Ticker codes, `yes_sub_title` and `rules_primary` are
cross-checks that can only block. Markets are mapped to outcomes by their own team, never by the
order they arrive in. Guards then decide tradability.

Linear time: sportsbook games are indexed by (league, team pair) and start time, so 10,000 markets
against 10,000 games resolve in a fraction of a second.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from arb_pipeline.domain import (
    SPREADS,
    TOTALS,
    KalshiEvent,
    KalshiMarket,
    Milestone,
    Outcome,
    QuoteColumns,
    SportsbookQuote,
    StructuredTarget,
)
from arb_pipeline.mapping.catalogue import GAME, TOTAL, Catalogue, LeagueCatalogue, load_catalogue
from arb_pipeline.mapping.common_event import CommonEvents
from arb_pipeline.mapping.guards import GuardContext, flag_duplicate_lines, flag_duplicates
from arb_pipeline.mapping.lines import LineSide, line_market_side
from arb_pipeline.mapping.manual_overrides import Override, OverrideAction, OverrideSet
from arb_pipeline.mapping.quote_rows import QuoteRows
from arb_pipeline.mapping.results import (
    MatchMethod,
    Resolution,
    ResolvedLine,
    ResolvedMarket,
    Unresolved,
    UnresolvedKind,
)
from arb_pipeline.mapping.rules import (
    MarketSide,
    Participants,
    ResolverConfig,
    RuleError,
    TeamLookup,
    market_side,
    participants,
    require_aware,
    rules_date,
    ticker_date_matches,
    ticker_start,
    zone,
)
from arb_pipeline.mapping.sportsbook import GameIndex, SportsbookGame, group_games
from arb_pipeline.mapping.tickers import EventTicker, TickerError, parse_event_ticker, split_team_codes
from arb_pipeline.slotted import fast_init

_TIME_CHANGED = "start time changed/postponed"


class _Unmatched(RuleError):
    """A rule failure that carries the candidates considered (with scores)."""

    def __init__(self, reason: str, candidates: Sequence[Mapping[str, object]] = ()) -> None:
        super().__init__(reason)
        self.candidates = tuple(candidates)


@fast_init
@dataclass(frozen=True, slots=True)
class _Match:
    game: SportsbookGame
    method: MatchMethod
    confidence: float
    guards: tuple[str, ...] = ()
    time_changed: bool = False  # matched despite a start-time disagreement: yields to an on-time match


@dataclass(slots=True)
class _Scan:
    catalogue: Catalogue
    overrides: OverrideSet
    config: ResolverConfig
    index: GameIndex
    lookups: dict[str, TeamLookup]
    milestones: dict[str, list[Milestone]]
    guard: GuardContext
    rows: list[ResolvedMarket] = field(default_factory=list)
    weak_rows: set[int] = field(default_factory=set)
    lines: list[ResolvedLine] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    common: CommonEvents | None = None  # the fast path of the common event (None: general path only)

    def miss(self, kind: UnresolvedKind, item_id: str, reason: str, candidates: Sequence[Mapping[str, object]] = ()) -> None:
        self.unresolved.append(Unresolved(kind, item_id, reason, tuple(candidates)))

    # -- events -------------------------------------------------------------------------------------
    def event(self, event: KalshiEvent) -> None:
        if self.common is not None:
            rows = self.common.rows(event)
            if rows is not None:  # the common event: the rows the general path below would append
                self.rows.extend(rows)
                return
        found = self.catalogue.market_series(event.series_ticker)
        kind = found[1] if found else GAME
        pending: list[KalshiMarket] = []
        for market in event.markets:
            o = self.overrides.by_market.get(market.ticker)
            if o is not None and o.action is OverrideAction.FORCE and kind != GAME:
                self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"override ({o.describe()}) forces an "
                          "outcome, but this is a spread/total market: only REJECT/CONFIRM apply")
            elif o is not None and o.action is OverrideAction.FORCE:
                self.forced(event, market, o)
            elif o is not None and o.action is OverrideAction.REJECT and o.sportsbook_event_id is None:
                self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"rejected by override ({o.describe()})")
            else:
                pending.append(market)
        if not pending:
            return
        eo = self.overrides.by_event.get(event.event_ticker)
        if eo is not None and eo.action is OverrideAction.REJECT and eo.sportsbook_event_id is None:
            self.fail(event, pending, _Unmatched(f"rejected by override ({eo.describe()})"))
            return
        if found is None:
            self.fail(event, pending, _Unmatched(
                f"series {event.series_ticker!r} is not a game-winner, spread or total series in the catalogue"))
            return
        league = found[0]
        lookup = self.lookups[league.code]
        try:
            parts = participants(event.event_ticker, self.milestones, lookup, self.config)
            ticker = self.ticker_cross_check(event, league, parts)
        except RuleError as exc:
            self.fail(event, pending, exc)
            return
        sides: list[MarketSide | LineSide] = []
        for market in pending:
            try:
                if kind == GAME:
                    sides.append(market_side(market, event.event_ticker, ticker, parts, lookup))
                else:
                    sides.append(line_market_side(market, kind, parts, lookup, self.config, event.event_ticker,
                                                  ticker.game_date if ticker else None))
            except RuleError as exc:
                self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, str(exc))
        if not sides:
            return
        try:
            match = self.match(ticker, league, parts, [s.market for s in sides], eo)
        except RuleError as exc:
            self.fail(event, [s.market for s in sides], exc)
            return
        for side in sides:
            if isinstance(side, LineSide):
                self.mapped_line(event, side, match, parts)
            else:
                self.mapped(event, side, match, parts)

    def fail(self, event: KalshiEvent, markets: Sequence[KalshiMarket], exc: RuleError) -> None:
        candidates = getattr(exc, "candidates", ())
        self.miss(UnresolvedKind.KALSHI_EVENT, event.event_ticker, str(exc), candidates)
        for market in markets:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"event {event.event_ticker} unresolved: {exc}")

    def ticker_cross_check(self, event: KalshiEvent, league: LeagueCatalogue,
                           parts: Participants) -> EventTicker | None:
        """The parsed event ticker when it follows the observed grammar (else None: it cannot speak).

        It can only block: a ticker of another series, or whose codes split into two known teams
        other than the milestone's, means Kalshi's own data disagrees with itself.
        """
        try:
            ticker = parse_event_ticker(event.event_ticker)
        except TickerError:
            return None
        if ticker.series != event.series_ticker:
            raise _Unmatched(f"event ticker {event.event_ticker} is not in series {event.series_ticker}")
        pair = split_team_codes(ticker.team_blob, league)
        if pair is not None and pair != parts.pair:
            raise _Unmatched(f"ticker teams {sorted(pair)} are not the milestone's teams "
                             f"{parts.home.id}/{parts.away.id} ({parts.milestone.id})")
        return ticker

    # -- matching -----------------------------------------------------------------------------------
    def match(self, ticker: EventTicker | None, league: LeagueCatalogue, parts: Participants,
              markets: Sequence[KalshiMarket], eo: Override | None) -> _Match:
        if eo is not None and eo.action in (OverrideAction.CONFIRM, OverrideAction.FORCE) and eo.sportsbook_event_id:
            found = self.override_match(eo, league, parts.pair)
        else:
            rejected = {eo.sportsbook_event_id} if eo is not None and eo.action is OverrideAction.REJECT else set()
            found = self.rule_match(league, parts, rejected)
        checks = self.cross_checks(ticker, found.game, parts, markets)
        time_changed = found.time_changed or any(g.startswith(_TIME_CHANGED) for g in checks)
        return _Match(found.game, found.method, found.confidence, found.guards + checks, time_changed)

    def override_match(self, o: Override, league: LeagueCatalogue, pair: frozenset[str]) -> _Match:
        game = self.index.by_id.get(o.sportsbook_event_id or "")
        if game is None:
            raise _Unmatched(f"override ({o.describe()}) names sportsbook event {o.sportsbook_event_id} "
                             "which has no h2h quotes in this scan")
        if game.league.code != league.code or game.pair != pair:
            raise _Unmatched(f"override ({o.describe()}): sportsbook event {game.event_id} teams "
                             f"{game.home_id}/{game.away_id} are not the Kalshi teams {sorted(pair)}", [game.candidate()])
        return _Match(game, MatchMethod.OVERRIDE, 1.0)

    def rule_match(self, league: LeagueCatalogue, parts: Participants, rejected: set[str | None]) -> _Match:
        cfg, start = self.config, parts.start
        nearby = [g for g in self.index.pair_window(league.code, parts.pair, start, cfg.postponed_window)
                  if g.event_id not in rejected]
        within = [g for g in nearby if abs(g.commence_time - start) <= cfg.start_tolerance]
        if len(within) > 1:  # a doubleheader: each game is the one starting at its own time
            tight = [g for g in within if abs(g.commence_time - start) <= cfg.tight_tolerance]
            within = tight if len(tight) == 1 else within
        if len(within) > 1:
            providers = sorted({g.provider for g in within})
            hint = f" (from providers {providers}: resolve one provider at a time)" if len(providers) > 1 else ""
            raise _Unmatched(f"duplicate mapping: matches {len(within)} sportsbook events "
                             f"{[g.event_id for g in within]}; all excluded{hint}", [g.candidate() for g in within])
        if within:
            return _Match(within[0], MatchMethod.RULE, 1.0)
        if len(nearby) == 1:
            game = nearby[0]
            return _Match(game, MatchMethod.RULE, 0.5, (
                f"{_TIME_CHANGED}: Kalshi milestone start {start.isoformat()} vs sportsbook commence "
                f"{game.commence_time.isoformat()}; same teams, outside the {cfg.start_tolerance} tolerance",), True)
        if nearby:
            raise _Unmatched(f"{_TIME_CHANGED}: no game within {cfg.start_tolerance} but "
                             f"{len(nearby)} games of the same teams nearby", [g.candidate() for g in nearby])
        return self.fuzzy_match(league, parts, rejected)

    def fuzzy_match(self, league: LeagueCatalogue, parts: Participants, rejected: set[str | None]) -> _Match:
        window = [g for g in self.index.proposed_window(league.code, parts.start, self.config.start_tolerance)
                  if g.event_id not in rejected]
        proposals = [g for g in window if g.pair == parts.pair]
        if len(proposals) == 1:
            game = proposals[0]
            names = "; ".join(f"{p.name!r} ~ {p.team_id} (score {p.score})"
                              for p in (game.home_proposal, game.away_proposal) if p)
            return _Match(game, MatchMethod.FUZZY_PROPOSED, round(game.fuzzy_score() / 100.0, 4), (
                f"unconfirmed fuzzy proposal: {names}; confirm with `arb-pipeline mapping confirm`",))
        reason = (f"ambiguous: {len(proposals)} fuzzy proposals" if proposals
                  else f"no sportsbook event for {parts.home.id} (home) v {parts.away.id} (away) at "
                       f"{parts.start.isoformat()}")
        raise _Unmatched(reason, [g.candidate() for g in (proposals or window)])

    def cross_checks(self, ticker: EventTicker | None, game: SportsbookGame, parts: Participants,
                     markets: Sequence[KalshiMarket]) -> tuple[str, ...]:
        """Disagreements that make a match untradable without undoing it (the date and time Kalshi's
        texts were written with vs the sportsbook's start; a home/away swap at a non-neutral site)."""
        cfg, guards = self.config, []
        if ticker is not None and not ticker_date_matches(ticker, game.commence_time, cfg):
            guards.append(f"{_TIME_CHANGED}: ticker date {ticker.game_date} is not the sportsbook "
                          f"start date ({game.commence_time.isoformat()}) in {', '.join(cfg.ticker_time_zones)}")
        written = ticker_start(ticker, cfg) if ticker is not None else None
        if written is not None and abs(written - game.commence_time) > cfg.start_tolerance:
            guards.append(f"{_TIME_CHANGED}: ticker start {written.isoformat()} vs sportsbook "
                          f"{game.commence_time.isoformat()}")
        if ticker is None:
            local = {game.commence_time.astimezone(zone(z)).date() for z in cfg.ticker_time_zones}
            for written_date in sorted({d for m in markets if (d := rules_date(m)) is not None}):
                if written_date not in local:
                    guards.append(f"{_TIME_CHANGED}: rules_primary date {written_date} is not the sportsbook "
                                  f"start date ({game.commence_time.isoformat()})")
        if not parts.neutral and (parts.home.id, parts.away.id) == (game.away_id, game.home_id):
            guards.append(f"home/away swapped between Kalshi milestone (home {parts.home.id}) and "
                          f"sportsbook (home {game.home_id}); not a declared neutral site")
        return tuple(guards)

    # -- rows ---------------------------------------------------------------------------------------
    def mapped(self, event: KalshiEvent, side: MarketSide, match: _Match, parts: Participants) -> None:
        market, pair, kalshi_start = side.market, parts.pair, parts.start
        o = self.overrides.by_market.get(market.ticker)
        if o is not None and o.action is OverrideAction.REJECT and o.sportsbook_event_id == match.game.event_id:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"rejected by override ({o.describe()})")
            return
        if o is not None and o.action is OverrideAction.CONFIRM and o.sportsbook_event_id:
            try:
                match = self.override_match(o, match.game.league, pair)
            except _Unmatched as exc:
                self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, str(exc), exc.candidates)
                return
        game = match.game
        if side.team is None:
            outcome, team_id, name = Outcome.DRAW, None, "Draw"
        elif side.team.id in (game.home_id, game.away_id):
            outcome = Outcome.HOME if side.team.id == game.home_id else Outcome.AWAY
            team_id, name = side.team.id, side.team.full_name
        else:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker,
                      f"team {side.team.id} is not in sportsbook event {game.event_id}", [game.candidate()])
            return
        self.emit(event.event_ticker, market, game, outcome, team_id, name, match, kalshi_start)

    def mapped_line(self, event: KalshiEvent, side: LineSide, match: _Match, parts: Participants) -> None:
        market = side.market
        o = self.overrides.by_market.get(market.ticker)
        if o is not None and o.action is OverrideAction.REJECT and o.sportsbook_event_id == match.game.event_id:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"rejected by override ({o.describe()})")
            return
        if o is not None and o.action is OverrideAction.CONFIRM and o.sportsbook_event_id:
            try:
                match = self.override_match(o, match.game.league, parts.pair)
            except _Unmatched as exc:
                self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, str(exc), exc.candidates)
                return
        game = match.game
        if side.subject is not None and side.subject.id not in (game.home_id, game.away_id):
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker,
                      f"team {side.subject.id} is not in sportsbook event {game.event_id}", [game.candidate()])
            return
        yes_outcome, point = side.position(game.home_id)
        book_market = TOTALS if side.kind == TOTAL else SPREADS
        if book_market == TOTALS:
            book_outcome, book_point, label = "over", side.strike, f"Over {side.strike}"
        else:
            book_outcome = yes_outcome.value
            book_point = -side.strike if side.strike else side.strike
            name = game.home_team if yes_outcome is Outcome.HOME else game.away_team
            label = f"{name} {book_point:+}" if book_point else f"{name} 0"
        guards, price, fair = self.guard.check_line(market, game, book_market, yes_outcome, point, parts.start)
        all_guards = (*match.guards, *guards)
        self.lines.append(ResolvedLine(
            kalshi_market=market.ticker, kalshi_event=event.event_ticker, league=game.league.code,
            sportsbook_event_id=game.event_id, sport_key=game.sport_key, kind=side.kind, strike=side.strike,
            team_id=side.subject.id if side.subject else None, yes_outcome=yes_outcome, point=point,
            book_market=book_market, yes_book_outcome=book_outcome, yes_book_point=book_point, label=label,
            home_team=game.home_team, away_team=game.away_team, method=match.method, confidence=match.confidence,
            start_time=game.commence_time, kalshi_start=parts.start, tradable=not all_guards, guards=all_guards,
            yes_price=price, fair_probability=fair))

    def forced(self, event: KalshiEvent, market: KalshiMarket, o: Override) -> None:
        game = self.index.by_id.get(o.sportsbook_event_id or "")
        if game is None:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"override ({o.describe()}) names sportsbook "
                      f"event {o.sportsbook_event_id} which has no h2h quotes in this scan")
            return
        if o.outcome is Outcome.DRAW and not game.league.three_way:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"override ({o.describe()}) forces a draw in "
                      f"two-way league {game.league.code}")
            return
        team_id = {Outcome.HOME: game.home_id, Outcome.AWAY: game.away_id}.get(o.outcome)  # type: ignore[arg-type]
        name = {Outcome.HOME: game.home_team, Outcome.AWAY: game.away_team}.get(o.outcome, "Draw")  # type: ignore[arg-type]
        match = _Match(game, MatchMethod.OVERRIDE, 1.0)
        self.emit(event.event_ticker, market, game, o.outcome, team_id, name, match, None)  # type: ignore[arg-type]

    def emit(self, event_ticker: str, market: KalshiMarket, game: SportsbookGame, outcome: Outcome,
             team_id: str | None, name: str, match: _Match, kalshi_start: datetime | None) -> None:
        guards, price, fair = self.guard.check(market, game, outcome, kalshi_start)
        all_guards = (*match.guards, *guards)
        if match.time_changed:
            self.weak_rows.add(len(self.rows))
        self.rows.append(ResolvedMarket(
            kalshi_market=market.ticker, kalshi_event=event_ticker, league=game.league.code,
            sportsbook_event_id=game.event_id, sport_key=game.sport_key, outcome=outcome, team_id=team_id,
            team_name=name, home_team=game.home_team, away_team=game.away_team, method=match.method,
            confidence=match.confidence, start_time=game.commence_time, kalshi_start=kalshi_start,
            tradable=not all_guards, guards=all_guards, yes_price=price, fair_probability=fair))


def resolve(
    events: Sequence[KalshiEvent],
    milestones: Sequence[Milestone],
    quotes: Sequence[SportsbookQuote],
    *,
    as_of: datetime,
    catalogue: Catalogue | None = None,
    overrides: Sequence[Override] | OverrideSet = (),
    config: ResolverConfig = ResolverConfig(),
    prices: Mapping[str, Decimal] | None = None,
    targets: Mapping[str, StructuredTarget] | None = None,
    common_fast_path: bool = True,
    columns: QuoteColumns | None = None,
) -> Resolution:
    """Map every Kalshi market to (sportsbook event, outcome or line) or explain why not.

    `targets` are the structured targets (by id) the events' milestones and `custom_strike`s name —
    fetched by the connector (`GET /structured_targets`), passed in: this module does no I/O.
    `as_of` (aware) is the scan time for the "started" guard; `prices` optionally supplies the Kalshi
    YES price per market ticker for the orientation guard (default: mid of yes_bid/yes_ask).
    Winner markets use h2h quotes, spread/total markets the books' lines at the same point.
    Overrides win over rules. `common_fast_path=False` resolves every event by the general path (the
    same `Resolution`: the tests hold `mapping.common_event` to it). `columns`, when given, must describe
    `quotes` row for row (the odds parser's `QuoteColumns`): the quotes are then grouped into games and
    the guard's consensus read from them with array operations (`mapping.quote_rows`) — the same
    `Resolution`.
    """
    require_aware(as_of, "as_of")
    with _gc_paused():
        return _resolve(events, milestones, quotes, as_of, catalogue, overrides, config, prices or {}, targets or {},
                        common_fast_path, columns)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC during one scan (re-enabled after, even on error).

    Why: a scan allocates ~100k short-lived, acyclic objects; generational collections triggered by
    those allocations cost about a third of the run time (measured). Nothing here creates cycles, so
    pausing loses nothing, and the pause lasts one scan.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _resolve(events: Sequence[KalshiEvent], milestones: Sequence[Milestone], quotes: Sequence[SportsbookQuote],
             as_of: datetime, catalogue: Catalogue | None, overrides: Sequence[Override] | OverrideSet,
             config: ResolverConfig, prices: Mapping[str, Decimal],
             targets: Mapping[str, StructuredTarget], common_fast_path: bool,
             columns: QuoteColumns | None = None) -> Resolution:
    catalogue = catalogue if catalogue is not None else load_catalogue()
    override_set = overrides if isinstance(overrides, OverrideSet) else OverrideSet(overrides)
    lookups = {code: TeamLookup(lg, override_set.aliases, targets) for code, lg in catalogue.leagues.items()}
    rows = QuoteRows(quotes, columns) if columns is not None else None
    games, problems = group_games(quotes, catalogue, lookups, config, rows)
    by_event: dict[str, list[Milestone]] = defaultdict(list)
    for m in milestones:
        for ticker in {*m.primary_event_tickers, *m.related_event_tickers}:
            by_event[ticker].append(m)
    index, milestones_by_event, guard = GameIndex(games), dict(by_event), GuardContext(as_of, config, prices)
    common = (CommonEvents(catalogue, override_set, config, index, lookups, milestones_by_event, guard)
              if common_fast_path else None)
    scan = _Scan(catalogue, override_set, config, index, lookups, milestones_by_event, guard,
                 unresolved=list(problems), common=common)
    scan.guard.prime([g for g in games if g.pair is not None], rows)  # the only games a market can match
    del rows  # (its arrays are done with: not held through the rest of the scan, the memory peak)
    seen_events: set[str] = set()
    seen_markets: set[str] = set()
    for event in events:
        if event.event_ticker in seen_events:
            scan.miss(UnresolvedKind.KALSHI_EVENT, event.event_ticker, "duplicate event ticker in input; first kept")
            continue
        seen_events.add(event.event_ticker)
        tickers = [m.ticker for m in event.markets]
        if seen_markets.isdisjoint(tickers):  # the usual case: every market is new
            seen_markets.update(tickers)
            scan.event(event)
            continue
        fresh = tuple(m for m in event.markets if m.ticker not in seen_markets)
        seen_markets.update(m.ticker for m in fresh)
        scan.event(event if len(fresh) == len(event.markets) else _with_markets(event, fresh))
    return Resolution(tuple(flag_duplicates(scan.rows, scan.weak_rows)), tuple(scan.unresolved),
                      tuple(flag_duplicate_lines(scan.lines)))


def _with_markets(event: KalshiEvent, markets: tuple[KalshiMarket, ...]) -> KalshiEvent:
    return replace(event, markets=markets)

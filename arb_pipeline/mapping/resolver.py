"""Resolve each Kalshi game market to one sportsbook game and the outcome its YES side backs.

Why this shape: every Kalshi market ends up in exactly one place, either a `ResolvedMarket` row or an
`Unresolved` item with the reason, so nothing is silently dropped. A row is produced only when the
league, BOTH teams (by catalogue identity) and the start time (UTC, within a tolerance) agree, or a
human override says so. Markets are mapped to outcomes by their own team (ticker code + yes_sub_title
+ rules_primary), never by the order they arrive in. Guards then decide tradability.

Linear time: sportsbook games are indexed by (league, team pair) and start time, so 10,000 markets
against 10,000 games resolve in a fraction of a second.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from arb_pipeline.domain import KalshiEvent, KalshiMarket, Milestone, Outcome, SportsbookQuote
from arb_pipeline.mapping.catalogue import Catalogue, LeagueCatalogue, load_catalogue
from arb_pipeline.mapping.guards import GuardContext, flag_duplicates
from arb_pipeline.mapping.manual_overrides import Override, OverrideAction, OverrideSet
from arb_pipeline.mapping.results import MatchMethod, Resolution, ResolvedMarket, Unresolved, UnresolvedKind
from arb_pipeline.mapping.rules import (
    MarketSide,
    ResolverConfig,
    RuleError,
    TeamLookup,
    market_side,
    milestone_for,
    milestone_home_away,
    require_aware,
    ticker_date_matches,
    ticker_start,
    zone,
)
from arb_pipeline.mapping.sportsbook import GameIndex, SportsbookGame, group_games
from arb_pipeline.mapping.tickers import EventTicker, TickerError, parse_event_ticker, split_team_codes

_HALF_DAY = timedelta(hours=12)
_TIME_CHANGED = "start time changed/postponed"


class _Unmatched(RuleError):
    """A rule failure that carries the candidates considered (with scores)."""

    def __init__(self, reason: str, candidates: Sequence[Mapping[str, object]] = ()) -> None:
        super().__init__(reason)
        self.candidates = tuple(candidates)


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
    unresolved: list[Unresolved] = field(default_factory=list)

    def miss(self, kind: UnresolvedKind, item_id: str, reason: str, candidates: Sequence[Mapping[str, object]] = ()) -> None:
        self.unresolved.append(Unresolved(kind, item_id, reason, tuple(candidates)))

    # -- events -------------------------------------------------------------------------------------
    def event(self, event: KalshiEvent) -> None:
        pending: list[KalshiMarket] = []
        for market in event.markets:
            o = self.overrides.by_market.get(market.ticker)
            if o is not None and o.action is OverrideAction.FORCE:
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
        try:
            league, ticker = self.league_and_ticker(event)
        except RuleError as exc:
            self.fail(event, pending, exc)
            return
        lookup = self.lookups[league.code]
        sides: list[MarketSide] = []
        for market in pending:
            try:
                sides.append(market_side(market, ticker, lookup))
            except RuleError as exc:
                self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, str(exc))
        if not sides:
            return
        try:
            pair, kalshi_start, milestone_teams = self.event_facts(event, ticker, league, lookup, sides)
            match = self.match(event, ticker, league, pair, kalshi_start, milestone_teams, eo)
        except RuleError as exc:
            self.fail(event, [s.market for s in sides], exc)
            return
        for side in sides:
            self.mapped(event, side, match, pair, kalshi_start)

    def fail(self, event: KalshiEvent, markets: Sequence[KalshiMarket], exc: RuleError) -> None:
        candidates = getattr(exc, "candidates", ())
        self.miss(UnresolvedKind.KALSHI_EVENT, event.event_ticker, str(exc), candidates)
        for market in markets:
            self.miss(UnresolvedKind.KALSHI_MARKET, market.ticker, f"event {event.event_ticker} unresolved: {exc}")

    def league_and_ticker(self, event: KalshiEvent) -> tuple[LeagueCatalogue, EventTicker]:
        league = self.catalogue.by_series(event.series_ticker)
        if league is None:
            raise _Unmatched(f"series {event.series_ticker!r} is not a game-winner series in the catalogue")
        try:
            ticker = parse_event_ticker(event.event_ticker)
        except TickerError as exc:
            raise _Unmatched(str(exc)) from None
        if ticker.series != event.series_ticker:
            raise _Unmatched(f"event ticker {event.event_ticker} is not in series {event.series_ticker}")
        return league, ticker

    def event_facts(self, event: KalshiEvent, ticker: EventTicker, league: LeagueCatalogue, lookup: TeamLookup,
                    sides: Sequence[MarketSide]) -> tuple[frozenset[str], datetime | None, tuple[str, str] | None]:
        """The event's team pair (ticker codes ⊇ market teams ⊆ milestone teams) and its start."""
        pair = split_team_codes(ticker.team_blob, league)
        if pair is None:
            raise _Unmatched(f"ticker teams {ticker.team_blob!r} do not split into two known {league.code} codes")
        side_ids = {s.team.id for s in sides if s.team is not None}
        if not side_ids <= pair:
            raise _Unmatched(f"market teams {sorted(side_ids)} are not the ticker teams {sorted(pair)}")
        milestone = self.milestone(event.event_ticker)
        milestone_teams = None
        kalshi_start = ticker_start(ticker, self.config)
        if milestone is not None:
            kalshi_start = require_aware(milestone.start_date, f"milestone {milestone.id} start_date").astimezone(UTC)
            home, away = milestone_home_away(milestone, lookup)
            if home is not None and away is not None:
                if frozenset((home.id, away.id)) != pair:
                    raise _Unmatched(f"milestone {milestone.id} teams {home.id}/{away.id} are not the ticker teams {sorted(pair)}")
                milestone_teams = (home.id, away.id)
        return pair, kalshi_start, milestone_teams

    def milestone(self, event_ticker: str) -> Milestone | None:
        if event_ticker not in self.milestones:
            return None
        return milestone_for(event_ticker, self.milestones)

    # -- matching -----------------------------------------------------------------------------------
    def match(self, event: KalshiEvent, ticker: EventTicker, league: LeagueCatalogue, pair: frozenset[str],
              kalshi_start: datetime | None, milestone_teams: tuple[str, str] | None, eo: Override | None) -> _Match:
        if eo is not None and eo.action in (OverrideAction.CONFIRM, OverrideAction.FORCE) and eo.sportsbook_event_id:
            found = self.override_match(eo, league, pair)
        else:
            rejected = {eo.sportsbook_event_id} if eo is not None and eo.action is OverrideAction.REJECT else set()
            found = self.rule_match(ticker, league, pair, kalshi_start, rejected)
        checks = self.cross_checks(ticker, found.game, kalshi_start, milestone_teams)
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

    def rule_match(self, ticker: EventTicker, league: LeagueCatalogue, pair: frozenset[str],
                   kalshi_start: datetime | None, rejected: set[str | None]) -> _Match:
        cfg = self.config
        center = kalshi_start or datetime.combine(ticker.game_date, time(12), zone(cfg.ticker_time_zones[0]))
        slack = cfg.postponed_window + (timedelta(0) if kalshi_start else _HALF_DAY)
        nearby = [g for g in self.index.pair_window(league.code, pair, center, slack) if g.event_id not in rejected]
        if kalshi_start is not None:
            within = [g for g in nearby if abs(g.commence_time - kalshi_start) <= cfg.start_tolerance]
            if len(within) > 1:
                tight = [g for g in within if abs(g.commence_time - kalshi_start) <= cfg.tight_tolerance]
                within = tight if len(tight) == 1 else within
        else:
            within = [g for g in nearby if ticker_date_matches(ticker, g.commence_time, cfg)]
        if len(within) > 1:
            providers = sorted({g.quotes[0].provider for g in within})
            hint = f" (from providers {providers}: resolve one provider at a time)" if len(providers) > 1 else ""
            raise _Unmatched(f"duplicate mapping: matches {len(within)} sportsbook events "
                             f"{[g.event_id for g in within]}; all excluded{hint}", [g.candidate() for g in within])
        if within:
            # The milestone start is Kalshi's documented schedule; the ticker date/time is observed only.
            confidence = 0.9 if kalshi_start is None else (1.0 if ticker.ticker in self.milestones else 0.95)
            return _Match(within[0], MatchMethod.RULE, confidence)
        if len(nearby) == 1:
            game = nearby[0]
            kalshi_when = kalshi_start.isoformat() if kalshi_start else f"ticker date {ticker.game_date}"
            return _Match(game, MatchMethod.RULE, 0.5, (
                f"{_TIME_CHANGED}: Kalshi start {kalshi_when} vs sportsbook commence "
                f"{game.commence_time.isoformat()}; same teams, outside the {cfg.start_tolerance} tolerance",), True)
        if nearby:
            raise _Unmatched(f"{_TIME_CHANGED}: no game within {cfg.start_tolerance} but "
                             f"{len(nearby)} games of the same teams nearby", [g.candidate() for g in nearby])
        return self.fuzzy_match(ticker, league, pair, kalshi_start, center, rejected)

    def fuzzy_match(self, ticker: EventTicker, league: LeagueCatalogue, pair: frozenset[str],
                    kalshi_start: datetime | None, center: datetime, rejected: set[str | None]) -> _Match:
        cfg = self.config
        width = cfg.start_tolerance if kalshi_start else _HALF_DAY + timedelta(hours=12)
        window = [g for g in self.index.proposed_window(league.code, center, width) if g.event_id not in rejected
                  and (kalshi_start is not None or ticker_date_matches(ticker, g.commence_time, cfg))]
        proposals = [g for g in window if g.pair == pair]
        if len(proposals) == 1:
            game = proposals[0]
            names = "; ".join(f"{p.name!r} ~ {p.team_id} (score {p.score})"
                              for p in (game.home_proposal, game.away_proposal) if p)
            return _Match(game, MatchMethod.FUZZY_PROPOSED, round(game.fuzzy_score() / 100.0, 4), (
                f"unconfirmed fuzzy proposal: {names}; confirm with `arb-pipeline mapping confirm`",))
        when = kalshi_start.isoformat() if kalshi_start else str(ticker.game_date)
        reason = (f"ambiguous: {len(proposals)} fuzzy proposals" if proposals
                  else f"no sportsbook event for {sorted(pair)} at {when}")
        raise _Unmatched(reason, [g.candidate() for g in (proposals or window)])

    def cross_checks(self, ticker: EventTicker, game: SportsbookGame, kalshi_start: datetime | None,
                     milestone_teams: tuple[str, str] | None) -> tuple[str, ...]:
        cfg, guards = self.config, []
        if kalshi_start is not None and not ticker_date_matches(ticker, game.commence_time, cfg):
            guards.append(f"{_TIME_CHANGED}: ticker date {ticker.game_date} is not the sportsbook "
                          f"start date ({game.commence_time.isoformat()}) in {', '.join(cfg.ticker_time_zones)}")
        written = ticker_start(ticker, cfg)
        if written is not None and abs(written - game.commence_time) > cfg.start_tolerance:
            guards.append(f"{_TIME_CHANGED}: ticker start {written.isoformat()} vs sportsbook "
                          f"{game.commence_time.isoformat()}")
        if milestone_teams is not None and milestone_teams == (game.away_id, game.home_id):
            guards.append(f"home/away swapped between Kalshi milestone (home {milestone_teams[0]}) and "
                          f"sportsbook (home {game.home_id})")
        return tuple(guards)

    # -- rows ---------------------------------------------------------------------------------------
    def mapped(self, event: KalshiEvent, side: MarketSide, match: _Match, pair: frozenset[str],
               kalshi_start: datetime | None) -> None:
        market = side.market
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
) -> Resolution:
    """Map every Kalshi market to (sportsbook event, outcome) or explain why not.

    `as_of` (aware) is the scan time for the "started" guard; `prices` optionally supplies the Kalshi
    YES price per market ticker for the orientation guard (default: mid of yes_bid/yes_ask).
    Only h2h quotes are used. Overrides win over rules.
    """
    require_aware(as_of, "as_of")
    with _gc_paused():
        return _resolve(events, milestones, quotes, as_of, catalogue, overrides, config, prices or {})


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
             config: ResolverConfig, prices: Mapping[str, Decimal]) -> Resolution:
    catalogue = catalogue if catalogue is not None else load_catalogue()
    override_set = overrides if isinstance(overrides, OverrideSet) else OverrideSet(overrides)
    lookups = {code: TeamLookup(lg, override_set.aliases) for code, lg in catalogue.leagues.items()}
    games, problems = group_games(quotes, catalogue, lookups, config)
    by_event: dict[str, list[Milestone]] = defaultdict(list)
    for m in milestones:
        for ticker in {*m.primary_event_tickers, *m.related_event_tickers}:
            by_event[ticker].append(m)
    scan = _Scan(catalogue, override_set, config, GameIndex(games), lookups, dict(by_event),
                 GuardContext(as_of, config, prices), unresolved=list(problems))
    seen_events: set[str] = set()
    seen_markets: set[str] = set()
    for event in events:
        if event.event_ticker in seen_events:
            scan.miss(UnresolvedKind.KALSHI_EVENT, event.event_ticker, "duplicate event ticker in input; first kept")
            continue
        seen_events.add(event.event_ticker)
        fresh = tuple(m for m in event.markets if m.ticker not in seen_markets)
        seen_markets.update(m.ticker for m in fresh)
        scan.event(event if len(fresh) == len(event.markets) else _with_markets(event, fresh))
    return Resolution(tuple(flag_duplicates(scan.rows, scan.weak_rows)), tuple(scan.unresolved))


def _with_markets(event: KalshiEvent, markets: tuple[KalshiMarket, ...]) -> KalshiEvent:
    return replace(event, markets=markets)

"""The common game event resolved with far fewer Python calls; anything else is left to the general path.

Why: at 5,000 games nearly every event is the same story — a game-winner series of a team league, no
manual override, one milestone naming both teams, a well-formed ticker, every market's target one of
the two teams with every cross-check agreeing, exactly one sportsbook game of the pair within the
tolerance — and the general path (`resolver._Scan.event`) pays for its generality on each of them
(~40 µs an event: `participants`, `market_side`, the match, the cross-checks and the guards, each a
call chain re-deriving per market what is fixed per series or per event). This path computes the same
rows for that story: per-series facts hoisted, one ticker parse per event shared by its markets, the
per-market cross-check verdict memoized by what it depends on (target, code, label, rules' team name).

It never decides anything the general path would decide otherwise: `rows` returns the event's
`ResolvedMarket`s — exactly those `_Scan.event` appends, in its order — or None as soon as the event
leaves the story (an override, a rejection, an unknown code or target, a disagreement, several or no
candidate games, a start-time or home/away doubt, an individual sport, a spread/total series), before
any side effect, and the caller then runs the general path on it. A market whose orientation check
does not pass cleanly takes its guards from `GuardContext.check` itself. The resolver's tests hold the
two paths to the same `Resolution` on varied snapshots (`resolve(..., common_fast_path=False)`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time

from arb_pipeline.domain import KalshiEvent, Milestone, Outcome
from arb_pipeline.mapping.catalogue import GAME, Catalogue, LeagueCatalogue, Team
from arb_pipeline.mapping.guards import GuardContext
from arb_pipeline.mapping.manual_overrides import OverrideSet
from arb_pipeline.mapping.normalize import normalize_name
from arb_pipeline.mapping.results import MatchMethod, ResolvedMarket
from arb_pipeline.mapping.rules import (
    _DRAW_LABELS,
    _RULES_TEAM,
    ResolverConfig,
    RuleError,
    TeamLookup,
    rules_date,
    zone,
)
from arb_pipeline.mapping.sportsbook import GameIndex
from arb_pipeline.mapping.tickers import _EVENT_RE, _MONTHS, TIE_CODE, split_team_codes

_RULE = MatchMethod.RULE
_HOME, _AWAY, _DRAW = Outcome.HOME, Outcome.AWAY, Outcome.DRAW
_MISSING = object()
_SCHEDULED = "originally scheduled for"  # rules._RULES_DATE's literal start (case-sensitive)
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Series:
    """What one game-winner series of a team league fixes for all of its events."""

    __slots__ = ("league", "lookup", "code", "three_way", "sides")

    def __init__(self, league: LeagueCatalogue, lookup: TeamLookup) -> None:
        self.league = league
        self.lookup = lookup
        self.code = league.code
        self.three_way = league.three_way
        # (target id, code, yes_sub_title, rules' team name) -> the market's team, or False: leave it
        self.sides: dict[tuple[object, ...], Team | None | bool] = {}


class CommonEvents:
    """Per-scan state of the fast path: the same catalogue, lookups, index and guard as the `_Scan`."""

    def __init__(self, catalogue: Catalogue, overrides: OverrideSet, config: ResolverConfig, index: GameIndex,
                 lookups: Mapping[str, TeamLookup], milestones: Mapping[str, Sequence[Milestone]],
                 guard: GuardContext) -> None:
        self.catalogue = catalogue
        self.overrides = overrides
        self.config = config
        self.index = index
        self.lookups = lookups
        self.milestones = milestones
        self.guard = guard
        self._series: dict[str, _Series | None] = {}
        self._dates: dict[str, date | None] = {}  # "26NOV24" -> its date (None: not a date)
        self._local_dates: dict[datetime, tuple[date, ...]] = {}  # commence -> its date in each ticker zone
        self._written: dict[tuple[date, time], datetime] = {}  # ticker date + HHMM -> UTC start
        self._scheduled: dict[date, str] = {}  # ticker date -> "originally scheduled for Nov 3, 2026"
        self._started: dict[tuple[datetime, object], str | None] = {}  # guard start (+ offset) -> its guard

    def series(self, series_ticker: str) -> _Series | None:
        try:
            return self._series[series_ticker]
        except KeyError:
            pass
        found = self.catalogue.market_series(series_ticker)
        entry = None
        if found is not None and found[1] == GAME and not found[0].individual:
            entry = _Series(found[0], self.lookups[found[0].code])
        self._series[series_ticker] = entry
        return entry

    def rows(self, event: KalshiEvent) -> list[ResolvedMarket] | None:
        """The event's rows as the general path makes them, or None: not the common event."""
        markets = event.markets
        if not markets:
            return []  # the general path returns before looking at anything else
        overrides = self.overrides
        event_ticker = event.event_ticker
        if overrides.by_event and event_ticker in overrides.by_event:
            return None
        by_market = overrides.by_market
        if by_market and any(m.ticker in by_market for m in markets):
            return None
        series = self.series(event.series_ticker)
        if series is None:
            return None
        lookup = series.lookup
        config = self.config

        # participants (rules.participants, one milestone, first participant keys)
        linked = self.milestones.get(event_ticker)
        if not linked or len(linked) != 1:
            return None
        milestone = linked[0]
        start_date = milestone.start_date
        if start_date.tzinfo is None or start_date.utcoffset() is None:
            return None  # the general path raises the error
        start = start_date.astimezone(UTC)
        details = milestone.details
        home_key, away_key = config.participant_keys[0]
        home_target, away_target = details.get(home_key), details.get(away_key)
        if not (isinstance(home_target, str) and home_target and isinstance(away_target, str) and away_target):
            return None
        try:
            home, away = lookup.identify(home_target), lookup.identify(away_target)
        except RuleError:
            return None
        home_id, away_id = home.id, away.id
        if home_id == away_id:
            return None
        neutral = False
        for key in config.neutral_site_keys:
            flag = details.get(key)
            if flag is not None and (flag is True or str(flag).lower() == "true"):
                neutral = True
                break
        pair = frozenset((home_id, away_id))

        # the ticker (tickers.parse_event_ticker, resolver.ticker_cross_check)
        m = _EVENT_RE.match(event_ticker)
        if m is None or m["series"] != event.series_ticker:
            return None
        game_date = self.ticker_date(m["yy"], m["mon"], m["dd"])
        if game_date is None:
            return None
        scheduled = self.scheduled(game_date)
        hhmm = m["hhmm"]
        written: datetime | None = None
        if hhmm:
            written = self.written_start(game_date, hhmm)
            if written is None:
                return None
        split = split_team_codes(m["teams"], series.league)
        if split is not None and split != pair:
            return None

        # each market's YES side (rules.market_side), before the match as the general path orders it
        prefix = event_ticker + "-"
        cut = len(prefix)
        sides = series.sides
        teams: list[Team | None] = []
        for market in markets:
            ticker, label = market.ticker, market.yes_sub_title
            if label is not None and type(label) is not str:
                return None  # the general path says what is wrong with it
            code = ticker[cut:] if ticker.startswith(prefix) and len(ticker) > cut else None
            if code is not None and "-" in code:
                code = None
            rules = market.rules_primary or ""
            if type(rules) is not str:
                return None  # the general path says what is wrong with it
            rules_match = _RULES_TEAM.match(rules)
            at = rules.find(_SCHEDULED)
            if at >= 0 and not rules.startswith(scheduled, at):  # else: no date, or the ticker's date
                try:
                    stated = rules_date(market)
                except RuleError:
                    return None
                if stated is not None and stated != game_date:
                    return None
            strike = market.custom_strike
            if not strike:
                target: object = None
            elif len(strike) == 1:
                (target,) = strike.values()
                if type(target) is not str or not target:
                    return None
            else:
                return None
            key = (target, code, label, rules_match["team"] if rules_match else None)
            team = sides.get(key, _MISSING)
            if team is _MISSING:
                team = sides[key] = self.side(series, *key)
            if team is False:
                return None
            if team is not None and team.id not in pair:  # type: ignore[union-attr]
                return None
            teams.append(team)  # type: ignore[arg-type]

        # the match (resolver.rule_match + cross_checks): one game of the pair within the tolerance
        nearby = self.index.pair_window(series.code, pair, start, config.postponed_window)
        game = None
        tolerance = config.start_tolerance
        for candidate in nearby:
            if abs(candidate.commence_time - start) <= tolerance:
                if game is not None:
                    return None
                game = candidate
        if game is None:
            return None
        commence = game.commence_time
        if game_date not in self.local_dates(commence):
            return None
        if written is not None and abs(written - commence) > tolerance:
            return None
        if not neutral and home_id == game.away_id and away_id == game.home_id:
            return None

        # the rows (resolver.mapped + emit, GuardContext.check)
        guard = self.guard
        consensus = guard.consensus(game)
        started = self.started(min(commence, start))
        prices = guard.prices
        margin = config.orientation_margin
        league_code, event_id, sport_key = series.code, game.event_id, game.sport_key
        home_name, away_name = game.home_team, game.away_team
        game_home = game.home_id
        out: list[ResolvedMarket] = []
        for market, team in zip(markets, teams, strict=True):
            if team is None:
                outcome, team_id, name = _DRAW, None, "Draw"
            else:
                team_id, name = team.id, team.full_name
                outcome = _HOME if team_id == game_home else _AWAY
            guards: list[str] | tuple[str, ...]
            fair = consensus.get(outcome)
            price = prices.get(market.ticker)
            if price is None:  # orientation.yes_mid
                bid, ask = market.yes_bid, market.yes_ask
                if bid is not None and ask is not None and bid > 0 and ask <= 1 and bid <= ask:
                    price = (bid + ask) / 2
            if price is None or fair is None:
                guards, q, p = guard.check(market, game, outcome, start)
            else:
                q, p = float(price), fair
                if abs(q - p) - abs(q - (1.0 - p)) > margin:
                    guards, q, p = guard.check(market, game, outcome, start)  # possibly inverted
                else:
                    guards = []
                    if market.status != "active":
                        guards.append(f"market status is {market.status!r}, not 'active'")
                    if started is not None:
                        guards.append(started)
            guards = tuple(guards)
            out.append(ResolvedMarket(  # positional, in field order (kalshi_market ... fair_probability)
                market.ticker, event_ticker, league_code, event_id, sport_key, outcome, team_id, name, home_name,
                away_name, _RULE, 1.0, commence, start, not guards, guards, q, p))
        return out

    # -- memoized pieces --------------------------------------------------------------------------
    def side(self, series: _Series, target: object, code: str | None, label: str | None,
             rules_name: str | None) -> Team | None | bool:
        """`rules.market_side`'s verdict for these inputs in a team league: the team (None: the draw),
        or False when the general path would refuse the market (it then says why)."""
        lookup = series.lookup
        if target is None:  # rules._draw_side
            if not series.three_way or normalize_name(label or "") not in _DRAW_LABELS:
                return False
            if (code is not None and code != TIE_CODE) or rules_name is not None:
                return False
            return None
        try:
            team = lookup.identify(target)  # type: ignore[arg-type]
        except RuleError:
            return False
        if code == TIE_CODE:
            return False
        if code is not None and (by_code := lookup.code(code)) is not None and by_code.id != team.id:
            return False
        if normalize_name(label or "") in _DRAW_LABELS:
            return False
        if label and (by_label := lookup.known(label)) is not None and by_label.id != team.id:
            return False
        if rules_name and (by_rules := lookup.known(rules_name)) is not None and by_rules.id != team.id:
            return False
        return team

    def ticker_date(self, yy: str, mon: str, dd: str) -> date | None:
        key = yy + mon + dd
        try:
            return self._dates[key]
        except KeyError:
            pass
        month = _MONTHS.get(mon)
        found = None
        if month is not None:
            try:
                found = date(2000 + int(yy), month, int(dd))
            except ValueError:
                found = None
        self._dates[key] = found
        return found

    def scheduled(self, game_date: date) -> str:
        """The rules_primary phrase that `rules.rules_date` reads as `game_date`: where the first
        "originally scheduled for" of a text starts with it, that regex reads this very date there."""
        found = self._scheduled.get(game_date)
        if found is None:
            found = self._scheduled[game_date] = (
                f"{_SCHEDULED} {_MONTH_ABBR[game_date.month - 1]} {game_date.day}, {game_date.year}")
        return found

    def written_start(self, game_date: date, hhmm: str) -> datetime | None:
        """The UTC start the ticker's HHMM says (rules.ticker_start), None when HHMM is not a time."""
        hh, mm = int(hhmm[:2]), int(hhmm[2:])
        if hh > 23 or mm > 59:
            return None
        key = (game_date, time(hh, mm))
        found = self._written.get(key)
        if found is None:
            local = datetime.combine(game_date, key[1])
            found = self._written[key] = local.replace(tzinfo=zone(self.config.ticker_time_zones[0])).astimezone(
                zone("UTC"))
        return found

    def local_dates(self, commence: datetime) -> tuple[date, ...]:
        found = self._local_dates.get(commence)
        if found is None:
            found = self._local_dates[commence] = tuple(
                commence.astimezone(zone(z)).date() for z in self.config.ticker_time_zones)
        return found

    def started(self, start: datetime) -> str | None:
        """GuardContext._check's "game started" guard for this start, or None when it has not."""
        key = (start, start.utcoffset())  # equal instants in other offsets print differently
        try:
            return self._started[key]
        except KeyError:
            pass
        as_of, buffer = self.guard.as_of, self.config.start_buffer
        found = None
        if as_of >= start - buffer:
            found = (f"game started (or starts within {buffer}): start {start.isoformat()}, as of "
                     f"{as_of.isoformat()}; pre-game trading closed")
        self._started[key] = found
        return found


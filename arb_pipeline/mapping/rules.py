"""Exact matching rules: who plays in a Kalshi event, which team a market's YES backs, when two
games are the same game.

Why Kalshi's identifiers and not its texts: Kalshi says not to infer relationships from tickers
(kalshi-api.md §8.1, §8.5). A game's participants and start come from its **milestone**
(`start_date`, `details.home_team_id` / `away_team_id`) and a market's team from its `custom_strike`
**structured target**; a target is a catalogue team by its confirmed id, its source ids or its exact
name (never by similarity). The ticker codes, `yes_sub_title` and `rules_primary` are cross-checks
that can only *block* a mapping when they disagree, never create one. A match is accepted only on
{league, both teams, start time within a tolerance, compared in UTC}, or a human override.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from arb_pipeline.domain import KalshiMarket, Milestone, StructuredTarget
from arb_pipeline.mapping.catalogue import CatalogueError, LeagueCatalogue, Team
from arb_pipeline.mapping.normalize import normalize_name
from arb_pipeline.mapping.tickers import TIE_CODE, EventTicker, TickerError, market_code
from arb_pipeline.slotted import fast_init

_RULES_TEAM = re.compile(r"^\s*If\s+(?P<team>.+?)\s+wins\s+the\s", re.IGNORECASE)
_RULES_DATE = re.compile(r"originally scheduled for\s+(?P<date>(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4}))")
_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DRAW_LABELS = frozenset({"tie", "draw"})


class RuleError(ValueError):
    """A rule could not establish a fact; the message is the reason shown to the operator."""


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    """Tolerances of the rules. Defaults are conservative: doubt makes a market untradable."""

    start_tolerance: timedelta = timedelta(hours=3)  # |Kalshi start − sportsbook commence| for a match
    tight_tolerance: timedelta = timedelta(minutes=30)  # picks one of several candidates (doubleheaders)
    postponed_window: timedelta = timedelta(hours=48)  # same teams this close → "start changed", not a miss
    start_buffer: timedelta = timedelta(minutes=5)  # not tradable pre-game once start − buffer has passed
    ticker_time_zones: tuple[str, ...] = ("America/New_York",)  # zones the ticker date may be written in
    orientation_margin: float = 0.15  # how much nearer 1−p than p the YES price must be to flag inversion
    require_orientation_check: bool = True  # no price or no book consensus → not tradable
    fuzzy_threshold: float = 85.0  # token_sort_ratio (0-100) for a name proposal
    fuzzy_margin: float = 8.0  # best proposal must beat the runner-up team by this much
    # Milestone `details` keys naming the two participants, first pair present wins. Team sports:
    # home_team_id / away_team_id (kalshi-api.md §8.5). The keys of tennis/MMA milestones are
    # UNVERIFIED: add their pair here once seen live.
    participant_keys: tuple[tuple[str, str], ...] = (("home_team_id", "away_team_id"),)
    # Milestone `details` flags that declare a neutral-site game (home/away is then only a listing
    # order, so a swap between venues is not a warning). Kalshi's key is UNVERIFIED: configurable.
    neutral_site_keys: tuple[str, ...] = ("neutral_site", "is_neutral_site", "neutral")
    # Spread/total markets: `strike_type` values read as "YES iff result > floor_strike" (an absent
    # strike_type falls back to rules_primary's "more than X"). Anything else stays unresolved.
    line_strike_types: tuple[str, ...] = ("greater",)

    def __post_init__(self) -> None:
        for name in ("start_tolerance", "tight_tolerance", "postponed_window", "start_buffer"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"ResolverConfig.{name} must not be negative")
        if self.tight_tolerance > self.start_tolerance or self.postponed_window < self.start_tolerance:
            raise ValueError("ResolverConfig needs tight_tolerance <= start_tolerance <= postponed_window")
        if not self.ticker_time_zones:
            raise ValueError("ResolverConfig.ticker_time_zones must name at least one zone")
        if not self.participant_keys or any(len(pair) != 2 or not all(pair) for pair in self.participant_keys):
            raise ValueError("ResolverConfig.participant_keys must be non-empty (home key, away key) pairs")
        for name in self.ticker_time_zones:
            zone(name)


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class TeamLookup:
    """Team identity within one league: the catalogue, aliases and target ids confirmed by humans,
    and this scan's structured targets (`GET /structured_targets`).

    The catalogue wins over a confirmed alias that names another team (`commands.confirm` refuses
    such an alias; one arriving from the database is ignored rather than allowed to relabel a team).
    """

    def __init__(self, league: LeagueCatalogue, extra_aliases: Mapping[str, str] | None = None,
                 targets: Mapping[str, StructuredTarget] | None = None) -> None:
        self.league = league
        self.targets: Mapping[str, StructuredTarget] = targets or {}
        self._extra: dict[str, Team] = {}
        self._extra_targets: dict[str, Team] = {}
        self._identified: dict[str, Team | str] = {}  # per scan: target id -> team, or why not
        self._known: dict[str, Team | None] = {}  # per scan: name -> `known(name)`
        for alias, team_id in (extra_aliases or {}).items():
            try:
                team = league.team(team_id)
            except CatalogueError:
                continue  # an alias for another league's team
            self._extra[normalize_name(alias)] = team
            self._extra_targets[alias] = team

    def known(self, text: str) -> Team | None:
        """A catalogue team (or human-confirmed alias) this exact name denotes; never an unlisted player.

        Memoized per text (the league and the aliases are fixed for the lookup's life): a scan asks for
        the same few hundred names (labels, rules clauses, sportsbook names) tens of thousands of times."""
        if type(text) is not str:
            return self.league.lookup(text) or self._extra.get(normalize_name(text))  # its error, as ever
        try:
            return self._known[text]
        except KeyError:
            found = self._known[text] = self.league.lookup(text) or self._extra.get(normalize_name(text))
            return found

    def name(self, text: str) -> Team | None:
        """`known`, and in an individual sport also a player identified by exact full name."""
        known = self.known(text)
        if known is not None or not self.league.individual:
            return known
        return self.league.player(text)

    def code(self, code: str) -> Team | None:
        return self.league.by_code(code)

    def target(self, target_id: str) -> Team | None:
        """The team of a structured-target id *confirmed* by the catalogue or a human (no lookup)."""
        return self.league.by_target_id(target_id) or self._extra_targets.get(target_id)

    def identify(self, target_id: str) -> Team:
        """The catalogue team a structured target denotes, or RuleError saying why not.

        Evidence, all of which must agree: the id confirmed in the catalogue or by a human, the
        target's source ids confirmed in the catalogue, and the target's exact `name`. Its `type`
        (when sent) must be this league's participant type ("basketball_team", ...). Memoized: one
        team's target is named by every market and milestone of its games.
        """
        known = self._identified.get(target_id)
        if known is None:
            try:
                known = self._identify(target_id)
            except RuleError as exc:
                known = str(exc)
            self._identified[target_id] = known
        if isinstance(known, str):
            raise RuleError(known)
        return known

    def _identify(self, target_id: str) -> Team:
        lg = self.league
        confirmed = self.target(target_id)
        target = self.targets.get(target_id)
        if target is None:
            if confirmed is not None:
                return confirmed
            raise RuleError(f"structured target {target_id} is unknown: not in this scan's structured targets "
                            "(GET /structured_targets) and not confirmed in the catalogue")
        if target.type and target.type != lg.target_type:
            raise RuleError(f"structured target {target_id} ({target.name!r}) is a {target.type!r}, "
                            f"not a {lg.code} {lg.target_type!r}")
        sources = [lg.by_source_id(v) for v in (target.source_id, *target.source_ids.values()) if v]
        evidence = {"confirmed id": confirmed, "name": self.name(target.name),
                    **{f"source id #{i}": t for i, t in enumerate(sources, start=1)}}
        found = {t.id for t in evidence.values() if t is not None}
        if len(found) > 1:
            said = ", ".join(f"{k}→{t.id}" for k, t in evidence.items() if t is not None)
            raise RuleError(f"structured target {target_id} ({target.name!r}) is ambiguous: {said}")
        if not found:
            raise RuleError(f"structured target {target_id} name {target.name!r} is not a known {lg.code} "
                            f"{'player' if lg.individual else 'team'}: add it (or an alias) to the catalogue or "
                            "confirm it with `arb-pipeline mapping confirm --team-alias`")
        return next(t for t in evidence.values() if t is not None)


@fast_init
@dataclass(frozen=True, slots=True)
class Participants:
    """Who plays and when, from the event's milestone and its structured targets."""

    milestone: Milestone
    start: datetime  # milestone start_date, UTC
    home: Team
    away: Team
    neutral: bool  # home/away is only a listing order (individual sport or declared neutral site)
    pair: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pair", frozenset((self.home.id, self.away.id)))

    def other(self, team: Team) -> Team:
        return self.away if team.id == self.home.id else self.home


def participants(event_ticker: str, by_event: Mapping[str, Sequence[Milestone]], lookup: TeamLookup,
                 config: ResolverConfig) -> Participants:
    """The event's participants and start from its milestone; RuleError when Kalshi's identifiers
    do not establish them (the ticker is never used instead)."""
    if not by_event.get(event_ticker):
        raise RuleError(f"no milestone links to event {event_ticker}: the game's start and teams come from "
                        "Kalshi's identifiers (milestone + structured targets); the ticker is only a cross-check")
    milestone = milestone_for(event_ticker, by_event)
    start = require_aware(milestone.start_date, f"milestone {milestone.id} start_date").astimezone(UTC)
    details = milestone.details
    ids = next(((details[h], details[a]) for h, a in config.participant_keys
                if isinstance(details.get(h), str) and details[h] and isinstance(details.get(a), str) and details[a]),
               None)
    if ids is None:
        keys = " / ".join(f"{h}+{a}" for h, a in config.participant_keys)
        raise RuleError(f"milestone {milestone.id} details name no participants ({keys}): "
                        "the game's teams cannot be identified")
    home, away = (lookup.identify(i) for i in ids)
    if home.id == away.id:
        raise RuleError(f"milestone {milestone.id}: home and away are the same team {home.id}")
    declared = any(details.get(k) is True or str(details.get(k)).lower() == "true" for k in config.neutral_site_keys)
    return Participants(milestone, start, home, away, lookup.league.individual or declared)


def named_participant(text: str | None, parts: Participants, lookup: TeamLookup) -> Team | None:
    """Which team a Kalshi text (label, rules clause) names: a catalogue name of any team of the league,
    or — in individual sports, where labels are often a surname — the participant whose full name ends
    with it. None when the text names nobody known (a cross-check that cannot speak)."""
    if not text:
        return None
    known = lookup.known(text)
    if known is not None or not lookup.league.individual:
        return known
    key = normalize_name(text)
    hits = [t for t in (parts.home, parts.away)
            if key and (normalize_name(t.full_name) == key or normalize_name(t.full_name).endswith(" " + key))]
    return hits[0] if len(hits) == 1 else None


@fast_init
@dataclass(frozen=True, slots=True)
class MarketSide:
    """What a market's YES pays on: a team, or the draw (`team is None`)."""

    market: KalshiMarket
    team: Team | None

    @property
    def is_draw(self) -> bool:
        return self.team is None


def market_side(market: KalshiMarket, event_ticker: str, ticker: EventTicker | None, parts: Participants,
                lookup: TeamLookup) -> MarketSide:
    """The YES side of one game-winner market: the team of its `custom_strike` target (or, in a
    three-way league, the draw when the market has no target and every text says tie).

    Ticker code, `yes_sub_title` and `rules_primary` are cross-checks: any that names a different
    team blocks the mapping (RuleError listing every disagreement); one that names nobody is silent.
    """
    code = _market_code(market.ticker, event_ticker)
    rules_match = _RULES_TEAM.match(market.rules_primary or "")
    if ticker is not None:
        _check_rules_date(market, ticker.game_date)
    targets = {v for v in (market.custom_strike or {}).values() if isinstance(v, str) and v}
    if not targets:
        return _draw_side(market, code, rules_match, lookup)
    if len(targets) > 1:
        raise RuleError(f"market {market.ticker}: custom_strike names several targets {sorted(targets)}")
    (target_id,) = targets
    try:
        team = lookup.identify(target_id)
    except RuleError as exc:
        raise RuleError(f"market {market.ticker}: {exc}") from None
    if team.id not in parts.pair:
        raise RuleError(f"market {market.ticker}: custom_strike target {target_id} is {team.id}, not one of the "
                        f"milestone's teams {parts.home.id}/{parts.away.id}")
    disagree = []
    if code == TIE_CODE:
        disagree.append(f"ticker code {code!r} is a tie code")
    elif code is not None and (by_code := lookup.code(code)) is not None and by_code.id != team.id:
        disagree.append(f"ticker code {code!r}→{by_code.id}")
    if normalize_name(market.yes_sub_title or "") in _DRAW_LABELS:
        disagree.append(f"yes_sub_title {market.yes_sub_title!r} is a tie label")
    elif (by_label := named_participant(market.yes_sub_title, parts, lookup)) is not None and by_label.id != team.id:
        disagree.append(f"yes_sub_title {market.yes_sub_title!r}→{by_label.id}")
    rules_name = rules_match["team"] if rules_match else None
    if (by_rules := named_participant(rules_name, parts, lookup)) is not None and by_rules.id != team.id:
        disagree.append(f"rules_primary {rules_name!r}→{by_rules.id}")
    if disagree:
        raise RuleError(f"market {market.ticker}: cross-checks disagree with its custom_strike target "
                        f"{target_id} ({team.id}): {'; '.join(disagree)}")
    return MarketSide(market, team)


def _draw_side(market: KalshiMarket, code: str | None, rules_match: re.Match[str] | None,
               lookup: TeamLookup) -> MarketSide:
    """A market without a target is the draw only in a three-way league and when every text says so."""
    if not lookup.league.three_way:
        raise RuleError(f"market {market.ticker}: no custom_strike structured target, so its YES team cannot be "
                        "identified (ticker and titles are only cross-checks)")
    if normalize_name(market.yes_sub_title or "") not in _DRAW_LABELS:
        raise RuleError(f"market {market.ticker}: no custom_strike target and yes_sub_title "
                        f"{market.yes_sub_title!r} is not Tie/Draw")
    if code is not None and code != TIE_CODE:
        raise RuleError(f"market {market.ticker}: a Tie market whose ticker code is {code!r}, not {TIE_CODE}")
    if rules_match is not None:
        raise RuleError(f"market {market.ticker}: a Tie market whose rules_primary names a winner "
                        f"{rules_match['team']!r}")
    return MarketSide(market, None)


def _market_code(market_ticker: str, event_ticker: str) -> str | None:
    try:
        return market_code(market_ticker, event_ticker)
    except TickerError:
        return None


def rules_date(market: KalshiMarket) -> date | None:
    """The "originally scheduled for <Mon D, YYYY>" date of rules_primary, when it has one."""
    m = _RULES_DATE.search(market.rules_primary or "")
    if not m:
        return None
    month = _MONTHS.get(m["mon"][:3].lower())
    try:
        return date(int(m["year"]), month, int(m["day"])) if month else None
    except ValueError:
        raise RuleError(f"market {market.ticker}: rules_primary date {m['date']!r} is not a date") from None


def _check_rules_date(market: KalshiMarket, ticker_date: date) -> None:
    """Two Kalshi texts of one market must agree: the rules date, when present, is the ticker date."""
    written = rules_date(market)
    if written is not None and written != ticker_date:
        raise RuleError(
            f"market {market.ticker}: rules_primary date {written:%b} {written.day}, {written.year} "
            f"disagrees with ticker date {ticker_date}"
        )


def ticker_date_matches(event: EventTicker, start: datetime, config: ResolverConfig) -> bool:
    """Whether `start` (aware) falls on the ticker's date in one of the configured zones."""
    return any(start.astimezone(zone(z)).date() == event.game_date for z in config.ticker_time_zones)


def ticker_start(event: EventTicker, config: ResolverConfig) -> datetime | None:
    """The UTC start written in the ticker (HHMM, first configured zone), when there is one."""
    local = event.local_start()
    if local is None:
        return None
    return local.replace(tzinfo=zone(config.ticker_time_zones[0])).astimezone(zone("UTC"))


def require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value


def milestone_for(event_ticker: str, by_event: Mapping[str, Sequence[Milestone]]) -> Milestone:
    """The one milestone of an event (primary link preferred). Several distinct ones are an error."""
    linked = by_event.get(event_ticker, ())
    primary = [m for m in linked if event_ticker in m.primary_event_tickers]
    chosen = primary or list(linked)
    ids = sorted({m.id for m in chosen})
    if len(ids) != 1:
        raise RuleError(f"event {event_ticker}: {len(ids)} milestones link to it ({', '.join(ids) or 'none'})")
    return chosen[0]

"""Exact matching rules: which team a Kalshi market's YES backs, and when two games are the same game.

Why rules and not similarity: a match is accepted only on {league, both teams, start time within a
tolerance, compared in UTC}. Team identity comes from the catalogue (plus human-confirmed aliases),
never from title strings. Every market's YES team is established by three independent signals that
must agree: the ticker suffix code, `yes_sub_title`, and the "If <Team> wins the ..." clause of
`rules_primary`. Any disagreement leaves the market unresolved with the reason spelled out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from arb_pipeline.domain import KalshiMarket, Milestone
from arb_pipeline.mapping.catalogue import CatalogueError, LeagueCatalogue, Team
from arb_pipeline.mapping.normalize import normalize_name
from arb_pipeline.mapping.tickers import TIE_CODE, EventTicker, TickerError, market_code

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

    def __post_init__(self) -> None:
        for name in ("start_tolerance", "tight_tolerance", "postponed_window", "start_buffer"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"ResolverConfig.{name} must not be negative")
        if self.tight_tolerance > self.start_tolerance or self.postponed_window < self.start_tolerance:
            raise ValueError("ResolverConfig needs tight_tolerance <= start_tolerance <= postponed_window")
        if not self.ticker_time_zones:
            raise ValueError("ResolverConfig.ticker_time_zones must name at least one zone")
        for name in self.ticker_time_zones:
            zone(name)


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class TeamLookup:
    """Exact name → team within one league: the catalogue plus aliases confirmed by humans.

    The catalogue wins over a confirmed alias that names another team (`commands.confirm` refuses
    such an alias; one arriving from the database is ignored rather than allowed to relabel a team).
    """

    def __init__(self, league: LeagueCatalogue, extra_aliases: Mapping[str, str] | None = None) -> None:
        self.league = league
        self._extra: dict[str, Team] = {}
        self._extra_targets: dict[str, Team] = {}
        for alias, team_id in (extra_aliases or {}).items():
            try:
                team = league.team(team_id)
            except CatalogueError:
                continue  # an alias for another league's team
            self._extra[normalize_name(alias)] = team
            self._extra_targets[alias] = team

    def name(self, text: str) -> Team | None:
        return self.league.lookup(text) or self._extra.get(normalize_name(text))

    def code(self, code: str) -> Team | None:
        return self.league.by_code(code)

    def target(self, target_id: str) -> Team | None:
        """A Kalshi structured-target id (milestone `home_team_id`, `custom_strike` value)."""
        return self.league.by_target_id(target_id) or self._extra_targets.get(target_id)


@dataclass(frozen=True, slots=True)
class MarketSide:
    """What a market's YES pays on: a team, or the draw (`team is None`)."""

    market: KalshiMarket
    team: Team | None

    @property
    def is_draw(self) -> bool:
        return self.team is None


def market_side(market: KalshiMarket, event: EventTicker, lookup: TeamLookup) -> MarketSide:
    """Establish the YES side of one market from ticker code, yes_sub_title and rules_primary."""
    try:
        code = market_code(market.ticker, event.ticker)
    except TickerError as exc:
        raise RuleError(str(exc)) from None
    rules_match = _RULES_TEAM.match(market.rules_primary or "")
    _check_rules_date(market, event.game_date)
    if code == TIE_CODE:
        if not lookup.league.three_way:
            raise RuleError(f"market {market.ticker}: TIE market in two-way league {lookup.league.code}")
        if normalize_name(market.yes_sub_title) not in _DRAW_LABELS:
            raise RuleError(f"market {market.ticker}: code TIE but yes_sub_title {market.yes_sub_title!r} is not Tie/Draw")
        if rules_match is not None:
            raise RuleError(f"market {market.ticker}: code TIE but rules_primary names a winner {rules_match['team']!r}")
        return MarketSide(market, None)
    by_code = lookup.code(code)
    by_label = lookup.name(market.yes_sub_title) if market.yes_sub_title else None
    rules_name = rules_match["team"] if rules_match else None
    by_rules = lookup.name(rules_name) if rules_name else None
    if by_code is not None and by_code is by_label and by_label is by_rules:
        strike = _strike_team(market, lookup)
        if strike is not None and strike is not by_code:
            raise RuleError(f"market {market.ticker}: custom_strike target is {strike.id} but ticker code, "
                            f"yes_sub_title and rules_primary say {by_code.id}")
        return MarketSide(market, by_code)
    raise RuleError(
        f"market {market.ticker}: YES-side checks disagree or are unknown: "
        f"ticker code {code!r}→{_tid(by_code)}, yes_sub_title {market.yes_sub_title!r}→{_tid(by_label)}, "
        f"rules_primary {rules_name!r}→{_tid(by_rules)}"
    )


def _strike_team(market: KalshiMarket, lookup: TeamLookup) -> Team | None:
    """The team of the market's structured-target strike, when that target id is known to us."""
    for value in (market.custom_strike or {}).values():
        team = lookup.target(value) if isinstance(value, str) else None
        if team is not None:
            return team
    return None


def _tid(team: Team | None) -> str:
    return team.id if team else "unknown"


def _check_rules_date(market: KalshiMarket, ticker_date: date) -> None:
    """The "originally scheduled for <Mon D, YYYY>" date, when present, must be the ticker date."""
    m = _RULES_DATE.search(market.rules_primary or "")
    if not m:
        return
    month = _MONTHS.get(m["mon"][:3].lower())
    try:
        written = date(int(m["year"]), month, int(m["day"])) if month else None
    except ValueError:
        written = None
    if written != ticker_date:
        raise RuleError(
            f"market {market.ticker}: rules_primary date {m['date']!r} disagrees with ticker date {ticker_date}"
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


def milestone_home_away(milestone: Milestone, lookup: TeamLookup) -> tuple[Team | None, Team | None]:
    """Home/away teams from milestone `details` target ids, when the catalogue knows them."""
    def team(key: str) -> Team | None:
        value = milestone.details.get(key)
        return lookup.target(value) if isinstance(value, str) and value else None

    return team("home_team_id"), team("away_team_id")

"""Builds the simulated slate of games from the team catalogue, with each venue's own naming.

The same game must look different on each venue the way real ones do: Kalshi event tickers carry
the US Eastern date (and, for MLB, the Eastern start HHMM that separates doubleheaders) with Kalshi
team codes in away-home order, markets are labelled with Kalshi's short `kalshi_label`
("New York Y"), and sportsbooks use the full team name. Slot times are typical local start times,
so an evening Eastern game commences after 00:00 UTC on the next UTC day (the UTC-midnight case),
and the first MLB pairing is played twice on one day (the doubleheader case).

The extended slate (`EXTENDED_LEAGUES`) adds college football and basketball, the WNBA, MLS, the
European leagues and competitions, tennis and UFC, and one neutral-site NFL game: the sportsbooks
list its teams the other way round from Kalshi's milestone, which declares the neutral site.
Players have no Kalshi code in the catalogue: the simulator abbreviates their surname (Kalshi's own
tennis/MMA codes are not in the reference).
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from arb_pipeline.mapping.catalogue import Catalogue, LeagueCatalogue, Team

EASTERN = ZoneInfo("America/New_York")
LEAGUES = ("NFL", "NBA", "NHL", "MLB", "EPL")
EXTENDED_LEAGUES = LEAGUES + ("NCAAF", "NCAAMB", "WNBA", "MLS", "UCL", "UEL", "LALIGA", "SERIEA", "BUNDESLIGA",
                              "LIGUE1", "ATP", "WTA", "UFC")
_EUROPE = (time(12, 30), time(15, 0), time(14, 0), time(11, 30), time(13, 0), time(15, 45))

# Typical Eastern start times per league, in the order games are given them.
SLOTS: dict[str, tuple[time, ...]] = {
    "NFL": (time(13, 0), time(16, 25), time(20, 20), time(13, 0), time(16, 5), time(20, 15)),
    "NBA": (time(19, 30), time(19, 0), time(22, 0), time(20, 0), time(19, 30), time(22, 30)),
    "NHL": (time(19, 0), time(22, 0), time(19, 30), time(20, 0), time(22, 30), time(19, 0)),
    "MLB": (time(13, 5), time(19, 10), time(19, 5), time(22, 10), time(16, 10), time(20, 10)),
    "EPL": (time(10, 0), time(12, 30), time(7, 30), time(15, 0), time(10, 0), time(12, 30)),
    "NCAAF": (time(12, 0), time(15, 30), time(19, 30), time(12, 0), time(15, 30), time(20, 0)),
    "NCAAMB": (time(19, 0), time(21, 0), time(18, 30), time(20, 0), time(19, 30), time(21, 30)),
    "WNBA": (time(19, 30), time(22, 0), time(20, 0), time(19, 0), time(22, 0), time(20, 30)),
    "MLS": (time(19, 30), time(22, 30), time(20, 0), time(19, 30), time(21, 30), time(20, 30)),
    "UCL": (time(15, 0), time(12, 45), time(15, 0), time(15, 0), time(12, 45), time(15, 0)),
    "UEL": (time(15, 0), time(12, 45), time(15, 0), time(15, 0), time(12, 45), time(15, 0)),
    "LALIGA": _EUROPE, "SERIEA": _EUROPE, "BUNDESLIGA": _EUROPE, "LIGUE1": _EUROPE,
    "ATP": (time(7, 0), time(9, 0), time(11, 0), time(13, 0), time(14, 30), time(16, 0)),
    "WTA": (time(6, 0), time(8, 0), time(10, 0), time(12, 0), time(13, 30), time(15, 0)),
    "UFC": (time(22, 0), time(23, 0), time(21, 0), time(22, 30), time(20, 30), time(23, 30)),
}
_SOCCER_GAME = timedelta(hours=1, minutes=55)
DURATION = {"NFL": timedelta(hours=3, minutes=15), "NBA": timedelta(hours=2, minutes=30),
            "NHL": timedelta(hours=2, minutes=40), "MLB": timedelta(hours=3), "EPL": _SOCCER_GAME,
            "NCAAF": timedelta(hours=3, minutes=30), "NCAAMB": timedelta(hours=2), "WNBA": timedelta(hours=2),
            "MLS": _SOCCER_GAME, "UCL": _SOCCER_GAME, "UEL": _SOCCER_GAME, "LALIGA": _SOCCER_GAME,
            "SERIEA": _SOCCER_GAME, "BUNDESLIGA": _SOCCER_GAME, "LIGUE1": _SOCCER_GAME,
            "ATP": timedelta(hours=2, minutes=30), "WTA": timedelta(hours=2), "UFC": timedelta(minutes=45)}
COMPETITION = {"NFL": "Pro Football", "NBA": "Pro Basketball (M)", "NHL": "Pro Hockey", "MLB": "Pro Baseball",
               "EPL": "EPL", "NCAAF": "College Football", "NCAAMB": "College Basketball (M)",
               "WNBA": "Pro Basketball (W)", "MLS": "MLS", "UCL": "Champions League", "UEL": "Europa League",
               "LALIGA": "La Liga", "SERIEA": "Serie A", "BUNDESLIGA": "Bundesliga", "LIGUE1": "Ligue 1",
               "ATP": "ATP", "WTA": "WTA", "UFC": "UFC"}
RULES_LEAGUE = {"NFL": "Pro Football", "NBA": "Pro Basketball", "NHL": "NHL", "MLB": "professional baseball",
                "EPL": "English Premier League", "NCAAF": "College Football", "NCAAMB": "College Basketball",
                "WNBA": "WNBA", "MLS": "MLS", "UCL": "Champions League", "UEL": "Europa League",
                "LALIGA": "La Liga", "SERIEA": "Serie A", "BUNDESLIGA": "Bundesliga", "LIGUE1": "Ligue 1",
                "ATP": "ATP", "WTA": "WTA", "UFC": "UFC"}
EXCHANGE_INDEX = {"MLB": 3}  # baseball events are created on shard 3 since 2026-08-24 (kalshi-api.md §8.5)
_TARGET_NAMESPACE = uuid.UUID("6b1f0c7e-3f0d-4f57-9a7c-5a3e1d2b9c40")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass
class Game:
    """One game as both venues know it; mutable only in its schedule (postponement trap)."""

    league: LeagueCatalogue
    home: Team
    away: Team
    scheduled: datetime  # original start, UTC: what the ticker and rules_primary say
    commence: datetime  # actual start, UTC (differs only for a postponed game)
    event_ticker: str
    odds_id: str
    milestone_id: str
    target_ids: dict[str, str]  # team id -> structured-target uuid
    book_names: dict[str, str] = field(default_factory=dict)  # team id -> sportsbook name
    notes: list[str] = field(default_factory=list)
    neutral: bool = False  # neutral site: the books list the Kalshi away team as home

    @property
    def code(self) -> str:
        return self.league.code

    @property
    def outcomes(self) -> tuple[str, ...]:
        return ("home", "draw", "away") if self.league.three_way else ("home", "away")

    @property
    def duration(self) -> timedelta:
        return DURATION[self.code]

    @property
    def ends(self) -> datetime:
        return self.commence + self.duration

    @property
    def exchange_index(self) -> int:
        return EXCHANGE_INDEX.get(self.code, 0)

    def team(self, outcome: str) -> Team | None:
        return {"home": self.home, "away": self.away}.get(outcome)

    def market_ticker(self, outcome: str) -> str:
        team = self.team(outcome)
        return f"{self.event_ticker}-{kalshi_code(team) if team else 'TIE'}"

    def book_home_away(self) -> tuple[str, str]:
        """The outcomes the sportsbooks list as (home_team, away_team): swapped at a neutral site."""
        return ("away", "home") if self.neutral else ("home", "away")

    def book_name(self, outcome: str) -> str:
        team = self.team(outcome)
        return self.book_names.get(team.id, team.full_name) if team else "Draw"


def _surname(team: Team) -> str:
    plain = unicodedata.normalize("NFKD", team.full_name.split()[-1])
    return "".join(c for c in plain if not unicodedata.combining(c))


def kalshi_code(team: Team) -> str:
    """The team's Kalshi code, or for a player the first three letters of the surname (sim convention)."""
    return team.kalshi_code or re.sub(r"[^A-Z]", "", _surname(team).upper())[:3]


def kalshi_label(team: Team) -> str:
    """The team's Kalshi label (`yes_sub_title`), or for a player the surname."""
    return team.kalshi_label or team.full_name.split()[-1]


def sim_sport_key(league: LeagueCatalogue) -> str:
    """The Odds API key the simulator serves a league under (tennis is keyed per tournament)."""
    return f"{league.sport_key_prefixes[0]}finals" if league.sport_key_prefixes else league.sport_key


def event_ticker(series: str, league: str, scheduled: datetime, away: Team, home: Team) -> str:
    local = scheduled.astimezone(EASTERN)
    date_part = f"{local:%y}{_MONTHS[local.month - 1]}{local:%d}"
    hhmm = f"{local:%H%M}" if league == "MLB" else ""
    return f"{series}-{date_part}{hhmm}{kalshi_code(away)}{kalshi_code(home)}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def target_id(team: Team) -> str:
    """A team's structured-target UUID: stable per team across games and seeds, like Kalshi's."""
    return str(uuid.uuid5(_TARGET_NAMESPACE, team.id))


def _start_for(slot: time, earliest: datetime) -> datetime:
    """The first occurrence of Eastern wall time `slot` at or after `earliest`."""
    day = earliest.astimezone(EASTERN).date()
    for offset in range(3):
        candidate = datetime.combine(day + timedelta(days=offset), slot, EASTERN)
        if candidate >= earliest:
            return candidate.astimezone(earliest.tzinfo)
    raise AssertionError("unreachable: a slot recurs daily")


def build_slate(catalogue: Catalogue, rng: random.Random, start: datetime, games_per_league: dict[str, int],
                lead: timedelta = timedelta(minutes=45), doubleheader: bool = True,
                leagues: tuple[str, ...] = LEAGUES, neutral_site: bool = False) -> list[Game]:
    """Pick distinct pairings per league and schedule them from `start + lead` onwards.

    `neutral_site` plays the first NFL game at a neutral site (the books list it the other way round).
    """
    games: list[Game] = []
    for code in leagues:
        count = games_per_league.get(code, 0)
        if count <= 0:
            continue
        league = catalogue.league(code)
        teams = sorted(league.teams, key=lambda t: t.id)
        most = len(teams) // 2 + (1 if code == "MLB" and doubleheader else 0)  # one game per team per day
        if count > most:
            raise ValueError(f"games_per_league[{code!r}] = {count}: a one-day slate of {league.code} holds at "
                             f"most {most} games ({len(teams)} teams, each plays once)")
        rng.shuffle(teams)
        slots = SLOTS[code]
        pairs: list[tuple[Team, Team]] = []
        for i in range(count):
            if code == "MLB" and doubleheader and i == 1 and pairs:
                pairs.append(pairs[0])  # the same two teams again, later the same day
                continue
            away, home = teams.pop(), teams.pop()
            pairs.append((away, home))
        for i, (away, home) in enumerate(pairs):
            slot = slots[i % len(slots)]
            scheduled = _start_for(slot, start + lead)
            if code == "MLB" and doubleheader and i == 1:
                first = games[-1].scheduled
                scheduled = datetime.combine(first.astimezone(EASTERN).date(), slot, EASTERN).astimezone(start.tzinfo)
            targets = {away.id: target_id(away), home.id: target_id(home)}
            ticker = event_ticker(league.kalshi_series, code, scheduled, away, home)
            games.append(Game(league, home, away, scheduled, scheduled, ticker, f"{rng.getrandbits(128):032x}",
                              _uuid(rng), targets, neutral=neutral_site and code == "NFL" and i == 0))
    return games

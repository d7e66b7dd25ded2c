"""Sportsbook side of resolution: quotes grouped into games, team names resolved, games indexed.

Why an index: matching 10,000 Kalshi markets against 10,000 sportsbook games must stay linear, so
games are keyed by (league, unordered team-id pair) and sorted by commence time; a Kalshi event only
ever looks at the few games of its own pair.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import compress

from arb_pipeline.domain import SPREADS, TOTALS, SportsbookQuote
from arb_pipeline.mapping.catalogue import Catalogue, LeagueCatalogue
from arb_pipeline.mapping.fuzzy import NameProposal, propose_team
from arb_pipeline.mapping.quote_rows import QuoteRows
from arb_pipeline.mapping.results import Unresolved, UnresolvedKind
from arb_pipeline.mapping.rules import ResolverConfig, TeamLookup
from arb_pipeline.slotted import fast_init

_MARKETS = frozenset({"h2h", SPREADS, TOTALS})  # == QUOTE_MARKETS: every row of `QuoteRows` is one


@fast_init
@dataclass(frozen=True, slots=True)
class SportsbookGame:
    """One sportsbook event with its teams resolved exactly or proposed: its h2h quotes (winner markets
    and the orientation guard) and its spread/total quotes (line markets) apart."""

    event_id: str
    league: LeagueCatalogue
    sport_key: str
    home_team: str
    away_team: str
    commence_time: datetime
    quotes: tuple[SportsbookQuote, ...]
    home_id: str | None  # exact catalogue team, or the proposed one when home_proposal is set
    away_id: str | None
    home_proposal: NameProposal | None = None
    away_proposal: NameProposal | None = None
    line_quotes: tuple[SportsbookQuote, ...] = ()  # spreads and totals
    pair: frozenset[str] | None = field(init=False, compare=False)  # None unless two distinct teams
    exact: bool = field(init=False, compare=False)  # both names are exact catalogue names

    def __post_init__(self) -> None:
        distinct = None not in (self.home_id, self.away_id) and self.home_id != self.away_id
        object.__setattr__(self, "pair", frozenset((self.home_id, self.away_id)) if distinct else None)
        object.__setattr__(self, "exact", self.home_proposal is None and self.away_proposal is None
                           and None not in (self.home_id, self.away_id))

    @property
    def provider(self) -> str:
        return (self.quotes or self.line_quotes)[0].provider

    def fuzzy_score(self) -> float:
        """min of the two name scores (100 for an exact name), out of 100."""
        scores = [p.score if p else 100.0 for p in (self.home_proposal, self.away_proposal)]
        return min(scores)

    def candidate(self, note: str = "") -> dict[str, object]:
        out: dict[str, object] = {
            "sportsbook_event_id": self.event_id, "provider": self.provider,
            "home_team": self.home_team, "away_team": self.away_team,
            "commence_time": self.commence_time.isoformat(), "home_id": self.home_id, "away_id": self.away_id,
        }
        if not self.exact:
            out["score"] = self.fuzzy_score()
            out["proposals"] = [p.to_dict() for p in (self.home_proposal, self.away_proposal) if p]
        if note:
            out["note"] = note
        return out


def group_games(
    quotes: Iterable[SportsbookQuote], catalogue: Catalogue, lookups: Mapping[str, TeamLookup], config: ResolverConfig,
    rows: QuoteRows | None = None,
) -> tuple[list[SportsbookGame], list[Unresolved]]:
    """Group h2h, spread and total quotes by event id; report events with inconsistent quotes or unknown names.

    With `rows` (the same quotes grouped from the parser's columns) the groups come from there: the
    same events in the same order, each with the same quotes in the same order."""
    games: list[SportsbookGame] = []
    problems: list[Unresolved] = []
    if rows is not None:
        for first, qs, h2h, lines in rows.events():
            _add_game(first, qs, (h2h, lines), catalogue, lookups, config, games, problems)
        return games, problems
    by_event: dict[str, list[SportsbookQuote]] = defaultdict(list)
    for q in quotes:
        if q.market in _MARKETS:
            by_event[q.event_id].append(q)
    for qs in by_event.values():
        _add_game(qs[0], qs, None, catalogue, lookups, config, games, problems)
    return games, problems


def _add_game(first: SportsbookQuote, qs: Sequence[SportsbookQuote], markets: tuple[bytes, bytes] | None,
              catalogue: Catalogue,
              lookups: Mapping[str, TeamLookup], config: ResolverConfig, games: list[SportsbookGame],
              problems: list[Unresolved]) -> None:
    """One event's game, or why not, from its quotes `qs` in input order; `markets`, when given, says
    which of them are h2h and which spread/total quotes (read from the parser's columns)."""
    event_id = first.event_id
    if first.commence_time.tzinfo is None:
        raise ValueError(f"sportsbook quote for event {event_id}: commence_time must be timezone-aware")
    home, away, start, sport = first.home_team, first.away_team, first.commence_time, first.sport_key
    odd = [q for q in qs if q.home_team != home or q.away_team != away
           or q.commence_time != start or q.sport_key != sport]
    if odd:
        shape = sorted({f"{q.sport_key} {q.home_team} v {q.away_team} {q.commence_time.isoformat()}"
                        for q in (first, *odd)})
        problems.append(Unresolved(UnresolvedKind.SPORTSBOOK_EVENT, event_id,
                                   f"inconsistent quotes (sport/teams/commence differ): {shape}"))
        return
    league = catalogue.by_sport_key(first.sport_key) or catalogue.leagues.get(first.league.upper())
    if league is None:
        problems.append(Unresolved(UnresolvedKind.SPORTSBOOK_EVENT, event_id,
                                   f"sport {first.sport_key!r} / league {first.league!r} not in the catalogue"))
        return
    lookup = lookups[league.code]
    ids: list[str | None] = []
    proposals: list[NameProposal | None] = []
    for name in (first.home_team, first.away_team):
        team = lookup.name(name)
        proposal = None if team else propose_team(
            name, league, threshold=config.fuzzy_threshold, margin=config.fuzzy_margin)
        ids.append(team.id if team else (proposal.team_id if proposal else None))
        proposals.append(proposal)
    if markets is None:
        h2h = tuple([q for q in qs if q.market == "h2h"])  # (a list first: faster than a generator)
        lines = tuple([q for q in qs if q.market != "h2h"]) if len(h2h) != len(qs) else ()
    else:
        h2h = tuple(compress(qs, markets[0]))
        lines = tuple(compress(qs, markets[1])) if len(h2h) != len(qs) else ()
    game = SportsbookGame(event_id, league, first.sport_key, first.home_team, first.away_team,
                          first.commence_time.astimezone(UTC), h2h, ids[0], ids[1], proposals[0], proposals[1],
                          lines)
    games.append(game)
    if not game.exact:
        unknown = [n for n, t in zip((first.home_team, first.away_team), ids, strict=True)
                   if lookup.name(n) is None]
        problems.append(Unresolved(
            UnresolvedKind.SPORTSBOOK_EVENT, event_id,
            f"unknown team name(s) {unknown} in {league.code}: "
            + ("fuzzy proposal(s) need confirmation" if game.pair else "no confident proposal; add an alias"),
            (game.candidate(),)))
    elif game.pair is None:
        problems.append(Unresolved(UnresolvedKind.SPORTSBOOK_EVENT, event_id,
                                   f"home and away are the same team {game.home_id}"))


class GameIndex:
    """Exact games by (league, pair) sorted by start; proposed-name games by league sorted by start."""

    def __init__(self, games: Iterable[SportsbookGame]) -> None:
        exact: dict[tuple[str, frozenset[str]], list[SportsbookGame]] = defaultdict(list)
        proposed: dict[str, list[SportsbookGame]] = defaultdict(list)
        self.by_id: dict[str, SportsbookGame] = {}
        for game in games:
            self.by_id[game.event_id] = game
            if game.exact and game.pair is not None:
                exact[(game.league.code, game.pair)].append(game)
            elif game.pair is not None:
                proposed[game.league.code].append(game)
        self._exact = {k: _sorted(v) for k, v in exact.items()}
        self._proposed = {k: _sorted(v) for k, v in proposed.items()}

    def pair_window(self, league: str, pair: frozenset[str], start: datetime, width: timedelta) -> list[SportsbookGame]:
        return _window(self._exact.get((league, pair)), start, width)

    def proposed_window(self, league: str, start: datetime, width: timedelta) -> list[SportsbookGame]:
        return _window(self._proposed.get(league), start, width)


def _sorted(games: list[SportsbookGame]) -> tuple[list[datetime], list[SportsbookGame]]:
    games.sort(key=lambda g: g.commence_time)
    return [g.commence_time for g in games], games


def _window(entry: tuple[list[datetime], list[SportsbookGame]] | None, start: datetime, width: timedelta
            ) -> list[SportsbookGame]:
    if entry is None:
        return []
    times, games = entry
    return games[bisect_left(times, start - width):bisect_right(times, start + width)]

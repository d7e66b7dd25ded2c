"""Frozen copies of code replaced for speed (as of main 5d602b5), kept only so the equivalence tests can hold
the new code to exactly what the old one returned: `group_games` (mapping/sportsbook.py) and
`consensus_of_games` (mapping/orientation_batch.py). Never imported by the package."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from itertools import chain

import numpy as np

from arb_pipeline.domain import Outcome, SportsbookQuote
from arb_pipeline.mapping.catalogue import Catalogue
from arb_pipeline.mapping.fuzzy import NameProposal, propose_team
from arb_pipeline.mapping.orientation import consensus_probabilities
from arb_pipeline.mapping.orientation_batch import _SLOT_OF, _SLOTS
from arb_pipeline.mapping.results import Unresolved, UnresolvedKind
from arb_pipeline.mapping.rules import ResolverConfig, TeamLookup
from arb_pipeline.mapping.sportsbook import _MARKETS, SportsbookGame

_CHUNK = 1024


def group_games(
    quotes: Iterable[SportsbookQuote], catalogue: Catalogue, lookups: Mapping[str, TeamLookup], config: ResolverConfig
) -> tuple[list[SportsbookGame], list[Unresolved]]:
    """Group h2h, spread and total quotes by event id; report events with inconsistent quotes or unknown names."""
    by_event: dict[str, list[SportsbookQuote]] = defaultdict(list)
    for q in quotes:
        if q.market in _MARKETS:
            by_event[q.event_id].append(q)
    games: list[SportsbookGame] = []
    problems: list[Unresolved] = []
    for event_id, qs in by_event.items():
        first = qs[0]
        if first.commence_time.tzinfo is None:
            raise ValueError(f"sportsbook quote for event {event_id}: commence_time must be timezone-aware")
        odd = [q for q in qs if q.home_team != first.home_team or q.away_team != first.away_team
               or q.commence_time != first.commence_time or q.sport_key != first.sport_key]
        if odd:
            shape = sorted({f"{q.sport_key} {q.home_team} v {q.away_team} {q.commence_time.isoformat()}"
                            for q in (first, *odd)})
            problems.append(Unresolved(UnresolvedKind.SPORTSBOOK_EVENT, event_id,
                                       f"inconsistent quotes (sport/teams/commence differ): {shape}"))
            continue
        league = catalogue.by_sport_key(first.sport_key) or catalogue.leagues.get(first.league.upper())
        if league is None:
            problems.append(Unresolved(UnresolvedKind.SPORTSBOOK_EVENT, event_id,
                                       f"sport {first.sport_key!r} / league {first.league!r} not in the catalogue"))
            continue
        lookup = lookups[league.code]
        ids: list[str | None] = []
        proposals: list[NameProposal | None] = []
        for name in (first.home_team, first.away_team):
            team = lookup.name(name)
            proposal = None if team else propose_team(
                name, league, threshold=config.fuzzy_threshold, margin=config.fuzzy_margin)
            ids.append(team.id if team else (proposal.team_id if proposal else None))
            proposals.append(proposal)
        game = SportsbookGame(event_id, league, first.sport_key, first.home_team, first.away_team,
                              first.commence_time.astimezone(UTC), tuple(q for q in qs if q.market == "h2h"),
                              ids[0], ids[1], proposals[0], proposals[1],
                              tuple(q for q in qs if q.market != "h2h"))
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
    return games, problems


def consensus_of_games(quotes: Sequence[Sequence[SportsbookQuote]],
                       outcomes: Sequence[frozenset[Outcome]]) -> list[dict[Outcome, float]]:
    """`[consensus_probabilities(q, o) for q, o in zip(quotes, outcomes)]`, the same dicts and floats."""
    n = len(quotes)
    if len(outcomes) != n:
        raise ValueError(f"consensus_of_games: {len(outcomes)} outcome sets for {n} games")
    out: list[dict[Outcome, float] | None] = []
    for start in range(0, n, _CHUNK):  # games are independent: a chunk's arrays bound the memory they take
        chunk, wanted = quotes[start:start + _CHUNK], outcomes[start:start + _CHUNK]
        found: list[dict[Outcome, float] | None] = [None] * len(chunk)
        flat = list(chain.from_iterable(chunk))
        if flat:
            _arrays(chunk, flat, wanted, [frozenset(o) <= frozenset(_SLOTS) for o in wanted], found)
        out.extend(found)
    return [found if found is not None else consensus_probabilities(q, o)
            for found, q, o in zip(out, quotes, outcomes, strict=True)]


def _arrays(quotes: Sequence[Sequence[SportsbookQuote]], flat: list[SportsbookQuote],
            outcomes: Sequence[frozenset[Outcome]], slots_ok: list[bool], out: list[dict[Outcome, float] | None]) -> None:
    n = len(quotes)
    game = np.repeat(np.arange(n, dtype=np.intp), [len(q) for q in quotes])
    slot = np.fromiter([_SLOT_OF.get(q.outcome, -1) if q.market == "h2h" else -1 for q in flat],
                       dtype=np.intp, count=len(flat))
    names = [q.bookmaker for q in flat]
    index = {b: i for i, b in enumerate(dict.fromkeys(names))}
    book = np.fromiter(map(index.__getitem__, names), dtype=np.intp, count=len(flat))
    odds = np.fromiter([q.odds_f for q in flat], dtype=np.float64, count=len(flat))
    need = np.zeros((n, 3), dtype=bool)  # per game: the outcomes a book must quote (exactly these)
    for g, wanted in enumerate(outcomes):
        for o in wanted:
            if o in _SLOTS:
                need[g, _SLOTS.index(o)] = True
    fast = np.array(slots_ok, dtype=bool)
    fast[game[slot == -2]] = False
    rows = np.flatnonzero(slot >= 0)
    n_books = max(len(index), 1)
    key = game[rows] * n_books + book[rows]  # one (game, book) line
    lines, first, line_of = np.unique(key, return_index=True, return_inverse=True)
    cells = np.bincount(line_of * 3 + slot[rows], minlength=3 * len(lines))
    fast[lines[np.flatnonzero(cells > 1) // 3] // n_books] = False  # a repeated outcome: latest wins there
    for g in np.flatnonzero(fast).tolist():
        out[g] = {}  # no complete line (or no quote): the per-game code's answer too
    if not len(lines):
        return
    order = np.argsort(first, kind="stable")  # lines in first-seen order (rows are grouped by game)
    position = np.empty(len(order), dtype=np.intp)
    position[order] = np.arange(len(order))
    at = position[line_of]
    lines = lines[order]
    present = np.zeros((len(lines), 3), dtype=bool)
    present[at, slot[rows]] = True
    inverse = np.zeros((len(lines), 3))
    inverse[at, slot[rows]] = 1.0 / odds[rows]
    seen = np.full((len(lines), 3), np.iinfo(np.intp).max)  # the row that first quoted each outcome
    seen[at, slot[rows]] = rows
    bad_odds = np.zeros((len(lines), 3), dtype=bool)
    bad_odds[at, slot[rows]] = odds[rows] <= 1.0
    line_game = lines // n_books
    keep = fast[line_game]
    if not keep.all():  # (usually every line is kept: no copies then)
        line_game, present, inverse, seen, bad_odds = (a[keep] for a in (line_game, present, inverse, seen, bad_odds))
    if not len(line_game):
        return
    valid = (present == need[line_game]).all(axis=1) & ~bad_odds.any(axis=1)
    # the booksum as `sum(1.0 / d ...)` adds them: in the order the book first quoted its outcomes
    in_order = np.take_along_axis(inverse, np.argsort(seen, axis=1, kind="stable"), axis=1)
    total = (in_order[:, 0] + in_order[:, 1]) + in_order[:, 2]  # an absent outcome adds 0.0: no change
    share = inverse / np.where(valid, total, 1.0)[:, None]
    starts = np.flatnonzero(np.r_[True, line_game[1:] != line_game[:-1]])
    run = np.diff(np.r_[starts, len(line_game)])
    rank = np.arange(len(line_game)) - np.repeat(starts, run)
    run_of_line = np.repeat(np.arange(len(starts)), run)
    sums = np.zeros((len(starts), 3))
    for k in range(int(run.max())):
        taken = np.flatnonzero((rank == k) & valid)  # at most one line per game
        sums[run_of_line[taken]] += share[taken]
    books = np.bincount(run_of_line, weights=valid, minlength=len(starts))
    mean = (sums / np.where(books > 0, books, 1.0)[:, None]).tolist()
    books_l = books.tolist()
    for i, g in enumerate(line_game[starts].tolist()):
        if books_l[i]:
            row = mean[i]
            out[g] = {o: row[_SLOTS.index(o)] for o in outcomes[g]}

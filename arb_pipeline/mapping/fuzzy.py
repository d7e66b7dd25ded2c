"""Fuzzy name proposals for sportsbook spellings the catalogue does not know. Proposals never trade.

Why so guarded: similarity is how "Manchester United" ends up matched to "Manchester City". So:
exact catalogue names are never re-scored; a name is scored against every alias of every team with
rapidfuzz `token_sort_ratio` (with `default_process`, since rapidfuzz 3 does not preprocess by
default); a candidate whose distinguishing club word differs ("united" vs "city") scores 0; and the
best team must clear a threshold AND beat the runner-up team by a margin. A proposal only becomes a
mapping once a human confirms it (manual_overrides), which also teaches the catalogue the alias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from arb_pipeline.mapping.catalogue import LeagueCatalogue, Team
from arb_pipeline.mapping.normalize import normalize_name

# Words that tell apart clubs sharing a city; "utd" is spelled out so "Man Utd" keeps its identity.
DISTINGUISHING_WORDS = frozenset({
    "united", "city", "town", "county", "athletic", "rovers", "wanderers", "albion", "hotspur",
    "wednesday", "rangers", "celtic", "palace", "villa", "forest", "argyle", "orient",
})
_SYNONYMS = {"utd": "united"}


@dataclass(frozen=True, slots=True)
class NameProposal:
    """A proposed team for an unknown name, with the evidence (scores out of 100)."""

    name: str
    team_id: str
    team_name: str
    score: float
    runner_up_id: str | None
    runner_up_score: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _distinguishing(key: str) -> frozenset[str]:
    return frozenset(_SYNONYMS.get(t, t) for t in key.split()) & DISTINGUISHING_WORDS


def _score(key: str, alias: str) -> float:
    mine, theirs = _distinguishing(key), _distinguishing(alias)
    if mine and theirs and mine != theirs:
        return 0.0
    expanded = " ".join(_SYNONYMS.get(t, t) for t in key.split())
    # imported when a name is unknown, not with the resolver: a scan whose names are all known never
    # scores one, and rapidfuzz cost it ~3 MiB and ~10 ms
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    return fuzz.token_sort_ratio(expanded, alias, processor=default_process)


def score_teams(name: str, league: LeagueCatalogue) -> list[tuple[Team, float]]:
    """Best score per team for `name`, highest first."""
    key = normalize_name(name)
    best: dict[str, tuple[Team, float]] = {}
    for alias, team in league.alias_items():
        score = _score(key, alias)
        if score > best.get(team.id, (team, -1.0))[1]:
            best[team.id] = (team, score)
    return sorted(best.values(), key=lambda item: (-item[1], item[0].id))


def propose_team(name: str, league: LeagueCatalogue, *, threshold: float, margin: float) -> NameProposal | None:
    """A proposal for an unknown `name`, or None when no team is clearly best. Known names → None."""
    if league.lookup(name) is not None:
        return None
    ranked = score_teams(name, league)
    if not ranked:
        return None
    (team, score), runner = ranked[0], (ranked[1] if len(ranked) > 1 else (None, 0.0))
    runner_team, runner_score = runner
    if score < threshold or score - runner_score < margin:
        return None
    return NameProposal(name, team.id, team.full_name, round(score, 2),
                        runner_team.id if runner_team else None, round(runner_score, 2))

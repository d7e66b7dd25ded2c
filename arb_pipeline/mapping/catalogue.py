"""Team catalogue: every real team of each league, with the exact names each venue uses for it.

Why a catalogue instead of string similarity: Kalshi labels ("Los Angeles D", "New York Y", "A's")
and sportsbook names ("Los Angeles Dodgers", "Athletics") are mapped *explicitly* to one canonical
team id, so that a match is a lookup, not a guess. One YAML file per league lives in
`arb_pipeline/mapping/data/`; a new league is a new file. Files are validated when loaded: a missing
field names the file and the team, and an alias shared by two teams of one league is an error naming
both (it would make matching ambiguous).

Kalshi codes and labels in the data files are best knowledge and must be confirmed against live
markets (see the header of each file). They are cross-checks only: a game is matched on Kalshi's
own identifiers (milestone and structured targets), so a wrong code or label can only make a market
*unresolved*; it can never create a match or map YES to the wrong team.

Individual sports (`kind: individual`: tennis, MMA) have an open roster: a player the file does not
list is still identified by the exact (normalised) full name both venues use, and the file only
adds aliases for names the venues spell differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from arb_pipeline.mapping.normalize import normalize_name

T = TypeVar("T")
DATA_DIR = Path(__file__).with_name("data")
_CODE_RE = re.compile(r"^[A-Z0-9]{1,8}$")
_SERIES_RE = re.compile(r"^[A-Z0-9]{2,40}$")
_TEAM_REQUIRED = ("id", "full_name", "city", "nickname", "kalshi_code", "kalshi_label", "aliases", "previous_names")
_TEAM_OPTIONAL = ("note", "kalshi_target_ids", "target_source_ids")
_PLAYER_REQUIRED = ("id", "full_name", "aliases")
_PLAYER_OPTIONAL = ("note", "kalshi_target_ids", "target_source_ids", "kalshi_code", "kalshi_label", "previous_names")
_LEAGUE_REQUIRED = ("league", "sport_key", "kalshi_series", "three_way", "milestone_type", "teams")
_LEAGUE_OPTIONAL = ("season", "kind", "sport_key_prefixes", "kalshi_spread_series", "kalshi_total_series",
                    "target_type", "note")
TEAM, INDIVIDUAL = "team", "individual"
GAME, SPREAD, TOTAL = "game", "spread", "total"  # what a Kalshi series lists: winners, spreads, totals


class CatalogueError(ValueError):
    """A catalogue file is malformed or a lookup names something the catalogue does not have."""


@dataclass(frozen=True, slots=True)
class Team:
    """One real team. `id` is canonical and stable; every other field is how some venue names it."""

    id: str
    league: str
    full_name: str
    city: str
    nickname: str
    kalshi_code: str
    kalshi_label: str
    aliases: tuple[str, ...]
    previous_names: tuple[str, ...]
    note: str = ""
    kalshi_target_ids: tuple[str, ...] = ()  # Kalshi structured-target UUIDs, once confirmed
    target_source_ids: tuple[str, ...] = ()  # a target's `source_id(s)` values (e.g. Sportradar), once confirmed

    def names(self) -> tuple[str, ...]:
        """Every string that identifies this team in its league (the city alone is not one)."""
        return tuple(name for name in (
            self.full_name,
            self.nickname,
            self.kalshi_code,
            self.kalshi_label,
            self.id,
            *self.aliases,
            *self.previous_names,
        ) if name)


@dataclass(frozen=True, slots=True)
class LeagueCatalogue:
    """The teams of one league plus the venue keys that identify the league itself."""

    code: str
    sport_key: str
    kalshi_series: str
    three_way: bool
    milestone_type: str
    teams: tuple[Team, ...]
    season: str = ""
    source: str = ""
    kind: str = TEAM  # "team" or "individual" (open roster of players, no home advantage)
    sport_key_prefixes: tuple[str, ...] = ()  # e.g. "tennis_atp_": one Odds API key per tournament
    spread_series: str = ""  # Kalshi spread series of this league's games ("" = none confirmed)
    total_series: str = ""
    target_type: str = ""  # structured-target `type` of a participant; default "<sport>_team"
    note: str = ""
    _by_id: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_alias: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_target: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_alt_code: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_source: dict[str, Team] = field(init=False, repr=False, compare=False)
    _memo: dict[object, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in (TEAM, INDIVIDUAL):
            raise CatalogueError(f"{self.source or self.code}: kind must be {TEAM!r} or {INDIVIDUAL!r}, got {self.kind!r}")
        if not self.target_type:
            object.__setattr__(self, "target_type", f"{self.milestone_type.split('_')[0]}_team")
        by_id: dict[str, Team] = {}
        by_code: dict[str, Team] = {}
        by_alias: dict[str, Team] = {}
        by_target: dict[str, Team] = {}
        by_alt_code: dict[str, Team] = {}
        by_source: dict[str, Team] = {}
        where = self.source or self.code
        for team in self.teams:
            _claim(by_id, team.id, team, f"{where}: team id {team.id!r}")
            if team.kalshi_code:
                _claim(by_code, team.kalshi_code, team, f"{where}: kalshi_code {team.kalshi_code!r}")
            for target in team.kalshi_target_ids:
                _claim(by_target, target, team, f"{where}: kalshi_target_id {target!r}")
            for source_id in team.target_source_ids:
                _claim(by_source, source_id, team, f"{where}: target_source_id {source_id!r}")
            for name in (*team.aliases, *team.previous_names):
                if _CODE_RE.match(name) and len(name) >= 2:
                    _claim(by_alt_code, name, team, f"{where}: code-like alias {name!r}")
            for name in team.names():
                key = normalize_name(name)
                if not key:
                    raise CatalogueError(f"{where}: team {team.id}: name {name!r} is empty once normalised")
                _claim(by_alias, key, team, f"{where}: alias {name!r} (normalised {key!r})")
        # A code-like alias equal to another team's kalshi_code is already rejected by the alias index
        # (every code is also a name), so by_code can consult aliases without ambiguity.
        object.__setattr__(self, "_by_alt_code", by_alt_code)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_by_alias", by_alias)
        object.__setattr__(self, "_by_target", by_target)
        object.__setattr__(self, "_by_source", by_source)
        object.__setattr__(self, "_memo", {})

    @property
    def individual(self) -> bool:
        """Players, not teams: open roster, and home/away is only the books' listing order."""
        return self.kind == INDIVIDUAL

    def series_kind(self, series_ticker: str) -> str | None:
        """GAME, SPREAD or TOTAL when `series_ticker` is one of this league's series, else None."""
        return {self.kalshi_series: GAME, self.spread_series: SPREAD, self.total_series: TOTAL}.get(
            series_ticker) if series_ticker else None

    def all_series(self) -> tuple[str, ...]:
        return tuple(s for s in (self.kalshi_series, self.spread_series, self.total_series) if s)

    def matches_sport_key(self, sport_key: str) -> bool:
        return sport_key == self.sport_key or any(sport_key.startswith(p) for p in self.sport_key_prefixes)

    def team(self, team_id: str) -> Team:
        try:
            return self._by_id[team_id]
        except KeyError:
            raise CatalogueError(f"league {self.code}: no team with id {team_id!r}") from None

    def by_code(self, code: str) -> Team | None:
        """The team whose Kalshi ticker code is `code` (case-insensitive).

        The declared `kalshi_code` first, then a code-like alias of the same team ("AZ", "TB", "LAK"):
        the Kalshi codes are not confirmed, and a team's own abbreviation is still an exact name. A
        code-like alias can never equal another team's code (checked at load).
        """
        code = code.upper()
        return self._by_code.get(code) or self._by_alt_code.get(code)

    def by_target_id(self, target_id: str) -> Team | None:
        return self._by_target.get(target_id)

    def by_source_id(self, source_id: str) -> Team | None:
        return self._by_source.get(source_id)

    def player(self, name: str) -> Team | None:
        """Individual leagues: the listed player, or one identified by the exact normalised full name.

        Why exact: two spellings of one player that normalisation does not merge ("Felix" vs
        "Félix" merges; "F. Auger-Aliassime" does not) stay two ids, so the match fails (unresolved)
        instead of guessing; the fix is an alias in the data file.
        """
        if not self.individual:
            return self.lookup(name)
        listed = self.lookup(name)
        if listed is not None:
            return listed
        key = normalize_name(name)
        if not key:
            return None
        return self.memo(("player", key), lambda: Team(
            id=f"{self.code}-{key.replace(' ', '-')}", league=self.code, full_name=name.strip(), city="",
            nickname="", kalshi_code="", kalshi_label="", aliases=(), previous_names=(),
            note="not in the catalogue: identified by exact full name"))

    def lookup(self, name: str) -> Team | None:
        """Exact lookup of any known spelling (after normalisation); None when unknown. Never fuzzy."""
        return self._by_alias.get(normalize_name(name))

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """Per-league cache for values derived only from this (immutable) catalogue."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def alias_items(self) -> tuple[tuple[str, Team], ...]:
        """(normalised alias, team) pairs: the candidate list the fuzzy proposer scores against."""
        return tuple(self._by_alias.items())


def _claim(index: dict[str, Team], key: str, team: Team, what: str) -> None:
    other = index.get(key)
    if other is not None and other.id != team.id:
        raise CatalogueError(
            f"{what} is used by both {other.id} ({other.full_name}) and {team.id} ({team.full_name})"
        )
    index[key] = team


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All leagues, addressable by league code, Kalshi series or Odds API sport key."""

    leagues: Mapping[str, LeagueCatalogue]
    _by_series: dict[str, LeagueCatalogue] = field(init=False, repr=False, compare=False)
    _by_sport_key: dict[str, LeagueCatalogue] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_series", {s: lg for lg in self.leagues.values() for s in lg.all_series()})
        object.__setattr__(self, "_by_sport_key", {lg.sport_key: lg for lg in self.leagues.values()})

    def league(self, code: str) -> LeagueCatalogue:
        try:
            return self.leagues[code.upper()]
        except KeyError:
            known = ", ".join(sorted(self.leagues))
            raise CatalogueError(f"unknown league {code!r}; the catalogue has: {known}") from None

    def by_series(self, series_ticker: str) -> LeagueCatalogue | None:
        """The league of any of its series (game winner, spread or total)."""
        return self._by_series.get(series_ticker)

    def market_series(self, series_ticker: str) -> tuple[LeagueCatalogue, str] | None:
        """(league, GAME | SPREAD | TOTAL) of a Kalshi series, or None when the catalogue has no such series."""
        league = self._by_series.get(series_ticker)
        kind = league.series_kind(series_ticker) if league else None
        return (league, kind) if league and kind else None

    def by_sport_key(self, sport_key: str) -> LeagueCatalogue | None:
        """The league of an Odds API sport key: exact key first, then a league's key prefix (tennis)."""
        exact = self._by_sport_key.get(sport_key)
        if exact is not None:
            return exact
        found = [lg for lg in self.leagues.values() if lg.matches_sport_key(sport_key)]
        return found[0] if len(found) == 1 else None

    def team(self, team_id: str) -> Team:
        """A team by its canonical id, in any league (ids are prefixed by league code)."""
        for lg in self.leagues.values():
            if team_id in lg._by_id:
                return lg._by_id[team_id]
        raise CatalogueError(f"no team with id {team_id!r} in any league")


def load_catalogue(data_dir: Path | str | None = None) -> Catalogue:
    """Load and validate every `*.yaml` league file in `data_dir` (default: the packaged data).

    The packaged catalogue is loaded once per process (cached): it is read-only data. The files'
    documents come from `catalogue.json` beside them when it matches their bytes exactly
    (`catalogue_cache`), else from parsing the YAML; validation is the same either way.
    """
    if data_dir is None:
        return _load_default()
    return _load_dir(Path(data_dir))


@lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _load_dir(DATA_DIR)


def league_files(directory: Path) -> list[Path]:
    """The league files of a catalogue directory (every `*.yaml`), in load order."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogueError(f"no league files (*.yaml) in {directory}")
    return files


def _load_dir(directory: Path) -> Catalogue:
    from arb_pipeline.mapping.catalogue_cache import cached_documents

    sources = [(path.name, path.read_bytes()) for path in league_files(directory)]
    # the files' documents from their JSON cache when it describes exactly these bytes, else parsed
    documents = cached_documents(directory, sources)
    if documents is None:
        documents = [parse_league_yaml(data.decode("utf-8"), name) for name, data in sources]
    return catalogue_from_leagues(league_from_dict(raw, source=name)
                                  for (name, _), raw in zip(sources, documents, strict=True))


def catalogue_from_leagues(leagues: Iterable[LeagueCatalogue]) -> Catalogue:
    by_code: dict[str, LeagueCatalogue] = {}
    for lg in leagues:
        for other in by_code.values():
            shared = set(other.all_series()) & set(lg.all_series())
            prefixes = [p for p in lg.sport_key_prefixes if other.matches_sport_key(p) or any(
                q.startswith(p) or p.startswith(q) for q in other.sport_key_prefixes)]
            if other.code == lg.code or shared or other.sport_key == lg.sport_key or prefixes:
                what = (f"series {sorted(shared)}" if shared else f"sport key prefixes {prefixes}" if prefixes
                        else "code or sport key")
                raise CatalogueError(f"{lg.source}: league {lg.code} clashes with {other.source} ({other.code}): {what}")
        by_code[lg.code] = lg
    return Catalogue(leagues=by_code)


def load_league_file(path: Path | str) -> LeagueCatalogue:
    path = Path(path)
    return league_from_dict(parse_league_yaml(path.read_text(encoding="utf-8"), path.name), source=path.name)


def parse_league_yaml(text: str, source: str) -> object:
    """One league file's YAML document (`source` names the file in the error)."""
    import yaml  # only when a file is parsed: the packaged catalogue is read from its cache

    # libyaml's safe loader when PyYAML was built with it (same safe schema, ~10x faster), else the
    # pure-Python one
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source}: invalid YAML: {exc}") from exc


def league_from_dict(raw: object, *, source: str) -> LeagueCatalogue:
    """Validate one league document (the parsed YAML) and build its catalogue."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: expected a mapping at top level, got {type(raw).__name__}")
    _check_keys(raw, _LEAGUE_REQUIRED, _LEAGUE_OPTIONAL, source)
    code = _text(raw, "league", source).upper()
    three_way = raw["three_way"]
    if not isinstance(three_way, bool):
        raise CatalogueError(f"{source}: 'three_way' must be true or false, got {three_way!r}")
    kind = raw.get("kind", TEAM)
    if kind not in (TEAM, INDIVIDUAL):
        raise CatalogueError(f"{source}: 'kind' must be {TEAM!r} or {INDIVIDUAL!r}, got {kind!r}")
    teams_raw = raw["teams"]
    if not isinstance(teams_raw, list) or not teams_raw:
        raise CatalogueError(f"{source}: 'teams' must be a non-empty list")
    teams = tuple(_team(item, code, source, index, individual=kind == INDIVIDUAL)
                  for index, item in enumerate(teams_raw, start=1))
    series = {key: _series(raw, key, source) for key in ("kalshi_series", "kalshi_spread_series", "kalshi_total_series")}
    if not series["kalshi_series"]:
        raise CatalogueError(f"{source}: field 'kalshi_series' must be a non-empty string")
    return LeagueCatalogue(
        code=code,
        sport_key=_text(raw, "sport_key", source),
        kalshi_series=series["kalshi_series"],
        three_way=three_way,
        milestone_type=_text(raw, "milestone_type", source),
        teams=teams,
        season=str(raw.get("season", "")),
        source=source,
        kind=kind,
        sport_key_prefixes=_texts(raw, "sport_key_prefixes", source) if "sport_key_prefixes" in raw else (),
        spread_series=series["kalshi_spread_series"],
        total_series=series["kalshi_total_series"],
        target_type=_text(raw, "target_type", source) if "target_type" in raw else "",
        note=str(raw.get("note", "")),
    )


def _series(raw: dict, key: str, where: str) -> str:
    """An optional Kalshi series ticker ("" when absent or empty: not confirmed for this league)."""
    value = raw.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _SERIES_RE.match(value.strip()):
        raise CatalogueError(f"{where}: {key} {value!r} must be a Kalshi series ticker (upper-case letters/digits)")
    return value.strip()


def _team(item: object, league: str, source: str, index: int, *, individual: bool = False) -> Team:
    label = f"{source}: {'player' if individual else 'team'} #{index}"
    if not isinstance(item, dict):
        raise CatalogueError(f"{label}: expected a mapping, got {type(item).__name__}")
    if isinstance(item.get("id"), str):
        label = f"{label} ({item['id']})"
    if individual:
        _check_keys(item, _PLAYER_REQUIRED, _PLAYER_OPTIONAL, label)
    else:
        _check_keys(item, _TEAM_REQUIRED, _TEAM_OPTIONAL, label)
    code = _text(item, "kalshi_code", label) if not individual or item.get("kalshi_code") else ""
    if code and not _CODE_RE.match(code):
        raise CatalogueError(f"{label}: kalshi_code {code!r} must be 1-8 upper-case letters or digits")

    def optional(key: str) -> tuple[str, ...]:
        return _texts(item, key, label) if key in item else ()

    return Team(
        id=_text(item, "id", label),
        league=league,
        full_name=_text(item, "full_name", label),
        city="" if individual else _text(item, "city", label),
        nickname="" if individual else _text(item, "nickname", label),
        kalshi_code=code,
        kalshi_label=_text(item, "kalshi_label", label) if not individual or item.get("kalshi_label") else "",
        aliases=_texts(item, "aliases", label),
        previous_names=optional("previous_names"),
        note=str(item.get("note", "")),
        kalshi_target_ids=optional("kalshi_target_ids"),
        target_source_ids=optional("target_source_ids"),
    )


def _check_keys(raw: dict, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    missing = [key for key in required if key not in raw]
    if missing:
        raise CatalogueError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(str(key) for key in raw if key not in required and key not in optional)
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _text(raw: dict, key: str, where: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: field {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _texts(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw[key]
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(f"{where}: field {key!r} must be a list of non-empty strings, got {value!r}")
    return tuple(v.strip() for v in value)

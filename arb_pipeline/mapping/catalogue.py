"""Team catalogue: every real team of each league, with the exact names each venue uses for it.

Why a catalogue instead of string similarity: Kalshi labels ("Los Angeles D", "New York Y", "A's")
and sportsbook names ("Los Angeles Dodgers", "Athletics") are mapped *explicitly* to one canonical
team id, so that a match is a lookup, not a guess. One YAML file per league lives in
`arb_pipeline/mapping/data/`; a new league is a new file. Files are validated when loaded: a missing
field names the file and the team, and an alias shared by two teams of one league is an error naming
both (it would make matching ambiguous).

Kalshi codes and labels in the data files are best knowledge and must be confirmed against live
markets (see the header of each file). A wrong entry can only make a market *unresolved* (the
ticker, label and rules cross-checks disagree); it cannot silently map YES to the wrong team.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml

from arb_pipeline.mapping.normalize import normalize_name

T = TypeVar("T")
DATA_DIR = Path(__file__).with_name("data")
_CODE_RE = re.compile(r"^[A-Z0-9]{1,8}$")
_TEAM_REQUIRED = ("id", "full_name", "city", "nickname", "kalshi_code", "kalshi_label", "aliases", "previous_names")
_TEAM_OPTIONAL = ("note", "kalshi_target_ids")
_LEAGUE_REQUIRED = ("league", "sport_key", "kalshi_series", "three_way", "milestone_type", "teams")
_LEAGUE_OPTIONAL = ("season",)


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

    def names(self) -> tuple[str, ...]:
        """Every string that identifies this team in its league (the city alone is not one)."""
        return (
            self.full_name,
            self.nickname,
            self.kalshi_code,
            self.kalshi_label,
            self.id,
            *self.aliases,
            *self.previous_names,
        )


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
    _by_id: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_alias: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_target: dict[str, Team] = field(init=False, repr=False, compare=False)
    _by_alt_code: dict[str, Team] = field(init=False, repr=False, compare=False)
    _memo: dict[object, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Team] = {}
        by_code: dict[str, Team] = {}
        by_alias: dict[str, Team] = {}
        by_target: dict[str, Team] = {}
        by_alt_code: dict[str, Team] = {}
        where = self.source or self.code
        for team in self.teams:
            _claim(by_id, team.id, team, f"{where}: team id {team.id!r}")
            _claim(by_code, team.kalshi_code, team, f"{where}: kalshi_code {team.kalshi_code!r}")
            for target in team.kalshi_target_ids:
                _claim(by_target, target, team, f"{where}: kalshi_target_id {target!r}")
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
        object.__setattr__(self, "_memo", {})

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
        object.__setattr__(self, "_by_series", {lg.kalshi_series: lg for lg in self.leagues.values()})
        object.__setattr__(self, "_by_sport_key", {lg.sport_key: lg for lg in self.leagues.values()})

    def league(self, code: str) -> LeagueCatalogue:
        try:
            return self.leagues[code.upper()]
        except KeyError:
            known = ", ".join(sorted(self.leagues))
            raise CatalogueError(f"unknown league {code!r}; the catalogue has: {known}") from None

    def by_series(self, series_ticker: str) -> LeagueCatalogue | None:
        return self._by_series.get(series_ticker)

    def by_sport_key(self, sport_key: str) -> LeagueCatalogue | None:
        return self._by_sport_key.get(sport_key)

    def team(self, team_id: str) -> Team:
        """A team by its canonical id, in any league (ids are prefixed by league code)."""
        for lg in self.leagues.values():
            if team_id in lg._by_id:
                return lg._by_id[team_id]
        raise CatalogueError(f"no team with id {team_id!r} in any league")


def load_catalogue(data_dir: Path | str | None = None) -> Catalogue:
    """Load and validate every `*.yaml` league file in `data_dir` (default: the packaged data).

    The packaged catalogue is parsed once per process (cached): it is read-only data.
    """
    if data_dir is None:
        return _load_default()
    return _load_dir(Path(data_dir))


@lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _load_dir(DATA_DIR)


def _load_dir(directory: Path) -> Catalogue:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogueError(f"no league files (*.yaml) in {directory}")
    return catalogue_from_leagues(load_league_file(path) for path in files)


def catalogue_from_leagues(leagues: Iterable[LeagueCatalogue]) -> Catalogue:
    by_code: dict[str, LeagueCatalogue] = {}
    for lg in leagues:
        for other in by_code.values():
            if other.code == lg.code or other.kalshi_series == lg.kalshi_series or other.sport_key == lg.sport_key:
                raise CatalogueError(f"{lg.source}: league {lg.code} clashes with {other.source} ({other.code})")
        by_code[lg.code] = lg
    return Catalogue(leagues=by_code)


def load_league_file(path: Path | str) -> LeagueCatalogue:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: invalid YAML: {exc}") from exc
    return league_from_dict(raw, source=path.name)


def league_from_dict(raw: object, *, source: str) -> LeagueCatalogue:
    """Validate one league document (the parsed YAML) and build its catalogue."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: expected a mapping at top level, got {type(raw).__name__}")
    _check_keys(raw, _LEAGUE_REQUIRED, _LEAGUE_OPTIONAL, source)
    code = _text(raw, "league", source).upper()
    three_way = raw["three_way"]
    if not isinstance(three_way, bool):
        raise CatalogueError(f"{source}: 'three_way' must be true or false, got {three_way!r}")
    teams_raw = raw["teams"]
    if not isinstance(teams_raw, list) or not teams_raw:
        raise CatalogueError(f"{source}: 'teams' must be a non-empty list")
    teams = tuple(_team(item, code, source, index) for index, item in enumerate(teams_raw, start=1))
    return LeagueCatalogue(
        code=code,
        sport_key=_text(raw, "sport_key", source),
        kalshi_series=_text(raw, "kalshi_series", source),
        three_way=three_way,
        milestone_type=_text(raw, "milestone_type", source),
        teams=teams,
        season=str(raw.get("season", "")),
        source=source,
    )


def _team(item: object, league: str, source: str, index: int) -> Team:
    label = f"{source}: team #{index}"
    if not isinstance(item, dict):
        raise CatalogueError(f"{label}: expected a mapping, got {type(item).__name__}")
    if isinstance(item.get("id"), str):
        label = f"{label} ({item['id']})"
    _check_keys(item, _TEAM_REQUIRED, _TEAM_OPTIONAL, label)
    code = _text(item, "kalshi_code", label)
    if not _CODE_RE.match(code):
        raise CatalogueError(f"{label}: kalshi_code {code!r} must be 1-8 upper-case letters or digits")
    return Team(
        id=_text(item, "id", label),
        league=league,
        full_name=_text(item, "full_name", label),
        city=_text(item, "city", label),
        nickname=_text(item, "nickname", label),
        kalshi_code=code,
        kalshi_label=_text(item, "kalshi_label", label),
        aliases=_texts(item, "aliases", label),
        previous_names=_texts(item, "previous_names", label),
        note=str(item.get("note", "")),
        kalshi_target_ids=_texts(item, "kalshi_target_ids", label) if "kalshi_target_ids" in item else (),
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

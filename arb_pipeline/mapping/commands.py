"""Plain functions behind `arb-pipeline mapping list|confirm|reject|override` (the lead wires the CLI).

Why here: the CLI stays thin and the same functions serve the API or a notebook. Each call validates
its input (team ids against the catalogue, required who/why), then rewrites the overrides YAML
atomically (temp file + rename) under an advisory lock so that two operators cannot lose each
other's entry. The change takes effect on the next scan. Functions return plain dicts (JSON-ready)
and raise `CommandError` with a clear message.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.catalogue import Catalogue, CatalogueError, load_catalogue
from arb_pipeline.mapping.manual_overrides import (
    DEFAULT_OVERRIDES_PATH,
    Override,
    OverrideAction,
    OverrideError,
    load_overrides,
    save_overrides,
)
from arb_pipeline.mapping.results import Resolution


class CommandError(ValueError):
    """A mapping command was given invalid input; nothing was written."""


def list_mappings(path: Path | str | None = None, *, kalshi: str | None = None,
                  resolution: Resolution | None = None) -> dict[str, list[dict[str, object]]]:
    """Overrides in the file (oldest first) and, given a scan's `resolution`, its rows and misses.

    `kalshi` filters to one market or event ticker (a market's rows also match its event ticker).
    """
    try:
        overrides = load_overrides(_path(path))
    except OverrideError as exc:
        raise CommandError(str(exc)) from exc
    out: dict[str, list[dict[str, object]]] = {
        "overrides": [o.to_dict() for o in overrides if kalshi is None or kalshi in (o.kalshi_market, o.kalshi_event)]
    }
    if resolution is not None:
        out["rows"] = [r.to_dict() for r in resolution.rows
                       if kalshi is None or kalshi in (r.kalshi_market, r.kalshi_event)]
        out["unresolved"] = [u.to_dict() for u in resolution.unresolved
                             if kalshi is None or u.id == kalshi or u.id.startswith(f"{kalshi}-")]
    return out


def confirm(*, who: str, why: str, kalshi_event: str | None = None, kalshi_market: str | None = None,
            sportsbook_event_id: str | None = None, team_aliases: Mapping[str, str] | None = None,
            when: datetime | None = None, path: Path | str | None = None,
            catalogue: Catalogue | None = None) -> dict[str, object]:
    """Confirm a (proposed) game for a Kalshi event/market, and/or teach exact team aliases."""
    _check_team_ids(team_aliases or {}, catalogue)
    return _append(dict(action=OverrideAction.CONFIRM, who=who, why=why, kalshi_event=kalshi_event,
                        kalshi_market=kalshi_market, sportsbook_event_id=sportsbook_event_id,
                        team_aliases=dict(team_aliases or {}), when=when), path)


def reject(*, who: str, why: str, kalshi_event: str | None = None, kalshi_market: str | None = None,
           sportsbook_event_id: str | None = None, when: datetime | None = None,
           path: Path | str | None = None) -> dict[str, object]:
    """Never map this Kalshi event/market (or never to `sportsbook_event_id` only)."""
    return _append(dict(action=OverrideAction.REJECT, who=who, why=why, kalshi_event=kalshi_event,
                        kalshi_market=kalshi_market, sportsbook_event_id=sportsbook_event_id, when=when), path)


def override(*, who: str, why: str, sportsbook_event_id: str, kalshi_market: str | None = None,
             kalshi_event: str | None = None, outcome: Outcome | str | None = None,
             when: datetime | None = None, path: Path | str | None = None) -> dict[str, object]:
    """Force a mapping (market level: to an outcome too), whatever the rules say."""
    try:
        parsed = Outcome(outcome) if outcome is not None else None
    except ValueError:
        raise CommandError(f"outcome {outcome!r} must be one of home, away, draw") from None
    return _append(dict(action=OverrideAction.FORCE, who=who, why=why, kalshi_event=kalshi_event,
                        kalshi_market=kalshi_market, sportsbook_event_id=sportsbook_event_id, outcome=parsed,
                        when=when), path)


def _path(path: Path | str | None) -> Path:
    return Path(path) if path is not None else DEFAULT_OVERRIDES_PATH


def _check_team_ids(aliases: Mapping[str, str], catalogue: Catalogue | None) -> None:
    if not aliases:
        return
    cat = catalogue if catalogue is not None else load_catalogue()
    for alias, team_id in aliases.items():
        try:
            team = cat.team(team_id)
        except CatalogueError:
            raise CommandError(f"team alias {alias!r}: unknown team id {team_id!r}") from None
        known = cat.league(team.league).lookup(alias)
        if known is not None and known.id != team.id:
            raise CommandError(f"team alias {alias!r} already names {known.id} ({known.full_name}), not {team_id}")


def _append(fields: dict[str, object], path: Path | str | None) -> dict[str, object]:
    target = _path(path)
    fields["when"] = fields["when"] or datetime.now(UTC)
    try:
        new = Override(**fields)  # type: ignore[arg-type]
    except (OverrideError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    with _locked(target):
        try:
            existing = load_overrides(target)
        except OverrideError as exc:
            raise CommandError(f"cannot add to a broken overrides file: {exc}") from exc
        save_overrides((*existing, new), target)
    return new.to_dict()


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(f".{target.name}.lock")
    with open(lock_path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

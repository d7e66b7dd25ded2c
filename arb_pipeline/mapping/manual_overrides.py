"""Human corrections that win over the rules: confirm, reject or force a mapping, with who/when/why.

Why: exact rules leave some markets unresolved (a new sportsbook spelling, a relocated team, a Kalshi
code we have not seen) and a human must be able to fix that, or veto a match, without a deploy.
Overrides come from a YAML file in the repo (`mapping_overrides.yaml` at the repo root by default)
and from records the storage layer passes in; both are `Override` records. A fix takes effect on the
next scan. For each Kalshi market/event the latest override (by `when`) wins; a market-level override
beats an event-level one.

Actions:
- confirm: accept `sportsbook_event_id` as the game of a Kalshi event/market (e.g. a fuzzy proposal);
  outcomes still come from the team rules. `team_aliases` alone (no target) teaches exact aliases:
  {"LA Clipperz": "NBA-LAC"} or a Kalshi structured-target id → team id.
- reject: never map this market/event; with `sportsbook_event_id`, only never to that game.
- force: map to `sportsbook_event_id`; at market level also to `outcome`, even if the rules disagree.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import yaml

from arb_pipeline.domain import Outcome

DEFAULT_OVERRIDES_PATH = Path(__file__).resolve().parents[2] / "mapping_overrides.yaml"
_FIELDS = ("action", "kalshi_market", "kalshi_event", "sportsbook_event_id", "outcome", "team_aliases",
           "who", "when", "why")


class OverrideError(ValueError):
    """An override record or file is invalid; the message names the entry and the field."""


class OverrideAction(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    FORCE = "force"


@dataclass(frozen=True, slots=True)
class Override:
    """One human decision about one Kalshi market or event (or, alias-only, about team names).

    Persisted by the storage layer or in the YAML file; `who`/`when`/`why` are mandatory so every
    mapping that trades can be traced to a person and a reason.
    """

    action: OverrideAction
    who: str
    when: datetime
    why: str
    kalshi_market: str | None = None
    kalshi_event: str | None = None
    sportsbook_event_id: str | None = None
    outcome: Outcome | None = None
    team_aliases: Mapping[str, str] = field(default_factory=dict)  # alias or target id → team id

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", OverrideAction(self.action))
        if self.outcome is not None:
            object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "team_aliases", dict(self.team_aliases))
        for name in ("who", "why"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise OverrideError(f"override: '{name}' is required (who made it and why)")
        if not isinstance(self.when, datetime) or self.when.tzinfo is None:
            raise OverrideError(f"override by {self.who}: 'when' must be a timezone-aware datetime, got {self.when!r}")
        if self.kalshi_market and self.kalshi_event:
            raise OverrideError(f"override by {self.who}: give kalshi_market or kalshi_event, not both")
        target = self.kalshi_market or self.kalshi_event
        if self.outcome is not None and not self.kalshi_market:
            raise OverrideError(f"override by {self.who}: 'outcome' needs kalshi_market")
        if self.action is OverrideAction.FORCE:
            if not target or not self.sportsbook_event_id:
                raise OverrideError(f"force override by {self.who}: needs kalshi_market/kalshi_event and sportsbook_event_id")
            if self.kalshi_market and self.outcome is None:
                raise OverrideError(f"force override of {self.kalshi_market}: needs 'outcome' (home/away/draw)")
        elif self.action is OverrideAction.REJECT:
            if not target:
                raise OverrideError(f"reject override by {self.who}: needs kalshi_market or kalshi_event")
        elif not (target and self.sportsbook_event_id) and not self.team_aliases:
            raise OverrideError(
                f"confirm override by {self.who}: needs a target with sportsbook_event_id, or team_aliases")
        if self.sportsbook_event_id and not target:
            raise OverrideError(f"override by {self.who}: sportsbook_event_id needs kalshi_market or kalshi_event")

    @property
    def target(self) -> str | None:
        return self.kalshi_market or self.kalshi_event

    def describe(self) -> str:
        return f"{self.action.value} by {self.who} at {self.when.isoformat()}: {self.why}"

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"action": self.action.value}
        for name in ("kalshi_market", "kalshi_event", "sportsbook_event_id"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.outcome is not None:
            out["outcome"] = self.outcome.value
        if self.team_aliases:
            out["team_aliases"] = dict(self.team_aliases)
        out.update(who=self.who, when=self.when.isoformat(), why=self.why)
        return out


def override_from_dict(raw: object, where: str) -> Override:
    if not isinstance(raw, dict):
        raise OverrideError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in _FIELDS)
    if unknown:
        raise OverrideError(f"{where}: unknown field(s) {', '.join(unknown)}")
    missing = [k for k in ("action", "who", "when", "why") if not raw.get(k)]
    if missing:
        raise OverrideError(f"{where}: missing field(s) {', '.join(missing)}")
    when = raw["when"]
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise OverrideError(f"{where}: 'when' {raw['when']!r} is not an ISO-8601 datetime") from None
    aliases = raw.get("team_aliases") or {}
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise OverrideError(f"{where}: 'team_aliases' must map strings to team ids")
    try:
        return Override(
            action=OverrideAction(raw["action"]), who=str(raw["who"]), when=when, why=str(raw["why"]),
            kalshi_market=raw.get("kalshi_market"), kalshi_event=raw.get("kalshi_event"),
            sportsbook_event_id=None if raw.get("sportsbook_event_id") is None else str(raw["sportsbook_event_id"]),
            outcome=Outcome(raw["outcome"]) if raw.get("outcome") else None, team_aliases=aliases,
        )
    except OverrideError as exc:
        raise OverrideError(f"{where}: {exc}") from None
    except ValueError as exc:
        raise OverrideError(f"{where}: {exc}") from None


def load_overrides(path: Path | str | None = None) -> tuple[Override, ...]:
    """Read the overrides file; a missing file means no overrides."""
    path = Path(path) if path is not None else DEFAULT_OVERRIDES_PATH
    if not path.exists():
        return ()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise OverrideError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("overrides", []), list):
        raise OverrideError(f"{path}: expected a mapping with an 'overrides' list")
    return tuple(override_from_dict(item, f"{path}: overrides[{i}]") for i, item in enumerate(doc.get("overrides") or []))


def save_overrides(overrides: Iterable[Override], path: Path | str | None = None) -> Path:
    """Write the whole file atomically (temp file in the same directory + rename)."""
    path = Path(path) if path is not None else DEFAULT_OVERRIDES_PATH
    doc = {"version": 1, "overrides": [o.to_dict() for o in overrides]}
    text = ("# Manual mapping overrides (arb_pipeline.mapping.manual_overrides). Edit with\n"
            "# `arb-pipeline mapping confirm|reject|override`; every entry says who, when and why.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class OverrideSet:
    """The effective overrides: the latest per market and per event, plus all learned aliases."""

    def __init__(self, overrides: Iterable[Override]) -> None:
        ordered = sorted(enumerate(overrides), key=lambda item: (item[1].when, item[0]))
        self.by_market: dict[str, Override] = {}
        self.by_event: dict[str, Override] = {}
        self.aliases: dict[str, str] = {}
        for _, o in ordered:
            if o.kalshi_market:
                self.by_market[o.kalshi_market] = o
            elif o.kalshi_event:
                self.by_event[o.kalshi_event] = o
            if o.action is not OverrideAction.REJECT:
                self.aliases.update(o.team_aliases)

    def for_market(self, market_ticker: str, event_ticker: str) -> Override | None:
        return self.by_market.get(market_ticker) or self.by_event.get(event_ticker)

"""Kalshi structured targets: the wire parsers and a process-wide cache of them.

A structured target is Kalshi's own identity for a team or player (kalshi-api.md §8.4, §8.5): a
market's `custom_strike` value and a milestone's `details.home_team_id` / `away_team_id` are target
ids, and `GET /structured_targets/{id}` (or the list endpoint with `ids=`) says who they are (`name`,
`type`, `source_id(s)`). Resolution matches games on these identifiers; ticker codes and titles are
only cross-checks.

Targets change rarely (a team's name or source id), so they are cached per venue (base URL) for a
TTL; an id the venue answers 404 for is remembered as missing for a shorter TTL so a bad id is not
re-asked on every scan. The parsers are pure (the snapshot replay uses them); the cache holds the
venue's raw objects so a capture can record exactly what it used.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from arb_pipeline.domain import StructuredTarget

from .errors import KalshiResponseError
from .wire import Reader

STRUCTURED_TARGETS = "GET /structured_targets"
STRUCTURED_TARGET = "GET /structured_targets/{id}"
MAX_IDS_PER_CALL = 100  # ids are repeated query parameters; keep a URL well under common limits
MAX_PAGE_SIZE = 2000  # the list endpoint's page_size maximum (OpenAPI GetStructuredTargets)
DEFAULT_TTL_S = 6 * 3600.0
DEFAULT_MISSING_TTL_S = 600.0
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _target(r: Reader) -> StructuredTarget:
    source_ids = r.mapping("source_ids", required=False)
    for key, value in source_ids.items():
        if not isinstance(value, str):
            raise r.fail(f"source_ids.{key}", f"must be a string, got {type(value).__name__}")
    return StructuredTarget(
        id=r.ident("id"),
        name=r.ident("name"),
        type=r.text("type", required=False),
        details=r.mapping("details", required=False),
        source_id=r.opt_text("source_id"),
        source_ids={str(k): v for k, v in source_ids.items()},
        last_updated=r.opt_time("last_updated_ts"),
    )


def parse_structured_target(obj: Any, *, endpoint: str = STRUCTURED_TARGET, path: str = "") -> StructuredTarget:
    """One `StructuredTarget` object (id and name required: without them it identifies nobody)."""
    return _target(Reader(obj, endpoint=endpoint, path=path))


def parse_structured_target_response(payload: Any, *, endpoint: str = STRUCTURED_TARGET) -> StructuredTarget:
    """`{structured_target: StructuredTarget}` (GET /structured_targets/{id})."""
    return _target(Reader(payload, endpoint=endpoint, path="").child("structured_target"))


def parse_structured_targets_response(
    payload: Any, *, endpoint: str = STRUCTURED_TARGETS
) -> tuple[dict[str, StructuredTarget], str]:
    """`{structured_targets: [StructuredTarget], cursor}` -> ({id: target}, cursor); a repeated id is an error.

    The cursor is optional here (the spec lists no required field; "" or absent = last page).
    """
    r = Reader(payload, endpoint=endpoint, path="")
    targets: dict[str, StructuredTarget] = {}
    for item in r.children("structured_targets"):
        target = _target(item)
        if target.id in targets:
            raise KalshiResponseError(f"structured target {target.id!r} appears twice ({item.path})", endpoint=endpoint)
        targets[target.id] = target
    cursor = r.raw("cursor", required=False, nullable=True) or ""
    if not isinstance(cursor, str):
        raise r.fail("cursor", f"must be a string, got {type(cursor).__name__}")
    return targets, cursor


def target_ids_in_events_payload(payload: Mapping[str, Any]) -> list[str]:
    """Every structured-target id a `GET /events` response refers to, in first-seen order.

    Markets' `custom_strike` values and milestones' `details.*_id` values that are UUIDs (target ids
    are UUIDs, §5.2; other detail ids are not asked for). Read from the raw response (before parsing)
    so a capture can ask for them in the same pass.
    """
    seen: dict[str, None] = {}
    for event in payload.get("events") or []:
        for market in (event.get("markets") or []) if isinstance(event, Mapping) else []:
            strike = market.get("custom_strike") if isinstance(market, Mapping) else None
            if isinstance(strike, Mapping):
                seen.update((v, None) for v in strike.values() if isinstance(v, str) and v)
    for milestone in payload.get("milestones") or []:
        details = milestone.get("details") if isinstance(milestone, Mapping) else None
        if isinstance(details, Mapping):
            seen.update((v, None) for k, v in details.items()
                        if isinstance(k, str) and k.endswith("_id") and isinstance(v, str) and _UUID.match(v))
    return list(seen)


@dataclass(frozen=True, slots=True)
class _Entry:
    raw: Mapping[str, Any] | None  # None: the venue said this id does not exist
    expires: float


class StructuredTargetCache:
    """Raw structured-target objects by id, for one venue, each valid for a TTL. Thread-safe.

    `fetch(ids)` must return `{id: raw object}` for the ids the venue knows and leave out the rest;
    `lookup` asks it only for ids that are not cached (or expired), in one call.
    """

    def __init__(self, *, ttl_s: float = DEFAULT_TTL_S, missing_ttl_s: float = DEFAULT_MISSING_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s <= 0 or missing_ttl_s <= 0:
            raise ValueError("structured-target cache TTLs must be positive")
        self.ttl_s, self.missing_ttl_s, self._clock = ttl_s, missing_ttl_s, clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.fetched = 0  # ids asked of the venue so far (observability and tests)

    def lookup(self, ids: Iterable[str], fetch: Callable[[list[str]], Mapping[str, Mapping[str, Any]]]
               ) -> dict[str, Mapping[str, Any]]:
        """Raw objects of the `ids` the venue knows; unknown ids are absent from the result."""
        wanted = list(dict.fromkeys(ids))
        now = self._clock()
        with self._lock:
            stale = [i for i in wanted if i not in self._entries or self._entries[i].expires <= now]
        if stale:
            found = fetch(stale)
            now = self._clock()
            with self._lock:
                self.fetched += len(stale)
                for target_id in stale:
                    raw = found.get(target_id)
                    ttl = self.ttl_s if raw is not None else self.missing_ttl_s
                    self._entries[target_id] = _Entry(raw, now + ttl)
        with self._lock:
            return {i: e.raw for i in wanted if (e := self._entries.get(i)) is not None and e.raw is not None}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_shared_lock = threading.Lock()
_shared: dict[str, StructuredTargetCache] = {}


def shared_target_cache(base_url: str, *, ttl_s: float = DEFAULT_TTL_S) -> StructuredTargetCache:
    """The process-wide cache of one venue (keyed by its base URL: the simulator's ids are not Kalshi's)."""
    with _shared_lock:
        cache = _shared.get(base_url)
        if cache is None or cache.ttl_s != ttl_s:
            cache = _shared[base_url] = StructuredTargetCache(ttl_s=ttl_s)
        return cache

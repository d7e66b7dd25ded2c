"""Fault modes, switchable per test (`handle.faults.set(...)`) or over HTTP (`POST /_sim/faults`).

Each fault names the requests it hits by venue ("kalshi" for /trade-api/..., "odds" for /v4/...) and
an optional path prefix, and either a number of requests (`count`, consumed as they are hit) or no
count (active until cleared). HTTP-level faults are applied by `FaultMiddleware` before the venue
code runs (errors, 429 storms, delays) or to its response (malformed JSON, renamed or missing
fields); data faults (stale odds, a frozen bookmaker) are read by the scenario and the odds views;
order faults are read by the order endpoint: `no_fill` makes immediate-or-cancel (and fill-or-kill)
orders - on one market (`ticker`) or any - find the book empty, as when the liquidity is taken just
before the order arrives: the order is accepted and cancelled with nothing filled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

HTTP_KINDS = ("error_burst", "slow", "rate_limit_storm", "malformed_json", "rename_field", "missing_field")
DATA_KINDS = ("stale_odds", "frozen_book")
ORDER_KINDS = ("no_fill",)
# websocket faults (sim/ws.py): close connections, skip one orderbook_delta (a seq gap), delay messages
WS_KINDS = ("ws_drop", "ws_gap", "ws_delay")
KINDS = HTTP_KINDS + DATA_KINDS + ORDER_KINDS + WS_KINDS
VENUES = ("kalshi", "odds")

_PARAMS: dict[str, dict[str, object]] = {
    "error_burst": {"count": 1, "status": 500},
    "slow": {"delay_s": 5.0, "count": None},
    "rate_limit_storm": {"count": 10},
    "malformed_json": {"count": 1},
    "rename_field": {"field": None, "to": None, "count": None},
    "missing_field": {"field": None, "count": None},
    "stale_odds": {"age_s": 900.0, "sport": None, "bookmaker": None},
    "frozen_book": {"bookmaker": None, "sport": None},
    "no_fill": {"count": None, "ticker": None},
    "ws_drop": {"count": 1},
    "ws_gap": {"count": 1, "ticker": None},
    "ws_delay": {"delay_s": 0.5, "count": None},
}


def venue_of(path: str) -> str | None:
    if path.startswith("/trade-api/"):
        return "kalshi"
    if path.startswith("/v4/"):
        return "odds"
    return None


@dataclass
class Fault:
    id: int
    kind: str
    venue: str | None = None
    path_prefix: str = ""
    params: dict[str, object] = field(default_factory=dict)
    set_at: datetime | None = None
    hits: int = 0

    def matches(self, venue: str, path: str) -> bool:
        return (self.venue is None or self.venue == venue) and path.startswith(self.path_prefix)

    def json(self) -> dict[str, object]:
        data = asdict(self)
        data["set_at"] = self.set_at.isoformat() if self.set_at else None
        return data


@dataclass
class HttpPlan:
    """What the middleware must do to one request."""

    delay_s: float = 0.0
    error_status: int | None = None
    rate_limited: bool = False
    malformed: bool = False
    renames: list[tuple[str, str]] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)

    @property
    def rewrites_body(self) -> bool:
        return self.malformed or bool(self.renames) or bool(self.drops)


class FaultController:
    """Thread-safe registry of active faults."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._faults: list[Fault] = []
        self._ids = 0
        self._lock = threading.Lock()

    def set(self, kind: str, *, venue: str | None = None, path_prefix: str = "", **params: object) -> Fault:
        """Activate a fault; unknown kinds or parameters raise ValueError (the admin endpoint's 400)."""
        if kind not in _PARAMS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
        if venue is not None and venue not in VENUES:
            raise ValueError(f"venue must be one of {VENUES} or omitted")
        unknown = set(params) - set(_PARAMS[kind])
        if unknown:
            raise ValueError(f"fault {kind} takes {sorted(_PARAMS[kind])}, not {sorted(unknown)}")
        merged = {**_PARAMS[kind], **params}
        if kind in ("rename_field", "missing_field") and not merged.get("field"):
            raise ValueError(f"fault {kind} needs `field`")
        if kind == "rename_field" and not merged.get("to"):
            raise ValueError("fault rename_field needs `to`")
        if kind == "frozen_book" and not merged.get("bookmaker"):
            raise ValueError("fault frozen_book needs `bookmaker`")
        if kind == "error_burst" and not 500 <= int(merged["status"]) <= 599:  # type: ignore[call-overload]
            raise ValueError("error_burst status must be a 5xx code")
        if kind in DATA_KINDS:
            venue = "odds"
        if kind in ORDER_KINDS + WS_KINDS:
            venue = "kalshi"
        with self._lock:
            self._ids += 1
            fault = Fault(self._ids, kind, venue, path_prefix, merged, self._now())
            self._faults.append(fault)
            return fault

    def clear(self, kind: str | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if kind is not None and f.kind != kind]
            return before - len(self._faults)

    def active(self) -> list[dict[str, object]]:
        with self._lock:
            return [f.json() for f in self._faults]

    def plan(self, venue: str, path: str) -> HttpPlan:
        """Consume the HTTP faults that hit this request and say what to do."""
        plan = HttpPlan()
        with self._lock:
            for fault in [f for f in self._faults if f.kind in HTTP_KINDS and f.matches(venue, path)]:
                if fault.kind == "error_burst" and plan.error_status is None:
                    plan.error_status = int(fault.params["status"])  # type: ignore[call-overload]
                elif fault.kind == "slow":
                    plan.delay_s += float(fault.params["delay_s"])  # type: ignore[arg-type]
                elif fault.kind == "rate_limit_storm":
                    plan.rate_limited = True
                elif fault.kind == "malformed_json":
                    plan.malformed = True
                elif fault.kind == "rename_field":
                    plan.renames.append((str(fault.params["field"]), str(fault.params["to"])))
                elif fault.kind == "missing_field":
                    plan.drops.append(str(fault.params["field"]))
                else:
                    continue
                fault.hits += 1
                count = fault.params.get("count")
                if count is not None and fault.hits >= int(count):  # type: ignore[call-overload]
                    self._faults.remove(fault)
        return plan

    def take_no_fill(self, ticker: str) -> bool:
        """Consume a `no_fill` fault covering an order on `ticker`: True means it must fill nothing."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == "no_fill" and fault.params.get("ticker") in (None, ticker):
                    fault.hits += 1
                    count = fault.params.get("count")
                    if count is not None and fault.hits >= int(count):  # type: ignore[call-overload]
                        self._faults.remove(fault)
                    return True
        return False

    def take_ws(self, kind: str, ticker: str | None = None) -> dict[str, object] | None:
        """Consume one hit of a websocket fault (`ws_drop`, `ws_gap` on `ticker` or any, `ws_delay`);
        its parameters when it applies, else None."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and (kind != "ws_gap" or fault.params.get("ticker") in (None, ticker)):
                    fault.hits += 1
                    count = fault.params.get("count")
                    if count is not None and fault.hits >= int(count):  # type: ignore[call-overload]
                        self._faults.remove(fault)
                    return dict(fault.params)
        return None

    def has_ws(self) -> bool:
        """Any websocket fault set (a lock-free hint: the hub skips the per-message look-ups when none)."""
        return any(f.kind in WS_KINDS for f in self._faults)

    def stale_since(self, sport_key: str, bookmaker: str) -> datetime | None:
        """When a stale-odds fault covers this book: the frozen `last_update` it must report."""
        with self._lock:
            for f in self._faults:
                if f.kind == "stale_odds" and f.params.get("sport") in (None, sport_key) \
                        and f.params.get("bookmaker") in (None, bookmaker) and f.set_at is not None:
                    return f.set_at - timedelta(seconds=float(f.params["age_s"]))  # type: ignore[arg-type]
        return None

    def book_frozen(self, bookmaker: str, sport_key: str) -> bool:
        with self._lock:
            return any(f.kind == "frozen_book" and f.params.get("bookmaker") == bookmaker
                       and f.params.get("sport") in (None, sport_key) for f in self._faults)


def rewrite(value: object, renames: list[tuple[str, str]], drops: list[str]) -> object:
    """Rename or drop a field wherever it occurs in a JSON document."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if key in drops:
                continue
            new_key = next((to for name, to in renames if name == key), key)
            out[new_key] = rewrite(item, renames, drops)
        return out
    if isinstance(value, list):
        return [rewrite(item, renames, drops) for item in value]
    return value

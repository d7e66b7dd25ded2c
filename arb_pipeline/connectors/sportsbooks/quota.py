"""Usage-credit accounting for The Odds API: cost estimates, the quota headers, and the floor.

The Odds API bills per call (markets × regions) against a monthly credit quota and reports what is
left in every response's `x-requests-*` headers. Polling every few seconds can burn a month of credits
in hours, so the client refuses a call *before* sending it when it would take the remaining credits
below a configured floor, and raises an alert once per crossing (not once per refused poll).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from arb_pipeline.connectors.sportsbooks.errors import QuotaFloorReached

log = logging.getLogger(__name__)

AlertHook = Callable[[str, str], None]
"""`on_alert(severity, message)`; severity is "warning" or "critical". The lead wires it to alerting."""

BOOKMAKERS_PER_REGION = 10


def estimate_cost(markets: Sequence[str], *, regions: Sequence[str] = (), bookmakers: Sequence[str] = ()) -> int:
    """Credits one `/v4/sports/{sport}/odds` call costs at most: markets × regions.

    `bookmakers` take priority over `regions` (as in the API) and bill as one region per group of up
    to 10. An empty response is not charged, so this is an upper bound.
    """
    n_markets = len(set(markets))
    if n_markets == 0:
        raise ValueError("at least one market is required")
    if bookmakers:
        groups = math.ceil(len(set(bookmakers)) / BOOKMAKERS_PER_REGION)
    elif regions:
        groups = len(set(regions))
    else:
        raise ValueError("regions or bookmakers is required (The Odds API answers MISSING_REGION)")
    return n_markets * groups


@dataclass(frozen=True, slots=True)
class QuotaState:
    """The provider's own account of our credits, as of `observed_at` (None = header absent)."""

    remaining: int | None
    used: int | None
    last: int | None
    observed_at: datetime


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        log.warning("ignoring unparsable quota header %s=%r", name, raw)
        return None
    if not value.is_finite() or value != value.to_integral_value():
        log.warning("ignoring non-integer quota header %s=%r", name, raw)
        return None
    return int(value)


class QuotaTracker:
    """Keeps the latest `QuotaState` and enforces the floor."""

    def __init__(self, *, floor: int, on_alert: AlertHook | None = None, provider: str = "the_odds_api"):
        if floor < 0:
            raise ValueError("quota floor must be >= 0")
        self.floor = floor
        self.state: QuotaState | None = None
        self._on_alert = on_alert
        self._provider = provider
        self._floor_alerted = False
        # calls of one capture overlap (services.ingest): the credits of calls sent but not answered yet
        # are held back, so two calls in flight cannot both spend the last credits above the floor
        self._lock = threading.RLock()
        self._reserved = 0

    def observe(self, headers: Mapping[str, str], at: datetime) -> QuotaState | None:
        """Record the `x-requests-*` headers of a response (responses without them change nothing)."""
        names = ("x-requests-remaining", "x-requests-used", "x-requests-last")
        if not any(name in headers for name in names):
            return self.state  # e.g. INVALID_KEY answers: they say nothing about the balance
        # Present but unparsable means "balance unknown now", never "still what it was before".
        remaining, used, last = (_header_int(headers, name) for name in names)
        with self._lock:
            self.state = QuotaState(remaining=remaining, used=used, last=last, observed_at=at)
            if remaining is not None and remaining >= self.floor:
                self._floor_alerted = False  # e.g. the monthly reset: the next crossing alerts again
            return self.state

    def check(self, cost: int) -> None:
        """Raise `QuotaFloorReached` if spending `cost` would leave fewer than `floor` credits.

        With no balance observed yet the call is allowed: only a response tells us the balance
        (`TheOddsApiProvider` makes a free call first so that this does not happen for billed calls).
        """
        with self._lock:
            if cost <= 0 or self.state is None or self.state.remaining is None:
                return
            remaining = self.state.remaining
            if remaining - self._reserved - cost >= self.floor:
                return
            held = f" ({self._reserved} held by calls in flight)" if self._reserved else ""
            message = (
                f"{self._provider}: polling stopped, {remaining} credits left{held} and this call costs up to "
                f"{cost}; the floor is {self.floor} (as of {self.state.observed_at.isoformat()})"
            )
            alert = not self._floor_alerted
            self._floor_alerted = True
        if alert:
            self.alert("critical", message)
        raise QuotaFloorReached(message)

    @contextmanager
    def reserve(self, cost: int) -> Iterator[None]:
        """`check(cost)`, then hold `cost` credits until the block ends (the call has been answered and
        its headers observed), so calls in flight at the same time are checked against each other."""
        with self._lock:
            self.check(cost)
            self._reserved += max(cost, 0)
        try:
            yield
        finally:
            with self._lock:
                self._reserved -= max(cost, 0)

    def mark_exhausted(self, at: datetime) -> None:
        """The provider said OUT_OF_USAGE_CREDITS: treat the balance as 0 until a response says otherwise.

        Billed calls are then refused locally (the exhaustion was already alerted); a free call such as
        `/v4/sports` refreshes the state after the provider's reset.
        """
        used = self.state.used if self.state else None
        self.state = QuotaState(remaining=0, used=used, last=None, observed_at=at)
        self._floor_alerted = True

    def alert(self, severity: str, message: str) -> None:
        """Call the hook; a failing hook is logged and never hides the error being reported."""
        log.error("%s alert: %s", severity, message)
        if self._on_alert is None:
            return
        try:
            self._on_alert(severity, message)
        except Exception:  # noqa: BLE001 - the hook is foreign code; the quota error must still surface
            log.exception("on_alert hook failed")

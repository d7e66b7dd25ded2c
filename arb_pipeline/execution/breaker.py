"""The circuit breaker: one state in the database that every process obeys (Money rule 6).

States: `closed` (orders allowed), `open` (none), `half_open` (exactly one probe order allowed;
its success closes the breaker, its failure re-opens it). A trip opens it; after the cooldown the
next `check_before_order` moves it to half-open and hands out the probe. A *manual* trip (the kill
switch) never cools down: only `reset` by a person closes it.

Trip conditions: consecutive order errors, daily realized loss, open exposure, stale market data
(a stale snapshot, or the worker's websocket feed gone quiet),
venue API error rate, a reconciliation mismatch, and the manual kill switch.

Every read-modify-write runs in one transaction holding the state row lock
(`BreakerRepository.lock`), so concurrent processes see and change one state; every transition is
written to `breaker_events` with its reason in the same transaction and alerted after commit
(alerts are injected: this layer does not import `services`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import BreakerStateRow
from arb_pipeline.storage.repositories import BreakerRepository

log = logging.getLogger(__name__)

AlertSink = Callable[[str, str, str, str], object]  # (severity, title, body, dedup_key)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    probe: bool = False  # True: this is the single half-open probe; report its result


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    name: str
    state: BreakerState
    reason: str
    manual: bool
    opened_at: datetime | None
    consecutive_errors: int
    cooldown_remaining_s: float
    updated_at: datetime
    updated_by: str

    def describe(self) -> str:
        text = f"breaker {self.name}: {self.state.value}"
        if self.state is not BreakerState.CLOSED:
            text += f" ({'manual kill switch' if self.manual else 'tripped'}: {self.reason})"
            if self.state is BreakerState.OPEN and not self.manual:
                text += f", half-open in {self.cooldown_remaining_s:.0f}s"
        return text + f"; consecutive order errors {self.consecutive_errors}; last change by {self.updated_by}"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    max_consecutive_errors: int = 3
    max_daily_loss: Decimal = Decimal("250")
    max_open_exposure: Decimal = Decimal("5000")
    max_data_age_s: float = 120.0
    max_api_error_rate: float = 0.5
    cooldown_s: float = 300.0
    api_window_s: float = 300.0  # error rate is measured over this rolling window...
    api_min_calls: int = 10  # ...once it holds at least this many calls (2 errors in 3 calls is noise)

    def __post_init__(self) -> None:
        if self.max_consecutive_errors < 1 or self.cooldown_s < 0 or self.max_data_age_s <= 0:
            raise ValueError(f"invalid breaker config: {self}")
        if not 0 < self.max_api_error_rate <= 1 or self.max_daily_loss < 0 or self.max_open_exposure < 0:
            raise ValueError(f"invalid breaker config: {self}")

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakerConfig:
        return cls(
            max_consecutive_errors=settings.breaker_max_consecutive_errors,
            max_daily_loss=settings.breaker_max_daily_loss,
            max_open_exposure=settings.breaker_max_open_exposure,
            max_data_age_s=settings.breaker_max_data_age_s,
            max_api_error_rate=settings.breaker_max_api_error_rate,
            cooldown_s=settings.breaker_cooldown_s,
        )


@dataclass
class _Tx:
    """One locked read-modify-write: the row, the time, and the transitions to alert after commit."""

    session: Session
    row: BreakerStateRow
    now: datetime
    pending: list[tuple[BreakerState, str, str, str, int, str]]


_SEVERITY = {BreakerState.OPEN: "critical", BreakerState.HALF_OPEN: "warning", BreakerState.CLOSED: "info"}


def _log_only_alert(severity: str, title: str, body: str, dedup_key: str) -> None:
    log.log(logging.CRITICAL if severity == "critical" else logging.WARNING, "%s: %s", title, body)


class CircuitBreaker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: BreakerConfig | None = None,
        *,
        alert: AlertSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        name: str = "kalshi",
    ) -> None:
        self.sessions = sessions
        self.config = config or BreakerConfig()
        self.alert = alert or _log_only_alert
        self.clock = clock
        self.name = name

    # --- operations (CLI: arb-pipeline breaker status|trip|reset) ---------------------------------

    def status(self) -> BreakerStatus:
        with session_scope(self.sessions) as session:
            row = BreakerRepository(session).read(self.name)
            if row is None:
                now = self.clock()
                return BreakerStatus(self.name, BreakerState.CLOSED, "", False, None, 0, 0.0, now, "")
            return self._status(row, self.clock())

    def trip(self, reason: str, who: str) -> BreakerStatus:
        """Manual kill switch: open now, and stay open until someone resets it."""
        if not reason.strip() or not who.strip():
            raise ValueError("a manual trip needs a reason and who")
        return self._change(lambda tx: self._open(tx, "manual", reason, who, manual=True))

    def reset(self, who: str) -> BreakerStatus:
        """Close the breaker (after a person has looked at why it tripped)."""
        if not who.strip():
            raise ValueError("a reset needs who")

        def apply(tx: _Tx) -> None:
            row = tx.row
            row.consecutive_errors = 0
            row.window_started_at, row.window_calls, row.window_errors = None, 0, 0
            self._move(tx, BreakerState.CLOSED, "reset", f"reset by {who}", who)
            row.manual, row.reason = False, ""

        return self._change(apply)

    # --- the gate ---------------------------------------------------------------------------------

    def check_before_order(
        self,
        *,
        open_exposure: Decimal | None = None,
        daily_realized_pnl: Decimal | None = None,
        data_captured_at: datetime | None = None,
        orders_in_flight: int = 0,
    ) -> Decision:
        """Evaluate the given risk metrics (tripping if one is over its limit), then decide.

        `orders_in_flight`: orders sent whose outcome is not known yet (`sent`/`unknown`). A half-open
        breaker hands out its probe only when there are none: what those orders did is the first
        thing to learn after a trip, and reconciliation (every cycle) is what learns it.
        """
        decision: list[Decision] = []

        def apply(tx: _Tx) -> None:
            self._evaluate(tx, open_exposure, daily_realized_pnl, data_captured_at)
            decision.append(self._decide(tx, orders_in_flight))

        self._change(apply)
        return decision[0]

    def _decide(self, tx: _Tx, orders_in_flight: int = 0) -> Decision:
        row, now = tx.row, tx.now
        state = BreakerState(row.state)
        if state is BreakerState.CLOSED:
            return Decision(True, "breaker closed")
        if state is BreakerState.OPEN:
            if row.manual:
                return Decision(False, f"breaker open (manual kill switch by {row.updated_by}): {row.reason}")
            remaining = self._cooldown_remaining(row, now)
            if remaining > 0:
                return Decision(False, f"breaker open: {row.reason} (half-open in {remaining:.0f}s)")
            self._move(tx, BreakerState.HALF_OPEN, "cooldown", f"cooldown elapsed after: {row.reason}", "system")
        if row.probe_started_at is not None:
            if (now - row.probe_started_at).total_seconds() <= max(self.config.cooldown_s, 60.0):
                return Decision(False, "breaker half-open: the probe order is in flight")
            self._open(tx, "probe_lost", "the half-open probe never reported a result", "system")
            return Decision(False, f"breaker open: {row.reason}")
        if orders_in_flight:
            return Decision(False, f"breaker half-open: the probe waits until {orders_in_flight} order(s) in flight "
                                   "are reconciled")
        row.probe_started_at = now
        return Decision(True, "breaker half-open: probe order allowed", probe=True)

    # --- results and conditions -------------------------------------------------------------------

    def record_order_result(self, ok: bool, detail: str = "") -> BreakerStatus:
        """Report an order's outcome. Errors count toward the consecutive limit; a probe decides."""

        def apply(tx: _Tx) -> None:
            row = tx.row
            state = BreakerState(row.state)
            if ok:
                row.consecutive_errors = 0
                if state is BreakerState.HALF_OPEN:
                    self._move(tx, BreakerState.CLOSED, "probe_succeeded", "half-open probe order succeeded",
                               "system")
                return
            row.consecutive_errors += 1
            if state is BreakerState.HALF_OPEN:
                self._open(tx, "probe_failed", f"half-open probe order failed: {detail}", "system")
            elif row.consecutive_errors >= self.config.max_consecutive_errors:
                self._open(tx, "consecutive_errors",
                           f"{row.consecutive_errors} consecutive order errors (last: {detail})", "system")

        return self._change(apply)

    def release_probe(self) -> BreakerStatus:
        """Hand back an unused half-open probe (no order was sent): it proves nothing either way."""

        def apply(tx: _Tx) -> None:
            if BreakerState(tx.row.state) is BreakerState.HALF_OPEN:
                tx.row.probe_started_at = None

        return self._change(apply)

    def record_api_call(self, ok: bool) -> BreakerStatus:
        """Count a venue API call; trips when the rolling window's error rate exceeds the limit."""
        return self.record_api_calls(1, 0 if ok else 1)

    def record_api_calls(self, calls: int, errors: int) -> BreakerStatus:
        """Count `calls` venue HTTP attempts of which `errors` failed (5xx, 429, timeouts, dropped
        connections), e.g. one market-data capture's; trips when the rolling window's rate is over
        the limit. Market data and orders share the window: a venue failing either is unhealthy."""
        if calls < 0 or not 0 <= errors <= calls:
            raise ValueError(f"need 0 <= errors <= calls, got {errors} errors in {calls} calls")

        def apply(tx: _Tx) -> None:
            row, now = tx.row, tx.now
            window = timedelta(seconds=self.config.api_window_s)
            if row.window_started_at is None or now - row.window_started_at > window:
                row.window_started_at, row.window_calls, row.window_errors = now, 0, 0
            row.window_calls += calls
            row.window_errors += errors
            rate = row.window_errors / row.window_calls if row.window_calls else 0.0
            if row.window_calls >= self.config.api_min_calls and rate > self.config.max_api_error_rate:
                self._open(tx, "api_error_rate",
                           f"API error rate {rate:.0%} ({row.window_errors}/{row.window_calls}) over "
                           f"{self.config.max_api_error_rate:.0%}", "system")

        return self._change(apply)

    def report_reconciliation_mismatch(self, detail: str) -> BreakerStatus:
        return self._change(lambda tx: self._open(tx, "reconciliation", f"reconciliation mismatch: {detail}",
                                                         "system"))

    def report_stale_feed(self, detail: str) -> BreakerStatus:
        """The websocket feed the worker trades on went quiet or dropped (services/worker.py)."""
        return self._change(lambda tx: self._open(tx, "stale_feed", f"stale market data feed: {detail}", "system"))

    def evaluate(self, *, open_exposure: Decimal | None = None, daily_realized_pnl: Decimal | None = None,
                 data_captured_at: datetime | None = None) -> BreakerStatus:
        """Check risk metrics without asking for an order (e.g. after reconciliation)."""
        return self._change(lambda tx: self._evaluate(tx, open_exposure, daily_realized_pnl,
                                                            data_captured_at))

    def _evaluate(self, tx: _Tx, open_exposure: Decimal | None,
                  daily_realized_pnl: Decimal | None, data_captured_at: datetime | None) -> None:
        cfg, now = self.config, tx.now
        if daily_realized_pnl is not None and -daily_realized_pnl >= cfg.max_daily_loss:
            self._open(tx, "daily_loss",
                       f"daily realized loss {-daily_realized_pnl} reached the limit {cfg.max_daily_loss}", "system")
        if open_exposure is not None and open_exposure > cfg.max_open_exposure:
            self._open(tx, "open_exposure",
                       f"open exposure {open_exposure} over the limit {cfg.max_open_exposure}", "system")
        if data_captured_at is not None:
            age = (now - data_captured_at).total_seconds()
            if age > cfg.max_data_age_s:
                self._open(tx, "stale_data",
                           f"market data is {age:.0f}s old (limit {cfg.max_data_age_s:.0f}s)", "system")

    # --- plumbing ---------------------------------------------------------------------------------

    def _open(self, tx: _Tx, trigger: str, reason: str, who: str, manual: bool = False) -> None:
        row = tx.row
        if BreakerState(row.state) is BreakerState.OPEN and not manual:
            return  # already open: the first reason stands, no repeated transition
        self._move(tx, BreakerState.OPEN, trigger, reason, who)
        row.opened_at, row.reason, row.manual = tx.now, reason, manual or row.manual

    def _move(self, tx: _Tx, to: BreakerState, trigger: str, reason: str, who: str) -> None:
        row, now = tx.row, tx.now
        event = BreakerRepository(tx.session).log(name=self.name, at=now, from_state=row.state, to_state=to.value,
                                                     trigger=trigger, reason=reason, who=who)
        tx.pending.append((to, trigger, reason, who, event.id, row.state))
        row.state, row.updated_at, row.updated_by = to.value, now, who
        row.probe_started_at = None
        if to is BreakerState.CLOSED:
            row.opened_at = None

    def _change(self, apply: Callable[[_Tx], None]) -> BreakerStatus:
        now = self.clock()
        with session_scope(self.sessions) as session:
            tx = _Tx(session, BreakerRepository(session).lock(self.name, now), now, [])
            apply(tx)
            status = self._status(tx.row, now)
        for to, trigger, reason, who, event_id, from_state in tx.pending:  # after commit: never under the lock
            title = f"circuit breaker {self.name}: {from_state} -> {to.value} ({trigger})"
            log.log(logging.CRITICAL if to is BreakerState.OPEN else logging.WARNING, "%s: %s [by %s]", title, reason, who)
            try:
                self.alert(_SEVERITY[to], title, f"{reason}\nby: {who}", f"breaker:{self.name}:event:{event_id}")
            except Exception:  # noqa: BLE001 - an alert failure must not undo a committed transition
                log.exception("breaker alert could not be delivered")
        return status

    def _cooldown_remaining(self, row: BreakerStateRow, now: datetime) -> float:
        if row.state != BreakerState.OPEN or row.opened_at is None or row.manual:
            return 0.0
        return max(0.0, self.config.cooldown_s - (now - row.opened_at).total_seconds())

    def _status(self, row: BreakerStateRow, now: datetime) -> BreakerStatus:
        return BreakerStatus(self.name, BreakerState(row.state), row.reason, row.manual, row.opened_at,
                             row.consecutive_errors, self._cooldown_remaining(row, now), row.updated_at,
                             row.updated_by)

    def events(self, limit: int = 100) -> list[dict[str, object]]:
        """Recent transitions, newest first (for `breaker status` and the API)."""
        with session_scope(self.sessions) as session:
            return [
                {"at": e.at, "from": e.from_state, "to": e.to_state, "trigger": e.trigger, "reason": e.reason,
                 "who": e.who}
                for e in BreakerRepository(session).events(self.name, limit)
            ]

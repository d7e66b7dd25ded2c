"""Send one IOC order exactly once and record what the venue did with it (Money rule 3).

The intent row (deterministic client_order_id) is committed before the request exists; only whoever
moves it intent -> sent (`claim_for_send`, stamping `sent_at` from the clock at that moment, just
before the request leaves) may send it, so a retry, a restart or a second process never places it
twice. The venue's answer is recorded whatever it is - filled, partly filled, nothing filled (an IOC
that found no liquidity is a normal outcome, not an error), refused, or unknown - with its fills,
the position, and the breaker told. Nothing here raises for an outcome of the venue's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.connectors.kalshi.errors import KalshiError, KalshiOrderStateUnknown
from arb_pipeline.domain import ContractSide
from arb_pipeline.execution.breaker import CircuitBreaker
from arb_pipeline.execution.venue import Executor, FillsNotVisible, VenueResult
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import OrderIntent, OrderRepository, PositionRepository
from arb_pipeline.storage.repositories.orders import OPEN_STATES, OrderConflict

log = logging.getLogger(__name__)
AlertSink = Callable[[str, str, str, str], object]
_Q6 = Decimal("0.000001")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Sent:
    """One order's outcome as the venue decided it."""

    status: str  # filled / partially_filled / unfilled / failed / unknown / not_sent
    fill_count: Decimal = ZERO
    notional: Decimal = ZERO  # Σ contracts × price of the side bought
    fees: Decimal = ZERO
    reason: str = ""

    @property
    def cost(self) -> Decimal:
        return self.notional + self.fees

    @property
    def went(self) -> bool:
        """The request left (whatever came back): the venue may hold something from it."""
        return self.status != "not_sent"


@dataclass
class OrderDesk:
    mode: str
    executor: Executor
    sessions: sessionmaker[Session]
    breaker: CircuitBreaker
    alert: AlertSink
    clock: Callable[[], datetime]

    def record_intent(self, intent: OrderIntent) -> str | None:
        """Write the intent (committed before anything is sent). None when it may be sent; otherwise
        why not: a conflicting id (alerted) or an order that already left earlier."""
        with session_scope(self.sessions) as session:
            try:
                row, _created = OrderRepository(session).record_intent(intent, at=self.clock())
                status = row.status
            except OrderConflict as exc:
                status, conflict = "conflict", str(exc)
        if status == "conflict":
            self.alert("critical", f"order id conflict on {intent.ticker}", conflict,
                       f"conflict:{intent.client_order_id}")
            return conflict
        if status != "intent":
            return f"already sent earlier (status {status}): never resent; reconcile instead"
        return None

    def send(self, intent: OrderIntent, side: ContractSide, contract_limit: Decimal, *,
             reduce_only: bool = False) -> Sent:
        """Claim the written intent and send it now; `contract_limit` is the worst price of `side`."""
        now = self.clock()
        with session_scope(self.sessions) as session:
            claimed = OrderRepository(session).claim_for_send(intent.client_order_id, now)
        if not claimed:
            return Sent("not_sent", reason="claimed by another process: never sent twice")
        try:
            result = self.executor.place(ticker=intent.ticker, side=side, count=intent.count,
                                         limit_price=contract_limit, client_order_id=intent.client_order_id,
                                         submitted_at=now, reduce_only=reduce_only)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded below
            return self._failed(intent, exc)
        try:
            self._record(intent, result)
        except (ValueError, IntegrityError) as exc:
            recorded = self._recorded_elsewhere(intent)
            if recorded is not None:  # reconciliation got there first: its record is the venue's answer
                return recorded
            # the venue's numbers do not add up: keep the order open for reconciliation
            return self._failed(intent, KalshiOrderStateUnknown(f"venue answer not recordable: {exc}",
                                                                client_order_id=intent.client_order_id))
        self.breaker.record_order_result(True)
        if self.mode == "live":
            self.breaker.record_api_call(True)
        filled = result.fill_count
        status = "filled" if filled == intent.count else ("partially_filled" if filled > 0 else "unfilled")
        return Sent(status, filled, result.notional, result.fees)

    def not_sent(self, intent: OrderIntent, reason: str) -> None:
        """Close an intent that was written but will not be sent now (it never left)."""
        with session_scope(self.sessions) as session:
            repo = OrderRepository(session)
            row = repo.by_client_order_id(intent.client_order_id)
            if row is not None and row.status == "intent":
                repo.mark_failed(intent.client_order_id, f"not sent: {reason}", at=self.clock())

    def _failed(self, intent: OrderIntent, exc: Exception) -> Sent:
        definite = isinstance(exc, KalshiError | ValueError | KeyError) and not isinstance(
            exc, KalshiOrderStateUnknown) and not getattr(exc, "retryable", False)
        status = "failed" if definite else "unknown"
        reason = f"{type(exc).__name__}: {exc}"
        with session_scope(self.sessions) as session:
            repo = OrderRepository(session)
            if repo.require(intent.client_order_id).status in OPEN_STATES:  # else: already final elsewhere
                (repo.mark_failed if definite else repo.mark_unknown)(intent.client_order_id, reason,
                                                                      at=self.clock())
        self.breaker.record_order_result(False, reason)
        if self.mode == "live":
            self.breaker.record_api_call(isinstance(exc, FillsNotVisible))
        if not definite:
            self.alert("critical", f"order state unknown: {intent.ticker}",
                       f"{intent.client_order_id}: {reason}. It may be live on the venue; reconcile before "
                       "anything else.", f"order-unknown:{intent.client_order_id}")
        log.error("order %s %s: %s", intent.client_order_id, status, reason)
        return Sent(status, reason=reason)

    def _recorded_elsewhere(self, intent: OrderIntent) -> Sent | None:
        with session_scope(self.sessions) as session:
            row = OrderRepository(session).require(intent.client_order_id)
            if row.status in OPEN_STATES:
                return None
            return Sent(row.status, row.fill_count or ZERO, row.fill_notional or ZERO, row.fees or ZERO,
                        "recorded by reconciliation")

    def _record(self, intent: OrderIntent, result: VenueResult) -> None:
        with session_scope(self.sessions) as session:
            orders, positions = OrderRepository(session), PositionRepository(session)
            average = ((result.notional / result.fill_count).quantize(_Q6, ROUND_HALF_EVEN)
                       if result.fill_count else None)
            row = orders.mark_filled(intent.client_order_id, fill_count=result.fill_count, average_fill_price=average,
                                     fees=result.fees, venue_order_id=result.venue_order_id,
                                     fill_notional=result.notional, at=self.clock())
            for fill in result.fills:
                orders.add_fill(row, count=fill.count, price=fill.price, fee=fill.fee, filled_at=fill.filled_at,
                                venue_fill_id=fill.venue_fill_id)
                positions.apply_fill(mode=self.mode, ticker=intent.ticker, outcome_side=intent.outcome_side,
                                     count=fill.count, price=fill.price, fee=fill.fee, at=fill.filled_at)

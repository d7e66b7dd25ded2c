"""Orders and fills. The intent row is written and committed before any request is sent.

Every timestamp is the caller's `at` (Money rule 10): the repository never reads the wall clock, so
a service running on a replay's clock or a test on a fixed date writes the times it decides by.

Exactly-once sending: an order may be sent only by whoever moves it from `intent` to `sent` with
`claim_for_send` - one conditional UPDATE, so two processes (or a retry after a restart) cannot
both win. Any other state means the request may have left: reconcile, never send again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import Fill, Order
from arb_pipeline.storage.repositories._time import require_aware
from arb_pipeline.storage.values import to_money

SIDES = {"bid": "yes", "ask": "no"}  # book side sent → outcome side held (kalshi-api.md §6.1)
OPEN_STATES = ("intent", "sent", "unknown")
PURPOSES = ("entry", "unwind")


class OrderConflict(ValueError):
    """A client_order_id already recorded with different terms: the id derivation is broken."""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    client_order_id: str
    opportunity_id: str
    leg_index: int
    mode: str
    ticker: str
    book_side: str  # "bid" (buy YES) or "ask" (buy NO)
    count: Decimal
    limit_price: Decimal  # the YES-leg price sent
    purpose: str = "entry"  # "unwind": a reduce-only sale of a leg's excess (the other side, IOC)

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}, got {self.purpose!r}")
        if self.book_side not in SIDES:
            raise ValueError(f"book_side must be 'bid' or 'ask', got {self.book_side!r}")
        if self.mode not in ("paper", "live"):
            raise ValueError(f"mode must be 'paper' or 'live', got {self.mode!r}")
        if to_money(self.count) <= 0:
            raise ValueError(f"count must be > 0, got {self.count}")
        if not Decimal(0) < to_money(self.limit_price) < Decimal(1):
            raise ValueError(f"limit_price must be strictly between 0 and 1, got {self.limit_price}")

    @property
    def outcome_side(self) -> str:
        return SIDES[self.book_side]


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_intent(self, intent: OrderIntent, *, at: datetime) -> tuple[Order, bool]:
        """Insert the intent stamped `at` (the caller's clock), or return the existing row for that
        client_order_id (created=False)."""
        existing = self.by_client_order_id(intent.client_order_id)
        if existing is None:
            now = require_aware(at, "at")
            row = Order(
                client_order_id=intent.client_order_id, opportunity_id=intent.opportunity_id,
                leg_index=intent.leg_index, mode=intent.mode, ticker=intent.ticker,
                book_side=intent.book_side, outcome_side=intent.outcome_side, count=intent.count,
                limit_price=intent.limit_price, purpose=intent.purpose, status="intent", created_at=now,
                updated_at=now,
            )
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                return row, True
            except IntegrityError:  # another process inserted it between our read and our insert
                existing = self.by_client_order_id(intent.client_order_id)
                if existing is None:
                    raise
        same = (existing.ticker, existing.book_side, existing.count, existing.limit_price, existing.mode,
                existing.purpose) == (intent.ticker, intent.book_side, to_money(intent.count),
                                      to_money(intent.limit_price), intent.mode, intent.purpose)
        if not same:
            raise OrderConflict(f"client_order_id {intent.client_order_id} already recorded with other terms")
        return existing, False

    def by_client_order_id(self, client_order_id: str) -> Order | None:
        return self.session.scalars(select(Order).where(Order.client_order_id == client_order_id)).first()

    def require(self, client_order_id: str) -> Order:
        row = self.by_client_order_id(client_order_id)
        if row is None:
            raise KeyError(f"no order with client_order_id {client_order_id}")
        return row

    def claim_for_send(self, client_order_id: str, at: datetime) -> bool:
        """Atomically move intent → sent, stamping `sent_at` = `at`: call it just before the request
        leaves. True means the caller, and only the caller, may send it."""
        now = require_aware(at, "at")
        result = self.session.execute(
            update(Order)
            .where(Order.client_order_id == client_order_id, Order.status == "intent")
            .values(status="sent", sent_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount == 1
        row = self.by_client_order_id(client_order_id)
        if row is not None:
            self.session.refresh(row)
        return claimed

    # Kept for readability at call sites that do not race (paper executor, tests).
    mark_sent = claim_for_send

    def mark_filled(
        self,
        client_order_id: str,
        *,
        fill_count: Decimal,
        average_fill_price: Decimal | None,
        fees: Decimal,
        venue_order_id: str | None = None,
        fill_notional: Decimal | None = None,
        at: datetime,
    ) -> Order:
        """Record the venue's final answer for an IOC order: `fill_count` of `count` filled and the
        rest was cancelled. Filled, partially filled and unfilled are all normal outcomes of an IOC
        order; Kalshi reports the cancelled rest as `remaining_count` 0 (kalshi-api.md §6.2), so what
        did not fill is derived here (`remaining_count` = count - filled), never checked against it.
        """
        row = self.require(client_order_id)
        if row.status not in ("sent", "unknown"):
            raise ValueError(f"order {client_order_id} is {row.status}; only a sent order can fill")
        filled = to_money(fill_count)
        if not Decimal(0) <= filled <= row.count:
            raise ValueError(f"order {client_order_id}: venue reports {filled.normalize():f} filled of "
                             f"{row.count.normalize():f} ordered")
        if filled > 0 and average_fill_price is None:
            raise ValueError(f"order {client_order_id}: a fill needs its average price")
        row.status = "filled" if filled == row.count else ("partially_filled" if filled > 0 else "unfilled")
        row.fill_count, row.remaining_count = filled, row.count - filled
        row.average_fill_price = average_fill_price
        row.fill_notional = fill_notional if fill_notional is not None else (Decimal(0) if filled == 0 else None)
        row.fees = to_money(fees)
        row.venue_order_id = venue_order_id or row.venue_order_id
        row.updated_at = require_aware(at, "at")
        self.session.flush()
        return row

    def mark_failed(self, client_order_id: str, error: str, *, at: datetime) -> Order:
        """The venue refused the order (nothing can have been placed)."""
        return self._set_status(client_order_id, "failed", error, at)

    def mark_unknown(self, client_order_id: str, error: str, *, at: datetime) -> Order:
        """The request may or may not have reached the venue: reconcile by client_order_id."""
        return self._set_status(client_order_id, "unknown", error, at)

    def _set_status(self, client_order_id: str, status: str, error: str, at: datetime) -> Order:
        row = self.require(client_order_id)
        if row.status not in OPEN_STATES:
            raise ValueError(f"order {client_order_id} is already final ({row.status})")
        row.status, row.error, row.updated_at = status, error[:2000], require_aware(at, "at")
        self.session.flush()
        return row

    def add_fill(self, order: Order, *, count: Decimal, price: Decimal, fee: Decimal, filled_at: datetime,
                 venue_fill_id: str | None = None) -> Fill:
        fill = Fill(order_id=order.id, venue_fill_id=venue_fill_id, ticker=order.ticker,
                    outcome_side=order.outcome_side, count=count, price=price, fee=fee,
                    filled_at=require_aware(filled_at, "filled_at"))
        self.session.add(fill)
        self.session.flush()
        return fill

    def in_state(self, *states: str, mode: str | None = None) -> list[Order]:
        query = select(Order).where(Order.status.in_(states))
        if mode is not None:
            query = query.where(Order.mode == mode)
        return list(self.session.scalars(query.order_by(Order.id)))

    def for_opportunity(self, opportunity_id: str) -> list[Order]:
        return list(self.session.scalars(
            select(Order).where(Order.opportunity_id == opportunity_id).order_by(Order.leg_index)))

    def last_sent_on(self, ticker: str, outcome_side: str, *, mode: str,
                     other_than_opportunity: str | None = None) -> datetime | None:
        """When an order on this market and side that may hold a position (in flight, filled, partly
        filled or of unknown state) last left for the venue. Rejected or unfilled orders traded nothing;
        unwind orders close a position, they do not open one."""
        query = select(func.max(Order.sent_at)).where(
            Order.ticker == ticker, Order.outcome_side == outcome_side, Order.mode == mode, Order.purpose == "entry",
            Order.status.in_(("sent", "filled", "partially_filled", "unknown")), Order.sent_at.is_not(None))
        if other_than_opportunity is not None:
            query = query.where(Order.opportunity_id != other_than_opportunity)
        value = self.session.scalar(query)
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    def all(self, *, mode: str | None = None) -> list[Order]:
        query = select(Order)
        if mode is not None:
            query = query.where(Order.mode == mode)
        return list(self.session.scalars(query.order_by(Order.id)))

"""Read-only queries for the operator's desk: recent orders, fills, hedges and positions, filtered.

Kept apart from the write repositories (orders, positions, hedges) on purpose: these are views a
person browses, bounded by `limit`, newest first, and none of them changes a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import Fill, HedgeInstruction, OpportunityRecord, Order, Position
from arb_pipeline.storage.repositories._time import require_aware

# every state an order row can be in (the `orders.status` check constraint; a test keeps them equal)
ORDER_STATUSES = ("intent", "sent", "filled", "partially_filled", "unfilled", "failed", "unknown")


class DeskQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def orders(self, *, statuses: Iterable[str] | None = None, mode: str | None = None,
               since: datetime | None = None, opportunity_ids: Iterable[str] | None = None,
               limit: int = 100) -> list[Order]:
        query = select(Order)
        if statuses is not None:
            query = query.where(Order.status.in_(list(statuses)))
        if mode is not None:
            query = query.where(Order.mode == mode)
        if since is not None:
            query = query.where(Order.created_at >= require_aware(since, "since"))
        if opportunity_ids is not None:
            query = query.where(Order.opportunity_id.in_(list(opportunity_ids)))
        return list(self.session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)))

    def order_counts(self) -> list[tuple[str, str, int]]:
        """(mode, status, number of orders) for every combination present."""
        query = select(Order.mode, Order.status, func.count()).group_by(Order.mode, Order.status)
        return [(mode, status, int(n)) for mode, status, n in self.session.execute(query)]

    def fills(self, *, since: datetime | None = None, ticker: str | None = None, mode: str | None = None,
              limit: int = 100) -> list[tuple[Fill, Order]]:
        query = select(Fill, Order).join(Order, Fill.order_id == Order.id)
        if since is not None:
            query = query.where(Fill.filled_at >= require_aware(since, "since"))
        if ticker is not None:
            query = query.where(Fill.ticker == ticker)
        if mode is not None:
            query = query.where(Order.mode == mode)
        query = query.order_by(Fill.filled_at.desc(), Fill.id.desc()).limit(limit)
        return [(fill, order) for fill, order in self.session.execute(query)]

    def fill_totals(self) -> list[tuple[str, int, Decimal]]:
        """(mode, number of fills, contracts filled) per mode; summed in Python, exact on SQLite too."""
        totals: dict[str, tuple[int, Decimal]] = {}
        query = select(Order.mode, Fill.count).join(Order, Fill.order_id == Order.id)
        for mode, count in self.session.execute(query.execution_options(yield_per=1000)):
            n, contracts = totals.get(mode, (0, Decimal(0)))
            totals[mode] = (n + 1, contracts + count)
        return [(mode, n, contracts) for mode, (n, contracts) in sorted(totals.items())]

    def hedges(self, *, statuses: Iterable[str] | None = None, limit: int = 100) -> list[HedgeInstruction]:
        """Hedge instructions, the pending ones first (oldest pending first: it has waited longest)."""
        pending_first = case((HedgeInstruction.status == "pending", 0), else_=1)
        query = select(HedgeInstruction)
        if statuses is not None:
            query = query.where(HedgeInstruction.status.in_(list(statuses)))
        newest_first = case((HedgeInstruction.status == "pending", HedgeInstruction.id), else_=-HedgeInstruction.id)
        return list(self.session.scalars(query.order_by(pending_first, newest_first).limit(limit)))

    def positions(self, mode: str, *, include_settled: bool = False) -> list[Position]:
        query = select(Position).where(Position.mode == mode)
        if not include_settled:
            query = query.where(Position.settled.is_(False), Position.count != 0)
        return list(self.session.scalars(query.order_by(Position.ticker)))

    def events_of_tickers(self, tickers: Iterable[str]) -> dict[str, str]:
        """Kalshi market ticker -> the event ticker of the opportunity an order on it belonged to."""
        wanted = list(set(tickers))
        if not wanted:
            return {}
        query = (select(Order.ticker, OpportunityRecord.event_key)
                 .join(OpportunityRecord, OpportunityRecord.id == Order.opportunity_id)
                 .where(Order.ticker.in_(wanted)).distinct())
        return {ticker: event for ticker, event in self.session.execute(query)}

    def unhedged_orders(self, mode: str) -> list[Order]:
        """Filled Kalshi entry orders of opportunities whose sportsbook hedge is still to be placed (an
        unwind order sells exposure back: it is not at risk)."""
        pending = select(HedgeInstruction.opportunity_id).where(HedgeInstruction.status == "pending")
        query = select(Order).where(Order.mode == mode, Order.status.in_(("filled", "partially_filled")),
                                    Order.purpose == "entry", Order.opportunity_id.in_(pending))
        return list(self.session.scalars(query.order_by(Order.id)))

"""Net positions per market and the realized-P&L ledger.

Kalshi nets YES against NO in one market: holding YES and buying NO closes contracts in pairs that
pay exactly $1 together. Cost is tracked as total cost of the contracts still held, fees included,
so realized P&L = payout − cost, and every cent of cost is accounted for once (the part removed on
a partial close is rounded to 6 decimals and the remainder stays in the position).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.arb.settlement import parse_result, position_payout
from arb_pipeline.storage.models import Position, RealizedPnl
from arb_pipeline.storage.repositories._time import require_aware
from arb_pipeline.storage.values import to_money

ZERO = Decimal(0)
_Q = Decimal("0.000001")


class PositionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, mode: str, ticker: str) -> Position | None:
        return self.session.scalars(select(Position).where(Position.mode == mode, Position.ticker == ticker)).first()

    def open_positions(self, mode: str) -> list[Position]:
        query = select(Position).where(Position.mode == mode, Position.settled.is_(False))
        return [p for p in self.session.scalars(query.order_by(Position.ticker)) if p.count != 0]

    def unsettled(self, mode: str) -> list[Position]:
        """Positions not yet settled, flat ones included (a YES and a NO that netted to zero still wait
        for their market's result, which is what settles the arbitrage they belong to)."""
        query = select(Position).where(Position.mode == mode, Position.settled.is_(False))
        return list(self.session.scalars(query.order_by(Position.ticker)))

    def all_settled(self, mode: str) -> list[Position]:
        return list(self.session.scalars(select(Position).where(Position.mode == mode, Position.settled.is_(True))))

    def apply_fill(self, *, mode: str, ticker: str, outcome_side: str, count: Decimal, price: Decimal,
                   fee: Decimal, at: datetime) -> Position:
        """Add a fill of `count` contracts of `outcome_side` at `price` (the held side's price) + `fee`."""
        if outcome_side not in ("yes", "no"):
            raise ValueError(f"outcome_side must be 'yes' or 'no', got {outcome_side!r}")
        count, price, fee = to_money(count), to_money(price), to_money(fee)
        if count <= 0 or fee < 0 or not ZERO < price < 1:
            raise ValueError(f"bad fill: count={count} price={price} fee={fee}")
        at = require_aware(at, "at")
        pos = self.get(mode, ticker)
        if pos is None:
            pos = Position(mode=mode, ticker=ticker, count=ZERO, cost=ZERO, fees_paid=ZERO,
                           realized_pnl=ZERO, settled=False, updated_at=at)
            self.session.add(pos)
        if pos.settled:
            raise ValueError(f"{ticker} is settled; no further fills can apply")
        signed = count if outcome_side == "yes" else -count
        new_cost = count * price + fee
        if pos.count == 0 or (pos.count > 0) == (signed > 0):
            pos.count, pos.cost = pos.count + signed, pos.cost + new_cost
        else:
            closed = min(count, abs(pos.count))
            released = (pos.cost * closed / abs(pos.count)).quantize(_Q, rounding=ROUND_HALF_EVEN)
            incoming = (new_cost * closed / count).quantize(_Q, rounding=ROUND_HALF_EVEN)
            realized = closed - released - incoming  # each closed YES+NO pair pays exactly $1
            pos.count += signed
            pos.cost = pos.cost - released + (new_cost - incoming)
            pos.realized_pnl += realized
            self._ledger(mode, ticker, "netting", realized, at, {"contracts": str(closed)})
        pos.fees_paid += fee
        pos.updated_at = at
        self.session.flush()
        return pos

    def settle(self, *, mode: str, ticker: str, result: str, at: datetime, payout: Decimal | None = None) -> Decimal:
        """Settle a market on `result` (`yes`/`no`/`void`/a scalar value, `arb.settlement`): pay what the
        position is owed by that one rule, or `payout` when the venue said what it paid (live: its
        settlement revenue, authoritative); realize P&L. Settling twice pays once."""
        result = parse_result(result, f"{ticker}: result")
        pos = self.get(mode, ticker)
        if pos is None or pos.settled:
            return ZERO
        at = require_aware(at, "at")
        owed = position_payout(result, pos.count, pos.cost) if payout is None else to_money(payout)
        realized = owed - pos.cost
        self._ledger(mode, ticker, "settlement", realized, at,
                     {"result": result, "contracts": str(pos.count), "payout": str(owed), "cost": str(pos.cost)})
        pos.realized_pnl += realized
        pos.count, pos.cost, pos.settled, pos.updated_at = ZERO, ZERO, True, at
        self.session.flush()
        return realized

    def open_costs(self, mode: str) -> dict[str, Decimal]:
        """What each open position (unsettled, not flat) cost, by ticker - read as columns, not objects:
        every order's preflight asks, and loading thousands of positions as ORM objects twice per order was
        what saturated the worker's execution thread (benchmarks/bench_risk.py)."""
        query = select(Position.ticker, Position.count, Position.cost).where(
            Position.mode == mode, Position.settled.is_(False))
        return {ticker: cost for ticker, count, cost in self.session.execute(query) if count != 0}

    def open_exposure(self, mode: str) -> Decimal:
        """Money at risk in open positions: what they cost (the most we can lose on them)."""
        return sum(self.open_costs(mode).values(), ZERO)

    def realized_between(self, mode: str, start: datetime, end: datetime) -> Decimal:
        query = select(RealizedPnl.amount).where(
            RealizedPnl.mode == mode,
            RealizedPnl.realized_at >= require_aware(start, "start"),
            RealizedPnl.realized_at < require_aware(end, "end"),
        )
        return sum(self.session.scalars(query), ZERO)  # summed in Python: exact on SQLite too

    def realized_rows(self, mode: str) -> list[RealizedPnl]:
        """Every realized-P&L entry of `mode`, both legs, oldest first."""
        query = select(RealizedPnl).where(RealizedPnl.mode == mode).order_by(RealizedPnl.realized_at, RealizedPnl.id)
        return list(self.session.scalars(query))

    def record_book_settlement(self, *, mode: str, bookmaker: str, opportunity_id: str, amount: Decimal,
                               at: datetime, detail: dict) -> None:
        """A sportsbook leg's realized P&L (payout net of commission − stake) into the same ledger as the
        Kalshi legs, so the daily-loss check sums both legs of an arbitrage."""
        self._ledger(mode, f"book:{bookmaker}", "sportsbook", amount, require_aware(at, "at"), detail,
                     opportunity_id=opportunity_id)

    def _ledger(self, mode: str, ticker: str, kind: str, amount: Decimal, at: datetime, detail: dict,
                opportunity_id: str | None = None) -> None:
        self.session.add(RealizedPnl(mode=mode, ticker=ticker, kind=kind, amount=amount, realized_at=at,
                                     detail=detail, opportunity_id=opportunity_id))

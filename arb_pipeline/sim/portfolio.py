"""The simulated member account: cash, net positions, fills and settlements, all in exact Decimals.

Positions are net like Kalshi's (`position_fp` > 0 is YES, < 0 is NO): buying the opposite side of
what you hold redeems the pairs for $1.00 each at once, which is why selling YES is the same as
buying NO. Money moves only through `apply_fill`, `reserve`/`release` (collateral of resting orders)
and `settle`, so the balance can always be explained from the fills and settlements served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.money import ONE, count_fp, dollars, to_cents

ZERO = Decimal("0")


@dataclass
class Position:
    ticker: str
    event_ticker: str
    exchange_index: int
    position: Decimal = ZERO  # signed: + YES, - NO
    cost: Decimal = ZERO  # cost basis of the contracts currently held
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO
    total_traded: Decimal = ZERO
    yes_bought: Decimal = ZERO  # kept for the settlement record
    no_bought: Decimal = ZERO
    last_updated: datetime | None = None


@dataclass
class Account:
    user_id: str
    balance: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    fills: list[dict[str, object]] = field(default_factory=list)
    settlements: list[dict[str, object]] = field(default_factory=list)
    updated: datetime | None = None

    def position(self, ticker: str, event_ticker: str, exchange_index: int, now: datetime) -> Position:
        pos = self.positions.get(ticker)
        if pos is None:
            pos = self.positions[ticker] = Position(ticker, event_ticker, exchange_index, last_updated=now)
        return pos

    def reserve(self, amount: Decimal, now: datetime) -> None:
        """Collateral of a resting order leaves the available balance until it fills or is cancelled."""
        self.balance -= amount
        self.updated = now

    def release(self, amount: Decimal, now: datetime) -> None:
        self.balance += amount
        self.updated = now

    def apply_fill(self, pos: Position, outcome_side: str, qty: Decimal, paid_price: Decimal, fee: Decimal,
                   prepaid: bool, now: datetime) -> None:
        """Book one fill: pay for `qty` contracts of `outcome_side` at `paid_price` (that side's price).

        `prepaid` means the cost was already reserved when the order came to rest.
        """
        cost = qty * paid_price
        if not prepaid:
            self.balance -= cost
        self.balance -= fee
        pos.fees_paid += fee
        pos.total_traded += cost
        if outcome_side == "yes":
            pos.yes_bought += qty
        else:
            pos.no_bought += qty
        signed = qty if outcome_side == "yes" else -qty
        held = pos.position
        if held == 0 or (held > 0) == (signed > 0):
            pos.position = held + signed
            pos.cost += cost
        else:
            closing = min(abs(held), qty)
            avg = pos.cost / abs(held)
            # each YES+NO pair is redeemed for $1.00 immediately
            self.balance += closing * ONE
            pos.realized_pnl += closing * (ONE - paid_price - avg)
            pos.cost -= closing * avg
            opening = qty - closing
            pos.position = held + signed
            if pos.position == 0:
                pos.cost = ZERO
            elif opening > 0:
                pos.cost = opening * paid_price
        pos.last_updated = now
        self.updated = now

    def settle(self, pos: Position, result: str, now: datetime) -> dict[str, object]:
        """Pay $1.00 per winning contract held and record the settlement; fees were paid at fill time."""
        yes_count = pos.position if pos.position > 0 else ZERO
        no_count = -pos.position if pos.position < 0 else ZERO
        winners = yes_count if result == "yes" else no_count
        revenue = winners * ONE
        self.balance += revenue
        pos.realized_pnl += revenue - pos.cost
        record: dict[str, object] = {
            "ticker": pos.ticker,
            "event_ticker": pos.event_ticker,
            "exchange_index": pos.exchange_index,
            "market_result": result,
            "yes_count_fp": count_fp(yes_count),
            "yes_total_cost_dollars": dollars(pos.cost if yes_count else ZERO),
            "no_count_fp": count_fp(no_count),
            "no_total_cost_dollars": dollars(pos.cost if no_count else ZERO),
            "revenue": to_cents(revenue),
            "settled_time": rfc3339(now),
            "fee_cost": dollars(pos.fees_paid),
            "value": 100 if result == "yes" else 0,
        }
        pos.position = ZERO
        pos.cost = ZERO
        pos.last_updated = now
        self.updated = now
        self.settlements.append(record)
        return record

    def market_position_json(self, pos: Position) -> dict[str, object]:
        return {
            "ticker": pos.ticker,
            "exchange_index": pos.exchange_index,
            "total_traded_dollars": dollars(pos.total_traded),
            "position_fp": count_fp(pos.position),
            "market_exposure_dollars": dollars(pos.cost),
            "realized_pnl_dollars": dollars(pos.realized_pnl),
            "fees_paid_dollars": dollars(pos.fees_paid),
            "last_updated_ts": rfc3339(pos.last_updated) if pos.last_updated else "",
        }

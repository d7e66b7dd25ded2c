"""What an executor returns, paper or live: one IOC order's final state and its fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from arb_pipeline.domain import ContractSide


@dataclass(frozen=True, slots=True)
class VenueFill:
    count: Decimal
    price: Decimal  # price of the contract side bought
    fee: Decimal
    filled_at: datetime
    venue_fill_id: str | None = None


@dataclass(frozen=True, slots=True)
class VenueResult:
    venue_order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    fills: tuple[VenueFill, ...]

    @property
    def notional(self) -> Decimal:
        return sum((f.count * f.price for f in self.fills), Decimal(0))

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))


class FillsNotVisible(RuntimeError):
    """The venue accepted the order but its fills are not readable yet: reconcile later, never resend."""


class Executor(Protocol):
    mode: str

    def place(self, *, ticker: str, side: ContractSide, count: Decimal, limit_price: Decimal, client_order_id: str,
              submitted_at: datetime, reduce_only: bool = False) -> VenueResult:
        """Send one IOC buy of `count` `side` contracts at no worse than `limit_price`.

        `reduce_only`: the order only closes contracts of the other side we hold (an unwind: buying NO
        at 1 - p is how Kalshi sells YES at p, kalshi-api.md §6.1); the venue never lets it open one.
        """
        ...

    def depth_within(self, *, ticker: str, side: ContractSide, limit_price: Decimal) -> Decimal | None:
        """Contracts of `side` buyable right now at `limit_price` or better (None: cannot tell)."""
        ...

    def available_balance(self) -> Decimal | None:
        """Cash available for new orders on the venue (None: the executor has no account to ask)."""
        ...

"""Live executor: the Kalshi leg through the real connector. Only with ARB_MODE=live and credentials.

Direction (kalshi-api.md §6.1): buy YES at p → side "bid" price p; buy NO at q → side "ask" price
1 − q (`connectors.kalshi.orders.yes_leg_order`). Always immediate-or-cancel at the worst
acceptable price, with the deterministic client_order_id (a retry meets 409 and the client returns
the existing order; it never places a second one).

Fills are read back with GET /portfolio/fills?order_id=… (prices per side and the fee actually
charged). If the venue's fills do not yet add up to the order's fill count (portfolio lag, §9.1),
`FillsNotVisible` is raised: the caller marks the order `unknown` and reconciliation completes it.

Selling (an unwind) is buying the other side with `reduce_only` (§6.1: "an ask reduces a YES
position"; reduce-only needs IOC), so the venue never lets it open a new position. Before the first
leg of an arbitrage goes, `depth_within` reads each leg's book again (GET /markets/{ticker}/orderbook)
and `available_balance` the account's cash (GET /portfolio/balance), so every leg is known to be
fillable within its planned worst price before any is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.connectors.kalshi.orders import yes_leg_order
from arb_pipeline.domain import ContractSide
from arb_pipeline.execution.venue import FillsNotVisible, VenueFill, VenueResult
from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)

BANNER = "*** LIVE TRADING: REAL ORDERS WILL BE SENT TO KALSHI ({url}) ***"


class LiveModeNotEnabled(RuntimeError):
    """Live execution was requested without ARB_MODE=live and Kalshi credentials."""


def require_live(settings: Settings) -> None:
    """Money rule 5: live needs the explicit setting *and* credentials."""
    if settings.mode != "live":
        raise LiveModeNotEnabled("live execution needs ARB_MODE=live (current mode: paper)")
    has_key = settings.kalshi_private_key_path is not None or settings.kalshi_private_key_pem is not None
    if not settings.kalshi_key_id or not has_key:
        raise LiveModeNotEnabled("live execution needs KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or _PEM)")


class LiveExecutor:
    mode = "live"

    def __init__(self, client: Any, settings: Settings, *, alert: Callable[[str, str, str, str], object] | None = None,
                 fill_attempts: int = 3, sleep: Callable[[float], None] = time.sleep) -> None:
        require_live(settings)
        self.client, self.fill_attempts, self.sleep = client, fill_attempts, sleep
        banner = BANNER.format(url=settings.kalshi_base_url)
        for _ in range(3):
            log.warning(banner)
        if alert is not None:
            alert("warning", "live trading enabled", f"{banner}\nThe Kalshi leg is placed with real money.",
                  f"live-mode-start:{settings.kalshi_base_url}")

    def __repr__(self) -> str:
        return "LiveExecutor()"

    def depth_within(self, *, ticker: str, side: ContractSide, limit_price: Decimal) -> Decimal | None:
        book = OrderBook.from_levels(self.client.get_orderbook(ticker))
        return sum((lv.size for lv in book.asks(ContractSide(side)) if lv.price <= limit_price), Decimal(0))

    def available_balance(self) -> Decimal | None:
        return self.client.get_balance().balance_dollars

    def place(self, *, ticker: str, side: ContractSide, count: Decimal, limit_price: Decimal, client_order_id: str,
              submitted_at: datetime, reduce_only: bool = False) -> VenueResult:
        book_side, yes_price = yes_leg_order(side, limit_price)
        extra = {"reduce_only": True} if reduce_only else {}
        result = self.client.create_order(ticker, book_side, count, yes_price, "immediate_or_cancel", client_order_id,
                                          **extra)
        if result.fill_count == 0:
            return VenueResult(result.order_id, Decimal(0), result.remaining_count, ())
        for attempt in range(self.fill_attempts):
            fills = self.client.get_fills(order_id=result.order_id)
            total = sum((f.count for f in fills), Decimal(0))
            if total == result.fill_count:
                return VenueResult(result.order_id, result.fill_count, result.remaining_count, tuple(
                    VenueFill(f.count, f.yes_price if f.outcome_side == "yes" else f.no_price, f.fee_cost,
                              f.created_time or submitted_at, f.fill_id) for f in fills))
            if attempt + 1 < self.fill_attempts:
                self.sleep(0.5 * 2**attempt)
        raise FillsNotVisible(f"order {result.order_id} ({client_order_id}) filled {result.fill_count} but the "
                              f"venue shows fills for {total}; reconcile")

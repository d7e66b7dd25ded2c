"""Paper executor (the default): fills IOC orders against the order book captured with the scan.

Model, deterministic so tests and replays agree:
- depth: levels are lifted best first, each at most its displayed size; what the book cannot fill
  within the limit is cancelled (immediate-or-cancel), never rests;
- slippage: every level fills `slippage_ticks` ticks worse than displayed (tick = the step of the
  market's price band at that price, 0.01 when unknown), clamped to the book: never worse than
  the worst price displayed on that side, and a level whose slipped price passes the limit does
  not fill;
- latency: fills are stamped `latency_ms` after submission;
- fees: one order's taker fee via `arb.fees.kalshi_order_fee` (per-level fees rounded up to
  $0.0001, the order's total up to the cent); a market under a fee waiver pays none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.fees import fee_rate, kalshi_order_fee, raw_trade_fee
from arb_pipeline.domain import ContractSide, MarketSnapshot, OrderBookLevels, PriceRange, SeriesFees
from arb_pipeline.execution.venue import VenueFill, VenueResult

DEFAULT_TICK = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PaperMarket:
    book: OrderBookLevels
    fees: SeriesFees = SeriesFees(series_ticker="")
    price_ranges: tuple[PriceRange, ...] = ()
    fee_waived: bool = False


def _tick(price: Decimal, ranges: tuple[PriceRange, ...]) -> Decimal:
    for band in ranges:
        if band.start <= price <= band.end:
            return band.step
    return DEFAULT_TICK


class PaperExecutor:
    mode = "paper"

    def __init__(self, markets: Mapping[str, PaperMarket], *, latency_ms: int = 0, slippage_ticks: int = 0) -> None:
        if latency_ms < 0 or slippage_ticks < 0:
            raise ValueError("paper latency and slippage must be >= 0")
        self.markets, self.latency, self.slippage_ticks = markets, timedelta(milliseconds=latency_ms), slippage_ticks

    @classmethod
    def from_snapshot(cls, snapshot: MarketSnapshot, *, latency_ms: int = 0, slippage_ticks: int = 0) -> PaperExecutor:
        """Books, fee schedule, price grid and fee waivers of every market in the captured scan."""
        markets: dict[str, PaperMarket] = {}
        at = snapshot.books_captured_at or snapshot.captured_at
        for event in snapshot.events:
            fees = snapshot.series_fees.get(event.series_ticker, SeriesFees(event.series_ticker))
            if event.fee_type_override or event.fee_multiplier_override is not None:
                fees = SeriesFees(event.series_ticker, event.fee_type_override or fees.fee_type,
                                  event.fee_multiplier_override if event.fee_multiplier_override is not None
                                  else fees.fee_multiplier)
            for market in event.markets:
                book = snapshot.orderbooks.get(market.ticker)
                if book is not None:
                    waived = market.fee_waiver_expiration_time is not None and market.fee_waiver_expiration_time > at
                    markets[market.ticker] = PaperMarket(book, fees, market.price_ranges, waived)
        return cls(markets, latency_ms=latency_ms, slippage_ticks=slippage_ticks)

    def place(self, *, ticker: str, side: ContractSide, count: Decimal, limit_price: Decimal, client_order_id: str,
              submitted_at: datetime, reduce_only: bool = False) -> VenueResult:
        """Fill an IOC buy against the captured book. `reduce_only` (an unwind: buying the other side of
        what we hold) fills the same way: the paper venue has no account, so the caller, which knows the
        position, never asks for more than it holds."""
        remaining, levels = Decimal(count), []
        for price, size in self._levels(ticker, side, limit_price):
            if remaining <= 0:
                break
            take = min(remaining, size)
            levels.append((take, price))
            remaining -= take
        filled = Decimal(count) - remaining
        fills = self._fills(levels, self.markets[ticker], submitted_at + self.latency, client_order_id)
        return VenueResult(f"paper-{client_order_id}", filled, remaining, fills)

    def depth_within(self, *, ticker: str, side: ContractSide, limit_price: Decimal) -> Decimal | None:
        """What `place` could fill at `limit_price` or better on the captured book (slippage included)."""
        return sum((size for _price, size in self._levels(ticker, side, limit_price)), Decimal(0))

    def available_balance(self) -> Decimal | None:
        return None  # no account: the exposure limit is what bounds paper orders

    def _levels(self, ticker: str, side: ContractSide, limit_price: Decimal) -> list[tuple[Decimal, Decimal]]:
        """(fill price, size) of every level an IOC buy at `limit_price` would lift, best first."""
        market = self.markets.get(ticker)
        if market is None:
            raise KeyError(f"paper: no captured order book for {ticker}")
        asks = OrderBook.from_levels(market.book).asks(ContractSide(side))
        worst_displayed = max((lv.price for lv in asks), default=Decimal(0))
        levels = []
        for level in asks:
            price = min(level.price + self.slippage_ticks * _tick(level.price, market.price_ranges), worst_displayed)
            if price > limit_price:
                break
            levels.append((price, level.size))
        return levels

    def _fills(self, levels: list[tuple[Decimal, Decimal]], market: PaperMarket, at: datetime,
               client_order_id: str) -> tuple[VenueFill, ...]:
        """Per-level fills whose fees add up exactly to the order's fee (rounding on the last one)."""
        if not levels:
            return ()
        if market.fee_waived:
            per_level, total = [Decimal(0)] * len(levels), Decimal(0)
        else:
            kw = {"fee_multiplier": market.fees.fee_multiplier, "fee_type": market.fees.fee_type}
            rate = fee_rate(maker=False, **kw)
            per_level = [raw_trade_fee(c, p, rate) for c, p in levels]
            total = kalshi_order_fee([(c, p) for c, p in levels], **kw)
        per_level[-1] += total - sum(per_level, Decimal(0))  # >= 0: the total is the sum rounded up
        return tuple(VenueFill(c, p, fee, at, f"{client_order_id}:{i}") for i, ((c, p), fee) in
                     enumerate(zip(levels, per_level, strict=True)))

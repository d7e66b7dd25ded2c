"""Paper executor (the default): fills IOC orders against the order book as it stands after a latency.

Which book (ARB_PAPER_FILL_BOOK): by default not the one the opportunity was detected on but the book
`latency_ms` after the order was submitted - `book_after(ticker, at)`, the simulator's current book or
the next stored capture (`services.paper_books`) - so a book that moved between detection and fill
gives the moved price, or no fill when it moved past the limit. When there is no later book (a single
recorded capture) or with ARB_PAPER_FILL_BOOK=detection, the captured book is used as before.

Model, deterministic so tests and replays agree:
- depth: levels are lifted best first, each at most its displayed size; what the book cannot fill
  within the limit is cancelled (immediate-or-cancel), never rests;
- slippage: every level fills `slippage_ticks` ticks worse than displayed (tick = the step of the
  market's price band at that price, 0.01 when unknown), clamped to the book: never worse than
  the worst price displayed on that side, and a level whose slipped price passes the limit does
  not fill;
- latency: fills are stamped `latency_ms` after submission (and priced on the book of that moment);
- partial fills (ARB_PAPER_FILL_RATIO): others lift the book too, so each displayed level fills at most
  `fill_ratio` of its size, floored to whole contracts (1 = the whole level);
- fees: one order's taker fee via `arb.fees.kalshi_order_fee` (per-level fees rounded up to
  $0.0001, the order's total up to the cent); a market under a fee waiver pays none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.arb.fees import fee_rate, kalshi_order_fee, raw_trade_fee
from arb_pipeline.domain import ContractSide, MarketSnapshot, OrderBookLevels, PriceRange, SeriesFees
from arb_pipeline.execution.venue import VenueFill, VenueResult

DEFAULT_TICK = Decimal("0.01")
# the book of a market as it stands at a moment (None: no newer book known - the captured one is used)
BookAfter = Callable[[str, datetime], OrderBookLevels | None]


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

    def __init__(self, markets: Mapping[str, PaperMarket], *, latency_ms: int = 0, slippage_ticks: int = 0,
                 fill_ratio: Decimal = Decimal(1), book_after: BookAfter | None = None) -> None:
        if latency_ms < 0 or slippage_ticks < 0:
            raise ValueError("paper latency and slippage must be >= 0")
        if not isinstance(fill_ratio, Decimal) or not Decimal(0) < fill_ratio <= 1:
            raise ValueError(f"paper fill ratio must be a Decimal in (0, 1], got {fill_ratio!r}")
        self.markets, self.latency, self.slippage_ticks = markets, timedelta(milliseconds=latency_ms), slippage_ticks
        self.fill_ratio, self.book_after = fill_ratio, book_after

    @classmethod
    def from_snapshot(cls, snapshot: MarketSnapshot, *, latency_ms: int = 0, slippage_ticks: int = 0,
                      fill_ratio: Decimal = Decimal(1), book_after: BookAfter | None = None) -> PaperExecutor:
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
        return cls(markets, latency_ms=latency_ms, slippage_ticks=slippage_ticks, fill_ratio=fill_ratio,
                   book_after=book_after)

    def place(self, *, ticker: str, side: ContractSide, count: Decimal, limit_price: Decimal, client_order_id: str,
              submitted_at: datetime, reduce_only: bool = False) -> VenueResult:
        """Fill an IOC buy against the captured book. `reduce_only` (an unwind: buying the other side of
        what we hold) fills the same way: the paper venue has no account, so the caller, which knows the
        position, never asks for more than it holds."""
        at = submitted_at + self.latency
        remaining, levels = Decimal(count), []
        for price, size in self._levels(ticker, side, limit_price, self._book_at(ticker, at)):
            if remaining <= 0:
                break
            take = min(remaining, self._share(size))
            if take > 0:
                levels.append((take, price))
                remaining -= take
        filled = Decimal(count) - remaining
        fills = self._fills(levels, self.markets[ticker], at, client_order_id)
        return VenueResult(f"paper-{client_order_id}", filled, remaining, fills)

    def depth_within(self, *, ticker: str, side: ContractSide, limit_price: Decimal) -> Decimal | None:
        """What the captured book offers at `limit_price` or better (slippage and fill ratio included): the
        pre-send check; the fill itself looks at the book after the latency."""
        return sum((self._share(size) for _price, size in self._levels(ticker, side, limit_price)), Decimal(0))

    def available_balance(self) -> Decimal | None:
        return None  # no account: the exposure limit is what bounds paper orders

    def _share(self, size: Decimal) -> Decimal:
        """The part of a displayed level this order gets (whole contracts when only part of it)."""
        return size if self.fill_ratio == 1 else (size * self.fill_ratio).to_integral_value(rounding=ROUND_FLOOR)

    def _book_at(self, ticker: str, at: datetime) -> OrderBookLevels | None:
        return self.book_after(ticker, at) if self.book_after is not None else None

    def _levels(self, ticker: str, side: ContractSide, limit_price: Decimal,
                book: OrderBookLevels | None = None) -> list[tuple[Decimal, Decimal]]:
        """(fill price, size) of every level an IOC buy at `limit_price` would lift, best first, on `book`
        (default: the captured one)."""
        market = self.markets.get(ticker)
        if market is None:
            raise KeyError(f"paper: no captured order book for {ticker}")
        asks = OrderBook.from_levels(book if book is not None else market.book).asks(ContractSide(side))
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

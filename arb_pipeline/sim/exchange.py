"""Kalshi's matching engine in miniature: one price-time-priority book per market, quoted YES-side.

Direction follows the V2 API (kalshi-api.md §6.1): `bid` buys YES at `price`, `ask` sells YES at
`price`, i.e. buys NO at 1 - price. Incoming orders trade at the resting order's price; IOC cancels
what does not fill, FOK fills completely or not at all, GTC rests and joins the book. Fees follow the
real formula per order (`arb.fees`): the taker (maker) fee charged after each fill is ceil_to_cent of
the order's accumulated per-fill trade fees (0.07 * M * C * P * (1 - P), x 0.25 for makers on
quadratic_with_maker_fees, each rounded up to $0.0001), minus what the order was already charged, so one order never pays more than one equivalent fill would.
The scenario's market maker ("mm") quotes through the same book, so a user's resting order is
filled as maker when the market moves through it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.money import (
    ONE,
    ceil_to_cent,
    count_fp,
    dollars,
    fill_fee_raw,
)
from arb_pipeline.sim.portfolio import ZERO, Account

USER = "user"
MM = "mm"
TIME_IN_FORCE = ("good_till_canceled", "immediate_or_cancel", "fill_or_kill")
STP_TYPES = ("taker_at_cross", "maker")
# the version (4) and variant (RFC 4122) bits `uuid.UUID(int=..., version=4)` sets
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


class ExchangeError(Exception):
    """An order rejected the way Kalshi rejects it: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(slots=True)  # no per-order __dict__: a 1,000-game requote makes ~22,000 of them every tick
class Order:
    order_id: str
    owner: str
    ticker: str
    side: str  # bid | ask (YES leg)
    price: Decimal  # YES-leg price
    initial: Decimal
    remaining: Decimal
    seq: int
    time_in_force: str = "good_till_canceled"
    client_order_id: str = ""
    stp: str = "taker_at_cross"
    tag: str = ""  # scenario bookkeeping (e.g. an injected window) for market-maker orders
    status: str = "resting"
    created: datetime | None = None
    updated: datetime | None = None
    expiration_ts: int | None = None
    filled: Decimal = ZERO
    taker_cost: Decimal = ZERO
    maker_cost: Decimal = ZERO
    taker_raw: Decimal = ZERO
    maker_raw: Decimal = ZERO
    taker_fees: Decimal = ZERO
    maker_fees: Decimal = ZERO
    cancel_on_pause: bool = False
    reduced_by: Decimal = ZERO

    @property
    def paid_price(self) -> Decimal:
        """Price of the contract this order buys: YES price for a bid, NO price for an ask."""
        return self.price if self.side == "bid" else ONE - self.price

    @property
    def outcome_side(self) -> str:
        return "yes" if self.side == "bid" else "no"


@dataclass
class MarketBook:
    ticker: str
    event_ticker: str
    exchange_index: int = 0
    fee_type: str = "quadratic_with_maker_fees"
    fee_multiplier: Decimal = ONE
    bids: list[Order] = field(default_factory=list)
    asks: list[Order] = field(default_factory=list)
    last_price: Decimal | None = None
    volume: Decimal = ZERO
    open: bool = True

    def crossing(self, side: str, price: Decimal) -> list[Order]:
        """Resting orders an incoming order at `price` would trade with, best first."""
        if side == "bid":
            return sorted((o for o in self.asks if o.price <= price), key=lambda o: (o.price, o.seq))
        return sorted((o for o in self.bids if o.price >= price), key=lambda o: (-o.price, o.seq))

    def remove(self, order: Order) -> None:
        (self.bids if order.side == "bid" else self.asks).remove(order)

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Aggregated bids, ascending (best last): YES bids at YES prices, NO bids at NO prices."""
        yes: dict[Decimal, Decimal] = {}
        no: dict[Decimal, Decimal] = {}
        for o in self.bids:
            yes[o.price] = yes.get(o.price, ZERO) + o.remaining
        for o in self.asks:
            no[ONE - o.price] = no.get(ONE - o.price, ZERO) + o.remaining
        return sorted(yes.items()), sorted(no.items())


def _uncrossed(bids: list[tuple[Decimal, Decimal, str]], asks: list[tuple[Decimal, Decimal, str]]) -> bool:
    """No quoted bid (of a positive size) at or above a quoted ask: the quotes cannot trade with each other."""
    top = max((p for p, size, _ in bids if size > 0), default=None)
    bottom = min((p for p, size, _ in asks if size > 0), default=None)
    return top is None or bottom is None or top < bottom


class Exchange:
    """All books plus the one simulated member's orders, fills and account."""

    def __init__(self, account: Account, now: Callable[[], datetime], seed: int = 0) -> None:
        self.account = account
        self.books: dict[str, MarketBook] = {}
        self.orders: dict[str, Order] = {}  # user orders by id, in creation order
        self.client_ids: set[str] = set()
        self.mm_fills: dict[str, Decimal] = {}  # market-maker fills by order tag
        self.trading_active = True
        # books touched since the websocket hub last looked (sim/ws.py), in the order they were touched: the
        # hub publishes them in that order, so a client never sees a later change before an earlier one
        self.changed: dict[str, None] = {}
        self._now = now
        self._seq = itertools.count(1)
        self._ids = random.Random(f"exchange-ids-{seed}")

    def new_id(self) -> str:
        """A version-4 UUID from the seeded stream: `str(uuid.UUID(int=bits, version=4))`, formatted here
        without building the UUID object (a requote of 1,000 games draws ~22,000 ids every tick)."""
        bits = (self._ids.getrandbits(128) & _UUID_CLEAR) | _UUID_V4
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def add_market(self, book: MarketBook) -> None:
        self.books[book.ticker] = book

    # ---------------------------------------------------------------- order entry

    def place(self, ticker: str, side: str, price: Decimal, count: Decimal, *, owner: str = USER,
              time_in_force: str = "good_till_canceled", client_order_id: str = "",
              stp: str = "taker_at_cross", post_only: bool = False, tag: str = "",
              expiration_ts: int | None = None, cancel_on_pause: bool = False, reduce_only: bool = False,
              liquidity_gone: bool = False) -> tuple[Order, list[dict[str, object]]]:
        """Validate, match and (GTC) rest one order. Returns the order and the user's fills it caused.

        `reduce_only` (IOC only, checked by the API): the order may only close the user's position -
        a bid closes NO contracts held, an ask YES contracts - so it is cut to what is held (nothing
        held: cancelled unfilled) and needs no collateral beyond its fee, because each closing pair is
        redeemed for $1.00 at once. Cutting follows the OpenAPI description of `reduce_only` ("the order
        place count should be capped by the member's current position"; kalshi-openapi.yaml).
        `liquidity_gone` (the `no_fill` fault): the order meets an empty book.
        """
        book = self.books.get(ticker)
        if book is None:
            raise ExchangeError(404, "not_found", f"market {ticker} not found")
        now = self._now()
        self._touched(ticker)
        if owner == USER and reduce_only:
            held = self.account.positions.get(ticker)
            position = held.position if held is not None else ZERO
            closable = -position if side == "bid" else position  # bid closes NO (< 0), ask closes YES (> 0)
            count = min(count, max(closable, ZERO))
        if owner == USER:
            self._check_user_order(book, side, price, count, time_in_force, client_order_id, stp,
                                   closing=reduce_only)
        order = Order(self.new_id(), owner, ticker, side, price, count, count, next(self._seq), time_in_force,
                      client_order_id, stp, tag, created=now, updated=now, expiration_ts=expiration_ts,
                      cancel_on_pause=cancel_on_pause)
        if owner == USER:
            if client_order_id:
                self.client_ids.add(client_order_id)
            self.orders[order.order_id] = order
        if count <= 0:  # a reduce-only order with nothing to reduce
            order.status, order.remaining = "canceled", ZERO
            return order, []
        crossing = [] if liquidity_gone else book.crossing(side, price)
        if post_only and crossing:
            order.status, order.remaining = "canceled", ZERO
            return order, []
        if time_in_force == "fill_or_kill" and self._fillable(order, crossing) < count:
            order.status, order.remaining = "canceled", ZERO
            return order, []
        fills = self._match(book, order, crossing, now)
        if order.remaining > 0 and order.status == "resting":
            if time_in_force == "good_till_canceled":
                (book.bids if side == "bid" else book.asks).append(order)
                if owner == USER:
                    self.account.reserve(order.remaining * order.paid_price, now)
            else:
                order.remaining = ZERO
                order.status = "canceled" if order.filled == 0 else "executed"
        elif order.remaining == 0:
            order.status = "executed"
        return order, fills

    def _check_user_order(self, book: MarketBook, side: str, price: Decimal, count: Decimal, tif: str,
                          client_order_id: str, stp: str, closing: bool = False) -> None:
        if side not in ("bid", "ask"):
            raise ExchangeError(400, "invalid_parameters", "side must be bid or ask")
        if tif not in TIME_IN_FORCE:
            raise ExchangeError(400, "invalid_parameters", f"time_in_force must be one of {', '.join(TIME_IN_FORCE)}")
        if stp not in STP_TYPES:
            raise ExchangeError(400, "invalid_parameters", "self_trade_prevention_type must be taker_at_cross or maker")
        if (count <= 0 and not closing) or count < 0 or count != count.quantize(Decimal("0.01")):
            raise ExchangeError(400, "invalid_parameters", "count must be positive with at most 2 decimals")
        if not Decimal("0.01") <= price <= Decimal("0.99") or price != price.quantize(Decimal("0.01")):
            raise ExchangeError(400, "invalid_parameters", "price is off the market's price grid",
                                "linear_cent: 0.0100 to 0.9900 in steps of 0.0100")
        if client_order_id and client_order_id in self.client_ids:
            raise ExchangeError(409, "order_already_exists", "an order with this client_order_id already exists",
                                client_order_id)
        if not book.open:
            raise ExchangeError(400, "MARKET_INACTIVE", f"market {book.ticker} is not open for trading")
        if not self.trading_active:
            raise ExchangeError(400, "trading_is_paused", "trading is paused on the exchange")
        paid = price if side == "bid" else ONE - price
        collateral = ZERO if closing else count * paid  # a closing pair is redeemed for $1.00 at once
        worst = collateral + ceil_to_cent(fill_fee_raw(count, price, book.fee_multiplier))
        if worst > self.account.balance:
            raise ExchangeError(400, "INSUFFICIENT_BALANCE", "insufficient balance for this order",
                                f"needs {dollars(worst)}, available {dollars(self.account.balance)}")

    @staticmethod
    def _fillable(order: Order, crossing: list[Order]) -> Decimal:
        total = ZERO
        for resting in crossing:
            if resting.owner == order.owner:
                if order.stp == "taker_at_cross":
                    break
                continue
            total += resting.remaining
        return total

    def _match(self, book: MarketBook, order: Order, crossing: list[Order], now: datetime) -> list[dict[str, object]]:
        fills: list[dict[str, object]] = []
        for resting in crossing:
            if order.remaining == 0:
                break
            if resting.owner == order.owner:
                if order.stp == "taker_at_cross":
                    order.status = "canceled" if order.filled == 0 else "executed"
                    order.remaining = ZERO
                    break
                self._cancel_resting(book, resting, now)
                continue
            qty = min(order.remaining, resting.remaining)
            trade_id = self.new_id()
            fills += self._execute(book, order, qty, resting.price, True, trade_id, now)
            fills += self._execute(book, resting, qty, resting.price, False, trade_id, now)
            if resting.remaining == 0:
                book.remove(resting)
            book.last_price = resting.price
            book.volume += qty
        return fills

    def _execute(self, book: MarketBook, order: Order, qty: Decimal, yes_price: Decimal, is_taker: bool,
                 trade_id: str, now: datetime) -> list[dict[str, object]]:
        order.remaining -= qty
        order.filled += qty
        order.updated = now
        if order.remaining == 0:
            order.status = "executed"
        paid = yes_price if order.side == "bid" else ONE - yes_price
        if order.owner != USER:
            if order.tag:
                self.mm_fills[order.tag] = self.mm_fills.get(order.tag, ZERO) + qty
            return []
        if is_taker:
            order.taker_raw += fill_fee_raw(qty, yes_price, book.fee_multiplier, fee_type=book.fee_type)
            fee = ceil_to_cent(order.taker_raw) - order.taker_fees
            order.taker_fees += fee
            order.taker_cost += qty * paid
        else:
            fee = ZERO
            if book.fee_type == "quadratic_with_maker_fees":
                order.maker_raw += fill_fee_raw(qty, yes_price, book.fee_multiplier, maker=True,
                                                fee_type=book.fee_type)
                fee = ceil_to_cent(order.maker_raw) - order.maker_fees
                order.maker_fees += fee
            order.maker_cost += qty * paid
            # a resting order reserved its limit price; refund any difference to the trade price
            reserved = qty * order.paid_price
            if reserved != qty * paid:
                self.account.release(reserved - qty * paid, now)
        pos = self.account.position(book.ticker, book.event_ticker, book.exchange_index, now)
        self.account.apply_fill(pos, order.outcome_side, qty, paid, fee, prepaid=not is_taker, now=now)
        fill: dict[str, object] = {
            "fill_id": trade_id,
            "trade_id": trade_id,
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "ticker": book.ticker,
            "market_ticker": book.ticker,
            "exchange_index": book.exchange_index,
            "outcome_side": order.outcome_side,
            "book_side": order.side,
            "side": order.outcome_side,
            "action": "buy",
            "count_fp": count_fp(qty),
            "yes_price_dollars": dollars(yes_price),
            "no_price_dollars": dollars(ONE - yes_price),
            "is_taker": is_taker,
            "fee_cost": dollars(fee),
            "created_time": rfc3339(now),
            "ts": int(now.timestamp()),
        }
        self.account.fills.append(fill)
        return [fill]

    # ---------------------------------------------------------------- cancel / liquidity / close

    def cancel(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise ExchangeError(404, "not_found", f"order {order_id} not found")
        book = self.books[order.ticker]
        if not book.open:
            raise ExchangeError(400, "MARKET_INACTIVE", f"market {book.ticker} is closed; orders cannot change")
        if order.status != "resting":
            raise ExchangeError(400, "order_not_resting", f"order {order_id} is {order.status}, not resting")
        return self._cancel_resting(book, order, self._now())

    def _cancel_resting(self, book: MarketBook, order: Order, now: datetime) -> Order:
        self._touched(book.ticker)
        book.remove(order)
        if order.owner == USER:
            self.account.release(order.remaining * order.paid_price, now)
        order.reduced_by = order.remaining
        order.remaining = ZERO
        order.status = "canceled"
        order.updated = now
        return order

    def _touched(self, ticker: str) -> None:
        """Mark a book changed, as its latest change: the hub publishes books in the order of their last change."""
        self.changed.pop(ticker, None)
        self.changed[ticker] = None

    def requote(self, ticker: str, bids: list[tuple[Decimal, Decimal, str]],
                asks: list[tuple[Decimal, Decimal, str]]) -> None:
        """Replace the market maker's quotes (price, size, tag); user orders in the way are filled as maker."""
        book = self.books[ticker]
        if not book.open:
            return
        self._touched(ticker)
        book.bids = [o for o in book.bids if o.owner != MM]
        book.asks = [o for o in book.asks if o.owner != MM]
        if not book.bids and not book.asks and _uncrossed(bids, asks):
            self._rest_quotes(book, bids, asks)
            return
        for side, quotes in (("ask", asks), ("bid", bids)):
            for price, size, tag in quotes:
                if size > 0:
                    self.place(ticker, side, price, size, owner=MM, tag=tag)

    def _rest_quotes(self, book: MarketBook, bids: list[tuple[Decimal, Decimal, str]],
                     asks: list[tuple[Decimal, Decimal, str]]) -> None:
        """The market maker's quotes straight into a book that holds no other order, when no bid of theirs
        reaches an ask of theirs: `place` would match nothing and rest each one, so the same orders (same
        ids from the seeded stream, same sequence numbers, same order) are rested here without its
        matching - the simulator requotes every market every tick, ~0.3 s of a 1,000-game tick."""
        now = self._now()
        ticker = book.ticker
        for side, quotes, resting in (("ask", asks, book.asks), ("bid", bids, book.bids)):
            for price, size, tag in quotes:
                if size > 0:
                    resting.append(Order(self.new_id(), MM, ticker, side, price, size, size, next(self._seq),
                                         tag=tag, created=now, updated=now))

    def expire_orders(self, now: datetime) -> int:
        """Cancel resting user orders whose `expiration_time` (Unix seconds) has passed."""
        due = [o for o in self.orders.values() if o.status == "resting" and o.expiration_ts is not None
               and o.expiration_ts <= now.timestamp()]
        for order in due:
            self._cancel_resting(self.books[order.ticker], order, now)
        return len(due)

    def set_trading_active(self, active: bool) -> None:
        """Pause or resume trading; a pause cancels resting orders flagged `cancel_order_on_pause`."""
        self.trading_active = active
        if not active:
            now = self._now()
            for order in [o for o in self.orders.values() if o.status == "resting" and o.cancel_on_pause]:
                self._cancel_resting(self.books[order.ticker], order, now)

    def close_market(self, ticker: str) -> None:
        """Stop trading: resting orders are cancelled (collateral returned), quotes pulled."""
        book = self.books[ticker]
        now = self._now()
        for order in list(book.bids + book.asks):
            self._cancel_resting(book, order, now)
        book.open = False
        self._touched(ticker)

    def settle_market(self, ticker: str, result: str) -> dict[str, object] | None:
        pos = self.account.positions.get(ticker)
        if pos is None:
            return None
        return self.account.settle(pos, result, self._now())

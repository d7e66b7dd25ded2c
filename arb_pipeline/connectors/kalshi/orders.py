"""Orders: the V2 create-order request body, YES-leg direction, and the pure parsers of orders,
create and cancel responses.

Same rules as `models`: Decimal from strings, aware UTC datetimes, required = required by spec 3.34
(kalshi-api.md §14) and mapped here; everything else is kept in `extra`. Order direction is the
V2 YES-leg convention (§6.1): `book_side` "bid" buys YES at `price`, "ask" sells YES at `price`,
which is buying NO at `1 - price`.

Where the saved 3.15 OpenAPI file and kalshi-api.md (3.31-3.34) disagree we follow kalshi-api.md:
`Order`/`Fill` direction is `outcome_side`/`book_side` (3.15 only had the now-deprecated
`side`/`action`, still accepted as a fallback); `GetBalanceResponse.balance_dollars` is required
(absent in 3.15); `MarketPosition.resting_orders_count` (required in 3.15, removed since) is not
read; V2 cancel takes `market_ticker` (not in 3.15); `ts_ms` is read when present (3.31+).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from arb_pipeline.domain import ContractSide, PriceRange

from .wire import ONE, ZERO, Reader

CREATE_ORDER = "POST /portfolio/events/orders"
CANCEL_ORDER = "DELETE /portfolio/events/orders/{order_id}"
ORDERS = "GET /portfolio/orders"
ORDER = "GET /portfolio/orders/{order_id}"

BOOK_SIDES = ("bid", "ask")
TIME_IN_FORCE = {
    "good_till_canceled": "good_till_canceled",
    "gtc": "good_till_canceled",
    "immediate_or_cancel": "immediate_or_cancel",
    "ioc": "immediate_or_cancel",
    "fill_or_kill": "fill_or_kill",
    "fok": "fill_or_kill",
}
SELF_TRADE_PREVENTION = ("taker_at_cross", "maker")
PRICE_BOUNDS = {"lo": ZERO, "hi": ONE}
# legacy (action, side) -> V2 book_side (§6.1 table), for responses that predate outcome/book side
_LEGACY_BOOK_SIDE = {("buy", "yes"): "bid", ("sell", "no"): "bid", ("buy", "no"): "ask", ("sell", "yes"): "ask"}


def yes_leg_order(contract: ContractSide | str, contract_price: Decimal) -> tuple[str, Decimal]:
    """(book side, YES-leg price) that buys `contract` at `contract_price`.

    Buy YES at p -> ("bid", p); buy NO at p -> ("ask", 1 - p): e.g. NO at 0.40 is ask 0.6000.
    """
    side = ContractSide(contract)
    if not isinstance(contract_price, Decimal) or not ZERO < contract_price < ONE:
        raise ValueError(f"contract price must be a Decimal in (0, 1), got {contract_price!r}")
    return ("bid", contract_price) if side is ContractSide.YES else ("ask", ONE - contract_price)


# --- request -------------------------------------------------------------------------------------
def on_price_grid(price: Decimal, price_ranges: Sequence[PriceRange]) -> bool:
    """True when `price` is `start + k * step` inside some band of the market's `price_ranges`."""
    return any(
        band.start <= price <= band.end and (price - band.start) % band.step == 0 for band in price_ranges
    )


def _exact(value: Any, name: str, places: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal (never a float), got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, got {value}")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{name} {value} has more than {places} decimal places")
    return number


def build_create_order_body(
    ticker: str,
    side: str,
    count: Decimal,
    price: Decimal,
    time_in_force: str,
    client_order_id: str,
    *,
    self_trade_prevention_type: str = "taker_at_cross",
    expiration_time: int | None = None,
    post_only: bool | None = None,
    reduce_only: bool | None = None,
    cancel_order_on_pause: bool | None = None,
    order_group_id: str | None = None,
    subaccount: int | None = None,
    exchange_index: int | None = None,
    price_ranges: Sequence[PriceRange] | None = None,
) -> dict[str, Any]:
    """Validate an order locally and return the `CreateOrderV2Request` JSON body.

    Everything that the venue would reject, or that would silently mean something else, is
    refused here before a request exists: a price outside (0, 1) or finer than $0.0001, a count
    that is not positive or finer than 0.01, a float anywhere, an unknown side or time in force,
    `reduce_only` without IOC, `expiration_time` with IOC/FOK, and a missing client_order_id
    (our idempotency key: §9.1; required by spec 3.15, optional in 3.31 — we always send it).
    Pass the market's `price_ranges` to also refuse an off-grid price locally (never sent).
    """
    if not isinstance(ticker, str) or not ticker.strip():
        raise ValueError("ticker must be a non-empty string")
    if side not in BOOK_SIDES:
        raise ValueError(f"side must be 'bid' (buy YES) or 'ask' (sell YES = buy NO), got {side!r}")
    tif = TIME_IN_FORCE.get(str(time_in_force).strip().lower())
    if tif is None:
        raise ValueError(f"time_in_force must be one of {sorted(set(TIME_IN_FORCE.values()))}, got {time_in_force!r}")
    if not isinstance(client_order_id, str) or not client_order_id.strip():
        raise ValueError("client_order_id must be a non-empty string: it is the idempotency key")
    if self_trade_prevention_type not in SELF_TRADE_PREVENTION:
        raise ValueError(f"self_trade_prevention_type must be one of {SELF_TRADE_PREVENTION}")
    price_d = _exact(price, "price", 4)
    count_d = _exact(count, "count", 2)
    if not ZERO < price_d < ONE:
        raise ValueError(f"price must be strictly between 0 and 1 dollars, got {price_d}")
    if count_d <= 0:
        raise ValueError(f"count must be positive, got {count_d}")
    if price_ranges is not None and not on_price_grid(price_d, price_ranges):
        raise ValueError(f"price {price_d} is off the market's price grid (§3.1): Kalshi rejects it")
    if reduce_only and tif != "immediate_or_cancel":
        raise ValueError("reduce_only requires time_in_force immediate_or_cancel")
    if expiration_time is not None:
        if tif != "good_till_canceled":
            raise ValueError("expiration_time is only allowed with good_till_canceled")
        if isinstance(expiration_time, bool) or not isinstance(expiration_time, int) or expiration_time <= 0:
            raise ValueError("expiration_time must be positive integer Unix seconds")
    body: dict[str, Any] = {
        "ticker": ticker,
        "client_order_id": client_order_id,
        "side": side,
        "count": f"{count_d:.2f}",
        "price": f"{price_d:.4f}",
        "time_in_force": tif,
        "self_trade_prevention_type": self_trade_prevention_type,
    }
    optional = {
        "expiration_time": expiration_time,
        "post_only": post_only,
        "reduce_only": reduce_only,
        "cancel_order_on_pause": cancel_order_on_pause,
        "order_group_id": order_group_id,
        "subaccount": subaccount,
        "exchange_index": exchange_index,  # omitted = auto-route by ticker (§9.3)
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


# --- responses -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    outcome_side: str  # yes / no
    book_side: str  # bid / ask (YES leg)
    type: str
    status: str  # resting / canceled / executed
    yes_price: Decimal
    no_price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    initial_count: Decimal
    taker_fill_cost: Decimal
    maker_fill_cost: Decimal
    taker_fees: Decimal
    maker_fees: Decimal
    created_time: datetime | None = None
    last_update_time: datetime | None = None
    expiration_time: datetime | None = None
    self_trade_prevention_type: str | None = None
    order_group_id: str | None = None
    subaccount_number: int | None = None
    exchange_index: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def direction(r: Reader) -> tuple[str, str]:
    """(outcome_side, book_side); derived from the deprecated side/action pair when absent."""
    book = r.opt_text("book_side")
    outcome = r.opt_text("outcome_side")
    if book is None or outcome is None:
        legacy = _LEGACY_BOOK_SIDE.get((r.obj.get("action"), r.obj.get("side")))
        if legacy is None:
            r.raw("book_side")  # raises: names the missing field
            r.raw("outcome_side")
        book = book or legacy
        outcome = outcome or ("yes" if book == "bid" else "no")
    if book not in BOOK_SIDES or outcome not in ("yes", "no"):
        raise r.fail("book_side", f"has an unknown direction: book_side={book!r} outcome_side={outcome!r}")
    return outcome, str(book)


def _order(r: Reader) -> Order:
    outcome, book = direction(r)
    return Order(
        order_id=r.ident("order_id"),
        user_id=r.text("user_id"),
        client_order_id=r.text("client_order_id"),
        ticker=r.ident("ticker"),
        outcome_side=outcome,
        book_side=book,
        type=r.text("type"),
        status=r.ident("status"),
        yes_price=r.dollars("yes_price_dollars", **PRICE_BOUNDS),
        no_price=r.dollars("no_price_dollars", **PRICE_BOUNDS),
        fill_count=r.count("fill_count_fp"),
        remaining_count=r.count("remaining_count_fp"),
        initial_count=r.count("initial_count_fp"),
        taker_fill_cost=r.dollars("taker_fill_cost_dollars"),
        maker_fill_cost=r.dollars("maker_fill_cost_dollars"),
        taker_fees=r.dollars("taker_fees_dollars"),
        maker_fees=r.dollars("maker_fees_dollars"),
        created_time=r.opt_time("created_time"),
        last_update_time=r.opt_time("last_update_time"),
        expiration_time=r.opt_time("expiration_time"),
        self_trade_prevention_type=r.opt_text("self_trade_prevention_type"),
        order_group_id=r.opt_text("order_group_id"),
        subaccount_number=r.integer("subaccount_number", required=False, default=None),
        exchange_index=r.integer("exchange_index", required=False, default=None),
        extra=r.extra(),
    )


def parse_order(obj: Any, endpoint: str = ORDER, *, path: str = "order") -> Order:
    return _order(Reader(obj, endpoint=endpoint, path=path))


def parse_order_response(payload: Any, *, endpoint: str = ORDER) -> Order:
    """`{order: Order}` from `GET /portfolio/orders/{order_id}`."""
    return _order(Reader(payload, endpoint=endpoint, path="").child("order"))


def parse_orders_response(payload: Any, *, endpoint: str = ORDERS) -> tuple[list[Order], str]:
    r = Reader(payload, endpoint=endpoint, path="")
    return [_order(o) for o in r.children("orders")], r.cursor()


@dataclass(frozen=True, slots=True)
class CreateOrderResult:
    """What the venue says about an order we sent.

    `already_existed` is True when a retry met 409 and the order placed by the earlier attempt
    was fetched instead (then `order` holds it and the average prices are unknown: None).
    """

    order_id: str
    client_order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None
    ts_ms: int | None = None
    already_existed: bool = False
    order: Order | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_existing(cls, order: Order) -> CreateOrderResult:
        return cls(
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            fill_count=order.fill_count,
            remaining_count=order.remaining_count,
            already_existed=True,
            order=order,
        )


def parse_create_order_response(
    payload: Any, *, client_order_id: str = "", endpoint: str = CREATE_ORDER
) -> CreateOrderResult:
    r = Reader(payload, endpoint=endpoint, path="")
    return CreateOrderResult(
        order_id=r.ident("order_id"),
        client_order_id=r.opt_text("client_order_id") or client_order_id,
        fill_count=r.count("fill_count"),
        remaining_count=r.count("remaining_count"),
        average_fill_price=r.opt_dollars("average_fill_price", **PRICE_BOUNDS),
        average_fee_paid=r.opt_dollars("average_fee_paid", lo=ZERO),
        ts_ms=r.integer("ts_ms", required=False, default=None),
        extra=r.extra(),
    )


@dataclass(frozen=True, slots=True)
class CancelOrderResult:
    order_id: str
    client_order_id: str | None
    reduced_by: Decimal  # the count that was still resting and is now cancelled
    ts_ms: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_cancel_order_response(payload: Any, *, endpoint: str = CANCEL_ORDER) -> CancelOrderResult:
    r = Reader(payload, endpoint=endpoint, path="")
    return CancelOrderResult(
        order_id=r.ident("order_id"),
        client_order_id=r.opt_text("client_order_id"),
        reduced_by=r.count("reduced_by"),
        ts_ms=r.integer("ts_ms", required=False, default=None),
        extra=r.extra(),
    )

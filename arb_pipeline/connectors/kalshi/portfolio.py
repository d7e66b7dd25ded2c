"""Portfolio records (fills, positions, balance, settlements) and their pure parsers.

Same rules as `models`: Decimal from strings, aware UTC datetimes, required = required by spec
3.34 (kalshi-api.md §14) and mapped here; everything else is kept in `extra`. See `orders` for
where the saved 3.15 spec and kalshi-api.md disagree (direction fields, `balance_dollars`,
`resting_orders_count`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .orders import PRICE_BOUNDS, direction
from .wire import ZERO, Reader

FILLS = "GET /portfolio/fills"
POSITIONS = "GET /portfolio/positions"
BALANCE = "GET /portfolio/balance"
SETTLEMENTS = "GET /portfolio/settlements"


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str
    trade_id: str
    order_id: str
    ticker: str
    outcome_side: str
    book_side: str
    count: Decimal
    yes_price: Decimal
    no_price: Decimal
    is_taker: bool
    fee_cost: Decimal
    exchange_index: int | None = None
    created_time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _fill(r: Reader) -> Fill:
    outcome, book = direction(r)
    return Fill(
        fill_id=r.ident("fill_id"),
        trade_id=r.text("trade_id"),
        order_id=r.ident("order_id"),
        ticker=r.ident("ticker"),
        outcome_side=outcome,
        book_side=book,
        count=r.count("count_fp"),
        yes_price=r.dollars("yes_price_dollars", **PRICE_BOUNDS),
        no_price=r.dollars("no_price_dollars", **PRICE_BOUNDS),
        is_taker=r.flag("is_taker"),
        fee_cost=r.dollars("fee_cost", lo=ZERO),
        exchange_index=r.integer("exchange_index", required=False, default=None),
        created_time=r.opt_time("created_time"),
        extra=r.extra(),
    )


def parse_fill(obj: Any, endpoint: str = FILLS, *, path: str = "fill") -> Fill:
    return _fill(Reader(obj, endpoint=endpoint, path=path))


def parse_fills_response(payload: Any, *, endpoint: str = FILLS) -> tuple[list[Fill], str]:
    r = Reader(payload, endpoint=endpoint, path="")
    return [_fill(f) for f in r.children("fills")], r.cursor()


@dataclass(frozen=True, slots=True)
class MarketPosition:
    ticker: str
    position: Decimal  # signed: > 0 YES contracts, < 0 NO contracts
    market_exposure: Decimal
    total_traded: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    last_updated: datetime | None
    exchange_index: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventPosition:
    event_ticker: str
    total_cost: Decimal
    total_cost_shares: Decimal
    event_exposure: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Positions:
    market_positions: tuple[MarketPosition, ...]
    event_positions: tuple[EventPosition, ...]


def _last_updated(r: Reader) -> datetime | None:
    """`last_updated_ts`: RFC 3339 in the spec; integer Unix seconds also accepted."""
    raw = r.raw("last_updated_ts", nullable=True)
    if raw is None or isinstance(raw, str):
        return r.opt_time("last_updated_ts")
    return r.unix_seconds("last_updated_ts")


def _market_position(r: Reader) -> MarketPosition:
    return MarketPosition(
        ticker=r.ident("ticker"),
        position=r.count("position_fp", signed=True),
        market_exposure=r.dollars("market_exposure_dollars"),
        total_traded=r.dollars("total_traded_dollars"),
        realized_pnl=r.dollars("realized_pnl_dollars"),
        fees_paid=r.dollars("fees_paid_dollars"),
        last_updated=_last_updated(r),
        exchange_index=r.integer("exchange_index", required=False, default=None),
        extra=r.extra(),
    )


def _event_position(r: Reader) -> EventPosition:
    return EventPosition(
        event_ticker=r.ident("event_ticker"),
        total_cost=r.dollars("total_cost_dollars"),
        total_cost_shares=r.count("total_cost_shares_fp", signed=True),
        event_exposure=r.dollars("event_exposure_dollars"),
        realized_pnl=r.dollars("realized_pnl_dollars"),
        fees_paid=r.dollars("fees_paid_dollars"),
        extra=r.extra(),
    )


def parse_positions_response(payload: Any, *, endpoint: str = POSITIONS) -> tuple[Positions, str]:
    """`{market_positions, event_positions, cursor?}`; the cursor is optional here (spec)."""
    r = Reader(payload, endpoint=endpoint, path="")
    positions = Positions(
        market_positions=tuple(_market_position(p) for p in r.children("market_positions")),
        event_positions=tuple(_event_position(p) for p in r.children("event_positions")),
    )
    cursor = r.raw("cursor", required=False, nullable=True)
    return positions, cursor if isinstance(cursor, str) else ""


@dataclass(frozen=True, slots=True)
class Balance:
    balance_cents: int  # integer cents (one of the few surviving integer fields, §3.1)
    balance_dollars: Decimal
    portfolio_value_cents: int
    updated: datetime
    breakdown: tuple[tuple[int, Decimal], ...] = ()  # (exchange_index, balance dollars)
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_balance(payload: Any, *, endpoint: str = BALANCE) -> Balance:
    r = Reader(payload, endpoint=endpoint, path="")
    breakdown = []
    for item in r.children("balance_breakdown", required=False):
        index = item.integer("exchange_index")
        breakdown.append((int(index or 0), item.dollars("balance")))
    return Balance(
        balance_cents=int(r.integer("balance") or 0),
        balance_dollars=r.dollars("balance_dollars"),
        portfolio_value_cents=int(r.integer("portfolio_value") or 0),
        updated=r.unix_seconds("updated_ts"),
        breakdown=tuple(breakdown),
        extra=r.extra(),
    )


@dataclass(frozen=True, slots=True)
class Settlement:
    ticker: str
    event_ticker: str
    market_result: str  # yes / no / scalar (3.15 also allowed void)
    yes_count: Decimal
    yes_total_cost: Decimal
    no_count: Decimal
    no_total_cost: Decimal
    revenue_cents: int  # integer cents: $1 = 100 per winning contract
    settled_time: datetime
    fee_cost: Decimal
    value_cents: int | None = None
    exchange_index: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _settlement(r: Reader) -> Settlement:
    return Settlement(
        ticker=r.ident("ticker"),
        event_ticker=r.ident("event_ticker"),
        market_result=r.text("market_result"),
        yes_count=r.count("yes_count_fp"),
        yes_total_cost=r.dollars("yes_total_cost_dollars"),
        no_count=r.count("no_count_fp"),
        no_total_cost=r.dollars("no_total_cost_dollars"),
        revenue_cents=int(r.integer("revenue") or 0),
        settled_time=r.time("settled_time"),
        fee_cost=r.dollars("fee_cost", lo=ZERO),
        value_cents=r.integer("value", required=False, default=None),
        exchange_index=r.integer("exchange_index", required=False, default=None),
        extra=r.extra(),
    )


def parse_settlement(obj: Any, endpoint: str = SETTLEMENTS, *, path: str = "settlement") -> Settlement:
    return _settlement(Reader(obj, endpoint=endpoint, path=path))


def parse_settlements_response(payload: Any, *, endpoint: str = SETTLEMENTS) -> tuple[list[Settlement], str]:
    r = Reader(payload, endpoint=endpoint, path="")
    cursor = r.raw("cursor", required=False, nullable=True)
    return [_settlement(s) for s in r.children("settlements")], cursor if isinstance(cursor, str) else ""

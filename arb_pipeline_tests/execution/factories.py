"""Builders of realistic opportunities, books and a fake Kalshi venue for execution tests.

The scenario: BOS @ NYK. Kalshi NYK YES asks 0.45 x10, 0.46 x20 (from NO bids 0.55/0.54); the
detector bought 25 YES (0.45 x10 + 0.46 x15, fee $0.44) and backs BOS at Pinnacle 2.25 for $11.11.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import arb_pipeline.connectors.kalshi as tm
from arb_pipeline.arb.results import Leg, Opportunity
from arb_pipeline.domain import (
    ContractSide,
    ExchangeStatus,
    KalshiEvent,
    KalshiMarket,
    MarketSnapshot,
    OrderBookLevels,
    Outcome,
    PriceRange,
)

D = Decimal
T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
EVENT = "KXNBAGAME-26NOV24BOSNYK"
TICKER = f"{EVENT}-NYK"
BOOK = OrderBookLevels(TICKER, yes=((D("0.44"), D("50")),), no=((D("0.55"), D("10")), (D("0.54"), D("20"))))


def market(ticker=TICKER, **kw) -> KalshiMarket:
    """A Kalshi market as parsed from the API (active, cent grid) with `kw` overriding fields."""
    base = dict(ticker=ticker, event_ticker=EVENT, status="active", market_type="binary", yes_sub_title="",
                no_sub_title="", rules_primary="", rules_secondary="", open_time=None, close_time=None,
                expected_expiration_time=None, occurrence_datetime=None, yes_bid=None, yes_ask=None, no_bid=None,
                no_ask=None, price_level_structure="linear_cent",
                price_ranges=(PriceRange(D("0"), D("1"), D("0.01")),))
    base.update(kw)
    return KalshiMarket(**base)


def snapshot(markets=None, books=None, fees=None, captured_at=T0, trading_active=True, **event_kw) -> MarketSnapshot:
    """One event holding `markets` (default: the NYK market) with `books` (default: BOOK on it)."""
    markets = tuple(markets) if markets is not None else (market(),)
    event = KalshiEvent(EVENT, "KXNBAGAME", "", "", True, "", markets, **event_kw)
    return MarketSnapshot(captured_at, (event,), (), books if books is not None else {TICKER: BOOK}, (),
                          series_fees=fees or {}, exchange=ExchangeStatus(trading_active=trading_active))


def kalshi_leg(count=D("25"), levels=((D("0.45"), D("10")), (D("0.46"), D("15"))), fee=D("0.44"), ticker=TICKER,
               side="yes", outcome=Outcome.HOME, pays_in=(Outcome.HOME,), label="New York") -> Leg:
    notional = sum((p * c for p, c in levels), D(0))
    return Leg("kalshi", ticker, outcome, label, side, notional / count, count, fee, notional + fee, count,
               pays_in, 1.0, levels)


def book_leg(stake=D("11.11"), odds=D("2.25"), outcome=Outcome.AWAY, bookmaker="pinnacle") -> Leg:
    return Leg("sportsbook", bookmaker, outcome, "Boston Celtics", "back", odds, stake, D(0), stake,
               (stake * odds).quantize(D("0.01"), rounding="ROUND_FLOOR"), (outcome,), 5.0)


def opportunity(detected_at=T0, legs=None, kind="arbitrage", event=EVENT,
                outcomes=(Outcome.HOME, Outcome.AWAY)) -> Opportunity:
    legs = legs or (kalshi_leg(), book_leg())
    cost = sum((leg.cost for leg in legs), D(0))
    payouts = {o: sum((leg.payout for leg in legs if o in leg.pays_in), D(0)) for o in outcomes}
    profit = min(payouts.values()) - cost
    return Opportunity(kind, event, "NBA", tuple(legs), cost, profit, profit / cost, D("90"), payouts, {}, (),
                       detected_at)


# A three-way game bought with two Kalshi legs and one sportsbook back (all legs or none matters here):
# Kalshi YES CFC 25 (0.45 x10 + 0.46 x15, fee 0.44) + Kalshi YES draw 25 @ 0.20 (fee 0.28) + West Ham at
# Pinnacle 4.50 for $6.00. Outlay 23.12; every outcome pays at least 25: guaranteed profit 1.88.
EPL_EVENT = "KXEPLGAME-26NOV24CFCWHU"
HOME_TICKER, DRAW_TICKER = f"{EPL_EVENT}-CFC", f"{EPL_EVENT}-TIE"
HOME_BOOK = OrderBookLevels(HOME_TICKER, yes=((D("0.44"), D("50")),), no=((D("0.55"), D("10")), (D("0.54"), D("20"))))
DRAW_BOOK = OrderBookLevels(DRAW_TICKER, yes=((D("0.18"), D("40")),), no=((D("0.80"), D("30")),))
THREE_WAY = (Outcome.HOME, Outcome.DRAW, Outcome.AWAY)


def three_way_opportunity(detected_at=T0, draw_count=D("25")) -> Opportunity:
    home = kalshi_leg(ticker=HOME_TICKER, label="Chelsea")
    draw = kalshi_leg(count=draw_count, levels=((D("0.20"), draw_count),), fee=D("0.28"), ticker=DRAW_TICKER,
                      outcome=Outcome.DRAW, pays_in=(Outcome.DRAW,), label="draw")
    away = Leg("sportsbook", "pinnacle", Outcome.AWAY, "West Ham United", "back", D("4.50"), D("6.00"), D(0),
               D("6.00"), D("27.00"), (Outcome.AWAY,), 5.0)
    return opportunity(detected_at=detected_at, legs=(home, draw, away), event=EPL_EVENT, outcomes=THREE_WAY)


def three_way_snapshot(captured_at=T0, draw_status="active", draw_book=DRAW_BOOK) -> MarketSnapshot:
    markets = (market(HOME_TICKER, event_ticker=EPL_EVENT), market(DRAW_TICKER, event_ticker=EPL_EVENT,
                                                                    status=draw_status))
    event = KalshiEvent(EPL_EVENT, "KXEPLGAME", "", "", True, "", markets)
    return MarketSnapshot(captured_at, (event,), (), {HOME_TICKER: HOME_BOOK, DRAW_TICKER: draw_book}, ())


@dataclass
class FakeKalshi:
    """Implements the client calls the live executor and reconciliation use, holding venue state.

    Fills IOC orders fully at the limit price unless `fill_ratio` (or `fill_ratios[ticker]`) says
    otherwise; like Kalshi, an IOC answer has `remaining_count` 0 (the rest is cancelled, §6.2).
    `create_calls` counts every create request per client_order_id (a second one would be a double
    order). Its book offers `depth` contracts of either side at any price; `balance` is the cash.
    """

    fill_ratio: Decimal = D(1)
    fill_ratios: dict[str, Decimal] = field(default_factory=dict)
    depth: Decimal = D(10_000)
    balance: Decimal = D(100_000)
    reduce_only: dict[str, bool] = field(default_factory=dict)
    fee_per_contract: Decimal = D("0.02")
    create_calls: dict[str, int] = field(default_factory=dict)
    orders: dict[str, tm.CreateOrderResult] = field(default_factory=dict)
    fills: list[tm.Fill] = field(default_factory=list)
    raise_on_create: BaseException | None = None
    raise_after_create: BaseException | None = None
    settlements: list[tm.Settlement] = field(default_factory=list)
    requests: dict[str, tuple] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def create_order(self, ticker, side, count, price, time_in_force, client_order_id, **opts):
        self.create_calls[client_order_id] = self.create_calls.get(client_order_id, 0) + 1
        assert time_in_force == "immediate_or_cancel"
        if self.raise_on_create is not None:
            raise self.raise_on_create
        self.requests[client_order_id] = (ticker, side, price)
        self.reduce_only[client_order_id] = bool(opts.get("reduce_only"))
        if client_order_id in self.orders:  # what the real client returns after a 409
            return self.orders[client_order_id]
        order_id = f"ord-{next(self._ids)}"
        ratio = self.fill_ratios.get(ticker, self.fill_ratio)
        filled = (count * ratio).quantize(D("0.01"), rounding="ROUND_FLOOR")
        outcome = "yes" if side == "bid" else "no"
        if filled:
            self.fills.append(tm.Fill(f"fill-{order_id}", f"fill-{order_id}", order_id, ticker, outcome, side, filled,
                                      price, 1 - price, True, self.fee_per_contract * filled, created_time=T0))
        result = tm.CreateOrderResult(order_id, client_order_id, filled, D(0),  # IOC: the rest is cancelled
                                      price if filled else None, self.fee_per_contract if filled else None)
        self.orders[client_order_id] = result
        if self.raise_after_create is not None:
            raise self.raise_after_create
        return result

    def find_order_by_client_order_id(self, client_order_id, *, ticker=None):
        result = self.orders.get(client_order_id)
        if result is None:
            return None
        ticker_, side, price = self.requests[client_order_id]
        return tm.Order(result.order_id, "user", client_order_id, ticker_, "yes" if side == "bid" else "no", side,
                        "limit", "executed" if result.fill_count else "canceled", price, 1 - price,
                        result.fill_count, result.remaining_count, result.fill_count + result.remaining_count,
                        D(0), D(0), D(0), D(0))

    def get_fills(self, *, limit=1000, **filters):
        return [f for f in self.fills if all(getattr(f, k) == v for k, v in filters.items())]

    def get_positions(self, *, limit=1000, **filters):
        net: dict[str, Decimal] = {}
        for f in self.fills:
            net[f.ticker] = net.get(f.ticker, D(0)) + (f.count if f.outcome_side == "yes" else -f.count)
        return tm.Positions(tuple(tm.MarketPosition(t, p, D(0), D(0), D(0), D(0), None) for t, p in net.items()), ())

    def get_settlements(self, *, limit=1000, **filters):
        return list(self.settlements)

    def get_orderbook(self, ticker, depth=0):
        # bids of 0.99 on both sides: any buy of either side at any limit finds `depth` contracts
        return OrderBookLevels(ticker, yes=((D("0.99"), self.depth),), no=((D("0.99"), self.depth),))

    def get_balance(self, **_filters):
        return tm.Balance(int(self.balance * 100), self.balance, 0, T0)


SIDE_YES = ContractSide.YES

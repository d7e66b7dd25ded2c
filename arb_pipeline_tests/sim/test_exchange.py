"""Matching engine and account: fills, time-in-force, fees to the cent, balance, positions, settlement."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from arb_pipeline.sim.exchange import MM, Exchange, ExchangeError, MarketBook
from arb_pipeline.sim.money import maker_fee, taker_fee
from arb_pipeline.sim.portfolio import Account

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
T = "KXNBAGAME-26NOV24BOSNYK-NYK"


def exchange(balance: str = "10000") -> Exchange:
    ex = Exchange(Account("u", D(balance)), lambda: NOW)
    ex.add_market(MarketBook(T, "KXNBAGAME-26NOV24BOSNYK"))
    # market maker: YES bids 0.54 x 100, 0.53 x 200; YES asks 0.55 x 40, 0.56 x 60 (NO bids 0.45, 0.44)
    ex.requote(T, [(D("0.54"), D(100), ""), (D("0.53"), D(200), "")], [(D("0.55"), D(40), ""), (D("0.56"), D(60), "")])
    return ex


@pytest.mark.parametrize(("count", "price", "fee"), [
    ("1", "0.50", "0.02"), ("10", "0.50", "0.18"), ("100", "0.50", "1.75"), ("100", "0.90", "0.63")])
def test_taker_fee_table(count, price, fee):
    """kalshi-api.md §7.2 worked examples."""
    assert taker_fee(D(count), D(price)) == D(fee)


def test_maker_fee_example():
    assert maker_fee(D(100), D("0.50")) == D("0.44")


def test_ioc_partial_fill_walks_levels_and_cancels_the_rest():
    ex = exchange()
    order, fills = ex.place(T, "bid", D("0.56"), D(150), time_in_force="immediate_or_cancel")
    assert [(f["count_fp"], f["yes_price_dollars"]) for f in fills] == [("40.00", "0.5500"), ("60.00", "0.5600")]
    assert order.filled == 100 and order.remaining == 0 and order.status == "executed"
    # fee: one order accumulates C*P*(1-P) over its fills, rounded up once
    raw = D("0.07") * (40 * D("0.55") * D("0.45") + 60 * D("0.56") * D("0.44"))
    assert order.taker_fees == D("1.73") == raw.quantize(D("0.01"), rounding="ROUND_CEILING")
    assert sum(D(str(f["fee_cost"])) for f in fills) == D("1.73")
    yes, no = ex.books[T].levels()
    assert no == [] and yes[-1] == (D("0.54"), D(100))
    cost = 40 * D("0.55") + 60 * D("0.56")
    assert ex.account.balance == D("10000") - cost - D("1.73")


def test_ioc_with_nothing_crossing_is_cancelled():
    ex = exchange()
    order, fills = ex.place(T, "bid", D("0.50"), D(10), time_in_force="immediate_or_cancel")
    assert fills == [] and order.status == "canceled" and order.remaining == 0
    assert ex.account.balance == D("10000")


def test_fok_is_all_or_nothing():
    ex = exchange()
    order, fills = ex.place(T, "bid", D("0.56"), D(101), time_in_force="fill_or_kill")
    assert fills == [] and order.status == "canceled" and order.filled == 0
    assert ex.books[T].levels()[1][-1] == (D("0.45"), D(40))  # book untouched
    order, fills = ex.place(T, "bid", D("0.56"), D(100), time_in_force="fill_or_kill")
    assert order.filled == 100 and order.status == "executed"


def test_ask_buys_no_at_one_minus_price():
    ex = exchange()
    order, fills = ex.place(T, "ask", D("0.54"), D(10), time_in_force="immediate_or_cancel")
    assert fills[0]["outcome_side"] == "no" and fills[0]["book_side"] == "ask"
    assert fills[0]["no_price_dollars"] == "0.4600"
    assert ex.account.balance == D("10000") - 10 * D("0.46") - taker_fee(D(10), D("0.54"))
    assert ex.account.positions[T].position == -10


def test_gtc_rests_joins_the_book_and_fills_as_maker():
    ex = exchange()
    order, fills = ex.place(T, "bid", D("0.54"), D(30), time_in_force="good_till_canceled",
                            client_order_id="rest-1")
    assert fills == [] and order.status == "resting"
    assert (D("0.54"), D(130)) in ex.books[T].levels()[0]  # joined the 0.54 level behind the maker
    assert ex.account.balance == D("10000") - 30 * D("0.54")  # collateral reserved
    # the market moves through the order: the market maker requotes with an ask at 0.53, which trades
    # with our resting bid at our price (we are maker)
    ex.requote(T, [], [(D("0.53"), D(200), "")])
    assert order.filled == 30 and order.status == "executed"
    assert order.maker_fees == maker_fee(D(30), D("0.54")) == D("0.14")
    fill = ex.account.fills[-1]
    assert fill["is_taker"] is False and fill["yes_price_dollars"] == "0.5400"
    assert ex.account.balance == D("10000") - 30 * D("0.54") - D("0.14")


def test_cancel_returns_collateral():
    ex = exchange()
    order, _ = ex.place(T, "ask", D("0.60"), D(10), time_in_force="good_till_canceled")
    assert ex.account.balance == D("10000") - 10 * D("0.40")
    cancelled = ex.cancel(order.order_id)
    assert cancelled.reduced_by == 10 and cancelled.status == "canceled"
    assert ex.account.balance == D("10000")
    with pytest.raises(ExchangeError) as err:
        ex.cancel(order.order_id)
    assert err.value.status == 400


def test_duplicate_client_order_id_is_409_and_validation():
    ex = exchange()
    ex.place(T, "bid", D("0.10"), D(1), client_order_id="dup")
    with pytest.raises(ExchangeError) as err:
        ex.place(T, "bid", D("0.10"), D(1), client_order_id="dup")
    assert err.value.status == 409
    for bad in [dict(price=D("0.555")), dict(price=D("1.00")), dict(count=D("0")), dict(count=D("1.001"))]:
        args = {"price": D("0.10"), "count": D(1), **bad}
        with pytest.raises(ExchangeError) as err:
            ex.place(T, "bid", args["price"], args["count"])
        assert err.value.status == 400
    poor = exchange("5")
    with pytest.raises(ExchangeError) as err:
        poor.place(T, "bid", D("0.56"), D(100), time_in_force="immediate_or_cancel")
    assert err.value.code == "INSUFFICIENT_BALANCE"


def test_self_trade_prevention():
    ex = exchange()
    mine, _ = ex.place(T, "ask", D("0.55"), D(5), time_in_force="good_till_canceled")
    # taker_at_cross: the incoming order stops at my own resting order (behind the MM's 40 at 0.55)
    order, fills = ex.place(T, "bid", D("0.56"), D(100), time_in_force="immediate_or_cancel")
    assert order.filled == 40 and mine.status == "resting"
    # maker: my resting order is cancelled and matching continues
    order, fills = ex.place(T, "bid", D("0.56"), D(20), time_in_force="immediate_or_cancel", stp="maker")
    assert mine.status == "canceled" and order.filled == 20


def test_netting_redeems_pairs_and_realizes_pnl():
    ex = exchange()
    ex.place(T, "bid", D("0.55"), D(10), time_in_force="immediate_or_cancel")  # +10 YES at 0.55
    before = ex.account.balance
    ex.place(T, "ask", D("0.54"), D(10), time_in_force="immediate_or_cancel")  # sell YES at 0.54
    pos = ex.account.positions[T]
    assert pos.position == 0 and pos.cost == 0
    fee = taker_fee(D(10), D("0.54"))
    assert ex.account.balance == before - 10 * D("0.46") - fee + 10  # pairs redeemed for $1
    assert pos.realized_pnl == 10 * (D("0.54") - D("0.55"))


def test_reduce_only_sells_close_what_is_held_and_never_flip():
    """Unwinding a one-legged position: selling YES is an ask with reduce_only (kalshi-api.md §6.1)."""
    ex = exchange(balance="6")
    ex.place(T, "bid", D("0.55"), D(10), time_in_force="immediate_or_cancel")  # +10 YES, 5.50 + fee paid
    assert ex.account.balance < D("0.50")  # too little cash to *open* 25 NO at 0.46 - but closing needs none
    order, fills = ex.place(T, "ask", D("0.53"), D(25), time_in_force="immediate_or_cancel", reduce_only=True)
    assert order.initial == 10 and order.filled == 10 and ex.account.positions[T].position == 0  # cut to the 10 held
    assert sum(D(str(f["count_fp"])) for f in fills) == 10
    nothing, none = ex.place(T, "ask", D("0.53"), D(5), time_in_force="immediate_or_cancel", reduce_only=True)
    assert none == [] and nothing.status == "canceled" and ex.account.positions[T].position == 0  # never flips


def test_the_no_fill_fault_meets_an_empty_book():
    ex = exchange()
    order, fills = ex.place(T, "bid", D("0.56"), D(10), time_in_force="immediate_or_cancel", liquidity_gone=True)
    assert fills == [] and order.status == "canceled" and order.filled == 0 and order.remaining == 0
    assert ex.books[T].levels()[1][-1] == (D("0.45"), D(40))  # the book itself is untouched


def test_settlement_pays_winners():
    ex = exchange()
    ex.place(T, "bid", D("0.55"), D(40), time_in_force="immediate_or_cancel")
    fee = ex.account.positions[T].fees_paid
    ex.close_market(T)
    record = ex.settle_market(T, "yes")
    assert record["revenue"] == 4000 and record["yes_count_fp"] == "40.00" and record["value"] == 100
    assert record["yes_total_cost_dollars"] == "22.0000" and record["fee_cost"] == f"{fee:.4f}"
    assert ex.account.balance == D("10000") - 40 * D("0.55") - fee + 40
    with pytest.raises(ExchangeError) as err:
        ex.place(T, "bid", D("0.55"), D(1))
    assert err.value.code == "MARKET_INACTIVE"
    assert all(o.owner != MM for o in ex.books[T].bids + ex.books[T].asks)


def test_over_http_balance_positions_and_settlement(make_venue):
    venue = make_venue(games_per_league={"NBA": 1}, tick_s=120.0)
    game = venue.handle.scenario.games[0]
    ticker = game.market_ticker("home")
    market = venue.public(f"/markets/{ticker}").json()["market"]
    ask = D(market["yes_ask_dollars"])
    size = D(market["yes_ask_size_fp"])
    count = min(size, D(10))
    response = venue.order(ticker, "bid", market["yes_ask_dollars"], str(count), client_order_id="h-1")
    assert response.status_code == 201
    body = response.json()
    fee = taker_fee(count, ask)
    assert body["fill_count"] == f"{count:.2f}" and body["remaining_count"] == "0.00"
    assert D(body["average_fee_paid"]) == (fee / count).quantize(D("0.0001"))
    assert venue.order(ticker, "bid", "0.50", "1", client_order_id="h-1").status_code == 409
    balance = venue.signed("GET", "/portfolio/balance").json()
    assert D(balance["balance_dollars"]) == D("10000") - count * ask - fee
    assert balance["balance"] == int((D("10000") - count * ask - fee) * 100)
    position = venue.signed("GET", "/portfolio/positions").json()["market_positions"][0]
    assert position["position_fp"] == f"{count:.2f}" and D(position["fees_paid_dollars"]) == fee
    assert venue.signed("GET", "/portfolio/settlements").json()["settlements"] == []
    # the game is played, the market closes, is determined, then finalized: settlement appears
    scenario = venue.handle.scenario
    scenario.advance((game.ends - scenario.now()).total_seconds() + 1)
    assert venue.public(f"/markets/{ticker}").json()["market"]["status"] == "closed"
    assert venue.order(ticker, "bid", "0.50", "1").json()["error"]["code"] == "MARKET_INACTIVE"
    scenario.advance(scenario.config.determination_delay_s)
    determined = venue.public(f"/markets/{ticker}").json()["market"]
    assert determined["status"] == "determined" and determined["result"] in ("yes", "no")
    scenario.advance(scenario.config.settlement_timer_seconds)
    finalized = venue.public(f"/markets/{ticker}").json()["market"]
    assert finalized["status"] == "finalized" and finalized["settlement_ts"]
    settlements = venue.signed("GET", "/portfolio/settlements").json()["settlements"]
    assert len(settlements) == 1
    won = determined["result"] == "yes"
    assert settlements[0]["revenue"] == (int(count * 100) if won else 0)
    final = venue.signed("GET", "/portfolio/balance").json()
    assert D(final["balance_dollars"]) == D("10000") - count * ask - fee + (count if won else 0)
    events = venue.public("/events", params={"status": "settled"}).json()["events"]
    assert [e["event_ticker"] for e in events] == [game.event_ticker]


def test_expiring_orders_and_trading_pause(make_venue):
    venue = make_venue(games_per_league={"NHL": 1})
    scenario = venue.handle.scenario
    ticker = scenario.games[0].market_ticker("away")
    expires = int(scenario.now().timestamp()) + 120
    first = venue.order(ticker, "bid", "0.02", "3", tif="good_till_canceled", expiration_time=expires).json()
    second = venue.order(ticker, "bid", "0.02", "3", tif="good_till_canceled", cancel_order_on_pause=True).json()
    third = venue.order(ticker, "bid", "0.02", "3", tif="good_till_canceled").json()
    scenario.advance(121)
    status = {o["order_id"]: o["status"] for o in venue.signed("GET", "/portfolio/orders").json()["orders"]}
    assert status[first["order_id"]] == "canceled" and status[second["order_id"]] == "resting"
    assert venue.http.post("/_sim/exchange", json={"trading_active": False}).status_code == 200
    assert venue.public("/exchange/status").json()["trading_active"] is False
    status = {o["order_id"]: o["status"] for o in venue.signed("GET", "/portfolio/orders").json()["orders"]}
    assert status[second["order_id"]] == "canceled" and status[third["order_id"]] == "resting"
    paused = venue.order(ticker, "bid", "0.02", "1", tif="good_till_canceled")
    assert paused.status_code == 400 and paused.json()["error"]["code"] == "trading_is_paused"
    assert venue.signed("DELETE", f"/portfolio/events/orders/{third['order_id']}").status_code == 200  # cancels ok
    venue.http.post("/_sim/exchange", json={"trading_active": True})
    assert venue.order(ticker, "bid", "0.02", "1", tif="good_till_canceled").status_code == 201

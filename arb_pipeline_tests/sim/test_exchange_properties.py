"""Property tests of the matching engine: money is conserved and the book never crosses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.fees import kalshi_fee, kalshi_order_fee
from arb_pipeline.sim.exchange import Exchange, ExchangeError, MarketBook
from arb_pipeline.sim.money import ceil_to_cent
from arb_pipeline.sim.portfolio import Account

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
T = "KXNHLGAME-26NOV24BOSNYR-NYR"

orders = st.lists(st.tuples(st.sampled_from(["bid", "ask"]), st.integers(1, 99), st.integers(1, 300),
                            st.sampled_from(["immediate_or_cancel", "fill_or_kill", "good_till_canceled"])),
                  min_size=1, max_size=25)
quotes = st.lists(st.tuples(st.integers(1, 98), st.integers(1, 400)), min_size=1, max_size=6)


def fresh(mm_bids, mm_asks) -> Exchange:
    ex = Exchange(Account("u", D("100000")), lambda: NOW)
    ex.add_market(MarketBook(T, "KXNHLGAME-26NOV24BOSNYR"))
    top_bid = max(p for p, _ in mm_bids)
    asks = [(D(max(p, top_bid + 1)) / 100, D(s), "") for p, s in mm_asks if max(p, top_bid + 1) <= 99]
    ex.requote(T, [(D(p) / 100, D(s), "") for p, s in mm_bids], asks)
    return ex


@given(quotes, quotes, orders, st.sampled_from(["yes", "no"]))
def test_money_is_conserved_through_fills_netting_and_settlement(mm_bids, mm_asks, sequence, result):
    ex = fresh(mm_bids, mm_asks)
    for side, cents, count, tif in sequence:
        try:
            order, fills = ex.place(T, side, D(cents) / 100, D(count), time_in_force=tif)
        except ExchangeError:
            continue
        book = ex.books[T]
        if book.bids and book.asks:
            assert max(o.price for o in book.bids) < min(o.price for o in book.asks), "crossed book"
        if order.taker_raw:
            assert order.taker_fees == ceil_to_cent(order.taker_raw)  # one rounding per order
    # the market then moves through every resting order: they fill as maker (maker fees, reserved cash)
    ex.requote(T, [], [(D("0.01"), D(10_000), "")])
    ex.requote(T, [(D("0.99"), D(10_000), "")], [])
    assert not [o for o in ex.orders.values() if o.status == "resting"]
    expected = D("100000")
    for fill in ex.account.fills:
        qty = D(str(fill["count_fp"]))
        side = fill["outcome_side"]
        paid = D(str(fill["yes_price_dollars"] if side == "yes" else fill["no_price_dollars"]))
        wins = side == result
        expected += qty * (1 if wins else 0) - qty * paid - D(str(fill["fee_cost"]))
    ex.close_market(T)
    ex.settle_market(T, result)
    assert ex.account.balance == expected


def test_conservation_example_is_not_vacuous():
    """The property above really sees fills, netting and resting orders on a typical sequence."""
    ex = fresh([(40, 100)], [(45, 100)])
    ex.place(T, "bid", D("0.45"), D(30), time_in_force="immediate_or_cancel")
    ex.place(T, "ask", D("0.40"), D(50), time_in_force="immediate_or_cancel")
    ex.place(T, "bid", D("0.42"), D(10), time_in_force="good_till_canceled")
    assert len(ex.account.fills) == 2 and ex.account.positions[T].position == -20


@given(st.integers(1, 10_000), st.integers(1, 99))
def test_taker_fee_is_the_formula_rounded_up(count, cents):
    ex = Exchange(Account("u", D("10000000")), lambda: NOW)
    ex.add_market(MarketBook(T, "E"))
    price = D(cents) / 100
    ex.requote(T, [], [(price, D(count), "")])
    order, fills = ex.place(T, "bid", price, D(count), time_in_force="immediate_or_cancel")
    assert order.filled == count
    assert D(str(fills[0]["fee_cost"])) == kalshi_fee(D(count), price)  # the project's one fee rule


def _order_fee(fills) -> D:
    return sum((D(str(f["fee_cost"])) for f in fills), D(0))


@given(st.lists(st.tuples(st.integers(1, 98), st.integers(1, 50)), min_size=1, max_size=5, unique_by=lambda q: q[0]))
def test_an_order_sweeping_several_levels_pays_arb_fees_order_fee(levels):
    """Each fill's trade fee rounded up to $0.0001, the order's sum rounded up to the cent: `arb.fees`."""
    ex = Exchange(Account("u", D("10000000")), lambda: NOW)
    ex.add_market(MarketBook(T, "E"))
    ex.requote(T, [], [(D(c) / 100, D(n), "") for c, n in sorted(levels)])
    total = sum(n for _, n in levels)
    order, fills = ex.place(T, "bid", D(max(c for c, _ in levels)) / 100, D(total),
                            time_in_force="immediate_or_cancel")
    assert order.filled == total
    expected = kalshi_order_fee([(D(str(f["count_fp"])), D(str(f["yes_price_dollars"]))) for f in fills])
    assert _order_fee(fills) == expected


def test_the_per_fill_round_up_is_charged_where_it_crosses_a_cent():
    """3 @ $0.01 then 1 @ $0.13: unrounded 0.002079 + 0.007917 = 0.009996 (one cent), but each fill's
    fee rounds up to $0.0001 first (0.0021 + 0.0080 = 0.0101): Kalshi, and now the simulator, charge 2c."""
    ex = Exchange(Account("u", D("1000")), lambda: NOW)
    ex.add_market(MarketBook(T, "E"))
    ex.requote(T, [], [(D("0.01"), D(3), ""), (D("0.13"), D(1), "")])
    order, fills = ex.place(T, "bid", D("0.13"), D(4), time_in_force="immediate_or_cancel")
    assert order.filled == 4 and len(fills) == 2
    assert _order_fee(fills) == D("0.02")


class _PlacingExchange(Exchange):
    """The requote as it was written first: every market-maker quote through `place` (the reference)."""

    def requote(self, ticker, bids, asks):  # noqa: ANN001, ANN201
        book = self.books[ticker]
        if not book.open:
            return
        self._touched(ticker)
        for order in [o for o in book.bids + book.asks if o.owner == "mm"]:
            book.remove(order)
        for side, quoted in (("ask", asks), ("bid", bids)):
            for price, size, tag in quoted:
                if size > 0:
                    self.place(ticker, side, price, size, owner="mm", tag=tag)


def _state(ex: Exchange) -> tuple:
    def rows(side: list) -> list:
        return [(o.order_id, o.owner, o.side, o.price, o.initial, o.remaining, o.seq, o.status, o.tag, o.filled)
                for o in side]

    book = ex.books[T]
    return (rows(book.bids), rows(book.asks), book.last_price, book.volume, list(ex.changed),
            {k: (o.status, o.remaining, o.filled) for k, o in ex.orders.items()}, ex.account.balance,
            list(ex.account.fills), dict(ex.mm_fills), ex.new_id(), next(ex._seq))


ladders = st.lists(st.tuples(st.integers(1, 99), st.integers(0, 300), st.sampled_from(["", "w1"])), max_size=6)


@given(st.lists(st.tuples(ladders, ladders, st.lists(st.tuples(st.sampled_from(["bid", "ask"]), st.integers(1, 99),
                                                              st.integers(1, 50)), max_size=3)),
                min_size=1, max_size=4))
def test_a_requote_leaves_the_exchange_exactly_as_placing_every_quote_would(rounds):
    """Whatever the quotes (crossing each other or not, zero sizes) and whatever user orders rest in the
    book, the requote's direct path and the order-by-order reference end in the same state: the same
    orders with the same ids and sequence numbers, fills, balances and the id stream at the same place."""
    exchanges = []
    for kind in (Exchange, _PlacingExchange):
        ex = kind(Account("u", D("100000")), lambda: NOW, seed=3)
        ex.add_market(MarketBook(T, "KXNHLGAME-26NOV24BOSNYR"))
        for bids, asks, users in rounds:
            for side, cents, count in users:  # user orders that rest (or trade) before the market moves
                try:
                    ex.place(T, side, D(cents) / 100, D(count))
                except ExchangeError:
                    pass
            ex.requote(T, [(D(c) / 100, D(s), tag) for c, s, tag in bids],
                       [(D(c) / 100, D(s), tag) for c, s, tag in asks])
        exchanges.append(_state(ex))
    assert exchanges[0] == exchanges[1]

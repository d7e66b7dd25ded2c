from datetime import timedelta
from decimal import Decimal

import pytest

from arb_pipeline.arb.fees import kalshi_order_fee
from arb_pipeline.domain import (
    ContractSide,
    OrderBookLevels,
    PriceRange,
    SeriesFees,
)
from arb_pipeline.execution.paper import PaperExecutor, PaperMarket
from arb_pipeline_tests.execution.factories import BOOK, T0, TICKER, market, snapshot

D = Decimal
YES = ContractSide.YES


def place(executor, count, limit, side=YES):
    return executor.place(ticker=TICKER, side=side, count=D(count), limit_price=D(limit), client_order_id="c",
                          submitted_at=T0)


def test_walks_depth_and_charges_the_exact_order_fee():
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}), 25, "0.46")
    assert [(f.count, f.price) for f in result.fills] == [(D(10), D("0.45")), (D(15), D("0.46"))]
    assert (result.fill_count, result.remaining_count, result.notional) == (D(25), D(0), D("11.40"))
    # 0.07*10*.45*.55 = 0.17325 -> 0.1733; 0.07*15*.46*.54 = 0.26082 -> 0.2609; 0.4342 -> $0.44
    assert result.fees == D("0.44") == kalshi_order_fee([(D(10), D("0.45")), (D(15), D("0.46"))])
    assert [f.fee for f in result.fills] == [D("0.1733"), D("0.2667")]


def test_ioc_fills_only_within_the_limit_and_depth():
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}), 25, "0.45")
    assert (result.fill_count, result.remaining_count) == (D(10), D(15))
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}), 100, "0.99")
    assert (result.fill_count, result.remaining_count) == (D(30), D(70))
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}), 5, "0.44")
    assert (result.fill_count, result.fills) == (D(0), ())


def test_no_side_lifts_yes_bids():
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}), 5, "0.56", side=ContractSide.NO)
    assert [(f.count, f.price) for f in result.fills] == [(D(5), D("0.56"))]


def test_slippage_moves_price_against_us_and_is_clamped_to_the_book():
    ex = PaperExecutor({TICKER: PaperMarket(BOOK)}, slippage_ticks=1)
    result = place(ex, 25, "0.46")
    # 0.45 slips to 0.46; 0.46 would slip to 0.47 but the worst displayed ask is 0.46: clamped
    assert [(f.count, f.price) for f in result.fills] == [(D(10), D("0.46")), (D(15), D("0.46"))]
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}, slippage_ticks=1), 25, "0.45")
    assert result.fill_count == 0  # slipped past the limit: IOC cancels
    big = place(PaperExecutor({TICKER: PaperMarket(BOOK)}, slippage_ticks=50), 25, "0.99")
    assert {f.price for f in big.fills} == {D("0.46")}


def test_slippage_uses_the_price_grid_step():
    grid = (PriceRange(D("0"), D("0.10"), D("0.001")), PriceRange(D("0.10"), D("0.90"), D("0.01")))
    book = OrderBookLevels(TICKER, yes=(), no=((D("0.95"), D(5)), (D("0.90"), D(5))))  # YES asks 0.05, 0.10
    result = place(PaperExecutor({TICKER: PaperMarket(book, price_ranges=grid)}, slippage_ticks=2), 10, "0.10")
    assert [(f.count, f.price) for f in result.fills] == [(D(5), D("0.052")), (D(5), D("0.10"))]


def test_latency_stamps_the_fills():
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}, latency_ms=150), 1, "0.45")
    assert result.fills[0].filled_at == T0 + timedelta(milliseconds=150)


def test_unknown_ticker_and_bad_model_are_refused():
    with pytest.raises(KeyError, match="no captured order book"):
        place(PaperExecutor({}), 1, "0.5")
    with pytest.raises(ValueError):
        PaperExecutor({}, slippage_ticks=-1)


def _market(**kw):
    return market(**kw)


def _snapshot(market_, fees=None, **event_kw):
    return snapshot((market_,), fees=fees, **event_kw)


def test_from_snapshot_uses_series_fees_overrides_and_waivers():
    half = {"KXNBAGAME": SeriesFees("KXNBAGAME", "quadratic", D("0.5"))}
    assert place(PaperExecutor.from_snapshot(_snapshot(_market(), half)), 10, "0.45").fees == D("0.09")  # .086625
    override = _snapshot(_market(), half, fee_multiplier_override=D("1"))
    assert place(PaperExecutor.from_snapshot(override), 10, "0.45").fees == D("0.18")
    waived = _snapshot(_market(fee_waiver_expiration_time=T0 + timedelta(days=1)))
    result = place(PaperExecutor.from_snapshot(waived), 10, "0.45")
    assert result.fees == 0 and result.fill_count == 10


# --- the book after the latency, partial fills -----------------------------------------------------

MOVED_WORSE = OrderBookLevels(TICKER, yes=((D("0.44"), D("50")),), no=((D("0.54"), D("30")),))  # YES ask 0.46
MOVED_AWAY = OrderBookLevels(TICKER, yes=((D("0.44"), D("50")),), no=((D("0.52"), D("30")),))  # YES ask 0.48


def test_a_book_that_moved_after_detection_fills_at_the_moved_price():
    asked = []

    def book_after(ticker, at):
        asked.append((ticker, at))
        return MOVED_WORSE

    ex = PaperExecutor({TICKER: PaperMarket(BOOK)}, latency_ms=150, book_after=book_after)
    result = place(ex, 10, "0.46")
    assert [(f.count, f.price) for f in result.fills] == [(D(10), D("0.46"))]  # detected at 0.45
    assert asked == [(TICKER, T0 + timedelta(milliseconds=150))] and result.fills[0].filled_at == asked[0][1]
    assert ex.depth_within(ticker=TICKER, side=YES, limit_price=D("0.45")) == 10  # pre-send check: the captured book


def test_a_book_that_moved_past_the_limit_gives_no_fill():
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}, book_after=lambda _t, _at: MOVED_AWAY), 10, "0.46")
    assert (result.fill_count, result.remaining_count, result.fills) == (D(0), D(10), ())


def test_no_newer_book_means_the_captured_one():
    result = place(PaperExecutor({TICKER: PaperMarket(BOOK)}, book_after=lambda _t, _at: None), 10, "0.45")
    assert [(f.count, f.price) for f in result.fills] == [(D(10), D("0.45"))]


def test_partial_fills_take_a_share_of_each_level_in_whole_contracts():
    ex = PaperExecutor({TICKER: PaperMarket(BOOK)}, fill_ratio=D("0.5"))
    result = place(ex, 25, "0.46")
    assert [(f.count, f.price) for f in result.fills] == [(D(5), D("0.45")), (D(10), D("0.46"))]
    assert (result.fill_count, result.remaining_count) == (D(15), D(10))
    assert ex.depth_within(ticker=TICKER, side=YES, limit_price=D("0.46")) == 15
    thin = place(PaperExecutor({TICKER: PaperMarket(BOOK)}, fill_ratio=D("0.05")), 25, "0.46")
    assert [(f.count, f.price) for f in thin.fills] == [(D(1), D("0.46"))]  # 0.5 of 10 floors to nothing
    for bad in (D(0), D("1.5"), 0.5):
        with pytest.raises(ValueError, match="fill ratio"):
            PaperExecutor({}, fill_ratio=bad)

"""KalshiClient over real HTTP against the local test server: market data, pagination, batching,
orders (including the lost-response / 409 path), portfolio reads, the shared client, reprs."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.connectors.kalshi import (
    KalshiClient,
    KalshiNotFound,
    KalshiOrderRejected,
    KalshiOrderStateUnknown,
    KalshiResponseError,
    Timeouts,
    close_shared_client,
    get_shared_client,
)
from arb_pipeline.settings import Settings


def _slate(server, wire, n_events: int) -> list[str]:
    for i in range(n_events):
        event = wire.event(f"KXNBAGAME-26NOV{i:02d}BOSNYK")
        server.state.events.append(event)
        server.state.milestones.append(wire.milestone(event["event_ticker"]))
    return [mk["ticker"] for mk in server.state.all_markets()]


# --- market data ---------------------------------------------------------------------------------
def test_exchange_status_and_series(kalshi_server):
    st = kalshi_server.state
    st.exchange = {"exchange_active": True, "trading_active": False, "exchange_estimated_resume_time": None}
    st.series["KXNBAGAME"] = {
        "ticker": "KXNBAGAME", "frequency": "custom", "title": "NBA", "category": "Sports", "categories": ["Sports"],
        "tags": ["Basketball"], "settlement_sources": [], "contract_url": "", "contract_terms_url": "",
        "fee_type": "quadratic_with_maker_fees", "fee_multiplier": 1, "additional_prohibitions": [],
    }
    with kalshi_server.client() as client:
        status = client.get_exchange_status()
        fees = client.get_series("KXNBAGAME")
        with pytest.raises(KalshiNotFound):
            client.get_series("KXNOPE")
    assert (status.exchange_active, status.trading_active) == (True, False)
    assert fees.fee_type == "quadratic_with_maker_fees" and fees.fee_multiplier == Decimal(1)


@pytest.mark.parametrize("last_cursor", ["", None])
def test_events_paginate_until_cursor_is_empty_or_null(kalshi_server, wire, last_cursor):
    kalshi_server.state.last_page_cursor = last_cursor
    _slate(kalshi_server, wire, 5)
    with kalshi_server.client() as client:
        events, milestones = client.get_all_events(series_ticker="KXNBAGAME", status="open", limit=2)
    hits = kalshi_server.state.hits("GET /events")
    assert len(hits) == 3  # pages of 2, 2, 1
    assert [dict(h["query"]).get("cursor") for h in hits] == [None, "2", "4"]
    for h in hits:  # every other filter is kept identical while paging
        q = dict(h["query"])
        assert (q["series_ticker"], q["status"], q["limit"]) == ("KXNBAGAME", "open", "2")
        assert (q["with_nested_markets"], q["with_milestones"]) == ("true", "true")
    assert [e.event_ticker for e in events] == [e["event_ticker"] for e in kalshi_server.state.events]
    assert all(len(e.markets) == 2 for e in events)
    assert sorted(m.id for m in milestones) == sorted(m["id"] for m in kalshi_server.state.milestones)
    nyk = events[0].markets[0]
    assert nyk.yes_ask == Decimal("0.5500") and nyk.close_time == datetime(2026, 11, 18, tzinfo=UTC)


def test_markets_paginate_and_keep_filters(kalshi_server, wire):
    tickers = _slate(kalshi_server, wire, 3)
    with kalshi_server.client() as client:
        markets = list(client.iter_markets(limit=4, status="open", mve_filter="exclude"))
    assert [m.ticker for m in markets] == tickers
    hits = kalshi_server.state.hits("GET /markets")
    assert len(hits) == 2 and all(dict(h["query"])["mve_filter"] == "exclude" for h in hits)


def test_a_repeated_cursor_stops_instead_of_looping(kalshi_server, wire):
    _slate(kalshi_server, wire, 1)
    page = {"markets": [wire.market("A-1", "A")], "cursor": "same"}
    kalshi_server.state.script("GET /markets", *[wire.Fault(body=page) for _ in range(3)])
    with kalshi_server.client() as client, pytest.raises(KalshiResponseError, match="repeated"):
        list(client.iter_markets())


def test_orderbook_single_and_batched_in_chunks_of_100(kalshi_server, wire):
    tickers = [f"KXNBAGAME-26NOV03T{i:03d}-NYK" for i in range(250)]
    for i, t in enumerate(tickers):
        kalshi_server.state.books[t] = {"yes_dollars": [["0.5200", f"{i}.00"]], "no_dollars": []}
    with kalshi_server.client() as client:
        one = client.get_orderbook(tickers[7], depth=5)
        books = client.get_orderbooks(tickers + tickers[:10] + ["KXUNKNOWN-1"])  # duplicates sent once
    assert one.yes == ((Decimal("0.5200"), Decimal("7.00")),) and one.no == ()
    assert dict(kalshi_server.state.hits("GET /markets/{id}/orderbook")[0]["query"]) == {"depth": "5"}
    calls = kalshi_server.state.hits("GET /markets/orderbooks")
    assert [len(c["query"]) for c in calls] == [100, 100, 51]
    assert all(k == "tickers" for c in calls for k, _ in c["query"])
    assert set(books) == set(tickers) and books[tickers[249]].yes[0][1] == Decimal("249.00")


def test_identifiers_that_could_alter_the_path_are_refused(kalshi_server):
    with kalshi_server.client() as client:
        for bad in ("../portfolio/balance", "A?x=1", "A/B", ""):
            with pytest.raises(ValueError):
                client.get_orderbook(bad)
    assert kalshi_server.state.requests == []


# --- orders --------------------------------------------------------------------------------------
def test_create_order_sends_v2_body_and_parses_201(kalshi_server):
    coid = str(uuid.uuid4())
    with kalshi_server.client() as client:
        result = client.create_order("KXT-1", "ask", Decimal("25"), Decimal("0.6"), "IOC", coid)
    body = kalshi_server.state.order_bodies[0]
    assert body == {
        "ticker": "KXT-1", "client_order_id": coid, "side": "ask", "count": "25.00", "price": "0.6000",
        "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross",
    }
    assert result.client_order_id == coid and result.remaining_count == Decimal("25.00")
    assert not result.already_existed and len(kalshi_server.state.orders) == 1


def test_invalid_orders_are_refused_before_any_request(kalshi_server):
    coid = str(uuid.uuid4())
    with kalshi_server.client() as client:
        for price in (Decimal("0"), Decimal("1"), Decimal("1.2"), Decimal("-0.1"), Decimal("0.12345")):
            with pytest.raises(ValueError, match="price"):
                client.create_order("KXT-1", "bid", Decimal("1"), price, "GTC", coid)
        for count in (Decimal("0"), Decimal("-5"), Decimal("1.005")):
            with pytest.raises(ValueError, match="count"):
                client.create_order("KXT-1", "bid", count, Decimal("0.5"), "GTC", coid)
        with pytest.raises(TypeError, match="float"):
            client.create_order("KXT-1", "bid", Decimal("1"), 0.5, "GTC", coid)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="side"):
            client.create_order("KXT-1", "yes", Decimal("1"), Decimal("0.5"), "GTC", coid)
        with pytest.raises(ValueError, match="client_order_id"):
            client.create_order("KXT-1", "bid", Decimal("1"), Decimal("0.5"), "GTC", "")
    assert kalshi_server.state.requests == []


def test_rejected_order_is_not_retried_and_carries_kalshi_code(kalshi_server):
    kalshi_server.state.reject = (400, "INSUFFICIENT_BALANCE")
    with kalshi_server.client() as client, pytest.raises(KalshiOrderRejected) as info:
        client.create_order("KXT-1", "bid", Decimal("10"), Decimal("0.55"), "FOK", str(uuid.uuid4()))
    assert info.value.code == "INSUFFICIENT_BALANCE" and info.value.status == 400
    assert len(kalshi_server.state.hits("POST /portfolio/events/orders")) == 1


@pytest.mark.parametrize("lost", ["timeout", "500"])
def test_lost_create_response_is_retried_with_same_id_and_never_doubles(kalshi_server, wire, lost):
    fault = wire.Fault(process=True, delay=2.0) if lost == "timeout" else wire.Fault(process=True, status=500)
    kalshi_server.state.script("POST /portfolio/events/orders", fault)
    coid = str(uuid.uuid4())
    with kalshi_server.client(timeouts=Timeouts(connect_s=3.0, read_s=0.5)) as client:
        result = client.create_order("KXT-1", "bid", Decimal("3"), Decimal("0.55"), "GTC", coid)
        stats = client.stats.snapshot()
    posts = kalshi_server.state.hits("POST /portfolio/events/orders")
    assert len(posts) == 2
    assert [b["client_order_id"] for b in kalshi_server.state.order_bodies] == [coid, coid]
    assert len(kalshi_server.state.orders) == 1  # exactly ONE order on the venue
    (order_id,) = kalshi_server.state.orders
    assert result.already_existed and result.order_id == order_id and result.order is not None
    assert result.order.client_order_id == coid and result.remaining_count == Decimal("3.00")
    assert kalshi_server.state.hits("GET /portfolio/orders")  # it looked the order up
    assert stats.retries == 1 and stats.errors == 2  # the lost attempt, then the 409


def test_retries_exhausted_after_processing_still_find_the_order(kalshi_server, wire):
    kalshi_server.state.script(
        "POST /portfolio/events/orders", wire.Fault(process=True, status=503), *[wire.Fault(status=503)] * 3
    )
    coid = str(uuid.uuid4())
    with kalshi_server.client() as client:
        result = client.create_order("KXT-1", "bid", Decimal("2"), Decimal("0.40"), "GTC", coid)
    assert result.already_existed and len(kalshi_server.state.orders) == 1


def test_unfindable_order_after_ambiguous_failures_is_state_unknown(kalshi_server, wire):
    kalshi_server.state.script("POST /portfolio/events/orders", *[wire.Fault(status=500)] * 4)
    coid = str(uuid.uuid4())
    with kalshi_server.client() as client, pytest.raises(KalshiOrderStateUnknown) as info:
        client.create_order("KXT-1", "bid", Decimal("2"), Decimal("0.40"), "GTC", coid)
    assert info.value.client_order_id == coid
    assert len(kalshi_server.state.hits("POST /portfolio/events/orders")) == 4
    assert kalshi_server.state.orders == {}


def test_unreadable_201_is_state_unknown_not_a_failure(kalshi_server, wire):
    kalshi_server.state.script("POST /portfolio/events/orders", wire.Fault(process=True, raw=b'{"order_id": ', status=201))
    with kalshi_server.client() as client, pytest.raises(KalshiOrderStateUnknown):
        client.create_order("KXT-1", "bid", Decimal("2"), Decimal("0.40"), "GTC", str(uuid.uuid4()))
    assert len(kalshi_server.state.hits("POST /portfolio/events/orders")) == 1


def test_409_for_a_different_order_with_the_same_id_is_a_conflict(kalshi_server):
    coid = str(uuid.uuid4())
    with kalshi_server.client() as client:
        client.create_order("KXT-1", "bid", Decimal("2"), Decimal("0.40"), "GTC", coid)
        same = client.create_order("KXT-1", "bid", Decimal("2"), Decimal("0.40"), "GTC", coid)  # e.g. a restart
        with pytest.raises(KalshiOrderRejected) as info:
            client.create_order("KXT-1", "ask", Decimal("2"), Decimal("0.40"), "GTC", coid)
    assert same.already_existed and info.value.code == "client_order_id_conflict"
    assert len(kalshi_server.state.orders) == 1


def test_409_without_a_findable_order_is_state_unknown_not_rejected(kalshi_server, wire):
    conflict = {"error": {"code": "order_already_exists", "message": "duplicate", "details": ""}}
    kalshi_server.state.script("POST /portfolio/events/orders", wire.Fault(status=409, body=conflict))
    coid = str(uuid.uuid4())
    with kalshi_server.client() as client, pytest.raises(KalshiOrderStateUnknown) as info:
        client.create_order("KXT-1", "bid", Decimal("2"), Decimal("0.40"), "GTC", coid)
    assert info.value.client_order_id == coid and "order_already_exists" in str(info.value)
    assert len(kalshi_server.state.hits("POST /portfolio/events/orders")) == 1  # never sent again
    assert len(kalshi_server.state.hits("GET /portfolio/orders")) == 3  # looked up, allowing for lag


def test_one_client_is_safe_to_share_between_threads(kalshi_server):
    for i in range(8):
        kalshi_server.state.books[f"KXT-{i}"] = {"yes_dollars": [["0.5000", f"{i}.00"]], "no_dollars": []}
    results: dict[int, Decimal] = {}
    with kalshi_server.client() as client:

        def work(i: int) -> None:
            for _ in range(5):
                results[i] = client.get_orderbook(f"KXT-{i}").yes[0][1]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert client.stats.snapshot().requests == 40 and client.stats.snapshot().errors == 0
    assert results == {i: Decimal(f"{i}.00") for i in range(8)}


def test_cancel_get_order_and_orders(kalshi_server):
    with kalshi_server.client() as client:
        placed = client.create_order("KXT-1", "bid", Decimal("4"), Decimal("0.55"), "GTC", str(uuid.uuid4()))
        client.create_order("KXT-2", "ask", Decimal("1.5"), Decimal("0.25"), "GTC", str(uuid.uuid4()))
        cancelled = client.cancel_order(placed.order_id, "KXT-1")
        fetched = client.get_order(placed.order_id)
        only_t2 = client.get_orders(ticker="KXT-2")
        with pytest.raises(KalshiNotFound):
            client.cancel_order(placed.order_id, "KXT-1")
    assert cancelled.reduced_by == Decimal("4.00") and cancelled.ts_ms
    assert dict(kalshi_server.state.hits("DELETE /portfolio/events/orders/{id}")[0]["query"]) == {"market_ticker": "KXT-1"}
    assert fetched.status == "canceled" and fetched.book_side == "bid" and fetched.yes_price == Decimal("0.55")
    assert [(o.ticker, o.book_side, o.outcome_side, o.no_price) for o in only_t2] == [("KXT-2", "ask", "no", Decimal("0.7500"))]


# --- portfolio reads -----------------------------------------------------------------------------
def test_fills_positions_balance_settlements(kalshi_server, wire):
    st = kalshi_server.state
    st.fills = [wire.fill(f"o{i}", "KXT-1") for i in range(3)]
    st.positions = {
        "market_positions": [{
            "ticker": "KXT-1", "exchange_index": 0, "total_traded_dollars": "13.7500", "position_fp": "-25.00",
            "market_exposure_dollars": "11.2500", "realized_pnl_dollars": "0.0000", "fees_paid_dollars": "0.4400",
            "last_updated_ts": "2026-11-03T23:00:00Z",
        }],
        "event_positions": [{
            "event_ticker": "KXT", "total_cost_dollars": "11.2500", "total_cost_shares_fp": "25.00",
            "event_exposure_dollars": "11.2500", "realized_pnl_dollars": "0.0000", "fees_paid_dollars": "0.4400",
        }],
    }
    st.balance = {"balance": 125034, "balance_dollars": "1250.3400", "portfolio_value": 48210, "updated_ts": 1793757600,
                  "balance_breakdown": [{"exchange_index": 0, "balance": "1000.3400"}, {"exchange_index": 3, "balance": "250.0000"}]}
    st.settlements = [{
        "ticker": "KXT-1", "exchange_index": 0, "event_ticker": "KXT", "market_result": "no", "yes_count_fp": "0.00",
        "yes_total_cost_dollars": "0.0000", "no_count_fp": "25.00", "no_total_cost_dollars": "11.2500",
        "revenue": 2500, "settled_time": "2026-11-05T00:00:00Z", "fee_cost": "0.0000", "value": 0,
    }]
    with kalshi_server.client() as client:
        fills = client.get_fills(limit=2)
        positions = client.get_positions()
        balance = client.get_balance()
        settlements = client.get_settlements()
    assert len(fills) == 3 and len(st.hits("GET /portfolio/fills")) == 2
    assert fills[0].fee_cost == Decimal("0.4400") and fills[0].extra["ts"] == 1793746800
    assert positions.market_positions[0].position == Decimal("-25.00")
    assert positions.event_positions[0].total_cost == Decimal("11.2500")
    assert balance.balance_cents == 125034 and balance.balance_dollars == Decimal("1250.3400")
    assert balance.breakdown == ((0, Decimal("1000.3400")), (3, Decimal("250.0000")))
    assert balance.updated == datetime.fromtimestamp(1793757600, tz=UTC)
    assert settlements[0].revenue_cents == 2500 and settlements[0].market_result == "no"


def test_portfolio_calls_are_signed_and_unsigned_clients_are_refused(kalshi_server):
    kalshi_server.state.balance = {"balance": 1, "balance_dollars": "0.0100", "portfolio_value": 0, "updated_ts": 1}
    with kalshi_server.client(signer=None) as anon:
        assert anon.get_exchange_status().trading_active  # public market data needs no key
        with pytest.raises(Exception) as info:
            anon.get_balance()
    assert type(info.value).__name__ == "KalshiAuthError" and info.value.status == 401


# --- construction --------------------------------------------------------------------------------
def test_from_settings_and_shared_client(kalshi_server, tmp_path, monkeypatch):
    key_file = tmp_path / "kalshi.key"
    key_file.write_bytes(kalshi_server.rsa_pem)
    settings = Settings(
        KALSHI_BASE_URL=kalshi_server.base_url, KALSHI_API_KEY_ID="0f2b6c3e-test-key-id-4a1d",
        KALSHI_PRIVATE_KEY_PATH=str(key_file), KALSHI_TIER="advanced", KALSHI_READ_TIMEOUT_S=4.5, KALSHI_MAX_RETRIES=2,
    )
    kalshi_server.state.balance = {"balance": 1, "balance_dollars": "0.0100", "portfolio_value": 0, "updated_ts": 1}
    with KalshiClient.from_settings(settings) as client:
        assert client.get_balance().balance_cents == 1
        assert client.tier == "advanced" and client.rate_limiter.tier == "advanced"
        assert client._http.max_retries == 2
    close_shared_client()
    try:
        shared = get_shared_client(settings)
        assert get_shared_client() is shared and shared.get_balance().balance_dollars == Decimal("0.0100")
    finally:
        close_shared_client()


@pytest.mark.slow
def test_end_to_end_against_the_venue_simulator():
    """Smoke test against the shared simulator (arb_pipeline.sim), when it is importable."""
    sim_server = pytest.importorskip("arb_pipeline.sim.server")
    from arb_pipeline.connectors.kalshi import KalshiSigner, RateLimiter

    with sim_server.start_simulator(sim_server.SimConfig()) as sim:
        signer = KalshiSigner.from_pem(sim.key_id, sim.private_key_pem)
        with KalshiClient(sim.kalshi_base_url, signer=signer, rate_limiter=RateLimiter("prestige")) as client:
            assert client.get_exchange_status().trading_active in (True, False)
            events, _ = client.get_all_events(status="open")
            tickers = [mk.ticker for e in events for mk in e.markets]
            assert tickers and set(client.get_orderbooks(tickers)) <= set(tickers)
            coid = str(uuid.uuid4())
            placed = client.create_order(tickers[0], "bid", Decimal("1"), Decimal("0.01"), "GTC", coid)
            assert client.find_order_by_client_order_id(coid, ticker=tickers[0]).order_id == placed.order_id
            assert client.cancel_order(placed.order_id, tickers[0]).order_id == placed.order_id
            assert client.stats.snapshot().errors == 0

"""Contract tests: every simulator response validates against Kalshi's saved OpenAPI spec (3.15) and
carries every field kalshi-api.md §14 marks required in the current spec (3.34).

Where 3.15 and kalshi-api.md disagree we follow kalshi-api.md (the live API is 3.34), and patch the
saved spec accordingly — see SPEC_315_OVERRIDES. Everything else in 3.15 is enforced as published,
including formats (date-time) and enums.
"""

from __future__ import annotations

import copy
import hashlib
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "kalshi-openapi.yaml"
SPEC_SHA256 = "21a2b0c39ffcb61c220c1bc15c0a753c44ac45fb3a3c0c605eead8d45769f78d"  # kalshi-api.md §12

# Fields 3.15 requires that were REMOVED from the API in 2026 (kalshi-api.md §5.2 "Removed in 2026",
# §12 "differs"): the simulator must not send them, so they are dropped from 3.15's required lists.
# `client_order_id` is required in the 3.15 create request only; 3.31+ makes it optional (§6.2).
SPEC_315_OVERRIDES: dict[str, set[str]] = {
    "Market": {"liquidity_dollars", "fractional_trading_enabled"},
    "MarketPosition": {"resting_orders_count"},
}
# Fields 3.15 does not know at all (outcome_side/book_side, exchange_index, balance_dollars, ts_ms...)
# are checked by the §14 table below instead; 3.15 allows additional properties.

# kalshi-api.md §14: required fields per model in spec 3.34, written out as data.
REQUIRED_334: dict[str, tuple[str, ...]] = {
    "Market": ("ticker", "event_ticker", "market_type", "yes_sub_title", "no_sub_title", "created_time",
               "updated_time", "open_time", "close_time", "latest_expiration_time", "settlement_timer_seconds",
               "status", "yes_bid_dollars", "yes_bid_size_fp", "yes_ask_dollars", "yes_ask_size_fp",
               "no_bid_dollars", "no_ask_dollars", "last_price_dollars", "volume_fp", "volume_24h_fp", "result",
               "can_close_early", "open_interest_fp", "notional_value_dollars", "previous_yes_bid_dollars",
               "previous_yes_ask_dollars", "previous_price_dollars", "settlement_bounds_type", "expiration_value",
               "rules_primary", "rules_secondary", "price_level_structure", "price_ranges"),
    "EventData": ("event_ticker", "series_ticker", "sub_title", "title", "collateral_return_type",
                  "mutually_exclusive", "settlement_sources"),
    "GetEventsResponse": ("events", "cursor"),
    "GetMarketsResponse": ("markets", "cursor"),
    "GetMarketOrderbookResponse": ("orderbook_fp",),
    "GetMarketOrderbooksResponse": ("orderbooks",),
    "OrderbookCountFp": ("yes_dollars", "no_dollars"),
    "MarketOrderbookFp": ("ticker", "orderbook_fp"),
    "Order": ("order_id", "user_id", "client_order_id", "ticker", "outcome_side", "book_side", "type", "status",
              "yes_price_dollars", "no_price_dollars", "fill_count_fp", "remaining_count_fp", "initial_count_fp",
              "taker_fill_cost_dollars", "maker_fill_cost_dollars", "taker_fees_dollars", "maker_fees_dollars"),
    "Fill": ("fill_id", "exchange_index", "trade_id", "order_id", "ticker", "market_ticker", "outcome_side",
             "book_side", "count_fp", "yes_price_dollars", "no_price_dollars", "is_taker", "fee_cost"),
    "MarketPosition": ("ticker", "exchange_index", "total_traded_dollars", "position_fp", "market_exposure_dollars",
                       "realized_pnl_dollars", "fees_paid_dollars", "last_updated_ts"),
    "EventPosition": ("event_ticker", "total_cost_dollars", "total_cost_shares_fp", "event_exposure_dollars",
                      "realized_pnl_dollars", "fees_paid_dollars"),
    "GetPositionsResponse": ("market_positions", "event_positions"),
    "Settlement": ("ticker", "exchange_index", "event_ticker", "market_result", "yes_count_fp",
                   "yes_total_cost_dollars", "no_count_fp", "no_total_cost_dollars", "revenue", "settled_time",
                   "fee_cost"),
    "GetBalanceResponse": ("balance", "balance_dollars", "portfolio_value", "updated_ts"),
    "CreateOrderV2Response": ("order_id", "fill_count", "remaining_count", "ts_ms"),
    "CancelOrderV2Response": ("order_id", "reduced_by", "ts_ms"),
    "ExchangeStatus": ("exchange_active", "trading_active"),
    "Milestone": ("id", "category", "type", "start_date", "related_event_tickers", "title", "notification_message",
                  "details", "primary_event_tickers", "last_updated_ts"),
    "Series": ("ticker", "frequency", "title", "category", "categories", "tags", "settlement_sources",
               "contract_url", "contract_terms_url", "fee_type", "fee_multiplier", "additional_prohibitions"),
    "GetFillsResponse": ("fills", "cursor"),
    "GetOrdersResponse": ("orders", "cursor"),
    "GetSettlementsResponse": ("settlements",),
    "PriceRange": ("start", "end", "step"),
}


@lru_cache(maxsize=1)
def spec() -> dict:
    raw = SPEC_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SPEC_SHA256, "not the saved 3.15 spec described in kalshi-api.md"
    data = yaml.safe_load(raw.decode("utf-8"))
    assert data["info"]["version"] == "3.15.0"
    patched = copy.deepcopy(data)
    for name, removed in SPEC_315_OVERRIDES.items():
        schema = patched["components"]["schemas"][name]
        schema["required"] = [f for f in schema["required"] if f not in removed]
    return patched


def validate(instance: object, schema_name: str) -> None:
    """Validate against components/schemas/<name>, resolving $refs inside the spec, formats included."""
    root = {"components": spec()["components"], "$ref": f"#/components/schemas/{schema_name}"}
    validator = OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{schema_name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def has_334(instance: dict, model: str) -> None:
    missing = [f for f in REQUIRED_334[model] if f not in instance]
    assert not missing, f"{model} lacks fields required in spec 3.34: {missing}"


def test_validator_really_rejects_a_bad_market():
    """Guard against a vacuous validator: a Market with a wrong type and a missing field fails."""
    bad = {"ticker": 5}
    root = {"components": spec()["components"], "$ref": "#/components/schemas/Market"}
    assert list(OAS30Validator(root).iter_errors(bad))


@pytest.fixture(scope="module")
def traded(request):
    """A simulator after real trading: fills, a resting order, a cancel, and a settled game."""
    from datetime import UTC, datetime

    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    config = SimConfig(scenario=ScenarioConfig(seed=5, start=datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
                                               games_per_league=1, tick_s=120.0, arb_rate_per_hour=0,
                                               value_rate_per_hour=0),
                       kalshi_tier=None, odds_calls_per_second=None)
    manager = start_simulator(config)
    handle = manager.__enter__()
    request.addfinalizer(lambda: manager.__exit__(None, None, None))
    import httpx

    from arb_pipeline.sim.auth import signed_headers

    http = httpx.Client(base_url=handle.url, timeout=30)
    request.addfinalizer(http.close)

    def signed(method: str, path: str, **kw):
        full = "/trade-api/v2" + path
        return http.request(method, full, headers=signed_headers(handle.private_key_pem, handle.key_id, method, full),
                            **kw)

    first = min(handle.scenario.games, key=lambda g: g.commence)
    ticker = first.market_ticker("home")
    book = http.get(f"/trade-api/v2/markets/{ticker}").json()["market"]
    created = signed("POST", "/portfolio/events/orders", json={
        "ticker": ticker, "side": "bid", "price": book["yes_ask_dollars"], "count": "5",
        "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross",
        "client_order_id": "contract-1"})
    resting = signed("POST", "/portfolio/events/orders", json={
        "ticker": ticker, "side": "bid", "price": "0.02", "count": "3", "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross", "client_order_id": "contract-2"})
    cancel = signed("DELETE", f"/portfolio/events/orders/{resting.json()['order_id']}",
                    params={"market_ticker": ticker})
    handle.scenario.advance((first.ends - handle.scenario.now()).total_seconds() + 3600)
    return {"http": http, "signed": signed, "ticker": ticker, "event": first.event_ticker, "created": created,
            "cancel": cancel}


def test_market_data_responses_validate(traded):
    http = traded["http"]
    status = http.get("/trade-api/v2/exchange/status").json()
    validate(status, "ExchangeStatus")
    has_334(status, "ExchangeStatus")
    series = http.get("/trade-api/v2/series").json()
    validate(series, "GetSeriesListResponse")
    assert series["series"]
    for s in series["series"]:
        has_334(s, "Series")
    one = http.get(f"/trade-api/v2/series/{series['series'][0]['ticker']}").json()
    validate(one, "GetSeriesResponse")
    events = http.get("/trade-api/v2/events", params={"with_nested_markets": "true", "with_milestones": "true"}).json()
    validate(events, "GetEventsResponse")
    has_334(events, "GetEventsResponse")
    assert events["cursor"] == ""
    for event in events["events"]:
        has_334(event, "EventData")
        for market in event["markets"]:
            has_334(market, "Market")
            for price_range in market["price_ranges"]:
                has_334(price_range, "PriceRange")
    assert events["milestones"]
    for milestone in events["milestones"]:
        validate(milestone, "Milestone")
        has_334(milestone, "Milestone")
    statuses = {m["status"] for e in events["events"] for m in e["markets"]}
    assert {"active", "finalized"} <= statuses  # both a live book and a settled market were validated
    event = http.get(f"/trade-api/v2/events/{traded['event']}", params={"with_nested_markets": "true"}).json()
    validate(event, "GetEventResponse")
    markets = http.get("/trade-api/v2/markets", params={"limit": 1000}).json()
    validate(markets, "GetMarketsResponse")
    has_334(markets, "GetMarketsResponse")
    assert markets["cursor"] == ""
    market = http.get(f"/trade-api/v2/markets/{markets['markets'][0]['ticker']}").json()
    validate(market, "GetMarketResponse")
    has_334(market["market"], "Market")
    targets = http.get("/trade-api/v2/structured_targets").json()
    validate(targets, "GetStructuredTargetsResponse")
    target = http.get(f"/trade-api/v2/structured_targets/{targets['structured_targets'][0]['id']}").json()
    validate(target, "GetStructuredTargetResponse")


def test_orderbook_responses_validate_and_always_carry_both_sides(traded):
    http = traded["http"]
    tickers = [m["ticker"] for m in http.get("/trade-api/v2/markets", params={"limit": 1000}).json()["markets"]]
    one = http.get(f"/trade-api/v2/markets/{tickers[-1]}/orderbook", params={"depth": 3}).json()
    validate(one, "GetMarketOrderbookResponse")
    has_334(one, "GetMarketOrderbookResponse")
    has_334(one["orderbook_fp"], "OrderbookCountFp")
    assert len(one["orderbook_fp"]["yes_dollars"]) <= 3
    many = http.get("/trade-api/v2/markets/orderbooks", params=[("tickers", t) for t in tickers]).json()
    validate(many, "GetMarketOrderbooksResponse")
    for book in many["orderbooks"]:
        has_334(book, "MarketOrderbookFp")
        has_334(book["orderbook_fp"], "OrderbookCountFp")
    settled = http.get(f"/trade-api/v2/markets/{traded['ticker']}/orderbook").json()["orderbook_fp"]
    assert settled == {"yes_dollars": [], "no_dollars": []}  # a closed book is empty lists, never missing keys


def test_order_responses_validate(traded):
    created = traded["created"]
    assert created.status_code == 201
    validate(created.json(), "CreateOrderV2Response")
    has_334(created.json(), "CreateOrderV2Response")
    cancel = traded["cancel"]
    assert cancel.status_code == 200
    validate(cancel.json(), "CancelOrderV2Response")
    has_334(cancel.json(), "CancelOrderV2Response")
    orders = traded["signed"]("GET", "/portfolio/orders").json()
    validate(orders, "GetOrdersResponse")
    has_334(orders, "GetOrdersResponse")
    assert len(orders["orders"]) == 2
    for order in orders["orders"]:
        has_334(order, "Order")
        assert isinstance(order["client_order_id"], str)
    one = traded["signed"]("GET", f"/portfolio/orders/{orders['orders'][0]['order_id']}").json()
    validate(one, "GetOrderResponse")


def test_portfolio_responses_validate(traded):
    signed = traded["signed"]
    fills = signed("GET", "/portfolio/fills").json()
    validate(fills, "GetFillsResponse")
    has_334(fills, "GetFillsResponse")
    assert fills["fills"]
    for fill in fills["fills"]:
        has_334(fill, "Fill")
    positions = signed("GET", "/portfolio/positions").json()
    validate(positions, "GetPositionsResponse")
    has_334(positions, "GetPositionsResponse")
    assert positions["market_positions"] and positions["event_positions"]
    for p in positions["market_positions"]:
        has_334(p, "MarketPosition")
    for p in positions["event_positions"]:
        has_334(p, "EventPosition")
    balance = signed("GET", "/portfolio/balance").json()
    validate(balance, "GetBalanceResponse")
    has_334(balance, "GetBalanceResponse")
    settlements = signed("GET", "/portfolio/settlements").json()
    validate(settlements, "GetSettlementsResponse")
    has_334(settlements, "GetSettlementsResponse")
    assert settlements["settlements"]
    for s in settlements["settlements"]:
        has_334(s, "Settlement")
        assert s["market_result"] in ("yes", "no", "scalar")  # 3.34 dropped "void"


@pytest.mark.parametrize("call", ["missing_market", "unsigned_portfolio", "bad_order", "duplicate"])
def test_error_bodies_validate(traded, call):
    http, signed = traded["http"], traded["signed"]
    if call == "missing_market":
        response = http.get("/trade-api/v2/markets/NOPE-1")
        expected = 404
    elif call == "unsigned_portfolio":
        response = http.get("/trade-api/v2/portfolio/balance")
        expected = 401
    elif call == "bad_order":
        response = signed("POST", "/portfolio/events/orders", json={"ticker": traded["ticker"]})
        expected = 400
    else:
        response = signed("POST", "/portfolio/events/orders", json={
            "ticker": traded["ticker"], "side": "bid", "price": "0.50", "count": "1",
            "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross",
            "client_order_id": "contract-1"})
        expected = 409
    assert response.status_code == expected
    body = response.json()
    assert set(body) == {"error"}
    validate(body["error"], "ErrorResponse")
    assert body["error"]["code"] and body["error"]["message"]
    assert "service" not in body["error"]  # removed 2026-08-06


def test_extended_slate_responses_validate_and_settle_lines_on_the_final_score():
    """The extended slate (every league, spread/total events, a neutral site) in the same wire shape;
    after a game with lines is finalized, each line market settled on the drawn final score."""
    from datetime import UTC, datetime

    import httpx

    from arb_pipeline.sim import lines
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    config = SimConfig(scenario=ScenarioConfig(seed=6, start=datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
                                               games_per_league=1, tick_s=600.0, arb_rate_per_hour=0,
                                               value_rate_per_hour=0, extended=True, doubleheader=False),
                       kalshi_tier=None, odds_calls_per_second=None)
    with start_simulator(config) as handle, httpx.Client(base_url=handle.url, timeout=30) as http:
        engine = handle.scenario
        first = min((s for s in engine.states.values() if s.line_markets), key=lambda s: s.game.commence)
        engine.advance((first.game.ends - engine.now()).total_seconds() + 3 * 3600)
        events = http.get("/trade-api/v2/events", params={"with_nested_markets": "true", "with_milestones": "true",
                                                          "limit": 200}).json()
        validate(events, "GetEventsResponse")
        series = {e["series_ticker"] for e in events["events"]}
        assert {"KXNBASPREAD", "KXNBATOTAL", "KXATPMATCH", "KXUFCFIGHT", "KXNCAAFSPREAD"} <= series
        for event in events["events"]:
            has_334(event, "EventData")
            for market in event["markets"]:
                has_334(market, "Market")
        for milestone in events["milestones"]:
            validate(milestone, "Milestone")
        listed = http.get("/trade-api/v2/series").json()
        validate(listed, "GetSeriesListResponse")
        assert {"KXNBASPREAD", "KXLALIGATOTAL"} <= {s["ticker"] for s in listed["series"]}
        spread_event = next(e for e in events["events"] if e["series_ticker"] == "KXNBASPREAD")
        one = http.get(f"/trade-api/v2/events/{spread_event['event_ticker']}",
                       params={"with_nested_markets": "true"}).json()
        validate(one, "GetEventResponse")
        assert [m["ticker"] for m in one["markets"]] == [m["ticker"] for m in spread_event["markets"]]
        assert all(m["strike_type"] == "greater" and "floor_strike" in m for m in one["markets"])
        home, away = first.final
        winner = "home" if home > away else "away" if away > home else "draw"
        assert winner == first.result
        for market in first.line_markets:
            served = http.get(f"/trade-api/v2/markets/{market.ticker}").json()["market"]
            validate({"market": served}, "GetMarketResponse")
            assert served["status"] == "finalized"
            assert served["result"] == ("yes" if lines.settles_yes(market, home, away) else "no")

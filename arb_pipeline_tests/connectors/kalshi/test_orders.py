"""Orders: the V2 create-order body (contract-checked against the saved OpenAPI schema,
through the client and property-based), YES-leg direction, and the order/create/cancel parsers."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.connectors.kalshi import KalshiResponseError, yes_leg_order
from arb_pipeline.connectors.kalshi import orders as tm
from arb_pipeline.domain import ContractSide

# kalshi-api.md §14: CreateOrderV2Request required fields (3.34), plus client_order_id (3.15; always sent)
REQUIRED = {"ticker", "side", "count", "price", "time_in_force", "self_trade_prevention_type", "client_order_id"}

prices = st.integers(min_value=1, max_value=9999).map(lambda n: Decimal(n) / 10000)
counts = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n) / 100)
tifs = st.sampled_from(["GTC", "IOC", "FOK", "good_till_canceled", "immediate_or_cancel", "fill_or_kill"])


def test_yes_leg_direction():
    assert yes_leg_order(ContractSide.NO, Decimal("0.40")) == ("ask", Decimal("0.60"))
    assert yes_leg_order("yes", Decimal("0.55")) == ("bid", Decimal("0.55"))
    side, price = yes_leg_order("no", Decimal("0.40"))
    body = tm.build_create_order_body("T", side, Decimal(1), price, "IOC", "c")
    assert (body["side"], body["price"]) == ("ask", "0.6000")  # buy NO at $0.40
    with pytest.raises(ValueError):
        yes_leg_order("no", Decimal("1"))


@given(price=prices, count=counts, tif=tifs, side=st.sampled_from(["bid", "ask"]),
       stp=st.sampled_from(["taker_at_cross", "maker"]), post_only=st.none() | st.booleans(),
       subaccount=st.none() | st.integers(0, 63))
def test_every_valid_body_matches_the_schema(create_order_validator, price, count, tif, side, stp, post_only, subaccount):
    body = tm.build_create_order_body(
        "KXNBAGAME-26NOV03BOSNYK-NYK", side, count, price, tif, str(uuid.uuid4()),
        self_trade_prevention_type=stp, post_only=post_only, subaccount=subaccount,
    )
    assert list(create_order_validator.iter_errors(body)) == []
    assert REQUIRED <= body.keys()
    assert Decimal(body["price"]) == price and Decimal(body["count"]) == count  # exact, no float on the way


def test_client_bodies_validate_against_the_schema(kalshi_server, create_order_validator):
    """Every create body the client actually puts on the wire is a valid CreateOrderV2Request."""
    cases = [
        ("bid", Decimal("1"), Decimal("0.01"), "GTC", {}),
        ("ask", Decimal("0.01"), Decimal("0.99"), "FOK", {}),
        ("bid", Decimal("12.5"), Decimal("0.555"), "IOC", {"reduce_only": True, "self_trade_prevention_type": "maker"}),
        ("ask", Decimal("3"), Decimal("0.6"), "GTC", {"expiration_time": 1793757600, "post_only": True,
                                                      "cancel_order_on_pause": True, "order_group_id": "g1", "subaccount": 2}),
    ]
    with kalshi_server.client() as client:
        for side, count, price, tif, opts in cases:
            client.create_order("KXT-1", side, count, price, tif, str(uuid.uuid4()), **opts)
    bodies = kalshi_server.state.order_bodies
    assert len(bodies) == len(cases) and kalshi_server.state.body_errors == []
    for body in bodies:
        assert list(create_order_validator.iter_errors(body)) == [] and REQUIRED <= body.keys()
        assert isinstance(body["price"], str) and isinstance(body["count"], str)
    assert [b["price"] for b in bodies] == ["0.0100", "0.9900", "0.5550", "0.6000"]
    assert [b["count"] for b in bodies] == ["1.00", "0.01", "12.50", "3.00"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"reduce_only": True}, "reduce_only requires"),
        ({"expiration_time": 1793757600, "tif": "IOC"}, "expiration_time is only allowed"),
        ({"self_trade_prevention_type": "none"}, "self_trade_prevention_type"),
        ({"tif": "GTT"}, "time_in_force"),
    ],
)
def test_invalid_option_combinations(kwargs, error):
    tif = kwargs.pop("tif", "GTC")
    with pytest.raises(ValueError, match=error):
        tm.build_create_order_body("T", "bid", Decimal(1), Decimal("0.5"), tif, "c", **kwargs)


def _order(**over):
    order = {
        "order_id": "o1", "user_id": "u", "client_order_id": "c1", "ticker": "T", "outcome_side": "no",
        "book_side": "ask", "type": "limit", "status": "executed", "yes_price_dollars": "0.6000",
        "no_price_dollars": "0.4000", "fill_count_fp": "2.50", "remaining_count_fp": "0.00", "initial_count_fp": "2.50",
        "taker_fill_cost_dollars": "1.0000", "maker_fill_cost_dollars": "0.0000", "taker_fees_dollars": "0.0200",
        "maker_fees_dollars": "0.0000", "created_time": "2026-11-03T23:00:00Z", "last_update_time": None,
    }
    order.update(over)
    return order


def test_parse_order_and_legacy_direction():
    order = tm.parse_order(_order())
    assert (order.book_side, order.outcome_side, order.fill_count) == ("ask", "no", Decimal("2.50"))
    legacy = _order(side="no", action="buy")
    del legacy["book_side"], legacy["outcome_side"]
    assert tm.parse_order(legacy).book_side == "ask"
    del legacy["side"]
    with pytest.raises(KalshiResponseError, match="order.book_side' is missing"):
        tm.parse_order(legacy)
    with pytest.raises(KalshiResponseError, match="unknown direction"):
        tm.parse_order(_order(book_side="buy"))
    with pytest.raises(KalshiResponseError, match="GET /portfolio/orders.*orders\\[0\\].taker_fees_dollars"):
        tm.parse_orders_response({"orders": [_order(taker_fees_dollars=None)], "cursor": ""})


def test_parse_create_and_cancel_responses():
    created = tm.parse_create_order_response(
        {"order_id": "o", "fill_count": "2.00", "remaining_count": "0.00", "average_fill_price": "0.5500",
         "average_fee_paid": "0.0174", "ts_ms": 1793757600123, "new": 1},
        client_order_id="c",
    )
    assert created.client_order_id == "c" and created.average_fee_paid == Decimal("0.0174") and created.extra == {"new": 1}
    with pytest.raises(KalshiResponseError, match="fill_count' is missing"):
        tm.parse_create_order_response({"order_id": "o", "remaining_count": "1.00"})
    cancelled = tm.parse_cancel_order_response({"order_id": "o", "reduced_by": "3.00", "ts_ms": 1})
    assert cancelled.reduced_by == Decimal("3.00") and cancelled.client_order_id is None


def test_off_grid_prices_are_refused_when_the_grid_is_given():
    from arb_pipeline.domain import PriceRange

    tapered = (
        PriceRange(Decimal("0"), Decimal("0.10"), Decimal("0.001")),
        PriceRange(Decimal("0.10"), Decimal("0.90"), Decimal("0.01")),
        PriceRange(Decimal("0.90"), Decimal("1"), Decimal("0.001")),
    )
    for ok in ("0.055", "0.55", "0.905", "0.10"):
        tm.build_create_order_body("T", "bid", Decimal(1), Decimal(ok), "IOC", "c", price_ranges=tapered)
    for bad in ("0.555", "0.0555"):
        with pytest.raises(ValueError, match="off the market's price grid"):
            tm.build_create_order_body("T", "bid", Decimal(1), Decimal(bad), "IOC", "c", price_ranges=tapered)

"""Error-body parsing (nested, flat, 429, non-JSON) and the status -> typed error mapping."""

from __future__ import annotations

import pytest

from arb_pipeline.connectors.kalshi import errors as e


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": {"code": "MARKET_INACTIVE", "message": "closed", "details": "after close_time"}}',
         ("MARKET_INACTIVE", "closed", "after close_time")),
        (b'{"code": "INSUFFICIENT_BALANCE", "message": "need more"}', ("INSUFFICIENT_BALANCE", "need more", None)),
        (b'{"error": "too many requests"}', (None, "too many requests", None)),
        (b"<html>Bad Gateway</html>", (None, "<html>Bad Gateway</html>", None)),
        (b"", (None, "", None)),
        (None, (None, "", None)),
    ],
)
def test_parse_error_body_shapes(body, expected):
    assert e.parse_error_body(body) == expected


def test_long_bodies_are_clipped():
    _, message, _ = e.parse_error_body("x" * 5000)
    assert len(message) <= 300


@pytest.mark.parametrize(
    ("status", "order_endpoint", "cls"),
    [
        (400, True, e.KalshiOrderRejected),
        (409, True, e.KalshiOrderRejected),
        (400, False, e.KalshiBadRequest),
        (401, True, e.KalshiAuthError),
        (403, False, e.KalshiForbidden),
        (404, True, e.KalshiNotFound),
        (429, False, e.KalshiRateLimited),
        (500, False, e.KalshiServerError),
        (504, True, e.KalshiServerError),
    ],
)
def test_status_mapping(status, order_endpoint, cls):
    err = e.error_for_status(status, b'{"code": "C", "message": "m"}', endpoint="POST /x", order_endpoint=order_endpoint)
    assert type(err) is cls and isinstance(err, e.KalshiError)
    assert (err.status, err.code, err.endpoint) == (status, "C", "POST /x")
    assert err.retryable == (status == 429 or status >= 500)
    assert str(err) == f"POST /x HTTP {status} code=C: m"


def test_state_unknown_carries_the_client_order_id():
    err = e.KalshiOrderStateUnknown("lost", client_order_id="abc", endpoint="POST /portfolio/events/orders")
    assert err.client_order_id == "abc" and "abc" in str(err) and not err.retryable

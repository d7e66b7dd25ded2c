"""Retry and error policy over real HTTP: what is retried, what is raised, what is counted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arb_pipeline.connectors.kalshi import (
    Backoff,
    KalshiAuthError,
    KalshiBadRequest,
    KalshiConnectionError,
    KalshiForbidden,
    KalshiRateLimited,
    KalshiResponseError,
    KalshiServerError,
    KalshiTimeout,
    Timeouts,
)


def _book_server(server):
    server.state.books["KXT-1"] = {"yes_dollars": [["0.5400", "10.00"]], "no_dollars": [["0.4500", "5.00"]]}
    return "GET /markets/{id}/orderbook"


def test_5xx_burst_then_success_is_retried_and_recovers(kalshi_server, wire):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, wire.Fault(status=500), wire.Fault(status=502), wire.Fault(status=503))
    with kalshi_server.client(max_retries=3) as client:
        book = client.get_orderbook("KXT-1")
        stats = client.stats.snapshot()
    assert book.no == ((Decimal("0.4500"), Decimal("5.00")),)
    assert len(kalshi_server.state.hits(route)) == 4
    assert (stats.requests, stats.errors, stats.retries) == (4, 3, 3)
    assert stats.errors_by_class == {"KalshiServerError": 3} and stats.error_rate == 0.75


def test_5xx_beyond_the_retry_budget_raises_server_error(kalshi_server, wire):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, *[wire.Fault(status=500)] * 3)
    with kalshi_server.client(max_retries=2) as client, pytest.raises(KalshiServerError) as info:
        client.get_orderbook("KXT-1")
    assert info.value.status == 500 and info.value.code == "status_500"
    assert len(kalshi_server.state.hits(route)) == 3


def test_slow_responses_time_out_and_are_retried(kalshi_server, wire):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, wire.Fault(delay=2.0), wire.Fault(delay=2.0))
    with kalshi_server.client(timeouts=Timeouts(connect_s=3.0, read_s=0.5)) as client:
        book = client.get_orderbook("KXT-1")
        stats = client.stats.snapshot()
    assert book.yes[0][0] == Decimal("0.5400")
    assert stats.errors_by_class == {"KalshiTimeout": 2} and stats.retries == 2


def test_timeouts_beyond_the_budget_raise_kalshi_timeout(kalshi_server, wire):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, wire.Fault(delay=2.0), wire.Fault(delay=2.0))
    with kalshi_server.client(timeouts=Timeouts(connect_s=3.0, read_s=0.5), max_retries=1) as client:
        with pytest.raises(KalshiTimeout) as info:
            client.get_orderbook("KXT-1")
    assert info.value.endpoint == "GET /markets/{ticker}/orderbook"
    chain, exc = [], info.value  # the httpx error holds the signed request: never chained
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    assert [type(e).__name__ for e in chain] == ["KalshiTimeout"]


def test_429_storm_is_retried_then_raises_rate_limited(kalshi_server, wire):
    route = _book_server(kalshi_server)
    storm = [wire.Fault(status=429, body={"error": "too many requests"})] * 5
    kalshi_server.state.script(route, *storm)
    with kalshi_server.client(max_retries=4) as client, pytest.raises(KalshiRateLimited) as info:
        client.get_orderbook("KXT-1")
    assert info.value.status == 429 and info.value.message == "too many requests" and info.value.code is None
    assert len(kalshi_server.state.hits(route)) == 5


def test_backoff_grows_exponentially_with_jitter(kalshi_server, wire):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, *[wire.Fault(status=429, body={"error": "too many requests"})] * 4)
    slept: list[float] = []
    backoff = Backoff(initial_s=1.0, max_s=5.0, jitter_s=0.5)
    with kalshi_server.client(max_retries=4, backoff=backoff, sleep=slept.append) as client:
        client.get_orderbook("KXT-1")
    assert len(slept) == 4
    for base, waited in zip([1.0, 2.0, 4.0, 5.0], slept, strict=True):
        assert base <= waited <= min(base + 0.5, 5.0)


def test_malformed_json_raises_response_error(kalshi_server, wire):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, wire.Fault(raw=b'{"orderbook_fp": {"yes_dollars": [['))
    with kalshi_server.client() as client, pytest.raises(KalshiResponseError, match="malformed JSON"):
        client.get_orderbook("KXT-1")
    assert len(kalshi_server.state.hits(route)) == 1  # a 200 with garbage is not retried blindly


def test_json_nested_beyond_the_recursion_limit_is_a_response_error(kalshi_server, wire):
    """It used to escape as a bare RecursionError that no caller handles."""
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, wire.Fault(raw=b"[" * 100_000 + b"]" * 100_000))
    with kalshi_server.client() as client, pytest.raises(KalshiResponseError, match="malformed JSON"):
        client.get_orderbook("KXT-1")


def test_missing_field_names_the_field_and_the_endpoint(kalshi_server, wire):
    event = wire.event("KXNBAGAME-26NOV03BOSNYK")
    del event["markets"][1]["yes_ask_dollars"]
    kalshi_server.state.events.append(event)
    with kalshi_server.client() as client, pytest.raises(KalshiResponseError) as info:
        client.get_all_events()
    text = str(info.value)
    assert "GET /events" in text and "events[0].markets[1].yes_ask_dollars" in text and "missing" in text


@pytest.mark.parametrize(
    ("status", "error", "body"),
    [
        (400, KalshiBadRequest, {"code": "invalid_parameters", "message": "bad limit"}),
        (401, KalshiAuthError, {"error": {"code": "authentication_error", "message": "nope", "details": "ts"}}),
        (403, KalshiForbidden, {"error": {"code": "forbidden", "message": "scope"}}),
    ],
)
def test_other_4xx_are_never_retried(kalshi_server, wire, status, error, body):
    route = _book_server(kalshi_server)
    kalshi_server.state.script(route, wire.Fault(status=status, body=body))
    with kalshi_server.client() as client, pytest.raises(error) as info:
        client.get_orderbook("KXT-1")
    assert len(kalshi_server.state.hits(route)) == 1
    assert info.value.status == status and info.value.code == (body.get("code") or body["error"]["code"])
    assert client.stats.snapshot().retries == 0


def test_connection_refused_is_a_retried_connection_error(kalshi_server):
    with kalshi_server.client(max_retries=2) as live:
        base = live.base_url
    from arb_pipeline.connectors.kalshi import KalshiClient, RateLimiter

    dead = base.replace(base.split(":")[2].split("/")[0], "1")  # port 1: nothing listens
    with KalshiClient(dead, max_retries=2, rate_limiter=RateLimiter("prestige"),
                      backoff=Backoff(0.001, 0.002, 0.001)) as client, pytest.raises(KalshiConnectionError):
        client.get_exchange_status()
    assert client.stats.snapshot().requests == 3

"""Kalshi's Basic-tier token buckets: bursts get 429 {"error": "too many requests"}, buckets refill."""

from __future__ import annotations

from arb_pipeline.sim.ratelimit import CallRateLimiter, KalshiRateLimiter, classify
from arb_pipeline.sim.server import SimConfig


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_costs_and_buckets():
    assert classify("GET", "/trade-api/v2/markets") == ("read", 10)
    assert classify("GET", "/trade-api/v2/portfolio/orders/abc") == ("read", 2)
    assert classify("POST", "/trade-api/v2/portfolio/events/orders") == ("write", 10)
    assert classify("DELETE", "/trade-api/v2/portfolio/events/orders/abc") == ("write", 2)


def test_basic_read_bucket_holds_two_seconds_of_budget_and_refills():
    clock = FakeClock()
    limiter = KalshiRateLimiter("basic", monotonic=clock)
    allowed = sum(limiter.allow("k", "GET", "/trade-api/v2/markets") for _ in range(60))
    assert allowed == 40  # capacity 400 tokens at cost 10
    clock.t += 0.5  # 100 tokens refill
    assert sum(limiter.allow("k", "GET", "/trade-api/v2/markets") for _ in range(20)) == 10
    assert limiter.allow("other", "GET", "/trade-api/v2/markets")  # buckets are per principal


def test_basic_write_bucket_is_separate_and_one_second():
    clock = FakeClock()
    limiter = KalshiRateLimiter("basic", monotonic=clock)
    assert sum(limiter.allow("k", "POST", "/trade-api/v2/portfolio/events/orders") for _ in range(15)) == 10
    assert limiter.allow("k", "GET", "/trade-api/v2/markets")  # reads still flow


def test_odds_call_limiter():
    clock = FakeClock()
    limiter = CallRateLimiter(30, monotonic=clock)
    assert sum(limiter.allow() for _ in range(40)) == 30
    clock.t += 1
    assert limiter.allow()


def test_burst_over_http_gets_429(make_venue):
    # The buckets' clock is frozen: nothing refills between requests however slow the machine is,
    # so exactly the Basic tier's burst is served (a real clock made this depend on the load).
    venue = make_venue(SimConfig(games_per_league={"NBA": 1}, rate_limit_clock=FakeClock()))  # Basic tier
    responses = [venue.public("/exchange/status") for _ in range(41)]
    assert [r.status_code for r in responses[:40]] == [200] * 40  # the full 400-token read burst
    limited = responses[40]
    assert limited.status_code == 429 and limited.json() == {"error": "too many requests"}
    assert "retry-after" not in limited.headers
    ticker = venue.handle.scenario.games[0].market_ticker("home")
    orders = [venue.order(ticker, "bid", "0.01", "1", tif="good_till_canceled").status_code for _ in range(11)]
    assert orders == [201] * 10 + [429]  # write bucket: 100 tokens, 10 orders

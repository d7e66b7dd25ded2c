"""Token buckets: sizing per tier, costs per endpoint, bursts kept under the bucket (with an
injectable clock, never wall-clock timing), thread safety, and the client drawing from them."""

from __future__ import annotations

import threading

import pytest

from arb_pipeline.connectors.kalshi import KalshiConfigError, RateLimiter, TokenBucket
from arb_pipeline.connectors.kalshi.ratelimit import READ, TIERS, WRITE, BucketSpec, classify


class FakeClock:
    """Time that only moves when someone sleeps: the limiter's waits become exact numbers."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_basic_tier_sizes():
    read, write = TIERS["basic"]
    assert (read.rate, read.capacity) == (200, 400)  # 200 tokens/s, 2 s of budget
    assert (write.rate, write.capacity) == (100, 100)  # 100 tokens/s, 1 s of budget
    assert TIERS["advanced"][1].capacity == 600 and TIERS["expert"][0].capacity == 600
    with pytest.raises(KalshiConfigError, match="KALSHI_TIER"):
        RateLimiter("platinum")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/markets", (READ, 10)),
        ("GET", "/markets/orderbooks", (READ, 10)),
        ("GET", "/portfolio/orders", (READ, 10)),
        ("GET", "/portfolio/orders/abc-123", (READ, 2)),
        ("GET", "/portfolio/orders/queue_positions", (READ, 10)),
        ("POST", "/portfolio/events/orders", (WRITE, 10)),
        ("DELETE", "/portfolio/events/orders/abc-123", (WRITE, 2)),
        ("DELETE", "/portfolio/events/orders/batched", (WRITE, 10)),
        ("POST", "/portfolio/order_groups/create", (WRITE, 10)),
        ("POST", "/portfolio/subaccounts/transfer", (READ, 10)),
    ],
)
def test_costs_and_buckets(method, path, expected):
    assert classify(method, path) == expected


def test_burst_stays_under_the_bucket_with_a_fake_clock():
    clock = FakeClock()
    limiter = RateLimiter("basic", clock=clock, sleep=clock.sleep)
    grants: list[float] = []
    for _ in range(100):
        limiter.acquire("GET", "/markets")
        grants.append(clock.now)
    # 400 tokens up front = 40 immediate reads; then one read per 10/200 s = 0.05 s
    assert grants[:40] == [0.0] * 40
    assert grants[40] == pytest.approx(0.05) and grants[-1] == pytest.approx(3.0)
    # in any window, tokens spent <= capacity + rate * window
    for i in range(len(grants)):
        for j in range(i, len(grants)):
            assert (j - i + 1) * 10 <= 400 + 200 * (grants[j] - grants[i]) + 1e-6
    assert sum(clock.slept) == pytest.approx(3.0)


def test_read_and_write_buckets_are_independent_and_cancel_is_cheap():
    clock = FakeClock()
    limiter = RateLimiter("basic", clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire("POST", "/portfolio/events/orders")  # 10 x 10 = the whole write bucket
    assert clock.now == 0.0
    for _ in range(40):
        limiter.acquire("GET", "/markets")  # reads are unaffected
    assert clock.now == 0.0
    limiter.acquire("DELETE", "/portfolio/events/orders/o1")  # 2 tokens: waits 2/100 s
    assert clock.now == pytest.approx(0.02)
    assert limiter.buckets[WRITE].tokens == pytest.approx(0.0)


def test_idle_refill_is_capped_at_capacity():
    clock = FakeClock()
    bucket = TokenBucket(BucketSpec(rate=100, capacity_s=1), clock=clock, sleep=clock.sleep)
    bucket.acquire(100)
    clock.now += 60
    assert bucket.tokens == 100
    with pytest.raises(ValueError, match="never fit"):
        bucket.acquire(101)


def test_concurrent_acquires_lose_no_update():
    clock = FakeClock()  # frozen: no refill, so the arithmetic must be exact
    bucket = TokenBucket(BucketSpec(rate=10_000, capacity_s=1), clock=clock, sleep=clock.sleep)
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(125):
            assert bucket.try_acquire(10) == 0.0

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bucket.tokens == 0  # 8 x 125 x 10 = exactly the capacity
    assert bucket.try_acquire(10) == pytest.approx(0.001)


def test_shared_limiter_is_one_per_tier():
    assert RateLimiter.shared("basic") is RateLimiter.shared("BASIC")
    assert RateLimiter.shared("basic") is not RateLimiter.shared("advanced")


def test_client_requests_draw_from_the_buckets(kalshi_server):
    tickers = [f"KXT-{i}" for i in range(60)]
    for t in tickers:
        kalshi_server.state.books[t] = {"yes_dollars": [], "no_dollars": []}
    clock = FakeClock()
    limiter = RateLimiter("basic", clock=clock, sleep=clock.sleep)
    with kalshi_server.client(rate_limiter=limiter) as client:
        for t in tickers:
            client.get_orderbook(t)
        assert clock.now == pytest.approx((60 * 10 - 400) / 200)  # 1.0 s of (fake) waiting
        client.get_orderbooks(tickers * 1)  # one batched call: 10 tokens for 60 books
        assert clock.now == pytest.approx(1.05)

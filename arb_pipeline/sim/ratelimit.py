"""Kalshi's token-bucket rate limits (kalshi-api.md §4) and The Odds API's per-second call cap.

Kalshi keeps two independent buckets per user, Read and Write, refilling continuously; each request
costs tokens (default 10, a few endpoints less). A request that does not fit is answered 429 with
no Retry-After header and no penalty, so a client must back off on its own. The buckets run on the
real monotonic clock: rate limits are about real request pacing, not simulated game time.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_COST = 10

# tier -> (read refill/s, read capacity, write refill/s, write capacity)
TIERS: dict[str, tuple[int, int, int, int]] = {
    "basic": (200, 400, 100, 100),
    "advanced": (300, 600, 300, 600),
    "expert": (600, 600, 600, 1200),
    "premier": (1000, 1000, 1000, 2000),
}

_ORDER_BY_ID = re.compile(r"^/trade-api/v2/portfolio/orders/[^/]+$")
_V2_ORDER_BY_ID = re.compile(r"^/trade-api/v2/portfolio/events/orders/[^/]+$")


@dataclass
class TokenBucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def take(self, cost: float, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if cost > self.tokens:
            return False
        self.tokens -= cost
        return True


def classify(method: str, path: str) -> tuple[str, int]:
    """(bucket, cost) of a Kalshi request: writes are order mutations, everything else reads."""
    method = method.upper()
    if path.startswith("/trade-api/v2/portfolio/events/orders") and method in {"POST", "DELETE", "PUT"}:
        if method == "DELETE" and _V2_ORDER_BY_ID.match(path):
            return "write", 2
        return "write", DEFAULT_COST
    if method == "GET" and _ORDER_BY_ID.match(path):
        return "read", 2
    return "read", DEFAULT_COST


class KalshiRateLimiter:
    """Read and Write buckets per principal (API key id, or client address for unsigned calls)."""

    def __init__(self, tier: str = "basic", monotonic: Callable[[], float] = time.monotonic) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown Kalshi tier {tier!r}; known: {sorted(TIERS)}")
        self._limits = TIERS[tier]
        self._monotonic = monotonic
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def allow(self, principal: str, method: str, path: str) -> bool:
        bucket_name, cost = classify(method, path)
        read_rate, read_cap, write_rate, write_cap = self._limits
        rate, cap = (read_rate, read_cap) if bucket_name == "read" else (write_rate, write_cap)
        now = self._monotonic()
        with self._lock:
            bucket = self._buckets.get((principal, bucket_name))
            if bucket is None:
                bucket = self._buckets[(principal, bucket_name)] = TokenBucket(rate, cap, cap, now)
            return bucket.take(cost, now)


class CallRateLimiter:
    """A plain calls-per-second cap (The Odds API documents 30 calls/s per key)."""

    def __init__(self, per_second: int = 30, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._bucket = TokenBucket(per_second, per_second, per_second, monotonic())
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            return self._bucket.take(1, self._monotonic())

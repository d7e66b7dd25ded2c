"""Client-side token buckets mirroring Kalshi's own (kalshi-api.md §4).

Kalshi meters a Read and a Write bucket per account: each request costs tokens (10 by default,
2 for ``GET /portfolio/orders/{id}`` and for a V2 cancel), refilling continuously at the tier's
rate up to a capacity of 1 or 2 seconds of budget. A 429 carries no Retry-After, so staying under
the bucket ourselves is cheaper than backing off after the fact. One limiter per tier is shared
by every client in the process (`RateLimiter.shared`), because the venue's bucket is per account.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import KalshiConfigError

READ = "read"
WRITE = "write"
DEFAULT_COST = 10
_EPSILON = 1e-9
_MIN_WAIT = 1e-6  # never spin on a wait too small to move the clock


@dataclass(frozen=True, slots=True)
class BucketSpec:
    rate: float  # tokens per second
    capacity_s: float  # seconds of budget the bucket holds

    @property
    def capacity(self) -> float:
        return self.rate * self.capacity_s


# tier -> (read, write); capacities per §4: 2 s for Basic/Advanced reads and for writes above Basic.
TIERS: dict[str, tuple[BucketSpec, BucketSpec]] = {
    "basic": (BucketSpec(200, 2), BucketSpec(100, 1)),
    "advanced": (BucketSpec(300, 2), BucketSpec(300, 2)),
    "expert": (BucketSpec(600, 1), BucketSpec(600, 2)),
    "premier": (BucketSpec(1000, 1), BucketSpec(1000, 2)),
    "paragon": (BucketSpec(2000, 1), BucketSpec(2000, 2)),
    "prime": (BucketSpec(4000, 1), BucketSpec(4000, 2)),
    "prestige": (BucketSpec(10000, 1), BucketSpec(8000, 2)),
}

_WRITE_PREFIXES = ("/portfolio/events/orders", "/portfolio/orders", "/portfolio/order_groups", "/communications")
_SINGLE_ORDER = re.compile(r"^/portfolio/orders/(?!queue_positions$)[^/]+$")
_V2_CANCEL = re.compile(r"^/portfolio/events/orders/(?!batched$)[^/]+$")


def classify(method: str, path: str) -> tuple[str, int]:
    """(bucket, cost) of one request; `path` is relative to the API root (no /trade-api/v2)."""
    method = method.upper()
    if method == "GET":
        return READ, 2 if _SINGLE_ORDER.match(path) else DEFAULT_COST
    if path.startswith(_WRITE_PREFIXES):
        if method == "DELETE" and _V2_CANCEL.match(path):
            return WRITE, 2
        return WRITE, DEFAULT_COST
    return READ, DEFAULT_COST


class TokenBucket:
    """A thread-safe continuously refilling bucket; `acquire` blocks until the cost fits."""

    def __init__(
        self,
        spec: BucketSpec,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.spec = spec
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = spec.capacity  # a fresh process starts with a full bucket, like the venue
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.spec.capacity, self._tokens + elapsed * self.spec.rate)
        self._stamp = now

    def try_acquire(self, cost: float) -> float:
        """Take `cost` tokens if they are there and return 0, else return the seconds to wait."""
        if cost > self.spec.capacity:
            raise ValueError(f"a request costing {cost} tokens can never fit a bucket of {self.spec.capacity}")
        with self._lock:
            self._refill()
            if self._tokens + _EPSILON >= cost:  # float refill can land a hair short of a whole cost
                self._tokens -= cost
                return 0.0
            return max((cost - self._tokens) / self.spec.rate, _MIN_WAIT)

    def acquire(self, cost: float) -> float:
        """Block until `cost` tokens are taken; return the total time waited."""
        waited = 0.0
        while (wait := self.try_acquire(cost)) > 0:
            self._sleep(wait)
            waited += wait
        return waited

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens


class RateLimiter:
    """The read and write buckets of one account tier."""

    _shared: dict[str, RateLimiter] = {}
    _shared_lock = threading.Lock()

    def __init__(
        self,
        tier: str = "basic",
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        key = tier.strip().lower()
        if key not in TIERS:
            raise KalshiConfigError(f"unknown KALSHI_TIER {tier!r}; expected one of {', '.join(TIERS)}")
        self.tier = key
        read, write = TIERS[key]
        self.buckets = {READ: TokenBucket(read, clock=clock, sleep=sleep), WRITE: TokenBucket(write, clock=clock, sleep=sleep)}

    @classmethod
    def shared(cls, tier: str = "basic") -> RateLimiter:
        """The process-wide limiter of a tier: every client of the process draws from it."""
        key = tier.strip().lower()
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(key)
            return cls._shared[key]

    def acquire(self, method: str, path: str) -> float:
        bucket, cost = classify(method, path)
        return self.buckets[bucket].acquire(cost)

    def __repr__(self) -> str:
        return f"RateLimiter(tier={self.tier!r})"

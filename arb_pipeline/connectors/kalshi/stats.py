"""Counters of what the client sent and how it went, for the circuit breaker's API error rate.

Every HTTP attempt counts as one request (a retried call is several), so the error rate is the
share of attempts that failed, which is what tells us the venue or our link is unhealthy.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestStatsSnapshot:
    requests: int
    errors: int
    retries: int
    errors_by_class: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class RequestStats:
    """Thread-safe counters; `snapshot()` for a consistent read, `reset()` to start a new window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._retries = 0
        self._errors: Counter[str] = Counter()

    def record_request(self) -> None:
        with self._lock:
            self._requests += 1

    def record_error(self, error: BaseException) -> None:
        with self._lock:
            self._errors[type(error).__name__] += 1

    def record_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def snapshot(self) -> RequestStatsSnapshot:
        with self._lock:
            return RequestStatsSnapshot(
                requests=self._requests,
                errors=sum(self._errors.values()),
                retries=self._retries,
                errors_by_class=dict(self._errors),
            )

    def reset(self) -> RequestStatsSnapshot:
        with self._lock:
            snap = RequestStatsSnapshot(self._requests, sum(self._errors.values()), self._retries, dict(self._errors))
            self._requests = 0
            self._retries = 0
            self._errors.clear()
            return snap

    def __repr__(self) -> str:
        s = self.snapshot()
        return f"RequestStats(requests={s.requests}, errors={s.errors}, retries={s.retries})"

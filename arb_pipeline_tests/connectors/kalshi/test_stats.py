"""Request stats: counts per attempt, errors by class, retries, thread safety."""

from __future__ import annotations

import threading

from arb_pipeline.connectors.kalshi import KalshiServerError, KalshiTimeout, RequestStats


def test_counts_and_error_rate():
    stats = RequestStats()
    assert stats.snapshot().error_rate == 0.0
    for _ in range(4):
        stats.record_request()
    stats.record_error(KalshiServerError("x"))
    stats.record_error(KalshiTimeout("y"))
    stats.record_retry()
    snap = stats.snapshot()
    assert (snap.requests, snap.errors, snap.retries) == (4, 2, 1)
    assert snap.errors_by_class == {"KalshiServerError": 1, "KalshiTimeout": 1} and snap.error_rate == 0.5
    assert stats.reset() == snap and stats.snapshot().requests == 0


def test_thread_safe():
    stats = RequestStats()

    def work() -> None:
        for _ in range(1000):
            stats.record_request()
            stats.record_error(KalshiTimeout("t"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.snapshot().requests == 8000 and stats.snapshot().errors == 8000

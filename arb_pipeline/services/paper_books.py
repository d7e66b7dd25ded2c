"""Where a paper fill looks: the order book as it stands after the paper latency, not the detection book.

A paper result that fills at the very price it detected is a paper result that flatters: by the time a
real order lands the book may have moved, shrunk or gone. So a paper order (ARB_PAPER_FILL_BOOK=
after_latency, the default) fills against

* the **venue's current book** `ARB_PAPER_LATENCY_MS` after it was submitted, when the scan reads a
  venue (the simulator, or Kalshi itself for paper trading on live data): the order waits the latency,
  then the book is read over HTTP like any market-data request;
* the **next stored capture** at or after submission + latency, when the scan replays recordings; with
  no later capture (a single recorded snapshot) the detection book is all there is and is used.

ARB_PAPER_FILL_BOOK=detection restores the old model (fill on the detection book, latency only stamps
the fill). Partial fills (ARB_PAPER_FILL_RATIO) are applied by `execution.paper.PaperExecutor`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.domain import OrderBookLevels
from arb_pipeline.execution.paper import BookAfter
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import SnapshotRepository

FILL_BOOKS = ("after_latency", "detection")


def venue_book_after(client: Any, latency_ms: int, sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> BookAfter:
    """The venue's book `latency_ms` after submission: wait the latency, then read it. `client` is a
    `KalshiClient` (the simulator's or Kalshi's), or a callable making one per read (closed after it):
    that one is made while the latency runs (building a signing client took ~80 ms, which used to come
    on top of the latency), and the book is still read no earlier than `latency_ms` after submission.
    `sleep` and the monotonic `clock` are injectable so tests never wait."""

    def book(ticker: str, _at: datetime) -> OrderBookLevels:
        if callable(client) and not hasattr(client, "get_orderbook"):
            due = clock() + latency_ms / 1000
            with client() as fresh:
                if (left := due - clock()) > 0:
                    sleep(left)
                return fresh.get_orderbook(ticker)
        sleep(latency_ms / 1000)
        return client.get_orderbook(ticker)

    return book


def next_capture_book_after(sessions: sessionmaker[Session], source: str | None,
                            horizon: timedelta = timedelta(hours=1)) -> BookAfter:
    """The book in the first stored capture (of `source`) taken at or after `at`, within `horizon`.

    None when there is none (the detection book is then used); a market missing from that later
    capture has an empty book there (it was gone: no fill).
    """
    from arb_pipeline.services.market_history import rebuild

    parsed: dict[int, Any] = {}

    def book(ticker: str, at: datetime) -> OrderBookLevels | None:
        with session_scope(sessions) as session:
            later = SnapshotRepository(session).between(at, at + horizon, source=source)
        if not later:
            return None
        stored = min(later, key=lambda s: (s.captured_at, s.id))
        snapshot = parsed.get(stored.id) or parsed.setdefault(stored.id, rebuild(stored))
        return snapshot.orderbooks.get(ticker) or OrderBookLevels(ticker, (), ())

    return book


def paper_book_after(settings: Settings, market_source: str, *, sessions: sessionmaker[Session] | None = None,
                     snapshot_source: str | None = None, client: Any = None,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> BookAfter | None:
    """The book a paper order fills on for a scan reading `market_source` (live | simulator | recorded);
    None means the detection book (ARB_PAPER_FILL_BOOK=detection)."""
    if settings.paper_fill_book not in FILL_BOOKS:
        raise ValueError(f"ARB_PAPER_FILL_BOOK must be one of {FILL_BOOKS}, got {settings.paper_fill_book!r}")
    if settings.paper_fill_book == "detection":
        return None
    if market_source == "recorded":
        if sessions is None:
            raise ValueError("paper fills on the next capture need the database of stored captures")
        return next_capture_book_after(sessions, snapshot_source)
    if market_source in ("live", "simulator"):
        if client is None:
            from arb_pipeline.connectors.kalshi.client import KalshiClient

            def client() -> KalshiClient:  # one short-lived client per paper fill, closed after it
                return KalshiClient.from_settings(settings)

        return venue_book_after(client, settings.paper_latency_ms, sleep, clock)
    raise ValueError(f"unknown market data source {market_source!r}")

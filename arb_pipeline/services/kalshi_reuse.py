"""Kalshi reads a scan need not repeat every 10 s: series metadata, and series that list no game.

A capture asks `GET /events` of every configured series (31 by default, most of them out of season)
and `GET /series/{ticker}` (fees) of every series that listed events. At Kalshi's Basic tier the read
bucket holds 40 requests and refills 20 per second, so at 1,000 games those ~60 requests cost about a
second of waiting in the client's own rate limiter before the last order book is in (issue #11).

Two things change far more slowly than the books, so a capture reuses what the latest stored capture of
the same source recorded, by its own fetch time, like the odds (`services.odds_credits`):

* **series metadata** (fee type and multiplier) younger than KALSHI_SERIES_TTL_S is kept verbatim, with
  its own fetch time in meta.json (`series_fetched_at_by_ticker`): a replay sees exactly what was used;
* a **series whose `GET /events` listed no open event** is asked again only once that answer is
  KALSHI_QUIET_SERIES_RECHECK_S old (meta.json `series_without_events_at`: when each was last asked and
  found empty). A series that listed anything is asked every scan.

Both decide by the `now` they are given (the caller's clock), never by today's date. A stamp that is
missing, unreadable, naive or in the future is not trusted: that series is fetched again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SERIES_FETCHED_BY_TICKER = "series_fetched_at_by_ticker"
SERIES_WITHOUT_EVENTS_AT = "series_without_events_at"


@dataclass(frozen=True)
class ReusedSeries:
    """One series object from an earlier capture's `kalshi_series.json`, still within its TTL."""

    raw: Mapping[str, Any]  # the venue's object, verbatim
    fetched_at: datetime


@dataclass(frozen=True)
class SeriesReuse:
    """What a capture may take from the latest stored one instead of asking Kalshi again."""

    fees: Mapping[str, ReusedSeries] = field(default_factory=dict)  # series ticker -> its metadata
    quiet: Mapping[str, datetime] = field(default_factory=dict)  # series ticker -> when it listed nothing

    def __bool__(self) -> bool:
        return bool(self.fees or self.quiet)


def _stamp(value: Any, now: datetime, max_age_s: float) -> datetime | None:
    """`value` as an aware time no older than `max_age_s` at `now` (and not after it), else None."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    age = (now - at).total_seconds()
    return at if 0 <= age < max_age_s else None


def _stamps(meta: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = meta.get(key)
    return value if isinstance(value, Mapping) else {}


def reusable_series(payloads: Mapping[str, str] | None, now: datetime, *, ttl_s: float,
                    quiet_recheck_s: float) -> SeriesReuse:
    """What of a stored capture's `payloads` is still young enough at `now` to be reused.

    `ttl_s` (KALSHI_SERIES_TTL_S) bounds the age of reused series metadata, `quiet_recheck_s`
    (KALSHI_QUIET_SERIES_RECHECK_S) that of an empty `GET /events` answer; 0 reuses nothing.
    """
    from arb_pipeline.connectors.snapshot import META_FILE, SERIES_FILE

    if now.tzinfo is None:
        raise ValueError(f"reusable_series: now must be timezone-aware, got {now!r}")
    if ttl_s < 0 or quiet_recheck_s < 0:
        raise ValueError(f"reusable_series: ages must not be negative (ttl_s={ttl_s}, quiet_recheck_s="
                         f"{quiet_recheck_s}; KALSHI_SERIES_TTL_S, KALSHI_QUIET_SERIES_RECHECK_S)")
    if not payloads or META_FILE not in payloads:
        return SeriesReuse()
    try:
        meta = json.loads(payloads[META_FILE])
    except ValueError:
        return SeriesReuse()
    if not isinstance(meta, Mapping):
        return SeriesReuse()

    quiet: dict[str, datetime] = {}
    for ticker, value in _stamps(meta, SERIES_WITHOUT_EVENTS_AT).items():
        if isinstance(ticker, str) and (at := _stamp(value, now, quiet_recheck_s)) is not None:
            quiet[ticker] = at

    fees: dict[str, ReusedSeries] = {}
    fetched = _stamps(meta, SERIES_FETCHED_BY_TICKER)
    if fetched and SERIES_FILE in payloads:
        try:
            items = json.loads(payloads[SERIES_FILE]).get("series")
        except (ValueError, AttributeError):
            items = None
        for item in items if isinstance(items, list) else []:
            ticker = item.get("ticker") if isinstance(item, Mapping) else None
            if isinstance(ticker, str) and (at := _stamp(fetched.get(ticker), now, ttl_s)) is not None:
                fees[ticker] = ReusedSeries(raw=item, fetched_at=at)
    return SeriesReuse(fees=fees, quiet=quiet)

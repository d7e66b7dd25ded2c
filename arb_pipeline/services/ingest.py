"""The ingest use-case: capture one consistent snapshot of both venues.

What is kept is the venues' own responses, unchanged (the same files a snapshot directory holds),
and the `MarketSnapshot` is parsed from exactly those texts by the same code that replays a
recorded snapshot. So a live scan, a replay from disk and a backfill from the database can never
disagree about what was seen.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from arb_pipeline.connectors.snapshot import (
    EVENTS_FILE,
    EXCHANGE_FILE,
    META_FILE,
    ODDS_FETCHED_BY_SPORT,
    ORDERBOOKS_FILE,
    SERIES_FILE,
    TARGETS_FILE,
    PreparsedOdds,
    read_payloads,
)
from arb_pipeline.connectors.sportsbooks.jsonio import dumps_exact
from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.services.kalshi_reuse import SERIES_FETCHED_BY_TICKER, SERIES_WITHOUT_EVENTS_AT, SeriesReuse
from arb_pipeline.services.odds_credits import ReusedOdds
from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)

# requests of one capture in flight at once (ARB_CAPTURE_CONCURRENCY): enough to overlap the venues'
# round trips; the Kalshi rate limiter, not this number, bounds the request rate
DEFAULT_CAPTURE_CONCURRENCY = 4


@dataclass(frozen=True)
class Capture:
    """One capture: the raw files (name → JSON text), the parsed snapshot and what went wrong."""

    snapshot: MarketSnapshot
    payloads: Mapping[str, str]
    problems: tuple[str, ...]
    quota_remaining: int | None  # The Odds API credits left after this capture, when known
    sports_failed: Mapping[str, str]  # sport key → error, for sports whose odds could not be fetched
    markets: tuple[str, ...] = ("h2h",)  # the odds markets asked for
    # credits this capture's odds calls cost: the provider's own x-requests-last where it sent one,
    # else the markets x regions estimate (an upper bound: an empty answer is free)
    credits_used: int = 0


def split_csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def capture(
    kalshi: Any,
    odds: Any,
    *,
    series: Sequence[str],
    sports: Sequence[str],
    source: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    targets_cache: Any = None,
    reuse_odds: Mapping[str, ReusedOdds] | None = None,
    markets: Sequence[str] = ("h2h",),
    concurrency: int = DEFAULT_CAPTURE_CONCURRENCY,
    reuse_series: SeriesReuse | None = None,
) -> Capture:
    """Fetch events (with markets and milestones) of `series`, their order books in batches of 100,
    the structured targets (teams/players) they name — through `targets_cache` when given, a
    `StructuredTargetCache` — series fees, exchange status, and The Odds API odds of `sports`;
    parse them like a replay. `markets` are the odds markets asked for (ODDS_API_MARKETS: h2h,
    spreads, totals); each costs a credit per region per sport (`credits_used` adds them up).

    A sport whose odds call fails is reported in `sports_failed` and the rest is kept: one bad feed
    must not blind the scan to every other league. A Kalshi failure raises (no Kalshi, no scan).

    A sport in `reuse_odds` (odds still within their refresh interval, `services.odds_credits`) is not
    fetched: its earlier response is kept verbatim with its own fetch time (meta.json
    `odds_fetched_at_by_sport`), so its quotes age honestly and cost no credit.

    `concurrency` (ARB_CAPTURE_CONCURRENCY) bounds how many of these requests are in flight at once:
    the events of each series, the books 100 tickers at a time, the series fees and every sport's odds
    are independent, so they overlap; each request still passes its client's rate limiter and retries.

    `reuse_series` (`services.kalshi_reuse`): series metadata still within KALSHI_SERIES_TTL_S is kept
    verbatim with its own fetch time instead of asked again, and a series whose events were asked for
    within KALSHI_QUIET_SERIES_RECHECK_S and listed none is not asked this time (meta.json records both,
    so the next capture knows); every other request is made as before.
    """
    from arb_pipeline.connectors.kalshi.client import MAX_ORDERBOOK_TICKERS
    from arb_pipeline.connectors.kalshi.rawpages import books_file, merge_events_pages
    from arb_pipeline.connectors.sportsbooks.errors import OddsError

    if concurrency < 1:
        raise ValueError(f"capture concurrency must be at least 1, got {concurrency} (ARB_CAPTURE_CONCURRENCY)")
    markets = tuple(dict.fromkeys(markets))
    estimate = getattr(odds, "estimate_cost", None)

    # Odds files are normalized while the capture still waits for the venues (`PreparsedOdds`): on one
    # thread of their own (the parse is CPU-bound: one thread is all the GIL gives), so they never hold
    # an HTTP worker; the snapshot's parse below then takes the results instead of normalizing again.
    parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture-parse")
    preparsed: dict[str, PreparsedOdds] = {}
    fetched_texts: dict[str, str] = {}  # file name -> the odds body as received (set by the HTTP workers)

    def preparse(name: str, text: str, fetched_at: datetime, odds_format: str | None) -> None:
        ready = PreparsedOdds.of(name, text, label=source, fetched_at=fetched_at, odds_format=odds_format)
        preparsed[name] = ready
        parser.submit(ready.run)

    def fetch_odds(sport: str) -> Any:
        try:
            response = odds.fetch_odds(sport, markets=markets)
        except OddsError as exc:
            return exc
        name = getattr(response, "file_name", None) or f"odds_{sport}.json"
        # the body as received: its numbers are the bookmakers' own digits, kept without re-encoding; a
        # provider with its own wire format names its file (pinnacle_<sport>.json), else odds_<sport>.json
        text = response.text if response.text is not None else dumps_exact(response.payload)
        fetched_texts[name] = text
        if name == f"odds_{sport}.json":
            preparse(name, text, response.fetched_at, response.odds_format)
        return response

    reuse_series = reuse_series or SeriesReuse()
    configured = list(dict.fromkeys(series))
    # series that listed no open event a moment ago (out of season): not asked again until their recheck
    quiet = {t: reuse_series.quiet[t] for t in configured if t in reuse_series.quiet}
    asked = [t for t in configured if t not in quiet]
    started = clock()
    # The calls are independent (per series, per 100 books, per sport), so they run on `concurrency`
    # threads; each still goes through its client's rate limiter (Kalshi's shared token bucket) and its
    # retries, and the results are merged in the configured order, so the snapshot is the same as a
    # sequential capture's. The Kalshi chain (events -> books) is the long one: it is queued first, and
    # each series' books (and fees) are asked as soon as its events are in, 100 tickers a call as before,
    # instead of after the slowest series.
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="capture")
    try:
        status_future = pool.submit(kalshi.fetch_exchange_status_payload)
        # the Kalshi responses stay the bytes received, read only for what is asked next (rawpages): they
        # are parsed once, below, as the files this capture stores
        event_futures = {pool.submit(kalshi.fetch_events_pages, series_tickers=[t], status="open"): t
                         for t in asked}
        to_fetch = [sport for sport in sports if sport not in (reuse_odds or {})]
        for sport in dict.fromkeys(sports):  # kept odds: their text is already here
            if (reused := (reuse_odds or {}).get(sport)) is not None:
                preparse(f"odds_{sport}.json", reused.text, reused.fetched_at, reused.odds_format or None)
        odds_futures = {sport: pool.submit(fetch_odds, sport) for sport in dict.fromkeys(to_fetch)}
        pages: dict[str, list[Any]] = {}  # series -> its rawpages.EventsPage list
        pending: list[str] = []  # tickers whose books are not asked yet
        queued: set[str] = set()
        book_futures: list[Future[Any]] = []
        # fees are read per event's series: ask for the series that listed events (of the many configured,
        # out-of-season leagues list none, and one GET /series/{ticker} each would only spend rate budget)
        # (and not for those whose metadata a recent capture already holds: fees change rarely)
        series_futures: dict[str, Future[Any]] = {}
        waiting = set(event_futures)
        while waiting:
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: asked.index(event_futures[f])):
                series_pages = pages[event_futures[future]] = future.result()
                for page in series_pages:
                    for event_tickers, listed_by in zip(page.tickers, page.series, strict=True):
                        for ticker in event_tickers:
                            if ticker not in queued:
                                queued.add(ticker)
                                pending.append(ticker)
                        if listed_by in configured and listed_by not in series_futures \
                                and listed_by not in reuse_series.fees:
                            series_futures[listed_by] = pool.submit(kalshi.fetch_series_payload, [listed_by])
            while len(pending) >= MAX_ORDERBOOK_TICKERS or (pending and not waiting):
                chunk, pending = pending[:MAX_ORDERBOOK_TICKERS], pending[MAX_ORDERBOOK_TICKERS:]
                book_futures.append(pool.submit(kalshi.fetch_orderbooks_pages, chunk))
        events_file = merge_events_pages(page for t in asked for page in pages[t])
        tickers, listed = events_file.tickers, events_file.series
        targets_future = pool.submit(kalshi.fetch_structured_targets_payload, events_file.target_ids,
                                     cache=targets_cache)
        # in the order of the merged events, as one call per 100 of them in that order would return them
        position = {ticker: i for i, ticker in enumerate(tickers)}
        books = [book for f in book_futures for book in f.result()]
        books.sort(key=lambda book: position.get(book[0], len(position)))
        books_at = clock()
        status_payload = status_future.result()
        series_items: list[Any] = []
        series_fetched: dict[str, datetime] = {}
        for t in configured:
            if t in series_futures:
                series_items.extend(series_futures[t].result()["series"])
                series_fetched[t] = started
            elif t in listed and t in reuse_series.fees:
                series_items.append(reuse_series.fees[t].raw)  # verbatim, with its own fetch time
                series_fetched[t] = reuse_series.fees[t].fetched_at
        series_payload = {"series": series_items}
        targets_payload = targets_future.result()
        fetched_odds = {sport: future.result() for sport, future in odds_futures.items()}
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # no Kalshi, no scan: stop what has not started
        parser.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    parser.shutdown(wait=False)  # the parse below takes each result, waiting only for the one under way

    odds_texts: dict[str, str] = {}  # in the configured order of the sports, as before
    formats: dict[str, str] = {}
    failed: dict[str, str] = {}
    odds_at: datetime | None = None
    quota_remaining: int | None = None
    fetched_by_sport: dict[str, datetime] = {}
    credits = 0
    for sport in sports:
        reused = (reuse_odds or {}).get(sport)
        if reused is not None:
            # only The Odds API's files are reused (`services.odds_credits.reusable_odds` reads odds_<sport>.json):
            # another provider's sports are fetched every scan
            odds_texts[f"odds_{sport}.json"] = reused.text
            if reused.odds_format:
                formats[sport] = reused.odds_format
            fetched_by_sport[sport] = reused.fetched_at
            continue
        response = fetched_odds.get(sport)
        if response is None:  # a sport configured twice: fetched once
            continue
        if isinstance(response, OddsError):
            failed[sport] = f"{type(response).__name__}: {response}"
            log.warning("odds for %s not captured: %s", sport, failed[sport])
            continue
        name = getattr(response, "file_name", None) or f"odds_{sport}.json"
        odds_texts[name] = fetched_texts[name]
        formats[sport] = response.odds_format
        odds_at = response.fetched_at if odds_at is None else max(odds_at, response.fetched_at)
        fetched_by_sport[sport] = response.fetched_at
        if response.quota is not None and response.quota.remaining is not None:
            # the calls overlap: the smallest balance reported is the latest
            remaining = int(response.quota.remaining)
            quota_remaining = remaining if quota_remaining is None else min(quota_remaining, remaining)
        if response.quota is not None and response.quota.last is not None:
            credits += int(response.quota.last)
        elif estimate is not None:
            credits += int(estimate(markets))

    # A snapshot is captured when its last response has arrived: evaluating it at that moment means
    # no input can look newer than the scan (a start-of-capture stamp makes the books "from the future").
    finished = clock()
    meta = {
        "captured_at": finished.isoformat(),
        "books_captured_at": books_at.isoformat(),
        "odds_fetched_at": (odds_at or max(fetched_by_sport.values(), default=finished)).isoformat(),
        ODDS_FETCHED_BY_SPORT: {sport: at.isoformat() for sport, at in fetched_by_sport.items()},
        "capture_started_at": started.isoformat(),
        "source": source,
        "odds_format": formats,
        "odds_markets": list(markets),
        "odds_credits_used": credits,
        SERIES_FETCHED_BY_TICKER: {t: at.isoformat() for t, at in series_fetched.items()},
        # asked now and empty, or still within the recheck of an earlier empty answer (its own time)
        SERIES_WITHOUT_EVENTS_AT: {t: quiet.get(t, started).isoformat() for t in configured if t not in listed},
    }
    kalshi = {
        SERIES_FILE: series_payload,
        EXCHANGE_FILE: status_payload,
        TARGETS_FILE: targets_payload,
        META_FILE: meta,
    }
    # Kalshi sends money as strings, so its parsed JSON holds no Decimal and the C encoder is exact;
    # merged pages have no single body to keep. Events and books: the venue's own bytes, spliced
    # (rawpages; valid UTF-8, checked when read).
    texts = {EVENTS_FILE: events_file.text.decode("utf-8"), ORDERBOOKS_FILE: books_file(books).decode("utf-8")}
    texts.update((name, json.dumps(payload, separators=(",", ":"))) for name, payload in kalshi.items())
    texts.update(odds_texts)
    preparsed = {name: ready for name, ready in preparsed.items() if texts.get(name) is ready.text}
    # a capture's snapshot is what the scan reads (`Capture.snapshot`): only the unmapped Kalshi fields the
    # scan reads are kept in its records (and the Kalshi files take the msgspec path, `kalshi.fastwire`);
    # the stored payloads stay verbatim, so a history replay (`parse_payloads`) still reads every field
    from arb_pipeline.services.scan import SCAN_EXTRA_FIELDS

    loaded = read_payloads(texts, source=source, label=source, keep_extra=SCAN_EXTRA_FIELDS, preparsed=preparsed)
    # every file was just decoded in full by the parser (invalid JSON raises there): the store need not
    # decode them again
    from arb_pipeline.storage.repositories.snapshots import DecodedJson

    return Capture(
        snapshot=loaded.snapshot,
        payloads={name: DecodedJson(text) for name, text in texts.items()},
        problems=tuple(str(p) for p in loaded.problems),
        quota_remaining=quota_remaining,
        sports_failed=failed,
        markets=markets,
        credits_used=credits,
    )


def capture_from_settings(settings: Settings, *, source: str | None = None,
                          on_api_calls: Callable[[int, int], object] | None = None,
                          reuse_odds: Mapping[str, ReusedOdds] | None = None,
                          reuse_series: SeriesReuse | None = None) -> Capture:
    """A capture with clients built from the settings (the simulator by default, or the live venues);
    the odds come from the provider ODDS_PROVIDER names (the_odds_api or pinnacle).

    `on_api_calls(attempts, failed)` receives every HTTP attempt both venues' clients made - retries
    included, and also when the capture fails - so market-data failures (5xx bursts, 429 storms,
    timeouts on events, books or odds) count toward the circuit breaker's API error rate.
    """
    from arb_pipeline.connectors.kalshi.client import KalshiClient
    from arb_pipeline.connectors.kalshi.targets import shared_target_cache
    from arb_pipeline.connectors.sportsbooks.registry import live_provider

    def quota_alert(severity: str, message: str) -> None:
        # The odds feed is nearly out of credits (or out): polling stops and a person must know.
        from arb_pipeline.services.alerts import send_alert

        send_alert(severity, "odds quota", message, dedup_key=f"odds-quota:{severity}")

    odds = None
    with KalshiClient.from_settings(settings) as kalshi:
        try:
            odds = live_provider(settings, on_alert=quota_alert)  # ODDS_PROVIDER
            return capture(
                kalshi,
                odds,
                series=split_csv(settings.kalshi_series),
                sports=split_csv(settings.odds_sports),
                source=source or kalshi.base_url,
                markets=settings.odds_markets(),
                targets_cache=shared_target_cache(kalshi.base_url, ttl_s=settings.kalshi_targets_ttl_s),
                reuse_odds=reuse_odds,
                concurrency=settings.capture_concurrency,
                reuse_series=reuse_series,
            )
        finally:
            if odds is not None:
                odds.close()
            if on_api_calls is not None:
                used = kalshi.stats.snapshot()
                attempts = used.requests + (odds.attempts if odds is not None else 0)
                failed = used.errors + (odds.failed_attempts if odds is not None else 0)
                if attempts:
                    on_api_calls(attempts, failed)

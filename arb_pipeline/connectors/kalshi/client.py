"""`KalshiClient`: every Kalshi REST call the pipeline makes, typed end to end.

Market data (events with nested markets and milestones, markets, single and batched order books,
series fees, exchange status) and trading (V2 create and cancel, orders, fills, positions,
balance, settlements). Cross-cutting policy — pooling, timeouts, signing, the shared token
buckets, retries and request stats — lives in `http.KalshiHttp`; parsing lives in the pure
`models`/`orders`/`portfolio` so the replay reads recorded responses identically.

Order safety (DESIGN.md money rule 3): `create_order` always sends the caller's deterministic
`client_order_id`, retries only with that same id, and resolves every ambiguous outcome (a 409 on
a retry, a lost response, an unreadable 201) by *looking the order up*, never by sending another.
If the order can be neither confirmed nor ruled out it raises `KalshiOrderStateUnknown` so the
executor reconciles instead of guessing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from arb_pipeline.domain import (
    ExchangeStatus,
    KalshiEvent,
    KalshiMarket,
    Milestone,
    OrderBookLevels,
    SeriesFees,
    StructuredTarget,
)

from . import models as m
from . import orders as od
from . import portfolio as pf
from . import rawpages as rp
from . import targets as tg
from .errors import (
    KalshiConnectionError,
    KalshiError,
    KalshiNotFound,
    KalshiOrderRejected,
    KalshiOrderStateUnknown,
    KalshiResponseError,
    KalshiServerError,
    KalshiTimeout,
)
from .http import Backoff, KalshiHttp, Timeouts
from .ratelimit import RateLimiter
from .signing import KalshiSigner
from .stats import RequestStats

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ORDERBOOK_TICKERS = 100  # GET /markets/orderbooks accepts 1-100 tickers per call (§5.3)
MAX_PAGES = 10_000  # a runaway cursor must end, not loop forever
_ID = re.compile(r"^[A-Za-z0-9._:-]+$")  # tickers and order ids; refuses anything that could alter a path
_AMBIGUOUS = (KalshiServerError, KalshiTimeout, KalshiConnectionError)


def _path_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"{what} {value!r} is not a valid Kalshi identifier")
    return value


def _params(**filters: Any) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v is not None}


def merge_events_payloads(pages: Iterable[Any]) -> dict[str, Any]:
    """`GET /events` pages (or already merged responses) as one response object (`cursor: ""`): events in
    page order, milestones de-duplicated by id (first seen kept). Merging per-series responses fetched
    concurrently, in series order, gives the same object as fetching the series one after another."""
    events: list[Any] = []
    milestones: dict[str, Any] = {}
    for page in pages:
        events.extend(page.get("events") or [])
        for milestone in page.get("milestones") or []:
            milestones.setdefault(milestone.get("id"), milestone)
    return {"events": events, "milestones": list(milestones.values()), "cursor": ""}


class KalshiClient:
    """One pooled, rate-limited, retrying, signing client. Thread-safe; share one per process."""

    def __init__(
        self,
        base_url: str,
        *,
        signer: KalshiSigner | None = None,
        tier: str = "basic",
        timeouts: Timeouts | None = None,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        stats: RequestStats | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.tier = tier
        self.stats = stats or RequestStats()
        self.rate_limiter = rate_limiter or RateLimiter.shared(tier)
        self._signed = signer is not None
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._http = KalshiHttp(
            base_url,
            signer=signer,
            limiter=self.rate_limiter,
            stats=self.stats,
            timeouts=timeouts or Timeouts(),
            max_retries=max_retries,
            backoff=self._backoff,
            transport=transport,
            sleep=sleep,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> KalshiClient:
        kwargs: dict[str, Any] = {
            "signer": KalshiSigner.from_settings(settings),
            "tier": settings.kalshi_tier,
            "timeouts": Timeouts(settings.kalshi_connect_timeout_s, settings.kalshi_read_timeout_s),
            "max_retries": settings.kalshi_max_retries,
        }
        kwargs.update(overrides)
        return cls(settings.kalshi_base_url, **kwargs)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KalshiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KalshiClient(base_url={self.base_url!r}, tier={self.tier!r}, signed={self._signed})"

    def _get(self, path: str, endpoint: str, params: Any = None, *, raw: bool = False) -> Any:
        return self._http.request("GET", path, endpoint=endpoint, params=params, raw=raw)

    def _pages(
        self, path: str, endpoint: str, params: dict[str, Any], parse: Callable[[Any], tuple[T, str]],
        *, raw: bool = False,
    ) -> Iterator[T]:
        """Follow `cursor` until it is empty (null tolerated), keeping every other filter fixed. `parse`
        gets each decoded page (with `raw`: its bytes) and returns (what to yield, the next cursor)."""
        cursor = ""
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            payload = self._get(path, endpoint, {**params, "cursor": cursor} if cursor else params, raw=raw)
            page, cursor = parse(payload)
            yield page
            if not cursor:
                return
            if cursor in seen:
                raise KalshiResponseError(f"cursor {cursor[:40]!r} repeated: pagination would loop", endpoint=endpoint)
            seen.add(cursor)
        raise KalshiResponseError(f"more than {MAX_PAGES} pages", endpoint=endpoint)

    # --- market data -----------------------------------------------------------------------------
    def get_exchange_status(self) -> ExchangeStatus:
        return m.parse_exchange_status(self._get("/exchange/status", m.EXCHANGE_STATUS))

    def get_series(self, series_ticker: str) -> SeriesFees:
        path = f"/series/{_path_id(series_ticker, 'series ticker')}"
        return m.parse_series(self._get(path, m.SERIES))

    def iter_event_pages(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        with_nested_markets: bool = True,
        with_milestones: bool = True,
        limit: int = 200,
        **filters: Any,
    ) -> Iterator[tuple[list[KalshiEvent], list[Milestone]]]:
        if not 1 <= limit <= 200:
            raise ValueError("GET /events accepts limit 1..200")
        params = _params(
            series_ticker=series_ticker,
            status=status,
            with_nested_markets=with_nested_markets,
            with_milestones=with_milestones,
            limit=limit,
            **filters,
        )

        def parse(payload: Any) -> tuple[tuple[list[KalshiEvent], list[Milestone]], str]:
            events, milestones, cursor = m.parse_events_response(payload, endpoint=m.EVENTS)
            return (events, milestones), cursor

        yield from self._pages("/events", m.EVENTS, params, parse)

    def iter_events(self, **kwargs: Any) -> Iterator[KalshiEvent]:
        for events, _ in self.iter_event_pages(**kwargs):
            yield from events

    def get_all_events(self, **kwargs: Any) -> tuple[list[KalshiEvent], list[Milestone]]:
        """Every page of events, and their milestones de-duplicated by id (pages may repeat one)."""
        events: list[KalshiEvent] = []
        milestones: dict[str, Milestone] = {}
        for page_events, page_milestones in self.iter_event_pages(**kwargs):
            events.extend(page_events)
            milestones.update((ms.id, ms) for ms in page_milestones)
        return events, list(milestones.values())

    def iter_markets(self, *, limit: int = 1000, **filters: Any) -> Iterator[KalshiMarket]:
        """`GET /markets` with any filters (event_ticker, series_ticker, status, tickers, *_ts...)."""
        if not 1 <= limit <= 1000:
            raise ValueError("GET /markets accepts limit 1..1000")
        params = _params(limit=limit, **filters)
        for page in self._pages("/markets", m.MARKETS, params, lambda p: m.parse_markets_response(p)):
            yield from page

    def get_orderbook(self, ticker: str, depth: int = 0) -> OrderBookLevels:
        if not 0 <= depth <= 100:
            raise ValueError("orderbook depth must be 0 (all levels) to 100")
        path = f"/markets/{_path_id(ticker, 'ticker')}/orderbook"
        payload = self._get(path, m.ORDERBOOK, _params(depth=depth or None))
        return m.parse_orderbook_response(ticker, payload)

    def get_orderbooks(self, tickers: Iterable[str]) -> dict[str, OrderBookLevels]:
        """Books of many markets, 100 tickers per call (`?tickers=A&tickers=B`).

        A slate of N markets costs ceil(N/100) reads of 10 tokens: a whole refresh fits the Basic
        read bucket. Tickers the venue does not return are absent from the result (logged).
        """
        wanted = list(dict.fromkeys(_path_id(t, "ticker") for t in tickers))
        books: dict[str, OrderBookLevels] = {}
        for start in range(0, len(wanted), MAX_ORDERBOOK_TICKERS):
            chunk = wanted[start : start + MAX_ORDERBOOK_TICKERS]
            payload = self._get("/markets/orderbooks", m.ORDERBOOKS, [("tickers", t) for t in chunk])
            books.update(m.parse_orderbooks_response(payload))
        missing = [t for t in wanted if t not in books]
        if missing:
            log.warning("kalshi %s returned no book for %d tickers: %s", m.ORDERBOOKS, len(missing), missing[:10])
        return books

    def get_structured_target(self, target_id: str) -> StructuredTarget:
        """`GET /structured_targets/{id}`: who a `custom_strike` / milestone team id is."""
        path = f"/structured_targets/{_path_id(target_id, 'structured target id')}"
        return tg.parse_structured_target_response(self._get(path, tg.STRUCTURED_TARGET))

    def iter_structured_targets(self, *, ids: Iterable[str] = (), page_size: int = 1000,
                                **filters: Any) -> Iterator[StructuredTarget]:
        """`GET /structured_targets` with `ids` (repeated parameter, sent 100 at a time), `type` and
        `competition` filters, following the cursor."""
        if not 1 <= page_size <= tg.MAX_PAGE_SIZE:
            raise ValueError(f"GET /structured_targets accepts page_size 1..{tg.MAX_PAGE_SIZE}")
        wanted = [_path_id(i, "structured target id") for i in dict.fromkeys(ids)]
        chunks = [wanted[i:i + tg.MAX_IDS_PER_CALL] for i in range(0, len(wanted), tg.MAX_IDS_PER_CALL)] or [[]]
        for chunk in chunks:
            params = [("page_size", page_size), *_params(**filters).items(), *(("ids", i) for i in chunk)]
            for parsed, _raw in self._target_pages(params):
                yield from parsed.values()

    def _target_pages(self, params: list[tuple[str, Any]]
                      ) -> Iterator[tuple[dict[str, StructuredTarget], dict[str, Any]]]:
        """Pages of (parsed, raw) targets by id; the cursor may be absent on the last page."""
        cursor = ""
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            payload = self._get("/structured_targets", tg.STRUCTURED_TARGETS,
                                params + ([("cursor", cursor)] if cursor else []))
            parsed, cursor = tg.parse_structured_targets_response(payload)  # validates every object
            yield parsed, {item["id"]: item for item in payload["structured_targets"]}
            if not cursor:
                return
            if cursor in seen:
                raise KalshiResponseError(f"cursor {cursor[:40]!r} repeated: pagination would loop",
                                          endpoint=tg.STRUCTURED_TARGETS)
            seen.add(cursor)
        raise KalshiResponseError(f"more than {MAX_PAGES} pages", endpoint=tg.STRUCTURED_TARGETS)

    def fetch_structured_target_objects(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Raw target objects by id: the list endpoint 100 ids at a time, then
        `GET /structured_targets/{id}` for any id the list left out. An id the venue answers 404 for
        is absent from the result (logged); any other error raises."""
        wanted = [_path_id(i, "structured target id") for i in dict.fromkeys(ids)]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), tg.MAX_IDS_PER_CALL):
            chunk = wanted[start:start + tg.MAX_IDS_PER_CALL]
            params = [("page_size", len(chunk)), *(("ids", i) for i in chunk)]
            for _parsed, raw in self._target_pages(params):
                found.update((i, raw[i]) for i in chunk if i in raw)
        for target_id in (i for i in wanted if i not in found):
            try:
                payload = self._get(f"/structured_targets/{target_id}", tg.STRUCTURED_TARGET)
            except KalshiNotFound:
                log.warning("kalshi structured target %s not found", target_id)
                continue
            target = tg.parse_structured_target_response(payload)
            if target.id != target_id:
                raise KalshiResponseError(f"asked for structured target {target_id!r}, got {target.id!r}",
                                          endpoint=tg.STRUCTURED_TARGET)
            found[target_id] = payload["structured_target"]
        return found

    # --- raw responses, for recording a snapshot exactly as the venue sent it ----------------------
    # The parsed methods above are what scans use; these keep the venue's own JSON so that a live
    # scan, a replay and a backfill all parse the very same texts (services/ingest.py).

    def fetch_exchange_status_payload(self) -> Any:
        payload = self._get("/exchange/status", m.EXCHANGE_STATUS)
        m.parse_exchange_status(payload)  # validate now: a bad response fails the capture, loudly
        return payload

    def fetch_events_payload(self, *, series_tickers: Iterable[str] = (), status: str | None = "open",
                             limit: int = 200) -> dict[str, Any]:
        """Every page of `GET /events?with_nested_markets=true&with_milestones=true` for each series,
        merged into one response object (`cursor: ""`), milestones de-duplicated by id."""

        def parse(payload: Any) -> tuple[Any, str]:
            m.parse_events_response(payload, endpoint=m.EVENTS)  # validates every field we rely on
            return payload, payload.get("cursor") or ""

        pages: list[Any] = []
        for series in list(series_tickers) or [None]:
            params = _params(series_ticker=series, status=status, with_nested_markets=True,
                             with_milestones=True, limit=limit)
            pages.extend(self._pages("/events", m.EVENTS, params, parse))
        return merge_events_payloads(pages)

    def fetch_events_pages(self, *, series_tickers: Iterable[str] = (), status: str | None = "open",
                           limit: int = 200) -> list[rp.EventsPage]:
        """`fetch_events_payload` for a capture: every page as the bytes received, with the tickers,
        series, target ids and cursor read without parsing the rest (`rawpages`); merge them with
        `rawpages.merge_events_pages`."""

        def parse(content: bytes) -> tuple[rp.EventsPage, str]:
            page = rp.read_events_page(content, endpoint=m.EVENTS)
            return page, page.cursor

        pages: list[rp.EventsPage] = []
        for series in list(series_tickers) or [None]:
            params = _params(series_ticker=series, status=status, with_nested_markets=True,
                             with_milestones=True, limit=limit)
            pages.extend(self._pages("/events", m.EVENTS, params, parse, raw=True))
        return pages

    def fetch_structured_targets_payload(self, ids: Iterable[str],
                                         cache: tg.StructuredTargetCache | None = None) -> dict[str, Any]:
        """The structured targets `ids` name, as one `GET /structured_targets` response object
        (`cursor: ""`), served from `cache` where fresh; ids the venue does not know are left out."""
        wanted = list(dict.fromkeys(ids))
        objects = (cache.lookup(wanted, self.fetch_structured_target_objects) if cache is not None
                   else self.fetch_structured_target_objects(wanted))
        return {"structured_targets": [objects[i] for i in wanted if i in objects], "cursor": ""}

    def fetch_orderbooks_payload(self, tickers: Iterable[str]) -> dict[str, Any]:
        """`GET /markets/orderbooks` in calls of 100 tickers, merged into one response object."""
        wanted = list(dict.fromkeys(_path_id(t, "ticker") for t in tickers))
        books: list[Any] = []
        for start in range(0, len(wanted), MAX_ORDERBOOK_TICKERS):
            chunk = wanted[start : start + MAX_ORDERBOOK_TICKERS]
            payload = self._get("/markets/orderbooks", m.ORDERBOOKS, [("tickers", t) for t in chunk])
            m.parse_orderbooks_response(payload)
            books.extend(payload.get("orderbooks") or [])
        return {"orderbooks": books}

    def fetch_orderbooks_pages(self, tickers: Iterable[str]) -> list[tuple[str, bytes]]:
        """`fetch_orderbooks_payload` for a capture: (ticker, that book's JSON as received) per book, in
        calls of 100 tickers (`rawpages`); `rawpages.books_file` writes them as one response."""
        wanted = list(dict.fromkeys(_path_id(t, "ticker") for t in tickers))
        books: list[tuple[str, bytes]] = []
        for start in range(0, len(wanted), MAX_ORDERBOOK_TICKERS):
            chunk = wanted[start : start + MAX_ORDERBOOK_TICKERS]
            content = self._get("/markets/orderbooks", m.ORDERBOOKS, [("tickers", t) for t in chunk], raw=True)
            books.extend(rp.read_books_page(content, endpoint=m.ORDERBOOKS).books)
        return books

    def fetch_series_payload(self, series_tickers: Iterable[str]) -> dict[str, Any]:
        """`GET /series/{ticker}` for each series, as one `{"series": [...]}` object."""
        series: list[Any] = []
        for ticker in series_tickers:
            payload = self._get(f"/series/{_path_id(ticker, 'series ticker')}", m.SERIES)
            m.parse_series(payload)
            series.append(payload.get("series", payload))
        return {"series": series}

    # --- trading ---------------------------------------------------------------------------------
    def create_order(
        self,
        ticker: str,
        side: str,
        count: Decimal,
        price: Decimal,
        time_in_force: str,
        client_order_id: str,
        **opts: Any,
    ) -> od.CreateOrderResult:
        """Place one V2 limit order; `side` is the YES-leg book side ("bid" buys YES, "ask" buys NO
        at 1 - price; see `yes_leg_order`). Validated locally before any request is sent.
        """
        body = od.build_create_order_body(ticker, side, count, price, time_in_force, client_order_id, **opts)
        ambiguous = False

        def on_retry(_attempt: int, exc: KalshiError) -> None:
            nonlocal ambiguous
            ambiguous = ambiguous or isinstance(exc, _AMBIGUOUS)

        try:
            payload = self._http.request(
                "POST", "/portfolio/events/orders", endpoint=od.CREATE_ORDER, json=body, order_endpoint=True,
                on_retry=on_retry,
            )
            return od.parse_create_order_response(payload, client_order_id=client_order_id)
        except KalshiOrderRejected as exc:
            if exc.status != 409:
                raise
            # Duplicate client_order_id: an earlier attempt (or an earlier process) placed it. Even on
            # a first attempt a 409 means the order may exist, so not finding it is "unknown", never
            # "rejected" (a rejected intent would be treated as definitely not placed).
            existing = self._await_existing(body, required=True, cause=exc)
            if existing is None:  # required=True raises instead; kept explicit for -O safety
                raise
            log.warning("kalshi order %s already placed (409 on %s); using the existing order",
                        client_order_id, "retry" if ambiguous else "first attempt")
            return od.CreateOrderResult.from_existing(existing)
        except _AMBIGUOUS as exc:
            # Retries exhausted after a response that may have been lost after processing.
            existing = self._await_existing(body, required=True, cause=exc)
            if existing is None:  # required=True raises instead; kept explicit for -O safety
                raise
            return od.CreateOrderResult.from_existing(existing)
        except KalshiResponseError as exc:
            raise KalshiOrderStateUnknown(
                f"the order may be placed but its response was unreadable: {exc.message}",
                client_order_id=client_order_id, endpoint=od.CREATE_ORDER, status=exc.status,
            ) from None

    def _await_existing(
        self, body: dict[str, Any], *, required: bool, cause: KalshiError | None = None
    ) -> od.Order | None:
        """Find the order `body` placed, allowing for portfolio lag (§9.1); check it is the same order.

        `required`: the order may exist, so failing to find it raises KalshiOrderStateUnknown
        rather than returning None.
        """
        coid = body["client_order_id"]
        attempts = 3 if required else 1
        found: od.Order | None = None
        lookup_error: KalshiError | None = None
        for attempt in range(attempts):
            try:
                found = self.find_order_by_client_order_id(coid, ticker=body["ticker"])
                lookup_error = None
            except KalshiError as exc:
                lookup_error = exc
            if found is not None:
                break
            if attempt + 1 < attempts:
                (self._sleep or time.sleep)(self._backoff.initial_s * 2**attempt)
        if found is None:
            if not required:
                return None
            why = cause or lookup_error
            raise KalshiOrderStateUnknown(
                "the order may have been placed but could not be found"
                + (f" (last error: {type(why).__name__}: {why})" if why else ""),
                client_order_id=coid, endpoint=od.CREATE_ORDER,
            )
        same = (
            found.ticker == body["ticker"]
            and found.book_side == body["side"]
            and found.yes_price == Decimal(body["price"])
            and found.initial_count == Decimal(body["count"])
        )
        if not same:
            raise KalshiOrderRejected(
                f"client_order_id is already used by a different order ({found.order_id}: {found.ticker} "
                f"{found.book_side} {found.initial_count} @ {found.yes_price})",
                endpoint=od.CREATE_ORDER, status=409, code="client_order_id_conflict",
            )
        return found

    def find_order_by_client_order_id(self, client_order_id: str, *, ticker: str | None = None) -> od.Order | None:
        """Scan `GET /portfolio/orders` (there is no client_order_id filter) for our order."""
        for order in self.iter_orders(ticker=ticker):
            if order.client_order_id == client_order_id:
                return order
        return None

    def cancel_order(self, order_id: str, market_ticker: str, *, subaccount: int | None = None) -> od.CancelOrderResult:
        """V2 cancel; `market_ticker` lets Kalshi route to the order's shard (kalshi-api.md §6.3;
        the 3.15 spec omits the parameter, the current API needs it)."""
        path = f"/portfolio/events/orders/{_path_id(order_id, 'order id')}"
        params = _params(market_ticker=_path_id(market_ticker, "market ticker"), subaccount=subaccount)
        payload = self._http.request("DELETE", path, endpoint=od.CANCEL_ORDER, params=params, order_endpoint=True)
        return od.parse_cancel_order_response(payload)

    def iter_orders(self, *, limit: int = 1000, **filters: Any) -> Iterator[od.Order]:
        params = _params(limit=limit, **filters)
        for page in self._pages("/portfolio/orders", od.ORDERS, params, lambda p: od.parse_orders_response(p)):
            yield from page

    def get_orders(self, **filters: Any) -> list[od.Order]:
        """All orders matching the filters (ticker, event_ticker, status, min_ts, max_ts...)."""
        return list(self.iter_orders(**filters))

    def get_order(self, order_id: str) -> od.Order:
        payload = self._get(f"/portfolio/orders/{_path_id(order_id, 'order id')}", od.ORDER)
        return od.parse_order_response(payload)

    def get_fills(self, *, limit: int = 1000, **filters: Any) -> list[pf.Fill]:
        params = _params(limit=limit, **filters)
        return [f for page in self._pages("/portfolio/fills", pf.FILLS, params, pf.parse_fills_response) for f in page]

    def get_positions(self, *, limit: int = 1000, **filters: Any) -> pf.Positions:
        params = _params(limit=limit, **filters)
        markets: list[pf.MarketPosition] = []
        events: list[pf.EventPosition] = []
        for page in self._pages("/portfolio/positions", pf.POSITIONS, params, pf.parse_positions_response):
            markets.extend(page.market_positions)
            events.extend(page.event_positions)
        return pf.Positions(market_positions=tuple(markets), event_positions=tuple(events))

    def get_balance(self, *, subaccount: int | None = None, exchange_index: int | None = None) -> pf.Balance:
        payload = self._get("/portfolio/balance", pf.BALANCE, _params(subaccount=subaccount, exchange_index=exchange_index))
        return pf.parse_balance(payload)

    def get_settlements(self, *, limit: int = 1000, **filters: Any) -> list[pf.Settlement]:
        params = _params(limit=limit, **filters)
        pages = self._pages("/portfolio/settlements", pf.SETTLEMENTS, params, pf.parse_settlements_response)
        return [s for page in pages for s in page]


_shared_lock = threading.Lock()
_shared_client: KalshiClient | None = None


def get_shared_client(settings: Settings | None = None) -> KalshiClient:
    """The process-wide client (one connection pool, one set of buckets), built on first use."""
    global _shared_client
    with _shared_lock:
        if _shared_client is None:
            if settings is None:
                from arb_pipeline.settings import get_settings

                settings = get_settings()
            _shared_client = KalshiClient.from_settings(settings)
        return _shared_client


def close_shared_client() -> None:
    global _shared_client
    with _shared_lock:
        if _shared_client is not None:
            _shared_client.close()
            _shared_client = None

"""Pure parsers from Kalshi's market-data JSON to the shared `domain` records.

Pure on purpose (no httpx, no I/O): the live client and the snapshot replay both parse with these
functions, so a recorded response means exactly what it meant when it was captured.

Which fields are *required*: those the spec (3.34, kalshi-api.md §14) requires **and** that we
map onto a record. A missing one raises `KalshiResponseError` naming the endpoint and the field
path. Fields we do not map are never required; they are kept verbatim in the record's `extra`,
together with any field Kalshi adds later. Where the saved 3.15 OpenAPI file and kalshi-api.md
disagree (e.g. `fee_multiplier` required, `collateral_return_type` values), kalshi-api.md wins.

Trading models live in `orders` (orders, create/cancel) and `portfolio` (fills, positions,
balance, settlements) and are re-exported here so `models` is the one import for wire parsing -
imported on first use of one of their names (PEP 562), because a scan's load imports `models` for the
market-data parsers and places no order (~7 ms of its imports).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from importlib import import_module
from typing import Any

from arb_pipeline.domain import (
    ExchangeStatus,
    KalshiEvent,
    KalshiMarket,
    Milestone,
    OrderBookLevels,
    PriceRange,
    SeriesFees,
)

from .errors import KalshiResponseError
from .wire import ONE, ZERO, Reader, to_datetime, to_decimal

# The trading models re-exported from `orders` and `portfolio`: name -> its module.
REEXPORTED = {
    **dict.fromkeys(("CancelOrderResult", "CreateOrderResult", "Order", "build_create_order_body",
                     "parse_cancel_order_response", "parse_create_order_response", "parse_order",
                     "parse_order_response", "parse_orders_response", "yes_leg_order"), "orders"),
    **dict.fromkeys(("Balance", "EventPosition", "Fill", "MarketPosition", "Positions", "Settlement",
                     "parse_balance", "parse_fill", "parse_fills_response", "parse_positions_response",
                     "parse_settlement", "parse_settlements_response"), "portfolio"),
}


def __getattr__(name: str) -> object:
    module = REEXPORTED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__package__}.{module}"), name)
    globals()[name] = value  # later lookups find it directly
    return value

EVENTS = "GET /events"
MARKETS = "GET /markets"
ORDERBOOK = "GET /markets/{ticker}/orderbook"
ORDERBOOKS = "GET /markets/orderbooks"
SERIES = "GET /series/{series_ticker}"
EXCHANGE_STATUS = "GET /exchange/status"


def _price_ranges(r: Reader) -> tuple[PriceRange, ...]:
    bands = []
    for band in r.children("price_ranges"):
        start = band.dollars("start", lo=ZERO, hi=ONE)
        end = band.dollars("end", lo=ZERO, hi=ONE)
        step = band.dollars("step", lo=ZERO, hi=ONE)
        if step <= 0 or end < start:
            raise KalshiResponseError(
                f"field {band.path!r} is not a valid price band: start={start} end={end} step={step}",
                endpoint=r.endpoint,
            )
        bands.append(PriceRange(start=start, end=end, step=step))
    return tuple(bands)


def _custom_strike(r: Reader) -> Mapping[str, str] | None:
    raw = r.raw("custom_strike", required=False, nullable=True)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise KalshiResponseError(f"field {r.field('custom_strike')!r} must be an object", endpoint=r.endpoint)
    return strike_texts(raw)


def strike_texts(raw: Mapping[Any, Any]) -> dict[str, str]:
    """A `custom_strike` object as texts: strings kept, any other value as its sorted-key JSON (one rule
    for every reader of the field: here and `fastwire`)."""
    return {str(k): v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in raw.items()}


def _market(r: Reader) -> KalshiMarket:
    price = {"lo": ZERO, "hi": ONE}
    return KalshiMarket(
        ticker=r.ident("ticker"),
        event_ticker=r.ident("event_ticker"),
        status=r.ident("status"),
        market_type=r.text("market_type"),
        yes_sub_title=r.text("yes_sub_title"),
        no_sub_title=r.text("no_sub_title"),
        rules_primary=r.text("rules_primary"),
        rules_secondary=r.text("rules_secondary"),
        open_time=r.time("open_time"),
        close_time=r.time("close_time"),
        expected_expiration_time=r.opt_time("expected_expiration_time"),
        occurrence_datetime=r.opt_time("occurrence_datetime"),
        yes_bid=r.nullable_dollars("yes_bid_dollars", **price),
        yes_ask=r.nullable_dollars("yes_ask_dollars", **price),
        no_bid=r.nullable_dollars("no_bid_dollars", **price),
        no_ask=r.nullable_dollars("no_ask_dollars", **price),
        price_level_structure=r.text("price_level_structure"),
        price_ranges=_price_ranges(r),
        custom_strike=_custom_strike(r),
        exchange_index=r.integer("exchange_index", required=False) or 0,
        fee_waiver_expiration_time=r.opt_time("fee_waiver_expiration_time"),
        title=r.text("title", required=False),
        extra=r.extra(),
    )


_MARKET_IDENTS = ("ticker", "event_ticker", "status")
_MARKET_TEXTS = ("market_type", "yes_sub_title", "no_sub_title", "rules_primary", "rules_secondary",
                 "price_level_structure")
_MARKET_PRICES = ("yes_bid_dollars", "yes_ask_dollars", "no_bid_dollars", "no_ask_dollars")
_MARKET_OPT_TIMES = ("expected_expiration_time", "occurrence_datetime", "fee_waiver_expiration_time")
# every field `_market` reads (a Reader counts a field as read even when it is absent): the rest is `extra`
_MARKET_READ = frozenset((*_MARKET_IDENTS, *_MARKET_TEXTS, *_MARKET_PRICES, *_MARKET_OPT_TIMES, "open_time",
                          "close_time", "price_ranges", "custom_strike", "exchange_index", "title"))


class _NotPlain(Exception):
    """A market field is not in its plain, valid form: `_market` reads it (and names any problem)."""


def _plain_market(r: Reader) -> KalshiMarket | None:
    """`_market(r)` for a well-formed market, read straight from its dict with the reader's shared
    texts, prices and times (`Reader.strings` / `numbers` / `times`) — or None, and `_market` reads it
    field by field (the same record, or the error naming the field).

    Why: a recorded 5,000-game snapshot has 11,000 markets of ~45 fields; the field-by-field reader
    spent ~60 µs on each, and most of their dollar prices, timestamps and price grids are the same few
    texts. Accepts exactly what `_market` accepts from parsed JSON (strings, ints, dicts, lists);
    anything else returns None."""
    obj, strings, numbers, times = r.obj, r.strings, r.numbers, r.times
    if type(obj) is not dict or strings is None or numbers is None or times is None:
        return None
    get, share = obj.get, strings.setdefault
    try:
        idents = []
        for key in _MARKET_IDENTS:
            value = get(key)
            if type(value) is not str or not value:
                raise _NotPlain
            idents.append(share(value, value))
        texts = []
        for key in _MARKET_TEXTS:
            value = get(key)
            if type(value) is not str:
                raise _NotPlain
            texts.append(share(value, value))
        prices = []
        for key in _MARKET_PRICES:
            value = get(key, _NotPlain)
            if value is None:
                prices.append(None)
                continue
            number = numbers.get(value) if type(value) is str else None
            if number is None:
                number = r._decimal(key, value)  # raises for anything but a fixed-point string
            if not ZERO <= number <= ONE:
                raise _NotPlain
            prices.append(number)
        open_time, close_time = _plain_time(obj["open_time"], times), _plain_time(obj["close_time"], times)
        optional = []
        for key in _MARKET_OPT_TIMES:
            value = get(key)
            optional.append(None if value is None or value == "" else _plain_time(value, times))
        ranges = _plain_price_ranges(get("price_ranges"), numbers)
        strike = get("custom_strike")
        if strike is not None:
            if type(strike) is not dict or any(type(v) is not str for v in strike.values()):
                raise _NotPlain
            strike = r.shared_texts({share(k, k): share(v, v) for k, v in strike.items()})
        index = get("exchange_index")
        if index is None:
            index = 0
        elif type(index) is not int:
            raise _NotPlain
        title = get("title")
        if title is None:
            title = ""
        elif type(title) is not str:
            raise _NotPlain
    except (_NotPlain, KeyError, KalshiResponseError):
        return None
    keep = r.keep_extra
    items = obj.items() if keep is None else [(k, v) for k, v in obj.items() if k in keep]
    extra = r.shared_texts({share(k, k): share(v, v) if type(v) is str else v for k, v in items if k not in _MARKET_READ})
    return KalshiMarket(idents[0], idents[1], idents[2], texts[0], texts[1], texts[2], texts[3], texts[4],
                        open_time, close_time, optional[0], optional[1], prices[0], prices[1], prices[2],
                        prices[3], texts[5], ranges, strike, index or 0, optional[2], share(title, title), extra)


def _plain_time(value: Any, times: dict[str, datetime]) -> datetime:
    found = times.get(value) if type(value) is str else None
    if found is None:
        if type(value) is not str:
            raise _NotPlain
        found = times[value] = to_datetime(value, field="", endpoint="")  # raises for a bad time
    return found


def _plain_price_ranges(bands: Any, numbers: dict[str, Decimal]) -> tuple[PriceRange, ...]:
    """The price grid of `_price_ranges`; one shared tuple per distinct grid text (markets repeat it)."""
    if type(bands) is not list:
        raise _NotPlain
    key = []
    for band in bands:
        if type(band) is not dict:
            raise _NotPlain
        start, end, step = band.get("start"), band.get("end"), band.get("step")
        if type(start) is not str or type(end) is not str or type(step) is not str:
            raise _NotPlain
        key.append((start, end, step))
    grid = price_grid(tuple(key), numbers)
    if grid is None:
        raise _NotPlain
    return grid


def price_grid(bands: tuple[tuple[str, str, str], ...], numbers: dict[Any, Any]) -> tuple[PriceRange, ...] | None:
    """The `price_ranges` of `(start, end, step)` texts as `_price_ranges` reads them, or None when a band
    is not a valid one (then `_price_ranges` names the problem). One shared tuple per distinct grid, kept
    in `numbers` (markets repeat it); used by `_plain_price_ranges` and `fastwire`."""
    key = ("price_ranges", *bands)
    grid = numbers.get(key)
    if grid is None:
        out = []
        for start, end, step in bands:
            try:
                values = [to_decimal(text, field="", endpoint="") for text in (start, end, step)]
            except KalshiResponseError:
                return None
            if not all(ZERO <= v <= ONE for v in values) or values[2] <= 0 or values[1] < values[0]:
                return None
            out.append(PriceRange(*values))
        grid = numbers[key] = tuple(out)
    return grid


def parse_market(obj: Any, endpoint: str = MARKETS, *, path: str = "market") -> KalshiMarket:
    """One `Market` object (e.g. an item of `GET /markets`' `markets` array)."""
    return _market(Reader(obj, endpoint=endpoint, path=path))


def parse_markets_response(payload: Any, *, endpoint: str = MARKETS) -> tuple[list[KalshiMarket], str]:
    """`{markets: [Market], cursor}` -> (markets, cursor); cursor "" means last page."""
    r = Reader(payload, endpoint=endpoint, path="")
    markets = [_market(m) for m in r.children("markets")]
    return markets, r.cursor()


def _event(r: Reader) -> KalshiEvent:
    return KalshiEvent(
        event_ticker=r.ident("event_ticker"),
        series_ticker=r.ident("series_ticker"),
        title=r.text("title"),
        sub_title=r.text("sub_title"),
        mutually_exclusive=r.flag("mutually_exclusive"),
        collateral_return_type=r.text("collateral_return_type"),
        markets=tuple(_plain_market(m) or _market(m) for m in r.children("markets", required=False)),
        product_metadata=r.mapping("product_metadata", required=False),
        fee_type_override=r.opt_text("fee_type_override"),
        fee_multiplier_override=r.opt_number("fee_multiplier_override"),
        exchange_index=r.integer("exchange_index", required=False) or 0,
        extra=r.extra(),
    )


def parse_event(obj: Any, *, endpoint: str = EVENTS, path: str, strings: dict[str, str] | None = None,
                numbers: dict[str, Any] | None = None, times: dict[str, datetime] | None = None,
                keep_extra: frozenset[str] | None = None) -> KalshiEvent:
    """One item of `GET /events`' `events` array (at `path`, e.g. "events[3]"), as `parse_events_response`
    reads it: the same record, and the same error for the same bad field. `strings` (one dict for a
    whole response) shares repeated texts among the records, `numbers` repeated prices and `times`
    repeated timestamps (`wire.Reader.strings` / `numbers` / `times`); with all three, well-formed markets
    are read by `_plain_market`. `keep_extra`: the only unmapped fields the event's and its markets'
    `extra` keep (None: every one; `wire.Reader.keep_extra`) - every mapped field is read and checked
    as always."""
    return _event(Reader(obj, endpoint=endpoint, path=path, strings=strings, numbers=numbers, times=times,
                         keep_extra=keep_extra))


def parse_milestone(obj: Any, *, endpoint: str = EVENTS, path: str, strings: dict[str, str] | None = None) -> Milestone:
    """One item of `GET /events`' `milestones` array (at `path`), as `parse_events_response` reads it;
    `strings` as `parse_event`'s (the events' tickers and the details' keys kept once)."""
    return _milestone(Reader(obj, endpoint=endpoint, path=path, strings=strings))


def parse_cursor(obj: Any, *, endpoint: str = EVENTS) -> str:
    """The `cursor` of a paginated response body (an object holding at least `cursor`)."""
    return Reader(obj, endpoint=endpoint, path="").cursor()


def _milestone(r: Reader) -> Milestone:
    return Milestone(
        id=r.ident("id"),
        type=r.text("type"),
        start_date=r.time("start_date"),
        title=r.text("title"),
        related_event_tickers=r.text_list("related_event_tickers"),
        primary_event_tickers=r.text_list("primary_event_tickers"),
        details=r.mapping("details"),
        end_date=r.opt_time("end_date"),
    )


def parse_events_response(
    payload: Any, *, endpoint: str = EVENTS, keep_extra: frozenset[str] | None = None
) -> tuple[list[KalshiEvent], list[Milestone], str]:
    """`{events: [EventData], milestones?: [Milestone], cursor}` -> (events, milestones, cursor).
    `keep_extra`: as `parse_event`'s (milestones are read whole)."""
    r = Reader(payload, endpoint=endpoint, path="", keep_extra=keep_extra)
    events = [_event(e) for e in r.children("events")]
    milestones = [_milestone(m) for m in r.children("milestones", required=False)]
    return events, milestones, r.cursor()


def _levels(book: Reader, key: str, numbers: dict[str, Decimal] | None = None) -> tuple[tuple, ...]:
    """Bid levels `[[price_dollars, count_fp], ...]`; a missing or null side is read as empty.

    One pass over well-formed levels (two number strings, price in (0, 1), count ≥ 0); anything else
    is read again by `_checked_levels`, which names the offending field. `numbers` (text → its
    `Decimal`) shares one immutable `Decimal` among every level that sends the same text: a snapshot's
    110,000 levels use a few hundred distinct prices and counts, so this saves ~20 MiB at 5,000 games
    (the same text always gives an equal `Decimal` with the same exponent, so nothing changes but
    identity); the same table, keyed by the pair of texts, shares the (price, count) tuples too (38,000
    distinct pairs among those 110,000 levels)."""
    levels = []
    shared: dict[Any, Any] = {} if numbers is None else numbers
    for level in book.array(key, required=False):
        if type(level) is list and len(level) == 2 and type(level[0]) is str and type(level[1]) is str:
            texts = (level[0], level[1])
            pair = shared.get(texts)  # the same [price, count] texts seen before: the same (valid) pair
            if pair is not None:
                levels.append(pair)
                continue
            price, count = shared.get(level[0]), shared.get(level[1])
            try:
                if price is None:
                    price = shared[level[0]] = Decimal(level[0])
                if count is None:
                    count = shared[level[1]] = Decimal(level[1])
            except InvalidOperation:
                return _checked_levels(book, key)
            if price.is_finite() and count.is_finite() and ZERO < price < ONE and count >= 0:
                levels.append(shared.setdefault(texts, (price, count)))
                continue
        return _checked_levels(book, key)
    return tuple(levels)


def _checked_levels(book: Reader, key: str) -> tuple[tuple, ...]:
    levels = []
    for i, level in enumerate(book.array(key, required=False)):
        where = f"{book.field(key)}[{i}]"
        if not isinstance(level, list) or len(level) != 2:
            raise KalshiResponseError(f"field {where!r} must be a [price, count] pair, got {level!r}", endpoint=book.endpoint)
        price = to_decimal(level[0], field=f"{where}[0]", endpoint=book.endpoint)
        count = to_decimal(level[1], field=f"{where}[1]", endpoint=book.endpoint)
        if not ZERO < price < ONE:
            raise KalshiResponseError(f"field {where!r} has a price outside (0, 1): {price}", endpoint=book.endpoint)
        if count < 0:
            raise KalshiResponseError(f"field {where!r} has a negative count: {count}", endpoint=book.endpoint)
        levels.append((price, count))
    return tuple(levels)


def _book(ticker: str, r: Reader, numbers: dict[str, Decimal] | None = None) -> OrderBookLevels:
    book = r.child("orderbook_fp")
    return OrderBookLevels(ticker=ticker, yes=_levels(book, "yes_dollars", numbers),
                           no=_levels(book, "no_dollars", numbers))


def parse_orderbook_response(ticker: str, payload: Any, *, endpoint: str = ORDERBOOK) -> OrderBookLevels:
    """`{orderbook_fp: {yes_dollars, no_dollars}}` for one market."""
    return _book(ticker, Reader(payload, endpoint=endpoint, path=""))


def parse_orderbooks_response(payload: Any, *, endpoint: str = ORDERBOOKS) -> dict[str, OrderBookLevels]:
    """`{orderbooks: [{ticker, orderbook_fp}]}` -> {ticker: book}; a repeated ticker is an error."""
    r = Reader(payload, endpoint=endpoint, path="")
    books: dict[str, OrderBookLevels] = {}
    numbers: dict[str, Decimal] = {}
    for item in r.children("orderbooks"):
        add_orderbook(books, item.obj, endpoint=endpoint, path=item.path, numbers=numbers)
    return books


def add_orderbook(books: dict[str, OrderBookLevels], obj: Any, *, endpoint: str = ORDERBOOKS, path: str,
                  numbers: dict[str, Decimal] | None = None, strings: dict[str, str] | None = None) -> None:
    """Parse one item `{ticker, orderbook_fp}` of `GET /markets/orderbooks`' `orderbooks` array (at
    `path`, e.g. "orderbooks[3]") into `books`; a ticker already there is an error. Item by item, so a
    large recorded response can be parsed as it is read (`connectors.snapshot`). `strings`: shared texts
    (`parse_event`'s table: the ticker is then the market record's own string)."""
    item = Reader(obj, endpoint=endpoint, path=path, strings=strings)
    ticker = item.ident("ticker")
    if ticker in books:
        raise KalshiResponseError(f"ticker {ticker!r} appears twice in {item.path!r}", endpoint=endpoint)
    books[ticker] = _book(ticker, item, numbers)


def parse_series(payload: Any, *, endpoint: str = SERIES) -> SeriesFees:
    """`{series: Series}` -> its fee type and multiplier (kalshi-api.md §7.1)."""
    s = Reader(payload, endpoint=endpoint, path="").child("series")
    multiplier = s.number("fee_multiplier")
    if multiplier < 0:
        raise KalshiResponseError(f"field {s.field('fee_multiplier')!r} is negative: {multiplier}", endpoint=endpoint)
    return SeriesFees(series_ticker=s.ident("ticker"), fee_type=s.ident("fee_type"), fee_multiplier=multiplier)


def parse_exchange_status(payload: Any, *, endpoint: str = EXCHANGE_STATUS) -> ExchangeStatus:
    r = Reader(payload, endpoint=endpoint, path="")
    return ExchangeStatus(exchange_active=r.flag("exchange_active"), trading_active=r.flag("trading_active"))

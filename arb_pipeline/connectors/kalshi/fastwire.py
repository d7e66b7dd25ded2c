"""Kalshi's two large market-data responses decoded once, in C, straight into the project's records.

`GET /events` (with nested markets and milestones) and `GET /markets/orderbooks` are most of a scan's
parse: 30 MiB and 6 MiB at 5,000 games. The checked parsers (`models.parse_events_response`, or item
by item through `connectors.jsonstream` and `wire.Reader`) build a dict for every JSON object, then
read it field by field. Here msgspec decodes the bytes into typed `Struct`s holding only the fields
`models` maps (plus the unmapped ones a caller names in `keep_extra`), and each becomes the same
`KalshiEvent` / `KalshiMarket` / `Milestone` / `OrderBookLevels` the checked path builds, through
the same converters (`wire.to_decimal`, `wire.to_datetime`, `models.price_grid`,
`models.strike_texts`): one rule for what a fixed-point string or a timestamp means.

Why it can only agree with the checked path, never differ:

* the struct types are at least as strict as the `wire.Reader` rules (a required field is required, a
  field that must not be null has no `None` in its type, strings are strings, `bool` is no `int`), and
  every value rule the checked path applies afterwards (non-empty identifiers, prices in [0, 1],
  valid price bands, book levels in (0, 1) with counts >= 0, RFC 3339 times, a ticker once) is
  applied here with the same functions;
* whatever is rejected - invalid JSON, an unexpected shape or type, a value the rules refuse, or
  anything this path does not model exactly (a float in a metadata object, `keep_extra=None`, which
  keeps every unmapped field verbatim) - raises `Declined`, and the caller parses the payload the
  checked way: it gives the record, or the error naming the endpoint and the field path, exactly as
  before. Nothing here ever produces an error message of its own.
* kept `extra` values are the JSON text of the field decoded by `jsonio.loads_exact`, the checked
  path's own decoder (floats as floats, big integers exact, NaN refused).

One difference is not a value: an `extra` mapping lists its keys in `keep_extra`'s sorted order rather
than in the payload's (mappings compare equal either way; nothing reads the order).

Repeated texts, prices, timestamps, grids and book levels are kept once per response (the tables the
streamed path shares, `wire.Reader.strings`): at 5,000 games most of them are the same few values.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any

import msgspec
from msgspec import Raw, Struct

from arb_pipeline.connectors.sportsbooks.jsonio import loads_exact, msgspec_input
from arb_pipeline.domain import KalshiEvent, KalshiMarket, Milestone, OrderBookLevels
from arb_pipeline.slotted import unfrozen_twin

from .errors import KalshiResponseError
from .models import price_grid, strike_texts
from .wire import ONE, ZERO, to_datetime, to_decimal

# values of the free-form objects modelled here (product_metadata, custom_strike, milestone details):
# the JSON types both decoders read identically. A float, list or object there declines (checked path).
_Plain = str | int | bool | None
_NO_VALUE = Raw(b"")  # a Raw field's default: the key was absent (b"null" when it was null)


_TEXT_ONLY = frozenset((str,))


class Declined(Exception):
    """The fast path does not vouch for this payload: parse it the checked way (which names any problem)."""


class _Band(Struct, frozen=True):  # hashable: a market's grid is looked up by its bands
    start: str
    end: str
    step: str


class _Market(Struct):
    """The fields `models._market` maps; types as strict as its `wire.Reader` calls."""

    ticker: str
    event_ticker: str
    status: str
    market_type: str
    yes_sub_title: str
    no_sub_title: str
    rules_primary: str
    rules_secondary: str
    price_level_structure: str
    open_time: str
    close_time: str
    yes_bid_dollars: str | None  # key required, value may be null
    yes_ask_dollars: str | None
    no_bid_dollars: str | None
    no_ask_dollars: str | None
    price_ranges: list[_Band]
    expected_expiration_time: str | None = None
    occurrence_datetime: str | None = None
    fee_waiver_expiration_time: str | None = None
    custom_strike: dict[str, _Plain] | None = None
    exchange_index: int | None = None
    title: str | None = None


class _Milestone(Struct):
    id: str
    type: str
    start_date: str
    title: str
    related_event_tickers: list[str]
    primary_event_tickers: list[str]
    details: dict[str, _Plain] | None  # key required, null read as {}
    end_date: str | None = None


class _Book(Struct):
    yes_dollars: list[tuple[str, str]] | None = None
    no_dollars: list[tuple[str, str]] | None = None


class _BookItem(Struct):
    ticker: str
    orderbook_fp: _Book


class _Orderbooks(Struct):
    orderbooks: list[_BookItem]


_MARKET_FIELDS = frozenset(_Market.__struct_fields__)
# an event's fields in `_new_event`'s argument order (`extra` aside)
_EVENT_ORDER = ("event_ticker", "series_ticker", "title", "sub_title", "mutually_exclusive", "collateral_return_type",
                "markets", "product_metadata", "fee_type_override", "fee_multiplier_override", "exchange_index")
_EVENT_FIELDS = frozenset(("event_ticker", "series_ticker", "title", "sub_title", "mutually_exclusive",
                           "collateral_return_type", "markets", "product_metadata", "fee_type_override",
                           "fee_multiplier_override", "exchange_index"))


@lru_cache(maxsize=8)
def _events_decoder(keep_extra: frozenset[str]) -> tuple[msgspec.json.Decoder, tuple[str, ...], tuple[str, ...]]:
    """A decoder for `GET /events` whose markets and events also hold the `keep_extra` fields (as their
    JSON text), and the names of those fields (market's, event's), in the order `extra` lists them."""
    market_kept = tuple(sorted(keep_extra - _MARKET_FIELDS))
    event_kept = tuple(sorted(keep_extra - _EVENT_FIELDS))
    # kept fields are Struct fields x0, x1, ... renamed to their wire names (any text can be a key)
    market = msgspec.defstruct(
        "_KeptMarket", [(f"x{i}", Raw, _NO_VALUE) for i in range(len(market_kept))], bases=(_Market,),
        rename={f"x{i}": name for i, name in enumerate(market_kept)})
    event = msgspec.defstruct("_Event", [
        ("event_ticker", str), ("series_ticker", str), ("title", str), ("sub_title", str),
        ("mutually_exclusive", bool), ("collateral_return_type", str),
        ("markets", list[market] | None, None),  # type: ignore[valid-type]
        ("product_metadata", dict[str, _Plain] | None, None),
        ("fee_type_override", str | None, None),
        ("fee_multiplier_override", Raw, _NO_VALUE),  # a spec number: int, float or string (rare)
        ("exchange_index", int | None, None),
        *[(f"x{i}", Raw, _NO_VALUE) for i in range(len(event_kept))],
    ], rename={f"x{i}": name for i, name in enumerate(event_kept)})
    response = msgspec.defstruct("_Events", [
        ("events", list[event]),  # type: ignore[valid-type]
        ("cursor", str | None),  # key required, null read as ""
        ("milestones", list[_Milestone] | None, None),
    ])
    return msgspec.json.Decoder(response), market_kept, event_kept


_ORDERBOOKS_DECODER = msgspec.json.Decoder(_Orderbooks)


def _utf8(data: bytes | str) -> bytes | str:
    """`data`, once it is known to be UTF-8 text throughout: msgspec checks the strings it decodes, not
    those of the fields it skips, and the checked path refuses the whole file (the venues send ASCII:
    `isascii` is a quick scan, the full check only runs for other bytes). A `str` subclass (the store's
    `DecodedJson`: a capture's own payloads) becomes the plain `str` msgspec decodes."""
    if isinstance(data, str):
        return msgspec_input(data)
    if data.isascii():
        return data
    data.decode("utf-8")  # UnicodeDecodeError (a ValueError): declined
    return data


class _Tables:
    """Values kept once per response: texts, fixed-point numbers, timestamps, text-only dicts."""

    def __init__(self, strings: dict[str, str] | None) -> None:
        self.strings: dict[str, str] = {} if strings is None else strings
        self.share = self.strings.setdefault
        self.numbers: dict[Any, Any] = {}
        self.times: dict[str, datetime] = {}
        self.dicts: dict[tuple, dict[str, Any]] = {}
        self.grids: dict[tuple[_Band, ...], Any] = {}
        self.values: dict[bytes, Any] = {}

    def ident(self, value: str) -> str:
        if not value:
            raise Declined("empty identifier")
        return self.share(value, value)

    def number(self, text: str) -> Decimal:
        number = self.numbers.get(text)
        if number is None:
            number = self.numbers[text] = to_decimal(text, field="", endpoint="")
        return number

    def price(self, text: str | None) -> Decimal | None:
        """A top-of-book dollar price (null: an empty side), in [0, 1] as `Reader.nullable_dollars` asks."""
        if text is None:
            return None
        number = self.number(text)
        if not ZERO <= number <= ONE:
            raise Declined("price out of range")
        return number

    def time(self, text: str) -> datetime:
        found = self.times.get(text)
        if found is None:
            found = self.times[text] = to_datetime(text, field="", endpoint="")
        return found

    def opt_time(self, text: str | None) -> datetime | None:
        return None if text is None or text == "" else self.time(text)

    def texts(self, value: dict[str, Any], convert: Any = None) -> dict[str, Any]:
        """`convert(value)` (or `value`) with its texts shared, and one dict per distinct text-only content
        (`Reader.shared_texts`: only text-only ones - 1 == True inside a key, and other values may be
        mutable). `convert` must leave a text-only dict as it is (`models.strike_texts` does)."""
        share = self.share
        if _TEXT_ONLY.issuperset(map(type, value.values())):  # every value a str (keys are: JSON)
            key = tuple(value.items())
            found = self.dicts.get(key)
            if found is None:
                keys, values = value.keys(), value.values()
                found = self.dicts[key] = dict(zip(map(share, keys, keys), map(share, values, values), strict=True))
            return found
        return {share(k, k): share(v, v) if type(v) is str else v
                for k, v in (value if convert is None else convert(value)).items()}

    def plain_texts(self, value: dict[str, _Plain], convert: Any = None) -> dict[str, Any]:
        """`texts(value, convert)` for a dict of `_Plain` values (hashable): a text-only content seen before
        is found by one lookup, before any check - the table holds only text-only contents, and a text
        never equals 1, True or None, so no other content can find one."""
        found = self.dicts.get(tuple(value.items()))
        return self.texts(value, convert) if found is None else found

    def grid(self, bands: list[_Band]) -> Any:
        key = tuple(bands)
        grid = self.grids.get(key)
        if grid is None:
            grid = price_grid(tuple((b.start, b.end, b.step) for b in bands), self.numbers)
            if grid is None:
                raise Declined("price band")
            self.grids[key] = grid
        return grid

    def kept(self, raw: Raw) -> Any:
        """A kept unmapped field's value, decoded by the checked path's own JSON decoder."""
        text = bytes(raw)
        if text in self.values:
            return self.values[text]
        value = loads_exact(text, exact_numbers=False)
        if type(value) is str:
            value = self.share(value, value)
        if value is None or type(value) in (str, int, float, bool):  # immutable: one per distinct text
            self.values[text] = value
        return value

    def extra(self, kept: tuple[str, ...], raws: tuple[Raw, ...]) -> dict[str, Any]:
        """The `extra` of a record whose kept fields `kept` were sent as `raws` (empty: absent)."""
        out = {}
        for name, raw in zip(kept, raws, strict=True):
            if len(raw):
                out[name] = self.kept(raw)
        return self.texts(out) if out else out

    def extras(self, kept: tuple[str, ...]) -> Any:
        """`extra(kept, raws)` as a function of `raws`, remembering each text-only result by its fields'
        JSON texts: the same texts give the same shared dict `texts` gives (which is what `extra` returns
        for them), without decoding them again. Any other result (a number, a list...) is made anew."""
        if not kept:
            return lambda raws: {}
        shared: dict[tuple[bytes, ...], dict[str, Any]] = {}
        extra = self.extra

        def extra_of(raws: tuple[Raw, ...]) -> dict[str, Any]:
            if not any(map(len, raws)):
                return {}
            key = tuple(map(bytes, raws))
            found = shared.get(key)
            if found is None:
                found = extra(kept, raws)
                if all(type(v) is str for v in found.values()):
                    shared[key] = found
            return found

        return extra_of


def _fields(struct_fields: tuple[str, ...], kept_count: int) -> Any:
    """A Struct's `struct_fields` then its kept fields x0 .. x{kept_count-1} as one tuple, in one C call."""
    return attrgetter(*struct_fields, *(f"x{i}" for i in range(kept_count)))


# Each record is built by `unfrozen_twin`: plain slot stores of the fields as given (every field given, values
# already as the checked reader makes them), then the class swap, which CPython allows only between identical
# layouts. The frozen dataclass' `__init__` (an `object.__setattr__` per field) was ~2.7 us of ~7 us per
# market. The parameter orders are the positional orders the decoders pass (`_MARKET_ORDER`, `_EVENT_ORDER`,
# `_MILESTONE_ORDER`, then `extra`); a slot left out of one is a TypeError at import.
_new_market: Any = unfrozen_twin(KalshiMarket, (  # `KalshiMarket(**fields)`, every field given
    "ticker", "event_ticker", "status", "market_type", "yes_sub_title", "no_sub_title", "rules_primary",
    "rules_secondary", "open_time", "close_time", "expected_expiration_time", "occurrence_datetime", "yes_bid",
    "yes_ask", "no_bid", "no_ask", "price_level_structure", "price_ranges", "custom_strike", "exchange_index",
    "fee_waiver_expiration_time", "title", "extra"))
_new_event: Any = unfrozen_twin(KalshiEvent, (  # `KalshiEvent(**fields)`, every field given
    "event_ticker", "series_ticker", "title", "sub_title", "mutually_exclusive", "collateral_return_type", "markets",
    "product_metadata", "fee_type_override", "fee_multiplier_override", "exchange_index", "extra"))
_new_milestone: Any = unfrozen_twin(Milestone, (  # `Milestone(**fields)`, every field given
    "id", "type", "start_date", "title", "related_event_tickers", "primary_event_tickers", "details", "end_date"))


class _Memo(dict[Any, Any]):
    """`convert(text)` remembered per distinct text (`_Tables` keeps its own tables too: this only saves
    the Python call for a text seen before, e.g. each market's prices and times)."""

    def __init__(self, convert: Any) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, text: Any) -> Any:
        value = self[text] = self.convert(text)
        return value


# a market's fields in `_new_market`'s argument order (`extra` aside), by their wire names
_MARKET_ORDER = ("ticker", "event_ticker", "status", "market_type", "yes_sub_title", "no_sub_title", "rules_primary",
                 "rules_secondary", "open_time", "close_time", "expected_expiration_time", "occurrence_datetime",
                 "yes_bid_dollars", "yes_ask_dollars", "no_bid_dollars", "no_ask_dollars", "price_level_structure",
                 "price_ranges", "custom_strike", "exchange_index", "fee_waiver_expiration_time", "title")


def _markets(t: _Tables, kept: tuple[str, ...]) -> Any:
    """The function making a `_Market` struct (with `kept` fields x0, x1, ...) the `KalshiMarket` the
    checked path makes: the same converters and checks (`_Tables`), with every field read in one C call
    and each distinct price, time and identifier text converted once."""
    share = t.share
    fields = _fields(_MARKET_ORDER, len(kept))
    time_of, opt_time_of, price_of = _Memo(t.time), _Memo(t.opt_time), _Memo(t.price)
    grid_of, plain_texts, extra_of = t.grid, t.plain_texts, t.extras(kept)
    new_market = _new_market

    def market(m: _Market) -> KalshiMarket:
        (ticker, event_ticker, status, market_type, yes_sub_title, no_sub_title, rules_primary, rules_secondary,
         open_time, close_time, expected_expiration_time, occurrence_datetime, yes_bid, yes_ask, no_bid, no_ask,
         price_level_structure, price_ranges, strike, exchange_index, fee_waiver_expiration_time, title,
         *raws) = fields(m)
        if not (ticker and event_ticker and status):  # `_Tables.ident`
            raise Declined("empty identifier")
        return new_market(
            share(ticker, ticker), share(event_ticker, event_ticker), share(status, status),
            share(market_type, market_type), share(yes_sub_title, yes_sub_title), share(no_sub_title, no_sub_title),
            share(rules_primary, rules_primary), share(rules_secondary, rules_secondary),
            time_of[open_time], time_of[close_time], opt_time_of[expected_expiration_time],
            opt_time_of[occurrence_datetime], price_of[yes_bid], price_of[yes_ask], price_of[no_bid],
            price_of[no_ask], share(price_level_structure, price_level_structure), grid_of(price_ranges),
            None if strike is None else plain_texts(strike, strike_texts), exchange_index or 0,
            opt_time_of[fee_waiver_expiration_time], "" if title is None else share(title, title),
            extra_of(raws))

    return market


def _fee_multiplier(raw: Raw, t: _Tables) -> Decimal | None:
    """`Reader.opt_number`: absent or null -> None; an int, float or string exactly (`to_decimal`)."""
    if not len(raw):
        return None
    value = loads_exact(bytes(raw), exact_numbers=False)
    if value is None:
        return None
    return to_decimal(value, field="", endpoint="", strict_string=False)


_MILESTONE_ORDER = ("id", "type", "start_date", "title", "related_event_tickers", "primary_event_tickers", "details",
                    "end_date")  # `_new_milestone`'s argument order


def _milestones(t: _Tables) -> Any:
    """The function making a `_Milestone` struct the `Milestone` the checked path makes (`_markets`' way)."""
    share = t.share
    fields = attrgetter(*_MILESTONE_ORDER)
    time_of, opt_time_of = _Memo(t.time), _Memo(t.opt_time)
    plain_texts = t.plain_texts
    new_milestone = _new_milestone

    def milestone(m: _Milestone) -> Milestone:
        (id_, type_, start_date, title, related, primary, details, end_date) = fields(m)
        if not id_:  # `_Tables.ident`
            raise Declined("empty identifier")
        return new_milestone(
            share(id_, id_), share(type_, type_), time_of[start_date], share(title, title),
            tuple(map(share, related, related)), tuple(map(share, primary, primary)),
            {} if details is None else plain_texts(details), opt_time_of[end_date])

    return milestone


def decode_events(data: bytes | str, *, keep_extra: frozenset[str] | None,
                  strings: dict[str, str] | None = None) -> tuple[list[KalshiEvent], list[Milestone], str]:
    """`models.parse_events_response(json.loads(data), keep_extra=keep_extra)` - the same records - or
    `Declined` (then call that). `strings`: a table of shared texts (`wire.Reader.strings`), e.g. shared
    with `decode_orderbooks` so a market's ticker is one object in both."""
    if keep_extra is None:
        raise Declined("keep_extra=None keeps every unmapped field verbatim: the checked path's job")
    decoder, market_kept, event_kept = _events_decoder(keep_extra)
    t = _Tables(strings)
    share = t.share
    market = _markets(t, market_kept)
    event_fields = _fields(_EVENT_ORDER, len(event_kept))
    extra_of = t.extras(event_kept)
    new_event = _new_event
    try:
        response = decoder.decode(_utf8(data))
        events = []
        for e in response.events:
            (event_ticker, series_ticker, title, sub_title, mutually_exclusive, collateral_return_type, markets,
             metadata, fee_type_override, fee_multiplier_override, exchange_index, *raws) = event_fields(e)
            if not (event_ticker and series_ticker):  # `_Tables.ident`
                raise Declined("empty identifier")
            events.append(new_event(
                share(event_ticker, event_ticker),
                share(series_ticker, series_ticker),
                share(title, title),
                share(sub_title, sub_title),
                mutually_exclusive,
                share(collateral_return_type, collateral_return_type),
                tuple(map(market, markets)) if markets else (),
                {} if metadata is None else t.plain_texts(metadata),
                fee_type_override,
                _fee_multiplier(fee_multiplier_override, t),
                exchange_index or 0,
                extra_of(raws),
            ))
        milestones = list(map(_milestones(t), response.milestones or ()))
    except (msgspec.MsgspecError, KalshiResponseError, ValueError, RecursionError) as exc:
        raise Declined(str(exc)) from None
    return events, milestones, response.cursor or ""


class _Pairs(dict[tuple[str, str], tuple[Decimal, Decimal]]):
    """A book level's two texts → its (price, count) pair, one per distinct pair of texts, checked once
    (a price in (0, 1), a count >= 0, else `Declined`). Looked up by `__getitem__` over a side's levels
    with `map`, so a level already seen (most of ~110,000 at 5,000 games) costs no Python statement."""

    def __init__(self, tables: _Tables) -> None:
        super().__init__()
        self.tables = tables
        # a price text → its number when in (0, 1); a count text → its number when >= 0 (each the shared
        # `tables.number`): most pairs are new (prices x counts), most of their texts are not
        self.prices: dict[str, Decimal] = {}
        self.counts: dict[str, Decimal] = {}

    def __missing__(self, texts: tuple[str, str]) -> tuple[Decimal, Decimal]:
        price_text, count_text = texts
        price = self.prices.get(price_text)
        if price is None:
            price = self.tables.number(price_text)
            if not ZERO < price < ONE:
                raise Declined("book level")
            self.prices[price_text] = price
        count = self.counts.get(count_text)
        if count is None:
            count = self.tables.number(count_text)
            if not count >= 0:
                raise Declined("book level")
            self.counts[count_text] = count
        pair = self[texts] = (price, count)
        return pair


_new_book: Any = unfrozen_twin(OrderBookLevels, ("ticker", "yes", "no"))  # `OrderBookLevels(**fields)`, as `_new_market`
_BOOK_ITEM = attrgetter("ticker", "orderbook_fp")
_BOOK_SIDES = attrgetter("yes_dollars", "no_dollars")


def decode_orderbooks(data: bytes | str, *, strings: dict[str, str] | None = None) -> dict[str, OrderBookLevels]:
    """`models.parse_orderbooks_response(json.loads(data))` - the same books - or `Declined` (then call
    that: a bad level, a missing `orderbook_fp` or a repeated ticker is reported there)."""
    t = _Tables(strings)
    pair_of = _Pairs(t).__getitem__  # the same two texts: the same (valid) pair
    share, new_book, item_fields, sides = t.share, _new_book, _BOOK_ITEM, _BOOK_SIDES
    try:
        response = _ORDERBOOKS_DECODER.decode(_utf8(data))
        books: dict[str, OrderBookLevels] = {}
        for item in response.orderbooks:
            ticker, book = item_fields(item)
            if not ticker:  # `_Tables.ident`
                raise Declined("empty identifier")
            ticker = share(ticker, ticker)
            if ticker in books:
                raise Declined("repeated ticker")
            yes, no = sides(book)  # each side's levels: absent, null or [] give ()
            books[ticker] = new_book(ticker, tuple(map(pair_of, yes)) if yes else (),
                                     tuple(map(pair_of, no)) if no else ())
    except (msgspec.MsgspecError, KalshiResponseError, ValueError, RecursionError) as exc:
        raise Declined(str(exc)) from None
    return books

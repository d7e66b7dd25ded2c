"""Kalshi market-data responses kept as the bytes received, with the few facts a capture needs first.

Why: a capture stores every response verbatim and then parses the stored files once
(`connectors.snapshot.read_payloads`, which decodes them with msgspec, `fastwire`). Before that parse
it used to decode each `GET /events` and `GET /markets/orderbooks` response into Python objects
(httpx's json), run the checked parser over them only to validate them, and encode the merged pages
again to store them: three passes over ~30 MB of events at 5,000 games before the one that counts
(~1.4 s of CPU there, ~0.27 s at 1,000 games, on the path from the scan sensor's run request to the
paper order). What a capture needs before the parse is small: each page's cursor, the market
tickers (to ask for their books), the series that listed events (to ask for their fees), the
structured-target ids (`targets.target_ids_in_events_payload`'s rule, applied to the few fields it
reads) and the events, milestones and books as they were sent, to merge per-series pages and
100-ticker book calls into one file each. This module reads those with msgspec into small structs and
merges pages by splicing the objects' own bytes.

A response these structs cannot read (not the documented shape, not JSON msgspec accepts) is read
again the checked way (`json.loads` and the models' parser): a malformed response still raises the
usual `KalshiResponseError` naming the field, and one the checked parser accepts is kept exactly as
the old path kept it. A response that is well shaped where these structs look but malformed elsewhere
is refused, naming the stored file and the field, when the capture parses what it stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import Raw, Struct

from . import models as m
from .targets import target_ids_in_events_payload


class _Market(Struct):
    ticker: str
    custom_strike: Any = None  # read by the target-id rule only when it is an object


class _Event(Struct):
    series_ticker: Any = None
    markets: list[_Market] | None = None


class _Milestone(Struct):
    id: Any = None
    details: Any = None


class _EventsPage(Struct):
    events: list[Raw]
    milestones: list[Raw] | None = None
    cursor: str | None = None


class _BookItem(Struct):
    ticker: str


class _BooksPage(Struct):
    orderbooks: list[Raw]


_events_page = msgspec.json.Decoder(_EventsPage)
_event = msgspec.json.Decoder(_Event)
_milestone = msgspec.json.Decoder(_Milestone)
_books_page = msgspec.json.Decoder(_BooksPage)
_book_item = msgspec.json.Decoder(_BookItem)
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


def _dumps(value: Any) -> bytes:
    """How the checked path stores a decoded object (`services.ingest` used `json.dumps` on the merge)."""
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class EventsPage:
    """One `GET /events` page: each event and milestone as the JSON text received, and what a capture
    reads before parsing it."""

    events: tuple[bytes, ...]
    series: tuple[Any, ...]  # each event's series_ticker (None when absent)
    tickers: tuple[tuple[str, ...], ...]  # each event's market tickers, in order
    strikes: tuple[Any, ...]  # every market's custom_strike, in order (for the target-id rule)
    milestones: tuple[tuple[Any, bytes, Any], ...]  # (id, JSON text, details)
    cursor: str


def read_events_page(content: bytes, *, endpoint: str = m.EVENTS) -> EventsPage:
    """`content` of one `GET /events` response (see the module docstring for what falls back)."""
    try:
        content.decode("utf-8")  # msgspec does not check the text of what it skips; the store needs it all
        page = _events_page.decode(content)
        events = [_event.decode(raw) for raw in page.events]
        milestones = [_milestone.decode(raw) for raw in page.milestones or ()]
    except _DECODE_ERRORS:
        return _checked_events_page(content, endpoint)
    return EventsPage(
        events=tuple(bytes(raw) for raw in page.events),
        series=tuple(e.series_ticker for e in events),
        tickers=tuple(tuple(mk.ticker for mk in e.markets or ()) for e in events),
        strikes=tuple(mk.custom_strike for e in events for mk in e.markets or ()),
        milestones=tuple((ms.id, bytes(raw), ms.details) for ms, raw in zip(milestones, page.milestones or (),
                                                                               strict=True)),
        cursor=page.cursor or "",
    )


def _checked_events_page(content: bytes, endpoint: str) -> EventsPage:
    """The old path: decode, validate with the checked parser (which raises the usual error), keep."""
    from .errors import KalshiResponseError

    try:
        payload = json.loads(content)
    except (ValueError, RecursionError):
        raise KalshiResponseError(f"malformed JSON in a response ({len(content)} bytes)", endpoint=endpoint) from None
    m.parse_events_response(payload, endpoint=endpoint)  # validates every field a scan relies on
    events = payload.get("events") or []
    markets = [[mk for mk in e.get("markets", []) if "ticker" in mk] for e in events]
    return EventsPage(
        events=tuple(_dumps(e) for e in events),
        series=tuple(e.get("series_ticker") for e in events),
        tickers=tuple(tuple(mk["ticker"] for mk in ms) for ms in markets),
        strikes=tuple(mk.get("custom_strike") for e in events for mk in e.get("markets", [])),
        milestones=tuple((ms.get("id"), _dumps(ms), ms.get("details")) for ms in payload.get("milestones") or []),
        cursor=payload.get("cursor") or "",
    )


@dataclass(frozen=True, slots=True)
class EventsFile:
    """Pages of `GET /events` merged as `client.merge_events_payloads` merges decoded pages (events in
    page order, milestones de-duplicated by id, first seen kept, `cursor: ""`), as JSON text."""

    text: bytes
    tickers: list[str] = field(default_factory=list)  # every market ticker, first seen order
    series: set[Any] = field(default_factory=set)  # the series that listed events
    target_ids: list[str] = field(default_factory=list)  # `target_ids_in_events_payload` of the merge


def merge_events_pages(pages: Iterable[EventsPage]) -> EventsFile:
    pages = list(pages)
    events = [raw for page in pages for raw in page.events]
    milestones: dict[Any, tuple[bytes, Any]] = {}
    for page in pages:
        for ms_id, raw, details in page.milestones:
            milestones.setdefault(ms_id, (raw, details))
    text = b"".join((b'{"events":[', b",".join(events), b'],"milestones":[',
                     b",".join(raw for raw, _ in milestones.values()), b'],"cursor":""}'))
    # the target-id rule reads only custom_strike and details: given just those, it reads the same ids
    shape = {"events": [{"markets": [{"custom_strike": s} for page in pages for s in page.strikes]}],
             "milestones": [{"details": details} for _, details in milestones.values()]}
    return EventsFile(
        text=text,
        tickers=list(dict.fromkeys(t for page in pages for ts in page.tickers for t in ts)),
        series={s for page in pages for s in page.series},
        target_ids=target_ids_in_events_payload(shape),
    )


@dataclass(frozen=True, slots=True)
class BooksPage:
    """One `GET /markets/orderbooks` response: (ticker, that item's JSON text) per book, in order."""

    books: tuple[tuple[str, bytes], ...]


def read_books_page(content: bytes, *, endpoint: str = m.ORDERBOOKS) -> BooksPage:
    """`content` of one `GET /markets/orderbooks` response (falls back as `read_events_page`)."""
    try:
        content.decode("utf-8")
        page = _books_page.decode(content)
        return BooksPage(tuple((_book_item.decode(raw).ticker, bytes(raw)) for raw in page.orderbooks))
    except _DECODE_ERRORS:
        pass
    from .errors import KalshiResponseError

    try:
        payload = json.loads(content)
    except (ValueError, RecursionError):
        raise KalshiResponseError(f"malformed JSON in a response ({len(content)} bytes)", endpoint=endpoint) from None
    m.parse_orderbooks_response(payload, endpoint=endpoint)  # raises the usual error
    items = payload.get("orderbooks") or []
    return BooksPage(tuple((b.get("ticker") if isinstance(b, Mapping) else None, _dumps(b)) for b in items))


def books_file(books: Iterable[tuple[Any, bytes]]) -> bytes:
    """`{"orderbooks": [...]}` of these items, in this order."""
    return b'{"orderbooks":[' + b",".join(raw for _, raw in books) + b"]}"

"""Recorded snapshot directories: the venues' own responses, unchanged, as one replayable scan.

Layout (every file is the venue's response body, byte-for-byte the JSON it sent):

    kalshi_events.json           GET /events?with_nested_markets=true&with_milestones=true   (required)
    kalshi_orderbooks.json       GET /markets/orderbooks                                     (required)
    odds_<sport_key>.json        The Odds API GET /v4/sports/{sport}/odds, decimal or American (>= 1
                                 of these or of the next)
    pinnacle_<sport_key>.json    ODDS_PROVIDER=pinnacle: {"fixtures": GET /v1/fixtures, "odds": GET /v2/odds}
                                 (both bodies byte-for-byte inside one object; connectors/sportsbooks/pinnacle.py)
    kalshi_series.json           {"series": [Series, ...]}  for fee_type / fee_multiplier    (optional)
    kalshi_exchange_status.json  GET /exchange/status                                        (optional)
    kalshi_structured_targets.json  GET /structured_targets?ids=... : the teams/players the events'
                                 custom_strike and milestone ids name (resolution needs them) (optional)
    meta.json                    {"captured_at": RFC 3339, "source": ..., "odds_fetched_at"?,
                                  "books_captured_at"?, "odds_format"?: "decimal" | "american" |
                                  {sport_key: format}}  (else each odds file's format is detected)
                                                                                             (optional)

Without `meta.json`, `captured_at` is the newest modification time of the snapshot's files: the
latest moment any of them can have been written, so age checks err toward "older". Quotes carry
`odds_fetched_at` (else `captured_at`) as their fetch time.

Entry points: `load_snapshot(dir)` / `read_snapshot(dir)` (the latter returns the odds problems as
data), `parse_payloads(texts, captured_at=...)` / `read_payloads(...)` for the same files held in
memory (e.g. the database's stored payloads, no temporary directory), and `write_snapshot`.

Kalshi files are parsed by `connectors.kalshi.models` (the same parsers as the live client) from
plain JSON, or for a scan's load by `connectors.kalshi.fastwire` into the same records, so their
strict "dollar fields are strings" checks still apply; odds files are parsed
with every fractional number as an exact `Decimal`. Every error names the file (and the JSON path
where there is one); odds items that cannot become quotes are reported, never dropped silently.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from arb_pipeline.connectors.jsonstream import (
    NotStreamable,
    exact_decoder,
    stream_array,
    stream_members,
    text_chunks,
)
from arb_pipeline.connectors.sportsbooks.base import NormalizeProblem, NormalizeResult
from arb_pipeline.connectors.sportsbooks.errors import OddsPayloadError
from arb_pipeline.connectors.sportsbooks.jsonio import dumps_exact, loads_exact
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_events, normalize_odds_response
from arb_pipeline.connectors.sportsbooks.replay import RecordedOdds
from arb_pipeline.domain import (
    ExchangeStatus,
    KalshiEvent,
    MarketSnapshot,
    Milestone,
    OrderBookLevels,
    QuoteColumns,
    SeriesFees,
)
from arb_pipeline.gcpause import gc_paused, paused_gc

log = logging.getLogger(__name__)

EVENTS_FILE = "kalshi_events.json"
ORDERBOOKS_FILE = "kalshi_orderbooks.json"
SERIES_FILE = "kalshi_series.json"
EXCHANGE_FILE = "kalshi_exchange_status.json"
TARGETS_FILE = "kalshi_structured_targets.json"
META_FILE = "meta.json"
_ODDS_FILE_RE = re.compile(r"^odds_(?P<sport>[a-z0-9_]+)\.json$")
_PINNACLE_FILE_RE = re.compile(r"^pinnacle_(?P<sport>[a-z0-9_]+)\.json$")  # {"fixtures": ..., "odds": ...}
_FIXED_FILES = (EVENTS_FILE, ORDERBOOKS_FILE, SERIES_FILE, EXCHANGE_FILE, TARGETS_FILE, META_FILE)


class SnapshotError(ValueError):
    """A snapshot directory or one of its files is missing, not JSON, or not the documented shape."""


@dataclass(frozen=True, slots=True)
class SnapshotMeta:
    captured_at: datetime
    source: str
    odds_fetched_at: datetime | None = None
    books_captured_at: datetime | None = None
    odds_formats: Mapping[str, str] = field(default_factory=dict)  # sport key (or "*") → decimal/american
    # sport key → when that sport's odds were fetched, when they differ (odds polled at their own rate)
    odds_fetched_by_sport: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SnapshotLoad:
    """A loaded snapshot and every problem met while normalizing its odds (see `NormalizeResult`)."""

    snapshot: MarketSnapshot
    problems: tuple[NormalizeProblem, ...]
    ignored_markets: Mapping[str, int]


# --- reading -----------------------------------------------------------------------------------


class _Files:
    """A snapshot's files by name (read from a directory, or stored payloads), labelled for errors."""

    def __init__(self, texts: Mapping[str, str | bytes | Path], label: Callable[[str], str],
                 preparsed: Mapping[str, PreparsedOdds] | None = None) -> None:
        self.texts, self.label = texts, label
        self.preparsed = preparsed or {}

    def has(self, name: str) -> bool:
        return name in self.texts

    def json(self, name: str, *, exact_numbers: bool = False) -> Any:
        """The file's JSON; errors name the file and, for syntax errors, the line and column."""
        where = self.label(name)
        if name not in self.texts:
            raise SnapshotError(f"{where}: required file is missing")
        raw = self.texts[name]
        if isinstance(raw, Path):  # a directory's file is read when it is parsed, so only one is held at a time
            try:
                raw = raw.read_bytes()
            except OSError as exc:
                raise SnapshotError(f"{where}: cannot be read: {exc}") from None
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            raise SnapshotError(f"{where}: cannot be read as UTF-8 text: {exc}") from None
        try:
            return loads_exact(text, exact_numbers=exact_numbers)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        except ValueError as exc:
            raise SnapshotError(f"{where}: invalid JSON: {exc}") from None

    def object(self, name: str) -> dict[str, Any]:
        payload = self.json(name)
        if not isinstance(payload, dict):
            raise SnapshotError(f"{self.label(name)}: expected a JSON object at $, got {type(payload).__name__}")
        return payload

    def pinnacle(self) -> dict[str, str]:
        """`{sport_key: file name}` of the `pinnacle_<sport_key>.json` files (the second odds provider)."""
        found: dict[str, str] = {}
        for name in sorted(n for n in self.texts if n.startswith("pinnacle_") and n.endswith(".json")):
            match = _PINNACLE_FILE_RE.match(name)
            if not match:
                raise SnapshotError(f"{self.label(name)}: Pinnacle file name must be pinnacle_<sport_key>.json "
                                    "with a lowercase sport key")
            found[match["sport"]] = name
        return found

    def odds(self) -> dict[str, str]:
        """`{sport_key: file name}` of the `odds_<sport_key>.json` files, sorted by sport key."""
        found: dict[str, str] = {}
        for name in sorted(n for n in self.texts if n.startswith("odds_") and n.endswith(".json")):
            match = _ODDS_FILE_RE.match(name)
            if not match:
                raise SnapshotError(f"{self.label(name)}: odds file name must be odds_<sport_key>.json "
                                    "with a lowercase sport key")
            found[match["sport"]] = name
        return found


def _directory_files(directory: Path) -> tuple[_Files, datetime]:
    """The snapshot files of `directory` and the newest modification time among them."""
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: snapshot directory does not exist")
    paths = [p for p in sorted(directory.glob("*.json"))
             if p.name in _FIXED_FILES or p.name.startswith(("odds_", "pinnacle_"))]
    if not paths:
        raise SnapshotError(f"{directory}: no snapshot files found")
    texts: dict[str, Path] = {}
    for path in paths:
        if not os.access(path, os.R_OK):
            raise SnapshotError(f"{path}: cannot be read: permission denied")
        texts[path.name] = path  # read when parsed (`_Files.json`): the raw texts are never all held at once
    newest = datetime.fromtimestamp(max(p.stat().st_mtime for p in paths), UTC)
    return _Files(texts, lambda name: str(directory / name)), newest


def _timestamp(meta: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> datetime | None:
    value = meta.get(key)
    if value is None and not required:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("no timezone")
    except ValueError as exc:
        raise SnapshotError(f"{where}: $.{key} must be an RFC 3339 timestamp with an offset, got {value!r} ({exc})") from None
    return parsed.astimezone(UTC)


def _meta(files: _Files, *, captured_at: datetime | None, source: str,
          books_captured_at: datetime | None) -> SnapshotMeta:
    """`meta.json` when present (it wins); otherwise the given fallbacks."""
    if not files.has(META_FILE):
        if captured_at is None or captured_at.tzinfo is None:
            raise SnapshotError(f"{files.label(META_FILE)}: missing, and no timezone-aware captured_at was given")
        return SnapshotMeta(captured_at=captured_at.astimezone(UTC), source=source,
                            books_captured_at=books_captured_at)
    where = files.label(META_FILE)
    meta = files.object(META_FILE)
    meta_source = meta.get("source", source)
    if not isinstance(meta_source, str):
        raise SnapshotError(f"{where}: $.source must be a string, got {type(meta_source).__name__}")
    return SnapshotMeta(
        captured_at=_timestamp(meta, "captured_at", where, required=True),
        source=meta_source,
        odds_fetched_at=_timestamp(meta, "odds_fetched_at", where),
        books_captured_at=_timestamp(meta, "books_captured_at", where),
        odds_formats=_odds_formats(meta.get("odds_format"), where),
        odds_fetched_by_sport=_fetched_by_sport(meta.get(ODDS_FETCHED_BY_SPORT), where),
    )


ODDS_FETCHED_BY_SPORT = "odds_fetched_at_by_sport"


def _fetched_by_sport(value: Any, where: str) -> dict[str, datetime]:
    """Optional `{sport_key: RFC 3339}` in meta.json: each sport's own fetch time."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SnapshotError(f"{where}: $.{ODDS_FETCHED_BY_SPORT} must be {{sport_key: timestamp}}, got {value!r}")
    return {sport: _timestamp(value, sport, f"{where} {ODDS_FETCHED_BY_SPORT}", required=True) for sport in value}


def _odds_formats(value: Any, where: str) -> dict[str, str]:
    """Optional `odds_format` in meta.json: one format for every file, or `{sport_key: format}`.

    A format recorded at capture time (the `oddsFormat` that was requested) beats detection.
    """
    if value is None:
        return {}
    formats = {"*": value} if isinstance(value, str) else value
    if not isinstance(formats, dict) or any(f not in ("decimal", "american") for f in formats.values()):
        raise SnapshotError(f"{where}: $.odds_format must be 'decimal', 'american' or {{sport_key: format}}, "
                            f"got {value!r}")
    return dict(formats)


def _recorded_odds(files: _Files, meta: SnapshotMeta) -> list[RecordedOdds]:
    return list(_each_recorded_odds(files, meta))


def _each_recorded_odds(files: _Files, meta: SnapshotMeta, *, streamed: bool = False) -> Iterator[RecordedOdds]:
    """The odds files one at a time (a scan normalizes each and lets its parsed JSON go). `streamed`:
    each file comes with a `_StreamedOdds` payload (its `normalize()`) instead of its JSON."""
    fetched_at = meta.odds_fetched_at or meta.captured_at
    for sport, name in files.odds().items():
        odds_format = meta.odds_formats.get(sport, meta.odds_formats.get("*"))
        item = RecordedOdds(sport_key=sport, payload=None, fetched_at=meta.odds_fetched_by_sport.get(sport, fetched_at),
                            odds_format=odds_format, source=files.label(name))
        if streamed:
            yield replace(item, payload=_StreamedOdds(files, name, item))
        else:
            yield replace(item, payload=files.json(name, exact_numbers=True))


class _StreamedOdds:
    """An odds file normalized without holding its parsed JSON, for a scan.

    `normalize()` first decodes the file's bytes once with msgspec into small Structs
    (`odds_msgspec.normalize_odds_bytes`: no dict per outcome, ~2x faster than reading it as JSON);
    a file msgspec refuses is then read one event at a time (`jsonstream.stream_array`, exact Decimals)
    for `normalize_odds_events` when its format is recorded. Either raises `NotStreamable` (or a
    read/UTF-8 error) when the file is not the plain shape: then `whole()` gives the file the checked
    whole-file way, which names the problem. All three give the same result for a file they accept."""

    def __init__(self, files: _Files, name: str, item: RecordedOdds) -> None:
        self.files, self.name, self.item = files, name, item

    def __iter__(self) -> Iterator[Any]:
        with closing(_stream(self.files, self.name, lambda chunks: stream_array(chunks, exact_decoder()))) as items:
            yield from items

    def normalize(self) -> NormalizeResult:
        from arb_pipeline.connectors.sportsbooks.odds_msgspec import OddsNotPlain, normalize_odds_bytes

        item, raw = self.item, self.files.texts.get(self.name)
        ready = self.files.preparsed.get(self.name)
        if ready is not None and ready.text is raw and ready.item == item:
            result = ready.result()
            if result is not None:  # normalized already, from this very text and with these arguments
                return result
        try:
            data = raw.read_bytes() if isinstance(raw, Path) else raw
            if data is None:
                raise NotStreamable(f"{self.name} is missing")
            return normalize_odds_bytes(data, sport_key=item.sport_key, fetched_at=item.fetched_at,
                                        provider=item.provider, odds_format=item.odds_format,  # type: ignore[arg-type]
                                        source=item.source)
        except (OddsNotPlain, OddsPayloadError):  # the checked path reports it, with its own wording
            pass
        if item.odds_format is None:  # detection needs every price before the first quote
            raise NotStreamable(f"{self.name}: odds format not recorded")
        return normalize_odds_events(self, sport_key=item.sport_key, fetched_at=item.fetched_at,
                                     provider=item.provider, odds_format=item.odds_format,  # type: ignore[arg-type]
                                     source=item.source)

    def whole(self) -> RecordedOdds:
        return replace(self.item, payload=self.files.json(self.name, exact_numbers=True))


class PreparsedOdds:
    """One odds file normalized ahead of its snapshot's parse, e.g. by a capture while it still waits for
    the venues' other responses (`services.ingest`), so that work overlaps the waiting.

    Used by the parse only for the very text object it was made from and the same `RecordedOdds` fields
    (sport, fetch time, provider, format, source label) the parse derives from the snapshot's meta; and
    only when the fast path accepted the file: anything else (msgspec refused it, the format is
    ambiguous, the file is malformed) is parsed again by the snapshot's own path, which reports it with
    its own wording. So a snapshot read with or without it is the same, problem for problem."""

    def __init__(self, text: str | bytes, item: RecordedOdds) -> None:
        self.text, self.item = text, item
        self._result: NormalizeResult | None = None
        self._claim = threading.Lock()  # whoever takes it first normalizes: a worker thread, or `result()`
        self._done = threading.Event()

    @classmethod
    def of(cls, name: str, text: str | bytes, *, label: str, fetched_at: datetime,
           odds_format: str | None) -> PreparsedOdds:
        """What `read_payloads(..., label=label)` will ask of odds file `name` (`odds_<sport>.json`)."""
        match = _ODDS_FILE_RE.match(name)
        if match is None:
            raise ValueError(f"{name!r} is not an odds_<sport_key>.json file")
        source = f"{label}/{name}" if label else name
        return cls(text, RecordedOdds(sport_key=match["sport"], payload=None, fetched_at=fetched_at,
                                      odds_format=odds_format, source=source))  # type: ignore[arg-type]

    def run(self) -> None:
        """Normalize now (any thread), unless another thread already is; never raises - a file the fast
        path refuses is left to the parse."""
        from arb_pipeline.connectors.sportsbooks.odds_msgspec import normalize_odds_bytes

        if not self._claim.acquire(blocking=False):
            return
        item = self.item
        try:
            with paused_gc():  # as the snapshot's own parse normalizes it (see arb_pipeline.gcpause)
                self._result = normalize_odds_bytes(
                    self.text, sport_key=item.sport_key, fetched_at=item.fetched_at, provider=item.provider,
                    odds_format=item.odds_format, source=item.source)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - the snapshot's own parse meets it again and reports it
            self._result = None
        finally:
            self._done.set()

    def result(self) -> NormalizeResult | None:
        """The normalized file, None if refused: normalized here if no thread has started it yet (a task
        never run cannot leave the parse waiting), else waited for."""
        self.run()
        self._done.wait()
        return self._result


class DirectorySnapshotSource:
    """`SnapshotSource` over a snapshot directory's `odds_<sport_key>.json` files."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __call__(self) -> list[RecordedOdds]:
        files, newest = _directory_files(self.directory)
        return _recorded_odds(files, _meta(files, captured_at=newest, source=str(self.directory),
                                           books_captured_at=None))


def _kalshi(files: _Files, name: str, parse: Callable[..., Any], payload: Any, endpoint: str | None = None) -> Any:
    """Run a Kalshi parser with the file as its endpoint label; its errors become `SnapshotError`s."""
    from arb_pipeline.connectors.kalshi.errors import KalshiError

    where = files.label(name)
    try:
        return parse(payload, endpoint=endpoint or where)
    except KalshiError as exc:
        message = str(exc)
        raise SnapshotError(message if where in message else f"{where}: {message}") from exc


# --- the two large Kalshi files, item by item ------------------------------------------------------
#
# `kalshi_events.json` (30 MiB at 5,000 games) and `kalshi_orderbooks.json` (6 MiB) are read with
# `connectors.jsonstream`: one event / one order book is decoded, turned into its record by the same
# per-item parser the whole-response parser uses (`models.parse_event`, `models.add_orderbook`), and
# its JSON let go before the next is read. `json.loads` of the events file alone held ~66 MiB of dicts
# (and the text twice, bytes and str) at once; this holds one 64 KiB chunk and one event. Any surprise
# (not the plain shape, invalid JSON, a field the parser refuses) drops the partial result and parses
# the file the checked way (`_kalshi`), so every error is reported exactly as before.
#
# A load that names the unmapped fields it keeps (`keep_extra`: a scan's) first tries
# `connectors.kalshi.fastwire`: msgspec decodes each whole file into typed structs, in C, and they
# become the same records through the same converters (~2x less CPU than item by item). It declines
# whatever it cannot vouch for, and the item-by-item path above takes over.


def _check_instead() -> tuple[type[Exception], ...]:
    """What sends a streamed file to the checked path (imported late: the Kalshi package pulls in httpx)."""
    from arb_pipeline.connectors.kalshi.errors import KalshiError

    return NotStreamable, UnicodeDecodeError, OSError, KalshiError


def _members(files: _Files, name: str, streamed: frozenset[str]) -> Iterator[tuple[str, int, Any]]:
    return _stream(files, name, lambda chunks: stream_members(chunks, streamed))


def _stream(files: _Files, name: str, read: Callable[[Iterator[str]], Iterator[Any]]) -> Iterator[Any]:
    """`read` over the text of file `name`, in chunks from a directory's file, whole from a payload."""
    raw = files.texts.get(name)
    if raw is None:
        raise NotStreamable(f"{name} is missing")  # the checked path reports it
    if isinstance(raw, Path):
        with raw.open(encoding="utf-8", newline="") as handle:  # strict UTF-8, no newline translation
            yield from read(text_chunks(handle.read))
    else:
        yield from read(iter((raw.decode("utf-8") if isinstance(raw, bytes) else raw,)))


def _file_data(files: _Files, name: str) -> bytes | str:
    """The whole text of file `name` for `fastwire` (bytes from a directory); missing or unreadable:
    `Declined`, and the checked path reports it."""
    from arb_pipeline.connectors.kalshi.fastwire import Declined

    raw = files.texts.get(name)
    if raw is None:
        raise Declined(f"{name} is missing")
    if isinstance(raw, Path):
        try:
            return raw.read_bytes()
        except OSError as exc:
            raise Declined(str(exc)) from None
    return raw


def _fast_events(files: _Files, keep_extra: frozenset[str] | None, strings: dict[str, str],
                 ) -> tuple[list[KalshiEvent], list[Milestone], str]:
    """`kalshi_events.json` through `connectors.kalshi.fastwire` (msgspec; a scan's load, `keep_extra` given)."""
    from arb_pipeline.connectors.kalshi.fastwire import Declined, decode_events

    if keep_extra is None:  # every unmapped field kept verbatim: the streamed path's job (before reading the file)
        raise Declined("keep_extra=None")
    return decode_events(_file_data(files, EVENTS_FILE), keep_extra=keep_extra, strings=strings)


def _fast_orderbooks(files: _Files, strings: dict[str, str]) -> dict[str, OrderBookLevels]:
    from arb_pipeline.connectors.kalshi.fastwire import decode_orderbooks

    return decode_orderbooks(_file_data(files, ORDERBOOKS_FILE), strings=strings)


def _streamed_events(files: _Files, keep_extra: frozenset[str] | None = None, strings: dict[str, str] | None = None,
                     ) -> tuple[list[KalshiEvent], list[Milestone], str]:
    from arb_pipeline.connectors.kalshi.models import parse_cursor, parse_event, parse_milestone

    where = files.label(EVENTS_FILE)
    events, milestones, members = [], [], {}
    # repeated texts and prices kept once across events (wire.Reader.strings); `strings` may be shared
    # with the order books (`_parse`), so a market's ticker is one object in both
    strings = {} if strings is None else strings
    numbers: dict[str, Any] = {}
    times: dict[str, datetime] = {}
    with closing(_members(files, EVENTS_FILE, frozenset(("events", "milestones")))) as items:
        for key, i, value in items:
            if i < 0:
                members[key] = value
            elif key == "events":
                events.append(parse_event(value, endpoint=where, path=f"events[{i}]", strings=strings,
                                          numbers=numbers, times=times, keep_extra=keep_extra))
            else:
                milestones.append(parse_milestone(value, endpoint=where, path=f"milestones[{i}]", strings=strings))
    if not events and "events" not in members:
        raise NotStreamable("no events member")  # the checked path names what is missing
    return events, milestones, parse_cursor(members, endpoint=where)


def _streamed_orderbooks(files: _Files, strings: dict[str, str] | None = None) -> dict[str, OrderBookLevels]:
    from arb_pipeline.connectors.kalshi.models import add_orderbook

    where = files.label(ORDERBOOKS_FILE)
    books: dict[str, OrderBookLevels] = {}
    numbers: dict[str, Decimal] = {}  # shared Decimals (see models._levels)
    present = False
    with closing(_members(files, ORDERBOOKS_FILE, frozenset(("orderbooks",)))) as items:
        for key, i, value in items:
            if key == "orderbooks":
                present = True
                if i >= 0:
                    add_orderbook(books, value, endpoint=where, path=f"orderbooks[{i}]", numbers=numbers,
                                  strings=strings)
    if not present:
        raise NotStreamable("no orderbooks member")
    return books


@gc_paused  # hundreds of thousands of acyclic objects: see arb_pipeline.gcpause
def _parse(files: _Files, meta: SnapshotMeta, keep_extra: frozenset[str] | None = None) -> SnapshotLoad:
    from arb_pipeline.connectors.kalshi.fastwire import Declined
    from arb_pipeline.connectors.kalshi.models import (
        parse_events_response,
        parse_exchange_status,
        parse_orderbooks_response,
        parse_series,
    )
    from arb_pipeline.connectors.kalshi.targets import parse_structured_targets_response

    check_instead = _check_instead()
    problems: list[NormalizeProblem] = []
    strings: dict[str, str] = {}  # the two Kalshi files' shared texts (a ticker is one object in both)
    # fastest first: msgspec (`fastwire`), then item by item (jsonstream), then whole and checked - each
    # gives the same records, and only the last one reports a problem (file, JSON path)
    try:
        events, milestones, cursor = _fast_events(files, keep_extra, strings)
    except Declined:
        strings.clear()
        try:
            events, milestones, cursor = _streamed_events(files, keep_extra, strings)
        except check_instead:  # not the plain shape, or bad somewhere: the checked path names the problem
            events, milestones, cursor = _kalshi(files, EVENTS_FILE,
                                                 partial(parse_events_response, keep_extra=keep_extra),
                                                 files.object(EVENTS_FILE))
    if cursor:
        problems.append(NormalizeProblem(files.label(EVENTS_FILE), "$.cursor",
                                         "cursor is not empty: later pages of GET /events were not recorded"))
    try:
        orderbooks = _fast_orderbooks(files, strings)
    except Declined:
        try:
            orderbooks = _streamed_orderbooks(files, strings)
        except check_instead:
            orderbooks = _kalshi(files, ORDERBOOKS_FILE, parse_orderbooks_response, files.object(ORDERBOOKS_FILE))

    series_fees: dict[str, SeriesFees] = {}
    if files.has(SERIES_FILE):
        items = files.object(SERIES_FILE).get("series")
        if not isinstance(items, list):
            raise SnapshotError(f"{files.label(SERIES_FILE)}: $.series must be a list of Series objects")
        for i, item in enumerate(items):
            fees = _kalshi(files, SERIES_FILE, parse_series, {"series": item},
                           endpoint=f"{files.label(SERIES_FILE)} $.series[{i}]")
            if fees.series_ticker in series_fees:
                raise SnapshotError(f"{files.label(SERIES_FILE)}: $.series[{i}] repeats series {fees.series_ticker!r}")
            series_fees[fees.series_ticker] = fees
    exchange = ExchangeStatus()
    if files.has(EXCHANGE_FILE):
        exchange = _kalshi(files, EXCHANGE_FILE, parse_exchange_status, files.object(EXCHANGE_FILE))
    targets = {}
    if files.has(TARGETS_FILE):
        targets, _ = _kalshi(files, TARGETS_FILE, parse_structured_targets_response, files.object(TARGETS_FILE))

    pinnacle = files.pinnacle()
    if not files.odds() and not pinnacle:
        raise SnapshotError(f"{files.label('odds_<sport_key>.json')}: required file is missing (none found, "
                            "nor a pinnacle_<sport_key>.json)")
    quotes, ignored = [], {}
    columns = QuoteColumns()
    if pinnacle:  # the second odds provider's recordings (connectors/sportsbooks/pinnacle.py)
        from arb_pipeline.connectors.sportsbooks.pinnacle import normalize_pinnacle_response

        for sport, name in pinnacle.items():
            try:
                result = normalize_pinnacle_response(files.json(name, exact_numbers=True), sport_key=sport,
                                                     fetched_at=meta.odds_fetched_at or meta.captured_at,
                                                     source=files.label(name))
            except OddsPayloadError as exc:
                raise SnapshotError(str(exc)) from None
            quotes.extend(result.quotes)
            columns.extend(result.quotes)
            problems.extend(result.problems)
    for item in _each_recorded_odds(files, meta, streamed=True):
        try:  # read without holding the file's parsed JSON (see `_StreamedOdds`)
            result = item.payload.normalize()
        except check_instead:  # the checked whole-file path names the problem
            item = item.payload.whole()
            try:
                result = normalize_odds_response(item.payload, sport_key=item.sport_key, fetched_at=item.fetched_at,
                                                 provider=item.provider, odds_format=item.odds_format,
                                                 source=item.source)
            except OddsPayloadError as exc:
                raise SnapshotError(str(exc)) from None
        quotes.extend(result.quotes)
        if result.columns is None:
            columns.extend(result.quotes)
        else:
            columns.extend_columns(result.columns)
        problems.extend(result.problems)
        for market, count in result.ignored_markets.items():
            ignored[market] = ignored.get(market, 0) + count
        del item, result  # this file's parsed JSON goes before the next one is read

    snapshot = MarketSnapshot(
        captured_at=meta.captured_at, events=tuple(events), milestones=tuple(milestones), orderbooks=orderbooks,
        quotes=tuple(quotes), series_fees=series_fees, exchange=exchange,
        books_captured_at=meta.books_captured_at, source=meta.source, structured_targets=targets,
        quote_columns=columns,
    )
    return SnapshotLoad(snapshot=snapshot, problems=tuple(problems), ignored_markets=ignored)


def read_snapshot(directory: str | Path, *, keep_extra: frozenset[str] | None = None) -> SnapshotLoad:
    """The snapshot in `directory`, with the odds problems returned as data instead of logged.

    `keep_extra`: the only unmapped Kalshi fields the events' and markets' `extra` keep (None: every
    one, verbatim). A scan passes the few it reads (`services.scan.SCAN_EXTRA_FIELDS`): at 5,000 games
    the rest held ~20 MiB. Every mapped field is read and checked the same way either way, so a
    malformed file fails with the same message."""
    directory = Path(directory)
    files, newest = _directory_files(directory)
    return _parse(files, _meta(files, captured_at=newest, source=str(directory), books_captured_at=None), keep_extra)


def read_payloads(
    payloads: Mapping[str, str | bytes],
    *,
    captured_at: datetime | None = None,
    source: str = "",
    books_captured_at: datetime | None = None,
    label: str = "",
    keep_extra: frozenset[str] | None = None,
    preparsed: Mapping[str, PreparsedOdds] | None = None,
) -> SnapshotLoad:
    """A snapshot from its files' raw texts (file name → JSON text), e.g. as stored in the database.

    `meta.json` among the payloads wins; otherwise `captured_at` (required then), `source` and
    `books_captured_at` stand in for it. `label` prefixes file names in errors (e.g. "snapshot 42").
    `keep_extra` as `read_snapshot`'s: a capture parsed for scanning passes the scan's fields; the
    payloads themselves stay verbatim, so a later full read (`parse_payloads`) still sees every field.
    `preparsed`: odds files already normalized from these very texts (`PreparsedOdds`, a capture's).
    """
    files = _Files(payloads, (lambda name: f"{label}/{name}") if label else (lambda name: name), preparsed)
    return _parse(files, _meta(files, captured_at=captured_at, source=source, books_captured_at=books_captured_at),
                  keep_extra)


def _logged(loaded: SnapshotLoad) -> MarketSnapshot:
    for problem in loaded.problems:
        log.warning("snapshot problem: %s", problem)
    return loaded.snapshot


def load_snapshot(path: Path, *, keep_extra: frozenset[str] | None = None) -> MarketSnapshot:
    """The `MarketSnapshot` recorded in directory `path`; each odds problem is logged as a warning.

    Use `read_snapshot` to get the problems as data (e.g. to print them in the CLI); `keep_extra` as
    there.
    """
    return _logged(read_snapshot(path, keep_extra=keep_extra))


def parse_payloads(
    payloads: Mapping[str, str | bytes],
    *,
    captured_at: datetime | None = None,
    source: str = "",
    books_captured_at: datetime | None = None,
) -> MarketSnapshot:
    """`load_snapshot` for stored payloads, without temporary files (see `read_payloads`)."""
    return _logged(read_payloads(payloads, captured_at=captured_at, source=source,
                                 books_captured_at=books_captured_at))


# --- writing -----------------------------------------------------------------------------------


def _rfc3339(value: Any, key: str) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"meta {key!r} must be timezone-aware")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so a crash never leaves half a file behind."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_snapshot(
    out_dir: str | Path,
    *,
    events_payload: Mapping[str, Any],
    orderbooks_payload: Mapping[str, Any],
    odds_payloads: Mapping[str, list[Any]],
    meta: Mapping[str, Any],
    series_payload: Mapping[str, Any] | None = None,
    exchange_payload: Mapping[str, Any] | None = None,
    targets_payload: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Record one scan's raw responses as a snapshot directory that `load_snapshot` reads back.

    Payloads are written as given (`Decimal`s digit for digit). `meta` needs `captured_at`
    (datetime or RFC 3339 text). An existing snapshot in `out_dir` is an error unless `overwrite`,
    which first removes its files so no stale `odds_*.json` of an earlier capture survives.
    `meta.json` is written last: a directory without it is an interrupted write (or an old capture).
    """
    out = Path(out_dir)
    meta_out = {key: _rfc3339(value, key) for key, value in meta.items() if value is not None}
    if not isinstance(meta_out.get("source", ""), str):
        raise ValueError("meta source must be a string")
    if "captured_at" not in meta_out:
        raise ValueError("meta must hold captured_at")
    for key in ("captured_at", "odds_fetched_at", "books_captured_at"):
        if key in meta_out:
            _timestamp(meta_out, key, META_FILE, required=True)
    _odds_formats(meta_out.get("odds_format"), META_FILE)
    if not odds_payloads:
        raise ValueError("odds_payloads is empty: a snapshot needs at least one odds_<sport_key>.json")
    files: dict[str, Any] = {EVENTS_FILE: events_payload, ORDERBOOKS_FILE: orderbooks_payload}
    for sport_key, payload in odds_payloads.items():
        name = f"odds_{sport_key}.json"
        if not _ODDS_FILE_RE.match(name):
            raise ValueError(f"invalid sport key {sport_key!r}")
        if not isinstance(payload, list):
            raise ValueError(f"odds payload for {sport_key!r} must be the /odds response array")
        files[name] = payload
    if series_payload is not None:
        files[SERIES_FILE] = series_payload
    if exchange_payload is not None:
        files[EXCHANGE_FILE] = exchange_payload
    if targets_payload is not None:
        files[TARGETS_FILE] = targets_payload
    texts = {name: dumps_exact(payload) for name, payload in files.items()}  # fail before touching disk
    texts[META_FILE] = dumps_exact(meta_out)

    out.mkdir(parents=True, exist_ok=True)
    existing = [out / name for name in _FIXED_FILES if (out / name).exists()] + list(out.glob("odds_*.json"))
    if existing and not overwrite:
        raise FileExistsError(f"{out} already holds a snapshot ({', '.join(sorted(p.name for p in existing))}); "
                              "pass overwrite=True to replace it")
    for path in existing:
        path.unlink()
    for name, text in texts.items():
        if name != META_FILE:
            _write_atomically(out / name, text)
    _write_atomically(out / META_FILE, texts[META_FILE])
    return out

"""`kalshi.fastwire` (msgspec) gives exactly the checked parsers' records, or declines so they report."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arb_pipeline.connectors.snapshot as snapshot_module
from arb_pipeline.connectors.jsonstream import NotStreamable
from arb_pipeline.connectors.kalshi import fastwire, models
from arb_pipeline.connectors.kalshi.errors import KalshiResponseError
from arb_pipeline.connectors.kalshi.fastwire import Declined, decode_events, decode_orderbooks
from arb_pipeline.connectors.snapshot import (
    EVENTS_FILE,
    ORDERBOOKS_FILE,
    SnapshotError,
    read_payloads,
    read_snapshot,
)
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, SCAN_EXTRA_FIELDS

# the scan's fields, none at all, and unmapped fields of markets and events (numbers, objects, lists)
KEEPS = [SCAN_EXTRA_FIELDS, frozenset(),
         frozenset({"volume_fp", "result", "settlement_timer_seconds", "can_close_early", "category",
                    "settlement_sources", "strike_type", "last_updated_ts", "title"})]



def _checked_events(data: bytes | str, keep_extra):
    return models.parse_events_response(json.loads(data), keep_extra=keep_extra)


def _checked_books(data: bytes | str):
    return models.parse_orderbooks_response(json.loads(data))


@pytest.mark.parametrize("keep", KEEPS)
@pytest.mark.parametrize("where", ["sample", "generated"])
def test_fast_records_equal_the_checked_ones(generated, where, keep):
    directory = SAMPLE_SNAPSHOT_DIR if where == "sample" else generated
    events = (directory / EVENTS_FILE).read_bytes()
    books = (directory / ORDERBOOKS_FILE).read_bytes()
    fast_events, fast_milestones, cursor = decode_events(events, keep_extra=keep)
    checked_events, checked_milestones, checked_cursor = _checked_events(events, keep)
    assert fast_events == checked_events and fast_milestones == checked_milestones and cursor == checked_cursor
    assert [m.extra for e in fast_events for m in e.markets] == [m.extra for e in checked_events for m in e.markets]
    assert [e.extra for e in fast_events] == [e.extra for e in checked_events]
    # not only equal: every Decimal has the same digits (exponent) as the checked one
    assert [(repr(m.yes_ask), repr(m.no_bid), repr(m.price_ranges)) for e in fast_events for m in e.markets] == \
        [(repr(m.yes_ask), repr(m.no_bid), repr(m.price_ranges)) for e in checked_events for m in e.markets]
    fast_books = decode_orderbooks(books)
    checked_books = _checked_books(books)
    assert fast_books == checked_books
    assert list(fast_books) == list(checked_books)  # in the payload's order too, as the checked path lists them
    assert {t: repr(b) for t, b in fast_books.items()} == {t: repr(b) for t, b in checked_books.items()}
    if keep:
        assert any(m.extra for e in fast_events for m in e.markets)


@pytest.mark.parametrize("kind", ["market", "event", "milestone", "book"])
def test_a_record_built_slot_by_slot_is_the_frozen_record_of_its_fields(generated, kind):
    """`_new_market` / `_new_event` / `_new_milestone` / `_new_book` give what `KalshiMarket(**fields)` (...) gives: same
    class, every slot the same object, equal, and frozen; a field they do not set is impossible (same
    layout or TypeError)."""
    import dataclasses

    events, milestones, _ = decode_events((generated / EVENTS_FILE).read_bytes(), keep_extra=KEEPS[2])
    cls, new, records = {
        "market": (models.KalshiMarket, fastwire._new_market, [m for e in events for m in e.markets]),
        "event": (models.KalshiEvent, fastwire._new_event, events),
        "milestone": (models.Milestone, fastwire._new_milestone, milestones),
        "book": (models.OrderBookLevels, fastwire._new_book,
                 list(decode_orderbooks((generated / ORDERBOOKS_FILE).read_bytes()).values())),
    }[kind]
    assert records
    for record in records[:50]:
        assert type(record) is cls
        fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(cls)}
        built, reference = new(**fields), cls(**fields)
        assert type(built) is cls
        assert all(getattr(built, name) is getattr(reference, name) for name in cls.__slots__)
        assert built == reference and repr(built) == repr(reference)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(built, dataclasses.fields(cls)[0].name, "X")
    assert new.__slots__ == cls.__slots__


def test_the_positional_field_orders_are_the_records_and_the_structs():
    """Each record is built from one attrgetter's tuple, passed positionally: the wire names must be
    exactly the struct's fields, in the record's field order (`*_dollars` are the prices)."""
    import dataclasses

    assert set(fastwire._MARKET_ORDER) == fastwire._MARKET_FIELDS
    assert set(fastwire._EVENT_ORDER) == fastwire._EVENT_FIELDS
    market = [f.name for f in dataclasses.fields(models.KalshiMarket)][:-1]  # `extra` aside
    assert [name.removesuffix("_dollars") for name in fastwire._MARKET_ORDER] == market
    assert list(fastwire._EVENT_ORDER) == [f.name for f in dataclasses.fields(models.KalshiEvent)][:-1]
    # and the builders take them in that order (they are called positionally)
    assert _params(fastwire._new_market) == [name.removesuffix("_dollars") for name in fastwire._MARKET_ORDER] + ["extra"]
    assert _params(fastwire._new_event) == [*fastwire._EVENT_ORDER, "extra"]
    assert _params(fastwire._new_milestone) == list(fastwire._MILESTONE_ORDER)


def _params(builder: object) -> list[str]:
    import inspect

    return list(inspect.signature(builder).parameters)


def test_a_str_subclass_is_read_as_its_text(generated):
    """A capture's own payloads are the store's `DecodedJson` (a `str` subclass), which msgspec refuses
    with a TypeError; read back (e.g. `read_payloads(capture.payloads)`) they decode like the plain text."""
    from arb_pipeline.storage.repositories.snapshots import DecodedJson

    events = (generated / EVENTS_FILE).read_text()
    books = (generated / ORDERBOOKS_FILE).read_text()
    assert decode_events(DecodedJson(events), keep_extra=SCAN_EXTRA_FIELDS) == \
        decode_events(events, keep_extra=SCAN_EXTRA_FIELDS)
    assert decode_orderbooks(DecodedJson(books)) == decode_orderbooks(books)


def test_the_market_struct_maps_exactly_the_fields_the_checked_reader_reads():
    """Otherwise a kept unmapped field would be missing from `extra` (or a mapped one added)."""
    assert fastwire._MARKET_FIELDS == models._MARKET_READ


def test_keep_extra_none_declines_before_reading_anything():
    with pytest.raises(Declined):
        decode_events(b"not json at all", keep_extra=None)


def test_a_scan_load_takes_the_fast_path_and_shares_tickers_with_the_books(generated, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("not the fast path")

    for name in ("_streamed_events", "_streamed_orderbooks"):
        monkeypatch.setattr(snapshot_module, name, refuse)
    monkeypatch.setattr(models, "parse_events_response", refuse)
    monkeypatch.setattr(models, "parse_orderbooks_response", refuse)
    snap = read_snapshot(generated, keep_extra=SCAN_EXTRA_FIELDS).snapshot
    assert snap.markets and set(snap.orderbooks) == {m.ticker for m in snap.markets}
    assert all(snap.orderbooks[m.ticker].ticker is m.ticker for m in snap.markets)


# --- exactness of the fixed-point strings ----------------------------------------------------------

_NUMBER_TEXTS = st.one_of(
    st.sampled_from(["0.5600", "10.00", "0.0100", "0.56", "1", "0", "1.0000", "0.9999", "-0.01", "1e-2", "0.5E0",
                     " 0.25", "0.25 ", "", "abc", "NaN", "Infinity", "-0", "0.00000001", "123456789.123456789"]),
    st.decimals(min_value=0, max_value=2, places=4, allow_nan=False).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


def _one_market_payloads(price: str, level_price: str, level_count: str) -> tuple[str, str]:
    sample = json.loads((SAMPLE_SNAPSHOT_DIR / EVENTS_FILE).read_text())
    event = copy.deepcopy(sample["events"][0])
    market = event["markets"][0]
    market["yes_ask_dollars"] = price
    events = {"events": [event], "milestones": [], "cursor": ""}
    books = {"orderbooks": [{"ticker": market["ticker"],
                             "orderbook_fp": {"yes_dollars": [[level_price, level_count]], "no_dollars": None}}]}
    return json.dumps(events), json.dumps(books)


def _outcome(parse, *args, **kwargs):
    try:
        return parse(*args, **kwargs)
    except KalshiResponseError as exc:
        return f"error: {exc}"


@settings(max_examples=150, deadline=None)
@given(price=_NUMBER_TEXTS, level_price=_NUMBER_TEXTS, level_count=_NUMBER_TEXTS)
def test_prices_and_counts_keep_every_digit_or_decline(price, level_price, level_count):
    events, books = _one_market_payloads(price, level_price, level_count)
    checked = _outcome(_checked_events, events, SCAN_EXTRA_FIELDS)
    try:
        fast = decode_events(events, keep_extra=SCAN_EXTRA_FIELDS)
    except Declined:
        fast = None
    if fast is not None:  # whatever the fast path accepts, the checked path reads the same, digit for digit
        assert fast == checked
        ask = fast[0][0].markets[0].yes_ask
        assert repr(ask) == repr(checked[0][0].markets[0].yes_ask) == repr(Decimal(price.strip()))
    else:
        assert isinstance(checked, str)  # declined only what the checked path refuses
    checked_books = _outcome(_checked_books, books)
    try:
        fast_books = decode_orderbooks(books)
    except Declined:
        assert isinstance(checked_books, str)
    else:
        assert fast_books == checked_books
        (level,) = next(iter(fast_books.values())).yes
        assert (repr(level[0]), repr(level[1])) == (repr(Decimal(level_price.strip())), repr(Decimal(level_count.strip())))


@pytest.mark.parametrize("text, expected", [("0.5600", "0.5600"), ("10.00", "10.00"), ("0.0100", "0.0100")])
def test_the_documented_examples_keep_their_exponent(text, expected):
    events, books = _one_market_payloads("0.5600", "0.0100", text)
    (level,) = next(iter(decode_orderbooks(books).values())).yes
    assert str(level[1]) == expected and str(level[0]) == "0.0100"
    assert str(decode_events(events, keep_extra=frozenset())[0][0].markets[0].yes_ask) == "0.5600"


# --- malformed input: the checked path's error, word for word --------------------------------------

def _event_mutation(target, key, value):
    def mutate(events, books):
        try:  # an earlier mutation (several at once) may have removed or replaced the target
            obj = {"event": lambda: events["events"][0], "market": lambda: events["events"][0]["markets"][0],
                   "milestone": lambda: events["milestones"][0], "top": lambda: events}[target]()
        except (KeyError, IndexError, TypeError):
            return
        if not isinstance(obj, dict):
            return
        if value is _DROP:
            obj.pop(key, None)
        else:
            obj[key] = value
    return mutate


def _book_mutation(key, value):
    def mutate(events, books):
        if not isinstance(books["orderbooks"][0].get("orderbook_fp"), dict):
            return
        if key == "duplicate":
            books["orderbooks"].append(copy.deepcopy(books["orderbooks"][0]))
        elif key == "ticker":
            books["orderbooks"][0]["ticker"] = value
        else:
            books["orderbooks"][0]["orderbook_fp"][key] = value
    return mutate


_DROP = object()
_MALFORMED = {
    "market ticker missing": _event_mutation("market", "ticker", _DROP),
    "market ticker empty": _event_mutation("market", "ticker", ""),
    "status wrong type": _event_mutation("market", "status", 5),
    "price as a JSON number": _event_mutation("market", "yes_ask_dollars", 0.56),
    "price not a number": _event_mutation("market", "no_bid_dollars", "abc"),
    "price out of range": _event_mutation("market", "yes_bid_dollars", "1.0100"),
    "price key missing": _event_mutation("market", "no_ask_dollars", _DROP),
    "bad time": _event_mutation("market", "close_time", "tomorrow"),
    "null time": _event_mutation("market", "open_time", None),
    "bad price band": _event_mutation("market", "price_ranges", [{"start": "0.5", "end": "0.4", "step": "0.01"}]),
    "price bands not a list": _event_mutation("market", "price_ranges", {}),
    "custom strike not an object": _event_mutation("market", "custom_strike", "x"),
    "custom strike with a number": _event_mutation("market", "custom_strike", {"team": 7, "ok": True}),
    "exchange index a string": _event_mutation("market", "exchange_index", "0"),
    "exchange index a float": _event_mutation("market", "exchange_index", 1.0),
    "kept extra nested": _event_mutation("market", "floor_strike", {"deep": [1.5, None]}),
    "kept extra a float": _event_mutation("market", "floor_strike", 41.5),
    "flag not a bool": _event_mutation("event", "mutually_exclusive", 1),
    "series missing": _event_mutation("event", "series_ticker", _DROP),
    "metadata with a float": _event_mutation("event", "product_metadata", {"x": 1.5}),
    "metadata null": _event_mutation("event", "product_metadata", None),
    "fee multiplier number": _event_mutation("event", "fee_multiplier_override", 0.5),
    "fee multiplier text": _event_mutation("event", "fee_multiplier_override", "1.25"),
    "fee multiplier bad": _event_mutation("event", "fee_multiplier_override", "x"),
    "markets null": _event_mutation("event", "markets", None),
    "markets not a list": _event_mutation("event", "markets", "none"),
    "milestone details missing": _event_mutation("milestone", "details", _DROP),
    "milestone bad start": _event_mutation("milestone", "start_date", "soon"),
    "cursor missing": _event_mutation("top", "cursor", _DROP),
    "cursor a number": _event_mutation("top", "cursor", 3),
    "events missing": _event_mutation("top", "events", _DROP),
    "book duplicate ticker": _book_mutation("duplicate", None),
    "book empty ticker": _book_mutation("ticker", ""),
    "book level of one": _book_mutation("yes_dollars", [["0.5"]]),
    "book level as numbers": _book_mutation("no_dollars", [[0.4, "1"]]),
    "book negative count": _book_mutation("yes_dollars", [["0.5", "-1"]]),
    "book price of one": _book_mutation("yes_dollars", [["1.0000", "5"]]),
    "book side an object": _book_mutation("no_dollars", {"0.5": "1"}),
    "book orderbook_fp null": _book_mutation("orderbook_fp", None),
}


def _payloads(mutate) -> dict[str, str]:
    texts = {path.name: path.read_text(encoding="utf-8") for path in SAMPLE_SNAPSHOT_DIR.glob("*.json")}
    events, books = json.loads(texts[EVENTS_FILE]), json.loads(texts[ORDERBOOKS_FILE])
    mutate(events, books)
    texts[EVENTS_FILE], texts[ORDERBOOKS_FILE] = json.dumps(events), json.dumps(books)
    return texts


def _load(texts, keep_extra):
    try:
        return read_payloads(texts, label="snapshot 7", keep_extra=keep_extra).snapshot
    except SnapshotError as exc:
        return f"SnapshotError: {exc}"


def _checked_only(monkeypatch):
    def decline(*_):
        raise Declined("checked path forced by the test")

    def refuse(*_):
        raise NotStreamable("checked path forced by the test")

    for name, replacement in (("_fast_events", decline), ("_fast_orderbooks", decline),
                              ("_streamed_events", refuse), ("_streamed_orderbooks", refuse)):
        monkeypatch.setattr(snapshot_module, name, replacement)


@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_malformed_files_load_as_the_checked_path_loads_them(case, monkeypatch):
    """The same snapshot or the same error message (file, JSON path) as the checked parsers alone."""
    texts = _payloads(_MALFORMED[case])
    fast = _load(texts, SCAN_EXTRA_FIELDS)
    with monkeypatch.context() as patch:
        _checked_only(patch)
        checked = _load(texts, SCAN_EXTRA_FIELDS)
    assert fast == checked
    if not isinstance(fast, str):
        assert [m.extra for m in fast.markets] == [m.extra for m in checked.markets]


def test_a_repeated_key_means_what_json_loads_makes_of_it():
    """json.loads keeps a repeated key's last value; so does msgspec: the fast path agrees."""
    sample = json.loads((SAMPLE_SNAPSHOT_DIR / EVENTS_FILE).read_text())
    body = json.dumps({"events": sample["events"], "milestones": sample["milestones"]})[:-1]
    data = body + ', "cursor": "x", "cursor": ""}'
    market = json.dumps(sample["events"][0]["markets"][0])
    twice = market[:-1] + ', "yes_ask_dollars": "0.3300"}'
    data = data.replace(market, twice, 1)
    fast = decode_events(data, keep_extra=SCAN_EXTRA_FIELDS)
    assert fast == _checked_events(data, SCAN_EXTRA_FIELDS)
    assert fast[2] == "" and fast[0][0].markets[0].yes_ask == Decimal("0.33")


@pytest.mark.parametrize("data", [b"", b"[]", b'{"events": []', b'{"events": [], "cursor": ""} x',
                                  b'\xef\xbb\xbf{"events": [], "cursor": ""}', b'{"events": [], "cursor": "\xff"}',
                                  b'{"events": [], "cursor": NaN}', b'{"events": [], "cursor": "a\nb"}'])
def test_text_json_loads_refuses_is_declined(data):
    with pytest.raises(Declined):
        decode_events(data, keep_extra=SCAN_EXTRA_FIELDS)
    with pytest.raises(Declined):
        decode_orderbooks(data.replace(b"events", b"orderbooks"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(st.sampled_from(sorted(_MALFORMED)), min_size=2, max_size=3, unique=True))
def test_several_problems_at_once_report_the_checked_first_one(cases, monkeypatch):
    def mutate(events, books):
        for case in cases:
            _MALFORMED[case](events, books)

    texts = _payloads(mutate)
    fast = _load(texts, SCAN_EXTRA_FIELDS)
    with monkeypatch.context() as patch:
        _checked_only(patch)
        assert fast == _load(texts, SCAN_EXTRA_FIELDS)


# --- values remembered per response (`_Memo`, `_Tables.extras`, `_Tables.plain_texts`) ---------------

_KEPT = frozenset({"floor_strike", "cap_strike", "strike_type", "category"})
_ABSENT = object()
# few distinct values, so that markets repeat them (the remembered path) and differ (a new one)
_JSON_VALUES = st.sampled_from([_ABSENT, None, "structured", "1", 1, True, False, 41, 10**30, [1, "a"], {"k": "v"}])
_STRIKE_VALUES = st.sampled_from(["team-a", "team-b", "1", 1, True, None])
_TIMES = st.sampled_from([None, "", "2026-11-24T22:15:00Z", "2026-11-24T22:15:00+00:00", "2026-11-25T01:00:00Z"])
_PRICES = st.sampled_from([None, "0.5600", "0.56", "0.0000", "1.0000", "0.4400"])


@st.composite
def _varied_events(draw) -> str:
    """The sample's events with their markets' kept fields, custom strikes, prices and optional times, the
    events' kept fields and the milestones' ticker lists drawn from a few values each."""
    sample = json.loads((SAMPLE_SNAPSHOT_DIR / EVENTS_FILE).read_text())
    events = sample["events"][: draw(st.integers(1, 4))]
    # a few sets of kept fields, each given to several markets and events
    kept = draw(st.lists(st.fixed_dictionaries({name: _JSON_VALUES for name in sorted(_KEPT)}), min_size=1, max_size=3))
    for event in events:
        for obj in (event, *event["markets"]):
            for name, value in draw(st.sampled_from(kept)).items():
                if value is _ABSENT:
                    obj.pop(name, None)
                else:
                    obj[name] = value
        for market in event["markets"]:
            market["custom_strike"] = draw(st.one_of(st.none(), st.dictionaries(
                st.sampled_from(["football_team", "team", "x"]), _STRIKE_VALUES, max_size=2)))
            market["expected_expiration_time"] = draw(_TIMES)
            market["fee_waiver_expiration_time"] = draw(_TIMES)
            market["yes_bid_dollars"], market["no_ask_dollars"] = draw(_PRICES), draw(_PRICES)
    tickers = [e["event_ticker"] for e in events]
    for milestone in sample["milestones"]:
        milestone["related_event_tickers"] = draw(st.lists(st.sampled_from(tickers), max_size=3))
        milestone["primary_event_tickers"] = draw(st.lists(st.sampled_from(tickers), max_size=2))
    return json.dumps({"events": events, "milestones": sample["milestones"], "cursor": ""})


@settings(max_examples=80, deadline=None)
@given(data=_varied_events())
def test_remembered_values_give_the_checked_records(data):
    """Whatever repeats or differs between markets, events and milestones of one response, the records are
    the checked path's, field by field (or the fast path declines what the checked path refuses)."""
    checked = _outcome(_checked_events, data, _KEPT)
    try:
        fast = decode_events(data, keep_extra=_KEPT)
    except Declined:
        assert isinstance(checked, str)
        return
    assert fast == checked
    fast_events, fast_milestones, _ = fast
    checked_events, checked_milestones, _ = checked
    assert [(m.extra, m.custom_strike, repr(m.yes_bid), m.expected_expiration_time, m.fee_waiver_expiration_time)
            for e in fast_events for m in e.markets] == \
        [(m.extra, m.custom_strike, repr(m.yes_bid), m.expected_expiration_time, m.fee_waiver_expiration_time)
         for e in checked_events for m in e.markets]
    assert [e.extra for e in fast_events] == [e.extra for e in checked_events]
    assert [(m.related_event_tickers, m.primary_event_tickers) for m in fast_milestones] == \
        [(m.related_event_tickers, m.primary_event_tickers) for m in checked_milestones]
    # a remembered mapping is shared only when it holds texts alone (records never mutate their mappings)
    extras = [m.extra for e in fast_events for m in e.markets] + [e.extra for e in fast_events]
    seen: set[int] = set()
    for extra in extras:
        if id(extra) in seen:
            assert extra and all(type(v) is str for v in extra.values())
        seen.add(id(extra))

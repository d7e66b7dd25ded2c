"""Pure market-data parsers: exact Decimals, aware UTC datetimes, extras kept, clear errors."""

from __future__ import annotations

import ast
import copy
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from arb_pipeline.connectors.kalshi import KalshiResponseError, models


def _events_payload(wire, **event_over):
    event = wire.event("KXNBAGAME-26NOV03BOSNYK", **event_over)
    return {"events": [event], "milestones": [wire.milestone(event["event_ticker"])], "cursor": "abc"}


def test_models_module_is_pure():
    tree = ast.parse(Path(models.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.split(".")[0] in {"httpx", "tenacity", "requests"} for name in imported)


def test_parse_events_response_maps_every_record(wire):
    payload = _events_payload(wire, fee_multiplier_override=0.5, brand_new_field={"x": 1})
    payload["events"][0]["markets"][0]["occurrence_datetime"] = "2026-11-04T01:30:00.5-05:00"
    events, milestones, cursor = models.parse_events_response(payload)
    assert cursor == "abc"
    (event,) = events
    assert event.series_ticker == "KXNBAGAME" and event.mutually_exclusive is True
    assert event.fee_multiplier_override == Decimal("0.5")
    assert event.extra["brand_new_field"] == {"x": 1}  # unknown fields are kept verbatim
    assert event.product_metadata == {"competition": "Pro Basketball (M)"}
    market = event.markets[0]
    assert (market.yes_bid, market.yes_ask, market.no_bid, market.no_ask) == tuple(
        Decimal(x) for x in ("0.5400", "0.5500", "0.4500", "0.4600")
    )
    assert all(isinstance(p, Decimal) for p in (market.yes_bid, market.yes_ask))
    assert market.price_ranges[0].step == Decimal("0.0100")
    assert market.occurrence_datetime == datetime(2026, 11, 4, 6, 30, 0, 500000, tzinfo=UTC)
    assert market.occurrence_datetime.utcoffset() == timedelta(0)
    assert market.custom_strike == {"basketball_team": "00000000-0000-0000-0000-000000000001"}
    assert market.extra["volume_fp"] == "250000.00" and "yes_bid_dollars" not in market.extra
    (milestone,) = milestones
    assert milestone.start_date == datetime(2026, 11, 4, 0, 30, tzinfo=UTC) and milestone.end_date is None
    assert milestone.details["home_team_id"] == "team-nyk"


def test_events_without_nested_markets_or_milestones(wire):
    event = wire.event("E1")
    del event["markets"]
    events, milestones, cursor = models.parse_events_response({"events": [event], "cursor": None})
    assert events[0].markets == () and milestones == [] and cursor == ""


@pytest.mark.parametrize(
    ("mutate", "field", "problem"),
    [
        (lambda m: m.pop("close_time"), "events[0].markets[0].close_time", "missing"),
        (lambda m: m.update(yes_bid_dollars=54), "events[0].markets[0].yes_bid_dollars", "fixed-point string"),
        (lambda m: m.update(yes_ask_dollars="1.5"), "events[0].markets[0].yes_ask_dollars", "out of range"),
        (lambda m: m.update(no_bid_dollars="NaN"), "events[0].markets[0].no_bid_dollars", "not finite"),
        (lambda m: m.update(open_time="2026-11-01T14:00:00"), "events[0].markets[0].open_time", "RFC 3339"),
        (lambda m: m.update(price_ranges=[{"start": "0", "end": "1"}]), "events[0].markets[0].price_ranges[0].step", "missing"),
        (lambda m: m.update(price_ranges=[{"start": "0.5", "end": "0.1", "step": "0.01"}]), "price_ranges[0]", "price band"),
        (lambda m: m.update(status=None), "events[0].markets[0].status", "null"),
    ],
)
def test_bad_market_fields_name_field_and_endpoint(wire, mutate, field, problem):
    payload = _events_payload(wire)
    mutate(payload["events"][0]["markets"][0])
    with pytest.raises(KalshiResponseError) as info:
        models.parse_events_response(payload, endpoint="GET /events")
    assert field in str(info.value) and problem in str(info.value) and "GET /events" in str(info.value)


def test_missing_cursor_and_bad_top_level_are_errors(wire):
    with pytest.raises(KalshiResponseError, match="'cursor' is missing"):
        models.parse_events_response({"events": []})
    with pytest.raises(KalshiResponseError, match="must be a JSON object"):
        models.parse_events_response(["not", "an", "object"])
    with pytest.raises(KalshiResponseError, match="events' is missing"):
        models.parse_events_response({"cursor": ""})


def test_parse_market_and_markets_response(wire):
    market = models.parse_market(wire.market("A-1", "A", yes_bid_dollars=None), "GET /markets")
    assert market.yes_bid is None and market.exchange_index == 0
    markets, cursor = models.parse_markets_response({"markets": [wire.market("A-2", "A")], "cursor": ""})
    assert [m.ticker for m in markets] == ["A-2"] and cursor == ""


def test_orderbook_parsers():
    book = models.parse_orderbook_response(
        "T", {"orderbook_fp": {"yes_dollars": [["0.5200", "300.00"], ["0.5400", "1200.00"]], "no_dollars": []}}
    )
    assert book.yes == ((Decimal("0.5200"), Decimal("300.00")), (Decimal("0.5400"), Decimal("1200.00")))
    assert book.no == ()
    tolerant = models.parse_orderbook_response("T", {"orderbook_fp": {"yes_dollars": [["0.1", "1"]]}})
    assert tolerant.no == ()  # a missing side reads as empty (§5.3)
    books = models.parse_orderbooks_response(
        {"orderbooks": [{"ticker": "A", "orderbook_fp": {"yes_dollars": [], "no_dollars": [["0.4500", "8.50"]]}}]}
    )
    assert books["A"].no == ((Decimal("0.4500"), Decimal("8.50")),)
    for bad, problem in [
        ([["0.5"]], "pair"),
        ([[0.5, "1.00"]], "fixed-point string"),
        ([["1.0000", "1.00"]], "outside (0, 1)"),
        ([["0.5000", "-1.00"]], "negative"),
    ]:
        with pytest.raises(KalshiResponseError, match=re.escape(problem)) as info:
            models.parse_orderbook_response("T", {"orderbook_fp": {"yes_dollars": bad, "no_dollars": []}})
        assert "orderbook_fp.yes_dollars[0]" in str(info.value)
    with pytest.raises(KalshiResponseError, match="twice"):
        item = {"ticker": "A", "orderbook_fp": {"yes_dollars": [], "no_dollars": []}}
        models.parse_orderbooks_response({"orderbooks": [item, item]})
    with pytest.raises(KalshiResponseError, match="orderbook_fp' is missing"):
        models.parse_orderbook_response("T", {"orderbook": {"yes": [[54, 10]]}})  # the removed legacy shape


def test_series_and_exchange_status():
    base = {"ticker": "KXNBAGAME", "fee_type": "quadratic", "title": "NBA"}
    for raw, expected in [(1, "1"), (0.5, "0.5"), ("1.25", "1.25"), (0.07, "0.07")]:
        fees = models.parse_series({"series": {**base, "fee_multiplier": raw}})
        assert fees.fee_multiplier == Decimal(expected) and fees.fee_type == "quadratic"
    with pytest.raises(KalshiResponseError, match="series.fee_multiplier' is missing"):
        models.parse_series({"series": base})
    with pytest.raises(KalshiResponseError, match="negative"):
        models.parse_series({"series": {**base, "fee_multiplier": -1}})
    status = models.parse_exchange_status({"exchange_active": True, "trading_active": False, "x": 1})
    assert (status.exchange_active, status.trading_active) == (True, False)
    with pytest.raises(KalshiResponseError, match="trading_active' must be a boolean"):
        models.parse_exchange_status({"exchange_active": True, "trading_active": "yes"})


# --- order-book levels: the one-pass path against the field-by-field check ---------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.one_of(st.sampled_from(["0.5400", "0.01", "0.99", "1.00", "0", "-0.2", "12.00", "abc", "", " 0.3 ",
                                   "NaN", "1e-2", "0.1_5"]), st.integers(0, 100), st.none())
_LEVEL = st.one_of(st.lists(_TEXT, min_size=0, max_size=3), st.tuples(_TEXT, _TEXT).map(list), st.just("x"))


@given(st.lists(_LEVEL, max_size=4), st.lists(_LEVEL, max_size=4))
def test_orderbook_levels_fast_path_agrees_with_the_checked_path(yes, no):
    from arb_pipeline.connectors.kalshi.errors import KalshiResponseError
    from arb_pipeline.connectors.kalshi.models import _checked_levels, _levels
    from arb_pipeline.connectors.kalshi.wire import Reader

    def read(fn):
        book = Reader({"yes_dollars": yes, "no_dollars": no}, endpoint="GET /markets/orderbooks", path="orderbook_fp")
        try:
            return fn(book, "yes_dollars"), fn(book, "no_dollars")
        except KalshiResponseError as exc:
            return "error", str(exc)

    assert read(_levels) == read(_checked_levels)


# --- markets: the plain path (`_plain_market`, shared texts/prices/times) against the field-by-field one ---

_FIELD_VALUES = st.one_of(
    st.sampled_from(["", " ", "0.5400", "0.5400 ", "1.0000", "1.5", "-0.01", "NaN", "abc", "2026-11-01T14:00:00Z",
                     "2026-11-01T14:00:00", "2026-11-01T14:00:00+01:00", "2026-13-01T14:00:00Z", "active"]),
    st.none(), st.booleans(), st.integers(-2, 2), st.floats(0, 1), st.just([]), st.just({}),
    st.just({"basketball_team": "t1"}), st.just({"basketball_team": 7}),
    st.just([{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]),
    st.just([{"start": "0.5", "end": "0.1", "step": "0.01"}]), st.just([{"start": "0", "end": "1"}]),
    st.just([{"start": "0", "end": "1", "step": "0"}]), st.just(["x"]))
_MARKET_KEYS = st.sampled_from(sorted(models._MARKET_READ | {"strike_type", "result", "extra_thing"}))


@given(changes=st.lists(st.tuples(_MARKET_KEYS, st.one_of(st.just("drop"), _FIELD_VALUES)), max_size=3))
def test_plain_market_path_reads_exactly_what_the_field_by_field_reader_reads(changes):
    """`parse_event` with shared tables (the streamed snapshot's path) == without them (every other
    caller): the same records (prices, times, extra fields verbatim) or the same error."""
    from arb_pipeline_tests.connectors.kalshi.conftest import make_event

    event = make_event("KXNBAGAME-26NOV24NYKBOS")
    assert len(event["markets"]) == 2
    for key, value in changes:
        if value == "drop":
            event["markets"][0].pop(key, None)
        else:
            event["markets"][0][key] = value

    def parse(**tables):
        try:
            return models.parse_event(copy.deepcopy(event), endpoint="GET /events", path="events[0]", **tables)
        except KalshiResponseError as exc:
            return f"error: {exc}"

    shared = parse(strings={}, numbers={}, times={})
    assert shared == parse()
    if not isinstance(shared, str):
        assert [m.extra for m in shared.markets] == [m.extra for m in parse().markets]


@given(changes=st.lists(st.tuples(_MARKET_KEYS, st.one_of(st.just("drop"), _FIELD_VALUES)), max_size=3),
       keep=st.sampled_from([frozenset(), frozenset({"strike_type"}), frozenset({"strike_type", "result", "nope"})]),
       shared=st.booleans())
def test_keep_extra_drops_only_unmapped_fields_it_does_not_name(changes, keep, shared):
    """`keep_extra` (a scan's load): the same records as a full parse but for the unmapped fields it does
    not name - on the plain and the field-by-field path - and exactly the same error for bad input."""
    from dataclasses import replace

    from arb_pipeline_tests.connectors.kalshi.conftest import make_event

    event = make_event("KXNBAGAME-26NOV24NYKBOS")
    event["settlement_sources"] = [{"name": "ESPN"}]
    for key, value in changes:
        if value == "drop":
            event["markets"][0].pop(key, None)
        else:
            event["markets"][0][key] = value

    def parse(**kwargs):
        tables = dict(strings={}, numbers={}, times={}) if shared else {}
        try:
            return models.parse_event(copy.deepcopy(event), endpoint="GET /events", path="events[0]", **tables,
                                      **kwargs)
        except KalshiResponseError as exc:
            return f"error: {exc}"

    full, lean = parse(), parse(keep_extra=keep)
    if isinstance(full, str):
        assert lean == full
        return
    assert "settlement_sources" in full.extra and lean.extra == {}
    kept = [replace(m, extra={k: v for k, v in m.extra.items() if k in keep}) for m in full.markets]
    assert lean == replace(full, markets=tuple(kept), extra={})
    assert [m.extra for m in lean.markets] == [m.extra for m in kept]
    assert all(set(m.extra) <= keep for m in lean.markets)
    response = {"events": [copy.deepcopy(event)], "cursor": ""}
    assert models.parse_events_response(response, keep_extra=keep)[0] == [lean]


def test_a_well_formed_market_takes_the_plain_path_and_shares_its_values():
    from arb_pipeline.connectors.kalshi.wire import Reader
    from arb_pipeline_tests.connectors.kalshi.conftest import make_event

    tables = dict(strings={}, numbers={}, times={})
    first, second = make_event("KXNBAGAME-26NOV24NYKBOS")["markets"]
    plain = [models._plain_market(Reader(m, endpoint="GET /events", path="m", **tables)) for m in (first, second)]
    assert None not in plain
    assert plain[0].price_ranges is plain[1].price_ranges and plain[0].open_time is plain[1].open_time
    assert plain == [models.parse_market(m) for m in (first, second)]

"""Snapshot directories: write_snapshot → load_snapshot round trip, and every error names its file."""

from __future__ import annotations

import copy
import json
import logging
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.connectors.kalshi.models import parse_events_response, parse_orderbooks_response
from arb_pipeline.connectors.snapshot import (
    SnapshotError,
    load_snapshot,
    parse_payloads,
    read_payloads,
    read_snapshot,
    write_snapshot,
)
from arb_pipeline.connectors.sportsbooks.jsonio import dumps_exact, loads_exact
from arb_pipeline.domain import ExchangeStatus, SeriesFees

CAPTURED = datetime(2026, 11, 24, 22, 16, 5, tzinfo=UTC)
ODDS_FETCHED = datetime(2026, 11, 24, 22, 15, 30, tzinfo=UTC)
BOOKS_AT = datetime(2026, 11, 24, 22, 16, 1, tzinfo=UTC)
EVENT = "KXNBAGAME-26NOV24NYKBOS"


def kalshi_market(side: str, team: str) -> dict:
    return {
        "ticker": f"{EVENT}-{side}", "event_ticker": EVENT, "market_type": "binary", "status": "active",
        "yes_sub_title": team, "no_sub_title": team, "title": "New York vs Boston Winner?",
        "rules_primary": f"If {team} wins the New York vs Boston game, then the market resolves to Yes.",
        "rules_secondary": "", "open_time": "2026-11-20T15:00:00Z", "close_time": "2026-12-09T00:30:00Z",
        "expected_expiration_time": "2026-11-25T03:30:00Z",
        "yes_bid_dollars": "0.5400", "yes_ask_dollars": "0.5500", "no_bid_dollars": "0.4500",
        "no_ask_dollars": "0.4600", "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
        "custom_strike": {"basketball_team": "00000000-0000-0000-0000-000000000001"}, "exchange_index": 0,
    }


EVENTS = {
    "events": [{
        "event_ticker": EVENT, "series_ticker": "KXNBAGAME", "title": "New York at Boston",
        "sub_title": "NYK at BOS (Nov 24)", "mutually_exclusive": True, "collateral_return_type": "MECNET",
        "product_metadata": {"competition": "NBA"}, "exchange_index": 0,
        "markets": [kalshi_market("BOS", "Boston"), kalshi_market("NYK", "New York")],
    }],
    "milestones": [{
        "id": "11111111-2222-3333-4444-555555555555", "type": "basketball_game",
        "start_date": "2026-11-25T00:30:00Z", "title": "New York at Boston",
        "related_event_tickers": [EVENT], "primary_event_tickers": [EVENT],
        "details": {"home_team": "Boston Celtics", "away_team": "New York Knicks"},
    }],
    "cursor": "",
}
ORDERBOOKS = {"orderbooks": [
    {"ticker": f"{EVENT}-BOS", "orderbook_fp": {"yes_dollars": [["0.5300", "120.00"], ["0.5400", "1200.00"]],
                                                "no_dollars": [["0.4500", "800.00"]]}},
    {"ticker": f"{EVENT}-NYK", "orderbook_fp": {"yes_dollars": [], "no_dollars": [["0.5400", "10.50"]]}},
]}
SERIES = {"series": [{"ticker": "KXNBAGAME", "title": "NBA game", "fee_type": "quadratic_with_maker_fees",
                      "fee_multiplier": 1}]}
EXCHANGE = {"exchange_active": True, "trading_active": False}

NBA_AMERICAN_UNIX = [{
    "id": "a" * 32, "sport_key": "basketball_nba", "sport_title": "NBA", "commence_time": 1795998600,
    "home_team": "Boston Celtics", "away_team": "New York Knicks",
    "bookmakers": [{"key": "draftkings", "title": "DraftKings", "last_update": 1795990241, "markets": [
        {"key": "h2h", "last_update": 1795990241, "outcomes": [
            {"name": "New York Knicks", "price": 150}, {"name": "Boston Celtics", "price": -110}]}]}],
}]
EPL_DECIMAL_ISO = [{
    "id": "b" * 32, "sport_key": "soccer_epl", "sport_title": "EPL", "commence_time": "2026-11-28T15:00:00Z",
    "home_team": "Arsenal", "away_team": "Chelsea",
    "bookmakers": [{"key": "pinnacle", "title": "Pinnacle", "last_update": "2026-11-24T22:00:00Z", "markets": [
        {"key": "h2h", "outcomes": [{"name": "Arsenal", "price": Decimal("1.8049")},
                                    {"name": "Chelsea", "price": Decimal("4.30")},
                                    {"name": "Draw", "price": Decimal("3.9")}]}]}],
}]
META = {"captured_at": CAPTURED, "source": "simulator", "odds_fetched_at": ODDS_FETCHED,
        "books_captured_at": BOOKS_AT}


def write(directory, **changes):
    args = dict(events_payload=EVENTS, orderbooks_payload=ORDERBOOKS,
                odds_payloads={"basketball_nba": NBA_AMERICAN_UNIX, "soccer_epl": EPL_DECIMAL_ISO},
                meta=META, series_payload=SERIES, exchange_payload=EXCHANGE)
    return write_snapshot(directory, **(args | changes))


def test_round_trip_returns_the_same_data(tmp_path):
    out = write(tmp_path / "snap")
    snap = load_snapshot(out)

    events, milestones, _ = parse_events_response(EVENTS)
    assert snap.events == tuple(events) and snap.milestones == tuple(milestones)
    assert snap.orderbooks == parse_orderbooks_response(ORDERBOOKS)
    assert snap.orderbooks[f"{EVENT}-NYK"].no == ((Decimal("0.5400"), Decimal("10.50")),)
    assert snap.series_fees == {"KXNBAGAME": SeriesFees("KXNBAGAME", "quadratic_with_maker_fees", Decimal(1))}
    assert snap.exchange == ExchangeStatus(exchange_active=True, trading_active=False)
    assert (snap.captured_at, snap.books_captured_at, snap.source) == (CAPTURED, BOOKS_AT, "simulator")

    quotes = {(q.league, q.outcome): q for q in snap.quotes}
    assert len(snap.quotes) == 5
    assert quotes[("NBA", "home")].american_odds == -110
    assert quotes[("NBA", "home")].decimal_odds == Decimal("1.909090909090909090909090909")
    assert quotes[("NBA", "away")].decimal_odds == Decimal("2.5")
    assert quotes[("NBA", "home")].commence_time == datetime.fromtimestamp(1795998600, UTC)
    assert quotes[("EPL", "draw")].outcome_name == "Draw"
    assert quotes[("EPL", "home")].decimal_odds == Decimal("1.8049")
    assert quotes[("EPL", "away")].decimal_odds == Decimal("4.30")
    assert {q.fetched_at for q in snap.quotes} == {ODDS_FETCHED}

    # The files hold the payloads as given, and the meta times as RFC 3339.
    assert loads_exact((out / "odds_soccer_epl.json").read_text()) == EPL_DECIMAL_ISO
    assert json.loads((out / "kalshi_events.json").read_text()) == EVENTS
    assert json.loads((out / "meta.json").read_text())["captured_at"] == "2026-11-24T22:16:05Z"


def test_without_meta_captured_at_is_the_newest_file_mtime(tmp_path):
    out = write(tmp_path / "snap", series_payload=None, exchange_payload=None)
    (out / "meta.json").unlink()
    for i, path in enumerate(sorted(out.iterdir())):
        os.utime(path, (1_790_000_000 + i, 1_790_000_000 + i))
    snap = load_snapshot(out)
    newest = datetime.fromtimestamp(1_790_000_000 + len(list(out.iterdir())) - 1, UTC)
    assert snap.captured_at == newest and {q.fetched_at for q in snap.quotes} == {newest}
    assert snap.source == str(out) and snap.series_fees == {} and snap.exchange == ExchangeStatus()


def test_a_bad_bookmaker_is_a_reported_problem_and_the_rest_is_loaded(tmp_path, caplog):
    epl = copy.deepcopy(EPL_DECIMAL_ISO)
    epl[0]["bookmakers"].append({"key": "bet365", "title": "Bet365", "last_update": "2026-11-24T22:00:00Z",
                                 "markets": [{"key": "h2h", "outcomes": [{"name": "Arsenal", "price": "1.8"}]}]})
    out = write(tmp_path / "snap", odds_payloads={"soccer_epl": epl})
    loaded = read_snapshot(out)
    [problem] = loaded.problems
    assert problem.source == str(out / "odds_soccer_epl.json") and problem.bookmaker == "bet365"
    assert len(loaded.snapshot.quotes) == 3
    with caplog.at_level(logging.WARNING):
        load_snapshot(out)
    assert "odds_soccer_epl.json:$[0].bookmakers[1].markets[0].outcomes[0]" in caplog.text


def test_a_non_empty_cursor_is_reported(tmp_path):
    out = write(tmp_path / "snap", events_payload=EVENTS | {"cursor": "next-page"})
    assert "later pages" in read_snapshot(out).problems[0].message


@pytest.mark.parametrize(("file", "content", "expected"), [
    ("kalshi_events.json", None, r"kalshi_events\.json: required file is missing"),
    ("kalshi_orderbooks.json", None, r"kalshi_orderbooks\.json: required file is missing"),
    ("odds_soccer_epl.json", '[\n  {"id": ', r"odds_soccer_epl\.json: invalid JSON at line 2 column 10"),
    ("odds_soccer_epl.json", '{"message": "quota"}', r"odds_soccer_epl\.json: expected a JSON array of events at \$"),
    ("kalshi_events.json", "[]", r"kalshi_events\.json: expected a JSON object at \$"),
    ("kalshi_orderbooks.json", '{"orderbooks": [{"ticker": "X", "orderbook_fp": {"yes_dollars": [["0.5", "1"]], '
     '"no_dollars": [[0.4, "1"]]}}]}', r"kalshi_orderbooks\.json.*no_dollars\[0\]\[0\]"),
    ("kalshi_series.json", '{"series": {}}', r"kalshi_series\.json: \$\.series must be a list"),
    ("kalshi_exchange_status.json", '{"exchange_active": true}', r"kalshi_exchange_status\.json.*trading_active"),
    ("kalshi_structured_targets.json", '{"structured_targets": [{"id": "t1"}]}',
     r"kalshi_structured_targets\.json.*structured_targets\[0\]\.name"),
    ("meta.json", '{"source": "x"}', r"meta\.json: \$\.captured_at must be an RFC 3339 timestamp"),
    ("meta.json", '{"captured_at": "2026-11-24T22:16:05"}', r"meta\.json: \$\.captured_at .*no timezone"),
    ("meta.json", '{"captured_at": "2026-11-24T22:16:05Z", "odds_format": "fractional"}',
     r"meta\.json: \$\.odds_format must be"),
    ("odds_NBA.json", "[]", r"odds_NBA\.json: odds file name must be odds_<sport_key>\.json"),
    ("odds_soccer_epl.json", b"\xff\xfe[]", r"odds_soccer_epl\.json: cannot be read as UTF-8"),
    # nested beyond the recursion limit: used to escape as a bare RecursionError naming nothing
    ("odds_soccer_epl.json", "[" * 100_000 + "]" * 100_000, r"odds_soccer_epl\.json: invalid JSON: nested too deeply"),
    ("kalshi_events.json", '{"events": ' + "[" * 100_000 + "]" * 100_000 + "}",
     r"kalshi_events\.json: invalid JSON: nested too deeply"),
])
def test_each_error_names_the_file(tmp_path, file, content, expected):
    out = write(tmp_path / "snap")
    path = out / file
    if content is None:
        path.unlink()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(SnapshotError, match=expected):
        load_snapshot(out)


def test_kalshi_dollar_fields_stay_strict_strings(tmp_path):
    events = copy.deepcopy(EVENTS)
    events["events"][0]["markets"][0]["yes_bid_dollars"] = 0.54  # a number is the old cents field's signature
    out = write(tmp_path / "snap", events_payload=events)
    with pytest.raises(SnapshotError, match=r"kalshi_events\.json.*events\[0\]\.markets\[0\]\.yes_bid_dollars"):
        load_snapshot(out)


def test_missing_directory_and_missing_odds_files_are_errors(tmp_path):
    with pytest.raises(SnapshotError, match="does not exist"):
        load_snapshot(tmp_path / "nope")
    out = write(tmp_path / "snap")
    for path in out.glob("odds_*.json"):
        path.unlink()
    with pytest.raises(SnapshotError, match=r"snap/odds_<sport_key>\.json: required file is missing"):
        load_snapshot(out)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SnapshotError, match="no snapshot files found"):
        load_snapshot(empty)


def test_write_refuses_to_mix_with_an_existing_snapshot_unless_overwrite(tmp_path):
    out = write(tmp_path / "snap")
    with pytest.raises(FileExistsError, match="already holds a snapshot"):
        write(out)
    write(out, odds_payloads={"basketball_nba": NBA_AMERICAN_UNIX}, overwrite=True)
    assert not (out / "odds_soccer_epl.json").exists()  # no stale sport from the earlier capture
    assert {q.league for q in load_snapshot(out).quotes} == {"NBA"}
    assert not list(out.glob(".*"))  # no temporary files left behind


@pytest.mark.parametrize(("changes", "expected"), [
    ({"meta": {"source": "x"}}, "captured_at"),
    ({"meta": {"captured_at": datetime(2026, 11, 24)}}, "timezone-aware"),
    ({"meta": {"captured_at": "yesterday"}}, "RFC 3339"),
    ({"meta": META | {"odds_format": {"soccer_epl": "fractional"}}}, "odds_format must be"),
    ({"odds_payloads": {"NBA": []}}, "invalid sport key"),
    ({"odds_payloads": {"basketball_nba": {"data": []}}}, "must be the /odds response array"),
    ({"odds_payloads": {}}, "at least one"),
    ({"events_payload": {"events": [], "x": Decimal("NaN")}}, "non-finite"),
])
def test_write_validates_before_touching_disk(tmp_path, changes, expected):
    with pytest.raises(ValueError, match=expected):
        write(tmp_path / "snap", **changes)
    assert not (tmp_path / "snap").exists()


def test_stored_payloads_parse_like_the_directory_without_temporary_files(tmp_path):
    out = write(tmp_path / "snap")
    texts = {path.name: path.read_text() for path in out.iterdir()}
    assert parse_payloads(texts) == load_snapshot(out)

    del texts["meta.json"]
    snap = parse_payloads(texts, captured_at=CAPTURED, source="db", books_captured_at=BOOKS_AT)
    assert (snap.captured_at, snap.source, snap.books_captured_at) == (CAPTURED, "db", BOOKS_AT)
    assert {q.fetched_at for q in snap.quotes} == {CAPTURED}  # no odds_fetched_at without meta.json

    with pytest.raises(SnapshotError, match="snapshot 42/meta.json: missing, and no timezone-aware captured_at"):
        read_payloads(texts, label="snapshot 42")
    texts["odds_soccer_epl.json"] = "[1"
    with pytest.raises(SnapshotError, match=r"^snapshot 42/odds_soccer_epl\.json: invalid JSON at line 1"):
        read_payloads(texts, captured_at=CAPTURED, label="snapshot 42")


def test_the_recorded_odds_format_in_meta_beats_detection(tmp_path):
    # -110 and 2.5 side by side cannot be told apart by detection; the recorded format decides.
    nba = copy.deepcopy(NBA_AMERICAN_UNIX)
    nba[0]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = Decimal("2.5")
    out = write(tmp_path / "snap", odds_payloads={"basketball_nba": nba, "soccer_epl": EPL_DECIMAL_ISO},
                meta=META | {"odds_format": {"basketball_nba": "american"}})
    loaded = read_snapshot(out)
    [problem] = loaded.problems
    assert problem.source.endswith("odds_basketball_nba.json") and "not an integer" in problem.message
    assert {q.league for q in loaded.snapshot.quotes} == {"EPL"}  # the NBA market is out, EPL detected

    (out / "meta.json").write_text(dumps_exact(json.loads((out / "meta.json").read_text()) | {"odds_format": "decimal"}))
    assert "must be greater than 1" in read_snapshot(out).problems[0].message  # -110 as decimal


SAMPLE = Path(__file__).resolve().parents[2] / "arb_pipeline" / "data" / "sample_snapshot"


@pytest.mark.skipif(not (SAMPLE / "kalshi_events.json").exists(), reason=f"no sample snapshot at {SAMPLE} yet")
def test_the_shipped_sample_snapshot_loads_cleanly():
    loaded = read_snapshot(SAMPLE)
    assert loaded.problems == (), [str(p) for p in loaded.problems]
    leagues = {q.league for q in loaded.snapshot.quotes}
    sports = {p.name[len("odds_"):-len(".json")] for p in SAMPLE.glob("odds_*.json")}
    assert len(leagues) == len(sports) and loaded.snapshot.events and loaded.snapshot.orderbooks
    # every team the events name by structured target is in the snapshot, so the sample resolves
    named = {v for m in loaded.snapshot.markets for v in (m.custom_strike or {}).values()}
    assert named and named <= set(loaded.snapshot.structured_targets)


# --- the large Kalshi files read item by item (connectors.jsonstream) == the checked whole-file parse ---

def _load_or_error(directory):
    try:
        return load_snapshot(directory)
    except SnapshotError as exc:
        return f"SnapshotError: {exc}"


def _checked_only(monkeypatch):
    """Force the checked whole-file path for both Kalshi files (what every load did before streaming)."""
    import arb_pipeline.connectors.snapshot as snapshot_module
    from arb_pipeline.connectors.jsonstream import NotStreamable
    from arb_pipeline.connectors.kalshi.fastwire import Declined

    def refuse(files, *_):
        raise NotStreamable("checked path forced by the test")

    def decline(files, *_):
        raise Declined("checked path forced by the test")

    monkeypatch.setattr(snapshot_module, "_fast_events", decline)
    monkeypatch.setattr(snapshot_module, "_fast_orderbooks", decline)
    monkeypatch.setattr(snapshot_module, "_streamed_events", refuse)
    monkeypatch.setattr(snapshot_module, "_streamed_orderbooks", refuse)


_MUTATIONS = [
    ("drop", "ticker"), ("drop", "yes_ask_dollars"), ("drop", "status"), ("drop", "rules_secondary"),
    ("set", "yes_ask_dollars", 0.55), ("set", "yes_ask_dollars", "1.5"), ("set", "yes_ask_dollars", None),
    ("set", "no_bid_dollars", "abc"), ("set", "exchange_index", "0"), ("set", "price_ranges", {}),
    ("set", "custom_strike", "x"), ("set", "unknown_field", {"kept": ["verbatim", 1.5]}),
    ("set", "title", 7), ("set", "open_time", "not a time"), ("set", "rules_primary", "Ünïcode ✓ \"quoted\""),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.integers(1, 6), mutations=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(_MUTATIONS)),
                                                    max_size=2),
       book_change=st.sampled_from([None, ("no_dollars", [[0.4, "1"]]), ("yes_dollars", [["0.5", "-1"]]),
                                    ("yes_dollars", None), ("yes_dollars", [["0.5"]]), ("ticker", "dup")]),
       chunk=st.sampled_from([7, 64, 1 << 20]), indent=st.sampled_from([0, 1]))
def test_streamed_kalshi_files_load_exactly_as_the_checked_parse(tmp_path_factory, monkeypatch, events, mutations,
                                                                 book_change, chunk, indent):
    """Whatever the events and order-book files hold, the streamed load gives the same snapshot — or the
    same error message (file, JSON path) — as parsing each file whole (the path every load took before)."""
    import arb_pipeline.connectors.jsonstream as jsonstream

    payload = {"events": [], "milestones": EVENTS["milestones"], "cursor": ""}
    books = {"orderbooks": []}
    for n in range(events):
        event = copy.deepcopy(EVENTS["events"][0])
        event["event_ticker"] = f"{EVENT}{n}"
        for market in event["markets"]:
            market["ticker"] = f"{market['ticker']}{n}"
            books["orderbooks"].append({"ticker": market["ticker"],
                                        "orderbook_fp": copy.deepcopy(ORDERBOOKS["orderbooks"][0]["orderbook_fp"])})
        payload["events"].append(event)
    markets = [m for e in payload["events"] for m in e["markets"]]
    for index, (action, key, *value) in mutations:
        market = markets[index % len(markets)]
        if action == "drop":
            market.pop(key, None)
        else:
            market[key] = value[0]
    if book_change is not None:
        key, value = book_change
        target = books["orderbooks"][-1]
        if key == "ticker":
            target["ticker"] = books["orderbooks"][0]["ticker"]
        else:
            target["orderbook_fp"][key] = value
    out = tmp_path_factory.mktemp("snap")
    write(out, overwrite=True)
    (out / "kalshi_events.json").write_text(json.dumps(payload, indent=indent))
    (out / "kalshi_orderbooks.json").write_text(json.dumps(books, indent=indent))

    with monkeypatch.context() as patch:
        patch.setattr(jsonstream, "CHUNK", chunk)
        streamed = _load_or_error(out)
    with monkeypatch.context() as patch:
        _checked_only(patch)
        checked = _load_or_error(out)
    assert streamed == checked
    if not isinstance(streamed, str):
        assert [m.extra for m in streamed.markets] == [m.extra for m in checked.markets]


@pytest.mark.parametrize("mutation", [None, *_MUTATIONS])
@pytest.mark.parametrize("checked", [False, True])
def test_keep_extra_loads_the_same_records_but_for_unnamed_unmapped_fields(tmp_path, monkeypatch, mutation, checked):
    """`read_snapshot(keep_extra=...)` (a scan's load): every record equals the full load's with only the
    named unmapped fields in `extra` - streamed or checked - and a bad file fails with the same message."""
    from dataclasses import replace

    keep = frozenset({"strike_type", "unknown_field"})
    out = write(tmp_path / "snap")
    payload = json.loads((out / "kalshi_events.json").read_text())
    payload["events"][0]["settlement_sources"] = [{"name": "ESPN"}]  # an event field nothing maps
    for market in payload["events"][0]["markets"]:  # market fields nothing maps, one of them kept
        market.update(volume_fp="1200.00", strike_type="structured")
    if mutation is not None:
        market = payload["events"][0]["markets"][0]
        action, key, *value = mutation
        market.pop(key, None) if action == "drop" else market.__setitem__(key, value[0])
    (out / "kalshi_events.json").write_text(json.dumps(payload))
    if checked:
        _checked_only(monkeypatch)

    def load(**kwargs):
        try:
            return read_snapshot(out, **kwargs).snapshot
        except SnapshotError as exc:
            return f"SnapshotError: {exc}"

    full, lean = load(), load(keep_extra=keep)
    if isinstance(full, str):
        assert lean == full
        return
    assert full.events[0].extra and any(set(m.extra) - keep for m in full.markets)
    events = tuple(replace(e, extra={}, markets=tuple(replace(m, extra={k: v for k, v in m.extra.items() if k in keep})
                                                      for m in e.markets)) for e in full.events)
    assert lean == replace(full, events=events)
    assert [m.extra for m in lean.markets] == [m.extra for e in events for m in e.markets]
    assert all(set(m.extra) <= keep for m in lean.markets) and not any(e.extra for e in lean.events)


def test_streamed_loads_share_repeated_texts_and_prices(tmp_path):
    """Two markets' equal texts and prices are one object each after a streamed load (the memory saving)."""
    snap = load_snapshot(write(tmp_path / "snap"))
    first, second = snap.markets
    assert first.title == second.title and first.title is second.title
    assert first.price_ranges[0].step is second.price_ranges[0].step
    books = list(snap.orderbooks.values())
    assert books[0].yes[1][0] is books[1].no[0][0]  # both "0.5400"


def test_well_formed_kalshi_files_never_take_the_whole_file_parse(tmp_path, monkeypatch):
    import arb_pipeline.connectors.kalshi.models as models

    def whole_file(*args, **kwargs):
        raise AssertionError("parsed whole")

    monkeypatch.setattr(models, "parse_events_response", whole_file)
    monkeypatch.setattr(models, "parse_orderbooks_response", whole_file)
    snap = load_snapshot(write(tmp_path / "snap"))
    assert len(snap.markets) == 2 and len(snap.orderbooks) == 2


_ODDS_MUTATIONS = [
    ("event", "id", None), ("event", "home_team", "Chelsea"), ("event", "commence_time", "soon"),
    ("event", "bookmakers", {}), ("event", "sport_key", "soccer_uefa"), ("book", "key", 5),
    ("book", "last_update", None), ("market", "key", "h2h_lay"), ("market", "outcomes", []),
    ("outcome", "price", "1.5"), ("outcome", "price", Decimal("0.5")), ("outcome", "price", 10**30),
    ("outcome", "name", "Nobody"), ("outcome", "price", Decimal("2.50")), ("duplicate-event", None, None),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.integers(0, 5), mutations=st.lists(st.tuples(st.integers(0, 9), st.sampled_from(_ODDS_MUTATIONS)),
                                                    max_size=2),
       raw_tail=st.sampled_from([None, "", " x", "]"]), chunk=st.sampled_from([5, 64, 1 << 20]))
def test_streamed_odds_files_load_exactly_as_the_whole_file_parse(tmp_path_factory, monkeypatch, events, mutations,
                                                                 raw_tail, chunk):
    """With the odds format in meta.json each odds file is read event by event: the same quotes, columns,
    problems (same JSON paths) and ignored markets as normalizing the whole file — or the same error."""
    import arb_pipeline.connectors.jsonstream as jsonstream
    import arb_pipeline.connectors.snapshot as snapshot_module
    from arb_pipeline.connectors.jsonstream import NotStreamable

    payload = []
    for n in range(events):
        event = copy.deepcopy(EPL_DECIMAL_ISO[0])
        event["id"] = f"{n:032d}"
        payload.append(event)
    for index, (where, key, value) in mutations:
        if not payload:
            break
        event = payload[index % len(payload)]
        if where == "duplicate-event":
            payload.append(copy.deepcopy(event))
            continue
        try:  # an earlier mutation may have removed what this one changes
            book = event["bookmakers"][0]
            target = {"event": event, "book": book, "market": book["markets"][0],
                      "outcome": book["markets"][0]["outcomes"][index % 3]}[where]
        except (KeyError, IndexError, TypeError):
            target = event if where == "event" else None
        if target is not None:
            target[key] = value
    out = tmp_path_factory.mktemp("snap")
    write(out, meta=META | {"odds_format": {"soccer_epl": "decimal", "basketball_nba": "american"}}, overwrite=True)
    if raw_tail is not None:  # not a plain array any more: the whole-file parse must name the problem
        (out / "odds_soccer_epl.json").write_text(dumps_exact(payload) + raw_tail)
    else:
        (out / "odds_soccer_epl.json").write_text(dumps_exact(payload))

    def outcome():
        try:
            loaded = read_snapshot(out)
        except SnapshotError as exc:
            return f"SnapshotError: {exc}"
        columns = loaded.snapshot.quote_columns
        return (loaded.snapshot, loaded.problems, loaded.ignored_markets,
                [list(getattr(columns, f)) for f in ("events", "bookmakers", "event", "book", "market", "outcome",
                                                     "point", "odds", "updated", "exact", "max_stake")])

    with monkeypatch.context() as patch:
        patch.setattr(jsonstream, "CHUNK", chunk)
        streamed = outcome()
    with monkeypatch.context() as patch:
        def refuse(self):
            raise NotStreamable("whole-file path forced by the test")

        patch.setattr(snapshot_module._StreamedOdds, "__iter__", refuse)
        whole = outcome()
    assert streamed == whole


# --- odds normalized ahead of the parse (a capture's `PreparsedOdds`) ---------------------------------


def _preparsed(texts: dict, *, label: str = "snapshot 7", fetched_at=ODDS_FETCHED, run: bool = True) -> dict:
    from arb_pipeline.connectors.snapshot import PreparsedOdds

    ready = {name: PreparsedOdds.of(name, text, label=label, fetched_at=fetched_at, odds_format=None)
             for name, text in texts.items() if name.startswith("odds_")}
    for item in ready.values():
        if run:
            item.run()
    return ready


def _count_normalizations(monkeypatch) -> list:
    from arb_pipeline.connectors.sportsbooks import odds_msgspec

    real, calls = odds_msgspec.normalize_odds_bytes, []
    monkeypatch.setattr(odds_msgspec, "normalize_odds_bytes", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_preparsed_odds_are_taken_for_their_own_texts_and_the_snapshot_is_the_same(tmp_path, monkeypatch):
    out = write(tmp_path / "snap")
    texts = {path.name: path.read_text() for path in out.iterdir()}
    reference = read_payloads(texts, label="snapshot 7")
    ready = _preparsed(texts)
    calls = _count_normalizations(monkeypatch)
    loaded = read_payloads(texts, label="snapshot 7", preparsed=ready)
    assert calls == []  # taken, not normalized again
    assert loaded.snapshot == reference.snapshot and loaded.problems == reference.problems
    # not yet run by any thread: the parse normalizes it itself instead of waiting forever
    loaded = read_payloads(texts, label="snapshot 7", preparsed=_preparsed(texts, run=False))
    assert len(calls) == 2 and loaded.snapshot == reference.snapshot


@pytest.mark.parametrize("change", ["another text", "another label", "another fetch time"])
def test_preparsed_odds_made_from_anything_else_are_not_taken(tmp_path, monkeypatch, change):
    out = write(tmp_path / "snap")
    texts = {path.name: path.read_text() for path in out.iterdir()}
    if change == "another text":  # equal, but not the very text the parse reads
        ready = _preparsed({name: "".join(list(text)) for name, text in texts.items()})
    elif change == "another label":
        ready = _preparsed(texts, label="snapshot 8")
    else:
        ready = _preparsed(texts, fetched_at=CAPTURED)
    calls = _count_normalizations(monkeypatch)
    loaded = read_payloads(texts, label="snapshot 7", preparsed=ready)
    assert len(calls) == 2  # both files normalized by the parse itself, with the snapshot's own arguments
    assert loaded.snapshot == read_payloads(texts, label="snapshot 7").snapshot


def test_a_preparsed_file_the_fast_path_refuses_is_reported_by_the_parse_as_before(tmp_path):
    out = write(tmp_path / "snap")
    texts = {path.name: path.read_text() for path in out.iterdir()}
    texts["odds_soccer_epl.json"] = "[1"
    ready = _preparsed(texts)
    assert ready["odds_soccer_epl.json"].result() is None
    with pytest.raises(SnapshotError, match=r"^snapshot 7/odds_soccer_epl\.json: invalid JSON at line 1"):
        read_payloads(texts, label="snapshot 7", preparsed=ready)
    from arb_pipeline.connectors.snapshot import PreparsedOdds

    with pytest.raises(ValueError, match="'kalshi_events.json' is not an odds_<sport_key>.json file"):
        PreparsedOdds.of("kalshi_events.json", "{}", label="", fetched_at=CAPTURED, odds_format=None)

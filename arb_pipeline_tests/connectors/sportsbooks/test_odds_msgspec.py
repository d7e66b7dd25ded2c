"""normalize_odds_bytes: the msgspec path gives exactly the checked normaliser's result, or hands over.

"Exactly" is every slot of every quote (the float mirrors too, which `==` on quotes skips), the problems
(source, JSON path, message, event, bookmaker), ignored markets, the odds format and the columns.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.connectors.snapshot import SnapshotError, read_snapshot
from arb_pipeline.connectors.sportsbooks.errors import OddsPayloadError
from arb_pipeline.connectors.sportsbooks.jsonio import loads_exact
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_response
from arb_pipeline.connectors.sportsbooks.odds_msgspec import OddsNotPlain, decode_odds, normalize_odds_bytes
from arb_pipeline.domain import SportsbookQuote
from arb_pipeline.storage.repositories.snapshots import DecodedJson

FETCHED = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[3] / "arb_pipeline" / "data" / "sample_snapshot"
FLIPPED = {"decimal": "american", "american": "decimal"}


def slots(quote: SportsbookQuote) -> tuple:
    return (type(quote),) + tuple(getattr(quote, name) for name in SportsbookQuote.__slots__)


def as_data(result) -> tuple:
    columns = result.columns
    return (
        [slots(q) for q in result.quotes], result.problems, dict(result.ignored_markets), result.odds_format,
        (columns.events, columns.bookmakers, list(columns.event), list(columns.book), list(columns.market),
         list(columns.outcome), columns.point, list(columns.odds), list(columns.updated), columns.exact,
         columns.max_stake),
    )


def checked(data: bytes | str, **kwargs):
    """The checked path: exact JSON, then `normalize_odds_response` - its result or its error."""
    try:
        return "ok", as_data(normalize_odds_response(loads_exact(data), fetched_at=FETCHED, **kwargs))
    except (ValueError, OddsPayloadError) as exc:
        return "error", type(exc).__name__, str(exc)


def fast(data: bytes | str, **kwargs):
    try:
        return "ok", as_data(normalize_odds_bytes(data, fetched_at=FETCHED, **kwargs))
    except OddsNotPlain:
        return "not plain"
    except (ValueError, OddsPayloadError) as exc:
        return "error", type(exc).__name__, str(exc)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    """The simulator's odds files over HTTP, h2h + spreads + totals for every sport: each sport once in
    the recorder's formats and once in the other one (so every sport is seen decimal and American)."""
    from arb_pipeline.sim.record import DEFAULT_ODDS_FORMATS, record_snapshot, sample_engine

    out = tmp_path_factory.mktemp("odds")
    every = {"*": "h2h,spreads,totals"}
    return [record_snapshot(sample_engine(games_per_league=2), out / "as_recorded", markets=every),
            record_snapshot(sample_engine(games_per_league=2), out / "flipped", markets=every,
                            odds_formats={s: FLIPPED[f] for s, f in DEFAULT_ODDS_FORMATS.items()})]


def odds_files(directories: list[Path]) -> list[tuple[str, str, bytes]]:
    meta = [json.loads((d / "meta.json").read_text())["odds_format"] for d in directories]
    return [(p.stem[len("odds_"):], formats[p.stem[len("odds_"):]], p.read_bytes())
            for d, formats in zip(directories, meta, strict=True) for p in sorted(d.glob("odds_*.json"))]


def test_simulator_files_give_the_checked_result_in_both_formats(recordings):
    files = odds_files(recordings)
    assert {fmt for _, fmt, _ in files} == {"decimal", "american"} and len(files) == 10
    for sport, fmt, data in files:
        for odds_format in (fmt, None):  # recorded format, and detected
            kwargs = dict(sport_key=sport, odds_format=odds_format, source=f"odds_{sport}.json")
            expected = checked(data, **kwargs)
            assert expected[0] == "ok" and expected[1][0] and expected[1][3] == fmt
            assert fast(data, **kwargs) == expected
            assert fast(data.decode(), **kwargs) == expected  # stored payloads may be text
            assert fast(DecodedJson(data.decode()), **kwargs) == expected  # ... a str subclass, as the store's


def test_the_shipped_sample_gives_the_checked_result():
    meta = json.loads((SAMPLE / "meta.json").read_text())
    for path in sorted(SAMPLE.glob("odds_*.json")):
        sport = path.stem[len("odds_"):]
        kwargs = dict(sport_key=sport, odds_format=(meta.get("odds_format") or {}).get(sport), source=path.name)
        assert fast(path.read_bytes(), **kwargs) == checked(path.read_bytes(), **kwargs)


def test_a_snapshot_loads_the_same_with_msgspec_refused(recordings, monkeypatch):
    """`read_snapshot` (msgspec first) against the streamed/checked paths every load took before."""
    import arb_pipeline.connectors.sportsbooks.odds_msgspec as odds_msgspec

    def loaded(directory):
        load = read_snapshot(directory)
        return [slots(q) for q in load.snapshot.quotes], load.problems, load.ignored_markets

    fast_loads = [loaded(d) for d in recordings]

    def refuse(*args, **kwargs):
        raise OddsNotPlain("refused by the test")

    monkeypatch.setattr(odds_msgspec, "normalize_odds_bytes", refuse)
    assert fast_loads == [loaded(d) for d in recordings]
    assert fast_loads[0][0] and fast_loads[0][1] == ()


# --- malformed documents: the same problems, or handed to the checked path --------------------------------

BASE = [{
    "id": "e1", "sport_key": "soccer_epl", "sport_title": "EPL", "commence_time": "2026-11-28T15:00:00Z",
    "home_team": "Arsenal", "away_team": "Chelsea", "bookmakers": [
        {"key": "pinnacle", "title": "Pinnacle", "last_update": "2026-11-24T16:00:00Z", "markets": [
            {"key": "h2h", "last_update": "2026-11-24T16:01:00Z", "outcomes": [
                {"name": "Arsenal", "price": 1.8}, {"name": "Chelsea", "price": 4.3}, {"name": "Draw", "price": 3.9}]},
            {"key": "totals", "outcomes": [
                {"name": "Over", "price": 1.91, "point": 2.5}, {"name": "Under", "price": 1.95, "point": 2.5}]},
            {"key": "h2h_lay", "outcomes": []}]},
        {"key": "betfair", "last_update": 1796140800, "markets": [
            {"key": "spreads", "last_update": "2026-11-24T16:02:00+01:00", "outcomes": [
                {"name": "Arsenal", "price": 1.9, "point": -1}, {"name": "Chelsea", "price": 1.92, "point": 1}]}]}],
}]

# (path of keys/indices, new value): None as the value deletes the member
MUTATIONS = [
    ((0, "id"), 7), ((0, "id"), None), ((0, "sport_key"), None), ((0, "sport_key"), "soccer_uefa"),
    ((0, "sport_key"), "DELETE"), ((0, "home_team"), "Chelsea"), ((0, "commence_time"), "tomorrow"),
    ((0, "commence_time"), 1.5), ((0, "bookmakers"), None), ((0, "bookmakers"), "DELETE"),
    ((0, "bookmakers"), {"a": 1}), ((0, "bookmakers", 0), 3), ((0, "bookmakers", 0, "key"), ""),
    ((0, "bookmakers", 0, "title"), 5), ((0, "bookmakers", 1, "key"), "pinnacle"),
    ((0, "bookmakers", 0, "last_update"), "DELETE"), ((0, "bookmakers", 0, "markets"), None),
    ((0, "bookmakers", 0, "markets", 0, "key"), "totals"), ((0, "bookmakers", 0, "markets", 0, "key"), None),
    ((0, "bookmakers", 0, "markets", 0, "outcomes"), []), ((0, "bookmakers", 0, "markets", 0, "outcomes"), None),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0), "x"),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "name"), "Draw"),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "name"), ["Arsenal"]),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "price"), "1.8"),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "price"), True),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "price"), None),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "price"), 1),
    ((0, "bookmakers", 0, "markets", 0, "outcomes", 0, "price"), -110),
    ((0, "bookmakers", 0, "markets", 1, "outcomes", 0, "point"), "DELETE"),
    ((0, "bookmakers", 0, "markets", 1, "outcomes", 0, "point"), "2.5"),
    ((0, "bookmakers", 0, "markets", 0, "last_update"), "DELETE"),
    ((0, "bookmakers", 1, "last_update"), "DELETE"), ((0, "bookmakers", 1, "markets", 0, "last_update"), "DELETE"),
    ((0, "extra_member"), {"kept": [1.5, None]}), ((1,), "not an event"), ((1,), None),
]


def mutate(document: list, path: tuple, value: object) -> list:
    document = json.loads(json.dumps(document))
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    if value == "DELETE":
        del target[last]
    elif isinstance(target, list) and last == len(target):
        target.append(value)
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(("path", "value"), MUTATIONS)
@pytest.mark.parametrize("odds_format", ["decimal", "american", None])
def test_a_malformed_document_gives_the_checked_problems_or_is_handed_over(path, value, odds_format):
    document = BASE + [dict(BASE[0], id="e2")]
    text = json.dumps(mutate(document, path, value))
    kwargs = dict(sport_key="soccer_epl", odds_format=odds_format, source="odds_soccer_epl.json")
    got, expected = fast(text, **kwargs), checked(text, **kwargs)
    if got == "not plain":  # only shapes msgspec's Structs cannot hold: an event or a container of another type
        assert path in {(0, "bookmakers"), (0, "bookmakers", 0), (1,), (0, "bookmakers", 0, "markets", 0, "outcomes", 0)}
        assert expected[0] == "ok" and expected[1][1]  # the checked path reports it as a problem
    else:
        assert got == expected


def test_upcoming_takes_each_events_own_sport_and_needs_one():
    document = [dict(BASE[0], id="a"), dict(BASE[0], id="b", sport_key=None)]
    del document[1]["sport_key"]
    kwargs = dict(sport_key="upcoming", odds_format="decimal")
    expected = checked(json.dumps(document), **kwargs)
    assert expected[1][1] and fast(json.dumps(document), **kwargs) == expected


@pytest.mark.parametrize("text", [
    b"", b"{}", b'{"id": 1}', b"[1, 2]", b"[{}] trailing", b"\xef\xbb\xbf[]", b'[{"id": "\xff"}]',
    b'[{"id": "\\ud800"}]', b'[{"id": NaN}]', b'[{"id": "e", "bookmakers": [{"markets": {}}]}]',
    b'[{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]",
])
def test_documents_msgspec_refuses_are_handed_to_the_checked_path(text):
    with pytest.raises(OddsNotPlain):
        decode_odds(text)
    with pytest.raises(OddsNotPlain):
        normalize_odds_bytes(text, sport_key="soccer_epl", fetched_at=FETCHED, odds_format="decimal")


def test_an_ambiguous_format_is_the_checked_error():
    text = json.dumps([dict(BASE[0], bookmakers=[{"key": "bk", "last_update": 0, "markets": [
        {"key": "h2h", "outcomes": [{"name": "Arsenal", "price": 150}, {"name": "Chelsea", "price": 0.5}]}]}])])
    expected = checked(text, sport_key="soccer_epl", odds_format=None)
    assert expected[0] == "error" and "ambiguous" in expected[2]
    assert fast(text, sport_key="soccer_epl", odds_format=None) == expected


def test_a_refused_odds_file_in_a_snapshot_gets_the_checked_error(recordings, tmp_path):
    import shutil

    directory = tmp_path / "snap"
    shutil.copytree(recordings[0], directory)
    odds = sorted(directory.glob("odds_*.json"))[0]
    odds.write_bytes(odds.read_bytes()[:-20])  # cut short: invalid JSON
    with pytest.raises(SnapshotError, match=rf"{odds.name}: invalid JSON at line \d+ column \d+"):
        read_snapshot(directory)


# --- prices: any JSON number text, in either format ------------------------------------------------------

NUMBER_TEXT = st.one_of(
    st.integers(-20000, 20000).map(str),
    st.decimals(min_value=Decimal("-20000"), max_value=Decimal("20000"), allow_nan=False, places=3).map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(1, 999), st.integers(-3, 3)),
    st.builds(lambda i, f: f"{i}.{f}", st.integers(0, 40), st.from_regex(r"[0-9]{1,4}", fullmatch=True)),
    st.sampled_from(['"1.9"', "true", "null", "-0", "1.90", "10000", "10000.0001", "1E+2", "100", "-100",
                     "999900", "-999901", "123456789012345678901234567890", "1e400"]),
)


@settings(max_examples=150, deadline=None)
@given(prices=st.lists(NUMBER_TEXT, min_size=4, max_size=4), points=st.lists(NUMBER_TEXT, min_size=2, max_size=2),
       odds_format=st.sampled_from(["decimal", "american", None]))
def test_any_prices_give_the_checked_result(prices, points, odds_format):
    """Written as JSON text (not through `json.dumps` of floats), so every digit is the provider's."""
    text = (
        '[{"id": "e1", "sport_key": "soccer_epl", "commence_time": "2026-11-28T15:00:00Z", "home_team": "A",'
        ' "away_team": "B", "bookmakers": [{"key": "bk", "last_update": "2026-11-24T16:00:00Z", "markets": ['
        f'{{"key": "h2h", "outcomes": [{{"name": "A", "price": {prices[0]}}}, {{"name": "B", "price": {prices[1]}}}]}},'
        f'{{"key": "spreads", "outcomes": [{{"name": "A", "price": {prices[2]}, "point": {points[0]}}},'
        f' {{"name": "B", "price": {prices[3]}, "point": {points[1]}}}]}}]}}]}}]'
    )
    kwargs = dict(sport_key="soccer_epl", odds_format=odds_format)
    assert fast(text, **kwargs) == checked(text, **kwargs)

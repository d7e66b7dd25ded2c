"""normalize_odds_response: structural outcomes, exact prices, per-item problems, format detection."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.connectors.sportsbooks.errors import OddsPayloadError
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_response

FETCHED = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
D = Decimal


def market(key, outcomes, last_update="2026-11-24T22:10:41Z"):
    body = {"key": key, "outcomes": [dict(zip(("name", "price", "point"), o, strict=False)) for o in outcomes]}
    if last_update is not None:
        body["last_update"] = last_update
    return body


def book(key, *markets, last_update="2026-11-24T22:00:00Z"):
    body = {"key": key, "title": key.title(), "markets": list(markets)}
    if last_update is not None:
        body["last_update"] = last_update
    return body


def event(*books, id="e1", sport="soccer_epl", home="Arsenal", away="Chelsea", commence="2026-11-28T15:00:00Z"):
    return {"id": id, "sport_key": sport, "sport_title": "x", "commence_time": commence, "home_team": home,
            "away_team": away, "bookmakers": list(books)}


def run(payload, sport="soccer_epl", **kwargs):
    return normalize_odds_response(payload, sport_key=sport, fetched_at=FETCHED, **kwargs)


def index(result):
    return {(q.event_id, q.bookmaker, q.market, q.outcome): q for q in result.quotes}


def test_h2h_outcomes_map_home_away_draw_by_name_in_any_order():
    payload = [event(book("pinnacle", market("h2h", [("Chelsea", D("4.3")), ("Draw", D("3.9")), ("Arsenal", D("1.8"))])))]
    result = run(payload)
    quotes = index(result)
    assert result.problems == () and result.odds_format == "decimal"
    assert {k[3]: (q.outcome_name, q.decimal_odds) for k, q in quotes.items()} == {
        "home": ("Arsenal", D("1.8")), "away": ("Chelsea", D("4.3")), "draw": ("Draw", D("3.9"))}
    q = quotes[("e1", "pinnacle", "h2h", "home")]
    assert (q.league, q.sport_key, q.home_team, q.away_team, q.bookmaker_title) == (
        "EPL", "soccer_epl", "Arsenal", "Chelsea", "Pinnacle")
    assert q.commence_time == datetime(2026, 11, 28, 15, tzinfo=UTC) and q.fetched_at == FETCHED
    assert q.point is None and q.american_odds is None and q.provider == "the_odds_api"


def test_spreads_and_totals_carry_their_point():
    payload = [event(book("dk",
                          market("spreads", [("Arsenal", D("1.91"), D("-1.5")), ("Chelsea", D("1.95"), D("1.5"))]),
                          market("totals", [("Over", D("1.87"), D("2.5")), ("Under", D("2.0"), D("2.5"))])))]
    quotes = index(run(payload))
    assert quotes[("e1", "dk", "spreads", "home")].point == D("-1.5")
    assert quotes[("e1", "dk", "spreads", "away")].point == D("1.5")
    assert (quotes[("e1", "dk", "totals", "over")].point, quotes[("e1", "dk", "totals", "under")].decimal_odds) == (
        D("2.5"), D("2.0"))


def test_malformed_price_in_one_bookmaker_is_a_problem_and_the_rest_is_kept():
    payload = [event(
        book("good", market("h2h", [("Arsenal", D("1.8")), ("Chelsea", D("4.3")), ("Draw", D("3.9"))])),
        book("bad", market("h2h", [("Arsenal", "1.85"), ("Chelsea", D("4.2")), ("Draw", D("3.8"))]),
             market("totals", [("Over", D("1.9"), D("2.5")), ("Under", D("1.9"), D("2.5"))])),
    )]
    result = run(payload)
    [problem] = result.problems
    assert (problem.event_id, problem.bookmaker) == ("e1", "bad")
    assert problem.path == "$[0].bookmakers[1].markets[0].outcomes[0]"
    assert "must be a JSON number" in problem.message and "'Arsenal'" in problem.message
    assert {(q.bookmaker, q.market) for q in result.quotes} == {("good", "h2h"), ("bad", "totals")}
    assert len(result.quotes) == 5  # the bad book's whole h2h market is out, never a partial market


@pytest.mark.parametrize(("price", "fmt", "expected"), [
    (D("1.0"), "decimal", "must be greater than 1"),
    (None, "decimal", "must be a JSON number"),
    (True, "decimal", "must be a JSON number"),
    (50, "american", "must be <= -100 or >= +100"),
    (0, "american", "must be <= -100 or >= +100"),
    (D("-110.5"), "american", "not an integer"),
])
def test_invalid_prices_are_rejected_with_a_clear_problem(price, fmt, expected):
    payload = [event(book("bk", market("h2h", [("Arsenal", price), ("Chelsea", 300 if fmt == "american" else D("4"))])))]
    result = run(payload, odds_format=fmt)
    [problem] = result.problems
    assert expected in problem.message and result.quotes == ()
    assert "bookmaker bk" in str(problem) and "event e1" in str(problem)


def test_unknown_outcome_name_and_duplicate_outcome_are_problems():
    payload = [event(
        book("a", market("h2h", [("Arsenal FC", D("1.8")), ("Chelsea", D("4.3"))])),
        book("b", market("h2h", [("Arsenal", D("1.8")), ("Arsenal", D("1.9"))])),
        book("c", market("totals", [("Draw", D("1.8"), D("2.5"))])),
    )]
    messages = [p.message for p in run(payload).problems]
    assert "'Arsenal FC' is neither team" in messages[0]
    assert "appears twice" in messages[1]
    assert "neither team" in messages[2]  # Draw is only an h2h outcome


def test_last_update_prefers_market_then_bookmaker_else_problem():
    payload = [event(
        book("m", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))], last_update="2026-11-24T22:30:00Z")),
        book("b", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))], last_update=None)),
        book("n", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))], last_update=None), last_update=None),
    )]
    result = run(payload)
    quotes = index(result)
    assert quotes[("e1", "m", "h2h", "home")].last_update == datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
    assert quotes[("e1", "b", "h2h", "home")].last_update == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    [problem] = result.problems
    assert problem.bookmaker == "n" and "no last_update" in problem.message


def test_unix_dates_are_parsed():
    payload = [event(book("bk", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))], last_update=1795644000),
                          last_update=None), commence=1795878000)]
    [home, _] = run(payload).quotes
    assert home.commence_time == datetime.fromtimestamp(1795878000, UTC)
    assert home.last_update == datetime.fromtimestamp(1795644000, UTC)


def test_american_detected_and_converted_exactly():
    payload = [event(book("bk", market("h2h", [("Arsenal", -110), ("Chelsea", 150)])), sport="basketball_nba")]
    result = run(payload, sport="basketball_nba")
    quotes = index(result)
    home, away = quotes[("e1", "bk", "h2h", "home")], quotes[("e1", "bk", "h2h", "away")]
    assert result.odds_format == "american" and home.league == "NBA"
    assert (home.american_odds, away.american_odds, away.decimal_odds) == (-110, 150, D("2.5"))
    assert str(home.decimal_odds) == "1.909090909090909090909090909"


def test_format_detection_refuses_to_guess_on_mixed_evidence():
    payload = [event(book("bk", market("h2h", [("Arsenal", -110), ("Chelsea", D("2.5"))])))]
    with pytest.raises(OddsPayloadError, match="ambiguous"):
        run(payload, source="odds_soccer_epl.json")
    assert run(payload, odds_format="american").problems[0].message.endswith("is not an integer")


def test_float_prices_read_through_their_shortest_text():
    payload = [event(book("bk", market("h2h", [("Arsenal", 1.91), ("Chelsea", 4.3)])))]
    assert index(run(payload))[("e1", "bk", "h2h", "home")].decimal_odds == D("1.91")


def test_unmodelled_markets_are_counted_not_dropped_silently():
    payload = [event(book("betfair_ex_uk", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))]),
                          market("h2h_lay", [("Arsenal", D("2.02")), ("Chelsea", D("2.04"))])))]
    result = run(payload)
    assert result.ignored_markets == {"h2h_lay": 1} and len(result.quotes) == 2 and not result.problems


def test_bad_event_is_reported_and_the_next_event_kept():
    good = event(book("bk", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))])), id="good")
    no_home = event(id="nohome") | {"home_team": ""}
    wrong_sport = event(id="nba", sport="basketball_nba")
    duplicate = event(id="good")
    result = run([no_home, wrong_sport, good, duplicate, "junk"], source="odds_soccer_epl.json")
    assert [q.event_id for q in result.quotes] == ["good", "good"]
    assert [(p.path, p.event_id) for p in result.problems] == [
        ("$[0].home_team", "nohome"), ("$[1].sport_key", "nba"), ("$[3].id", "good"), ("$[4]", None)]
    assert str(result.problems[0]).startswith("odds_soccer_epl.json:$[0].home_team (event nohome)")


def test_duplicate_bookmaker_is_a_problem():
    entry = book("bk", market("h2h", [("Arsenal", D("2")), ("Chelsea", D("2"))]))
    result = run([event(entry, entry)])
    assert len(result.quotes) == 2 and "duplicate bookmaker" in result.problems[0].message


def test_upcoming_uses_each_events_sport_and_unknown_league_is_upper_cased():
    payload = [event(book("bk", market("h2h", [("A", D("2")), ("B", D("2"))])), home="A", away="B",
                     sport="cricket_ipl")]
    [q, _] = run(payload, sport="upcoming").quotes
    assert (q.sport_key, q.league) == ("cricket_ipl", "CRICKET_IPL")


def test_structurally_wrong_payload_is_an_error_naming_the_source():
    with pytest.raises(OddsPayloadError, match=r"odds_x\.json: expected a JSON array of events at \$"):
        run({"message": "error"}, source="odds_x.json")
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_odds_response([], sport_key="soccer_epl", fetched_at=datetime(2026, 1, 1))


# --- the well-formed fast path against the checked loop ----------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NAMES = st.sampled_from(["Home FC", "Away FC", "Draw", "Over", "Under", "Nobody", "", "  ", 7, None])
_PRICES = st.one_of(st.integers(-1200, 1200), st.sampled_from([Decimal("1.91"), Decimal("2.5"), Decimal("1"),
                    Decimal("0.5"), Decimal("-110.0"), Decimal("150"), Decimal("10001"), Decimal("NaN"), 1.95,
                    "2.1", None, True]))
_POINTS = st.sampled_from([Decimal("-1.5"), Decimal("44.5"), 3, None, "x", Decimal("NaN"), 2.5])
_OUTCOME = st.one_of(st.fixed_dictionaries({"name": _NAMES, "price": _PRICES, "point": _POINTS}), st.just("nope"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(markets=st.lists(st.tuples(st.sampled_from(["h2h", "spreads", "totals"]), st.lists(_OUTCOME, max_size=4)),
                        min_size=1, max_size=3),
       fmt=st.sampled_from(["decimal", "american"]))
def test_the_fast_path_gives_exactly_what_the_checked_loop_gives(markets, fmt):
    """Every market, well formed or not: the same quotes (odds digit for digit) and the same problems."""
    from arb_pipeline.connectors.sportsbooks import normalize as nz

    payload = [{"id": "e1", "sport_key": "soccer_epl", "home_team": "Home FC", "away_team": "Away FC",
                "commence_time": "2026-11-24T20:00:00Z",
                "bookmakers": [{"key": f"b{i}", "title": f"B{i}", "last_update": "2026-11-24T17:59:00Z",
                                "markets": [{"key": key, "outcomes": outcomes}]}
                               for i, (key, outcomes) in enumerate(markets)]}]

    def run():
        r = normalize_odds_response(payload, sport_key="soccer_epl", fetched_at=datetime(2026, 11, 24, 18, tzinfo=UTC),
                                    odds_format=fmt)
        return [(q, str(q.decimal_odds)) for q in r.quotes], r.problems

    fast = run()
    original = nz._State._well_formed
    nz._State._well_formed = lambda self, *args: None  # every market through the checked loop
    nz._State.inline = False  # (`_books` would not ask `_well_formed`)
    try:
        checked = run()
    finally:
        nz._State._well_formed = original
        nz._State.inline = True
    assert fast == checked


# --- `_books` (one loop per event) against `bookmaker` per bookmaker and `market` per market ---------

# mostly well formed (the loop's own path), with every kind of flaw now and then (`market`'s)
_MARKET_KEYS = st.sampled_from(["h2h"] * 3 + ["spreads"] * 3 + ["totals"] * 3 + ["h2h_lay", "", 5, None])
_UPDATES = st.sampled_from(["2026-11-24T17:59:00Z"] * 6 + [None] * 3 + [
    "2026-11-24T17:58:00+00:00", 1795000000, "soon", "2026-11-24T17:59:00", 1.5, True])
_NAMES_OF = {"h2h": ["Home FC", "Away FC", "Draw"], "spreads": ["Away FC", "Home FC"], "totals": ["Over", "Under"]}
_AMERICAN = st.one_of(st.integers(100, 1200), st.integers(-1200, -100), st.sampled_from([999900, -999900]))
_DECIMAL = st.sampled_from([Decimal("1.91"), Decimal("1.910"), Decimal("2.5"), Decimal("10000"), Decimal("3.25")])
_BAD_PRICE = st.sampled_from([Decimal("1"), Decimal("0.5"), Decimal("-110.0"), Decimal("150"), Decimal("10001"),
                              Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), 1.95, "2.1", None, True, 150.0,
                              99, -99, 999901, Decimal("1.91"), 110])
_GOOD_POINT = st.sampled_from([Decimal("-1.5"), Decimal("-1.50"), Decimal("44.5"), 3, 0])
_BAD_POINT = st.sampled_from([None, "x", Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), 2.5, True])
_BAD_NAME = st.sampled_from(["Nobody", "", 7, None, "Draw", "Over", "Home FC"])


@st.composite
def _outcomes(draw, key):
    """The outcomes of a `key` market, in any order, each flawed now and then (name, price or point)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([{}, None, "x", [], ["nope"], [{}]]))
    names = draw(st.permutations(_NAMES_OF.get(key, ["Home FC", "Away FC"])))
    names = names[:draw(st.integers(1, len(names)))] if draw(st.integers(0, 5)) == 0 else names
    fmt_price = draw(st.sampled_from([_AMERICAN, _DECIMAL]))
    out = []
    for name in names:
        flaw = draw(st.integers(0, 15))
        out.append({"name": draw(_BAD_NAME) if flaw == 1 else name,
                    "price": draw(_BAD_PRICE) if flaw == 2 else draw(fmt_price),
                    "point": draw(_BAD_POINT) if flaw == 3 else draw(_GOOD_POINT)})
        if flaw == 4:
            out.append(dict(out[-1]))  # the same outcome twice
        if flaw == 5:
            out[-1] = "nope"
    return out


@st.composite
def _a_market(draw, key=None):
    key = draw(_MARKET_KEYS) if key is None else key
    market = {"key": key, "outcomes": draw(_outcomes(key))}
    if draw(st.integers(0, 4)):
        market["last_update"] = draw(st.one_of(st.just("2026-11-24T17:59:00Z"), st.none(), _UPDATES))
    return market if draw(st.integers(0, 19)) else draw(st.sampled_from(["not a market", None]))


@st.composite
def _a_book(draw):
    """Its modelled markets in any order, now and then another market of any kind (a repeated key, ...)."""
    keys = draw(st.permutations(["h2h", "spreads", "totals"]))[:draw(st.integers(0, 3))]
    markets = [draw(_a_market(key)) for key in keys]
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 2)) == 0 else 0):
        markets.insert(draw(st.integers(0, len(markets))), draw(_a_market()))
    return {"key": draw(st.sampled_from(["b1", "b2", "b3", "b4", "b5", "h2h", ""])),
            "title": draw(st.sampled_from(["B", "B", 3])),
            "last_update": draw(st.one_of(st.just("2026-11-24T17:59:00Z"), st.just("2026-11-24T17:58:00+00:00"),
                                          _UPDATES)),
            "markets": markets}


_A_BOOK = _a_book()


def _inline_and_per_market(books, fmt, events=1):
    """`normalize_odds_response` of these books with `_books` and with `bookmaker` / `market` one by one, as data:
    every slot of every quote (with its type and text), which values are the same object as the previous
    quote's, problems, ignored markets and columns."""
    from arb_pipeline.connectors.sportsbooks import normalize as nz
    from arb_pipeline.domain import SportsbookQuote

    payload = [{"id": f"e{n}", "sport_key": "soccer_epl", "home_team": "Home FC", "away_team": "Away FC",
                "commence_time": "2026-11-24T20:00:00Z", "bookmakers": books} for n in range(events)]

    def run():
        r = normalize_odds_response(payload, sport_key="soccer_epl", odds_format=fmt,
                                    fetched_at=datetime(2026, 11, 24, 18, tzinfo=UTC))
        quotes = [tuple((getattr(q, f), type(getattr(q, f)).__name__, str(getattr(q, f)))
                        for f in SportsbookQuote.__slots__) for q in r.quotes]
        shared = [getattr(x, f) is getattr(y, f) for x, y in zip(r.quotes, r.quotes[1:], strict=False)
                  for f in ("decimal_odds", "point", "outcome_name", "market", "last_update")]
        c = r.columns
        columns = (c.events, c.bookmakers, list(c.event), list(c.book), list(c.market), list(c.outcome),
                   [str(p) for p in c.point], list(c.odds), list(c.updated), [str(x) for x in c.exact])
        return quotes, shared, r.problems, r.ignored_markets, columns

    inline = run()
    nz._State.inline = False
    try:
        per_market = run()
    finally:
        nz._State.inline = True
    return inline, per_market


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(books=st.lists(_A_BOOK, min_size=1, max_size=4), fmt=st.sampled_from(["decimal", "american"]),
       events=st.integers(1, 2))
def test_the_bookmaker_loop_gives_exactly_what_market_by_market_gives(books, fmt, events):
    """Well formed or not, at every level: the same quotes (every slot, odds and points digit for digit, the
    same shared objects), problems, ignored markets and columns as calling `market` per market."""
    inline, per_market = _inline_and_per_market(books, fmt, events)
    assert inline == per_market


_EDGES = ([("price", v) for v in [Decimal("1"), Decimal("1.0001"), Decimal("10000"), Decimal("10000.0001"),
                                   Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), 100, -100,
                                   99, -99, 999900, -999900, 999901, -999901, 0, True, 1.95, "2.1", None]]
          + [("point", v) for v in [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
                                    Decimal("-0"), Decimal("0E+3"), 0, -7, True, 2.5, "x", None]]
          + [("name", v) for v in ["Draw", "Over", "Home FC ", "", 7, None]])


@pytest.mark.parametrize(("field", "value"), _EDGES)
@pytest.mark.parametrize("key", ["h2h", "spreads", "totals"])
@pytest.mark.parametrize("fmt", ["decimal", "american"])
def test_the_bookmaker_loop_agrees_at_each_rules_edge(field, value, key, fmt):
    """One value at a rule's edge in an otherwise well-formed market, first and last outcome."""
    good = Decimal("1.91") if fmt == "decimal" else -110
    names = _NAMES_OF[key]
    for at in (0, len(names) - 1):
        outcomes = [{"name": name, "price": good, "point": Decimal("-1.5")} for name in names]
        outcomes[at][field] = value
        books = [{"key": "b1", "title": "B", "last_update": "2026-11-24T17:59:00Z",
                  "markets": [{"key": key, "outcomes": outcomes}, {"key": "totals", "outcomes": [
                      {"name": "Over", "price": good, "point": 3}, {"name": "Under", "price": good, "point": 3}]}]}]
        inline, per_market = _inline_and_per_market(books, fmt)
        assert inline == per_market

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.rules import ResolverConfig, TeamLookup
from arb_pipeline.mapping.sportsbook import GameIndex, group_games
from arb_pipeline_tests.mapping import reference
from arb_pipeline_tests.mapping.factories import h2h, utc

CAT = load_catalogue()
LOOKUPS = {code: TeamLookup(lg) for code, lg in CAT.leagues.items()}


def test_groups_h2h_and_reports_problems() -> None:
    start = utc(2026, 11, 4)
    quotes = h2h("ok", "NBA", "New York Knicks", "Boston Celtics", start)
    quotes += [replace(q, commence_time=start + timedelta(hours=1)) if q.bookmaker == "fanduel" else q
               for q in h2h("mixed", "NBA", "New York Knicks", "Boston Celtics", start)]
    quotes += h2h("cfl", "CFL", "A", "B", start, sport_key="americanfootball_cfl")
    quotes += h2h("same", "NBA", "New York Knicks", "NY Knicks", start)
    games, problems = group_games(quotes, CAT, LOOKUPS, ResolverConfig())
    assert [g.event_id for g in games if g.exact] == ["ok", "same"]
    reasons = {p.id: p.reason for p in problems}
    assert reasons["mixed"].startswith("inconsistent quotes")
    assert "not in the catalogue" in reasons["cfl"]
    assert reasons["same"] == "home and away are the same team NBA-NYK"


def test_index_windows() -> None:
    quotes = [q for day in range(5) for q in
              h2h(f"g{day}", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 1 + day))]
    games, _ = group_games(quotes, CAT, LOOKUPS, ResolverConfig())
    index = GameIndex(games)
    pair = frozenset({"NBA-NYK", "NBA-BOS"})
    assert [g.event_id for g in index.pair_window("NBA", pair, utc(2026, 11, 3), timedelta(hours=25))] == ["g1", "g2", "g3"]
    assert index.pair_window("NHL", pair, utc(2026, 11, 3), timedelta(days=9)) == []


def test_commence_time_is_normalised_to_utc() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    start = utc(2026, 11, 7, 15).astimezone(paris)
    games, _ = group_games(h2h("g", "EPL", "Arsenal", "Chelsea", start), CAT, LOOKUPS, ResolverConfig())
    assert games[0].commence_time == utc(2026, 11, 7, 15) and games[0].commence_time.utcoffset() == timedelta(0)


def test_unknown_names_with_and_without_proposals() -> None:
    start = utc(2026, 11, 4)
    quotes = h2h("typo", "NBA", "New York Knickz", "Boston Celtics", start)
    quotes += h2h("alien", "NBA", "Zzyzx Rovers", "Boston Celtics", start)
    games, problems = group_games(quotes, CAT, LOOKUPS, ResolverConfig())
    reasons = {p.id: p for p in problems}
    assert reasons["typo"].reason.endswith("fuzzy proposal(s) need confirmation")
    (candidate,) = reasons["typo"].candidates
    assert candidate["proposals"][0]["team_id"] == "NBA-NYK" and candidate["home_id"] == "NBA-NYK"
    assert reasons["alien"].reason.endswith("no confident proposal; add an alias")
    assert {g.event_id: g.exact for g in games} == {"typo": False, "alien": False}


_NAMES = ["New York Knicks", "Boston Celtics", "NY Knicks", "Bostn Celtics", "Nobody FC"]
_QUOTE = st.tuples(st.sampled_from(["e1", "e2", "e3", "e4"]), st.sampled_from(["NBA", "NBA", "CFL"]),
                   st.sampled_from(_NAMES), st.sampled_from(_NAMES), st.integers(0, 1),
                   st.sampled_from(["h2h", "h2h", "spreads", "totals", "outrights"]), st.sampled_from(["a", "b"]))


def _quote(event_id: str, league: str, home: str, away: str, hour: int, market: str, book: str):
    sport_key = "americanfootball_cfl" if league == "CFL" else None
    base = h2h(event_id, league, home, away, utc(2026, 11, 4, hour), books=(book,),
               **({"sport_key": sport_key} if sport_key else {}))[0]
    return replace(base, market=market)


@settings(max_examples=300, deadline=None)
@given(st.lists(_QUOTE, max_size=24))
def test_group_games_is_what_the_replaced_code_returned(quotes):
    """Events interleaved or not, inconsistent, unknown leagues and names, other markets: the same games
    field for field and in order, and the same problems."""
    quotes = [_quote(*q) for q in quotes]
    found = group_games(quotes, CAT, LOOKUPS, ResolverConfig())
    expected = reference.group_games(quotes, CAT, LOOKUPS, ResolverConfig())
    assert found == expected
    assert repr(found) == repr(expected)
    assert [(g.pair, g.exact, g.quotes, g.line_quotes) for g in found[0]] == [
        (g.pair, g.exact, g.quotes, g.line_quotes) for g in expected[0]]


# -- grouped from the parser's columns (mapping/quote_rows.py) ------------------------------------------


def _columns(quotes, reverse: bool = False, split: int | None = None):
    """`QuoteColumns` of `quotes` row for row: built in two parts joined (`extend_columns`) when `split`
    is given, and with its events numbered last-seen first when `reverse` (not in the order the quotes
    first name them, as another builder of the columns may number them)."""
    from arb_pipeline.domain import QuoteColumns

    if split is None:
        columns = QuoteColumns.from_quotes(quotes)
    else:
        columns = QuoteColumns.from_quotes(quotes[:split])
        columns.extend_columns(QuoteColumns.from_quotes(quotes[split:]))
    if reverse:
        last = len(columns.events) - 1
        columns.events = columns.events[::-1]
        columns.event = type(columns.event)("i", (last - e for e in columns.event))
        columns.event_index = {e: i for i, e in enumerate(columns.events)}
    return columns


@settings(max_examples=300, deadline=None)
@given(st.lists(_QUOTE, max_size=24), st.sampled_from(["as given", "by event"]),
       st.booleans(), st.none() | st.integers(0, 24))
def test_group_games_from_the_columns_is_what_the_replaced_code_returned(quotes, layout, reverse, split):
    """The same games (field for field, in order, holding the very same quote objects in the same order)
    and problems from the columns as from the objects: events interleaved or in blocks (the parser's
    layout), numbered in first-seen order or not, inconsistent events, unknown names and leagues."""
    from arb_pipeline.mapping.quote_rows import QuoteRows

    quotes = [q for q in map(lambda q: _quote(*q), quotes) if q.market in ("h2h", "spreads", "totals")]
    if layout == "by event":
        quotes.sort(key=lambda q: q.event_id)
    quotes = tuple(quotes)
    rows = QuoteRows(quotes, _columns(quotes, reverse, split))
    found = group_games(quotes, CAT, LOOKUPS, ResolverConfig(), rows)
    expected = reference.group_games(quotes, CAT, LOOKUPS, ResolverConfig())
    assert found == expected
    assert repr(found) == repr(expected)
    assert [(g.pair, g.exact, list(map(id, g.quotes)), list(map(id, g.line_quotes))) for g in found[0]] == [
        (g.pair, g.exact, list(map(id, g.quotes)), list(map(id, g.line_quotes))) for g in expected[0]]
    assert all(type(g.quotes) is tuple and type(g.line_quotes) is tuple for g in found[0])
    # each game's h2h rows, as the orientation guard reads them, are its h2h quotes' rows in order
    games = found[0]
    at, counts = rows.h2h_rows([g.event_id for g in games])
    assert counts.tolist() == [len(g.quotes) for g in games]
    assert [quotes[r] for r in at.tolist()] == [q for g in games for q in g.quotes]


def test_the_columns_must_describe_the_quotes_row_for_row():
    import pytest

    from arb_pipeline.mapping.quote_rows import QuoteRows

    quotes = tuple(h2h("g", "NBA", "New York Knicks", "Boston Celtics", utc(2026, 11, 4)))
    with pytest.raises(ValueError, match=r"QuoteRows: the quote columns have 2 rows .* for 4 quotes"):
        QuoteRows(quotes, _columns(quotes[:2]))


def test_every_market_the_columns_model_is_one_group_games_keeps():
    from arb_pipeline.domain import QUOTE_MARKETS
    from arb_pipeline.mapping.sportsbook import _MARKETS

    assert _MARKETS == frozenset(QUOTE_MARKETS)

"""The common event's fast path (`mapping.common_event`) gives the general path's `Resolution`, exactly.

Randomized snapshots mix common events with every kind of unusual one (overrides, missing or doubled
milestones, unknown or foreign targets, disagreeing codes/labels/rules, malformed tickers, HHMM tickers,
home/away swaps, neutral sites, doubleheaders, postponements, missing or inverted prices, inactive and
started markets, repeated tickers, spread series); each is resolved with and without the fast path and
the two results must be equal, field for field and in order (`==` and `repr`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.common_event import CommonEvents
from arb_pipeline.mapping.guards import GuardContext
from arb_pipeline.mapping.manual_overrides import Override, OverrideAction, OverrideSet
from arb_pipeline.mapping.resolver import resolve
from arb_pipeline.mapping.rules import ResolverConfig, TeamLookup
from arb_pipeline.mapping.sportsbook import GameIndex, group_games
from arb_pipeline_tests.mapping.factories import TARGETS, game_event, h2h, milestone, tid, utc

CATALOGUE = load_catalogue()
EASTERN = ZoneInfo("America/New_York")
LEAGUES = {code: CATALOGUE.league(code) for code in ("NBA", "EPL", "MLB")}
TEAMS = {code: list(lg.teams[:4]) for code, lg in LEAGUES.items()}
WHEN = utc(2026, 11, 1, 12)
KICKOFFS = [utc(2026, 11, 3, 0, 30), utc(2026, 11, 3, 19), utc(2026, 11, 4, 0, 30), utc(2026, 11, 4, 1, 10)]
# Unusual things that can happen to one event; "none" (most draws) leaves it common.
EVENT_TWISTS = ["none"] * 25 + [
    "no milestone", "two milestones", "naive milestone", "no details", "neutral", "swapped home", "same team",
    "unknown target", "foreign target", "wrong series", "malformed ticker", "bad month", "hhmm", "bad hhmm",
    "other ticker teams", "spread series", "individual", "reject event", "confirm event", "force event",
    "postponed", "doubleheader", "no game", "draw-less book", "shifted date",
]
MARKET_TWISTS = ["none"] * 50 + [
    "no target", "two targets", "other team target", "unknown market target", "code disagrees", "tie code",
    "label disagrees", "tie label", "no label", "rules disagree", "rules date", "rules bad date", "inactive",
    "no price", "inverted", "priced", "reject market", "confirm market", "force market", "odd code",
    "int target", "as tie", "long month", "two dates",
]


def _event(draw, i: int, event_twists: list[str], market_twists: list[str]):
    """One Kalshi event (with its milestones, quotes, overrides and explicit prices) and its twist."""
    league = draw(st.sampled_from(sorted(LEAGUES)))
    lg = LEAGUES[league]
    home, away = draw(st.lists(st.sampled_from(TEAMS[league]), min_size=2, max_size=2, unique_by=lambda t: t.id))
    kickoff = draw(st.sampled_from(KICKOFFS))
    twist = draw(st.sampled_from(event_twists))
    on = kickoff.astimezone(EASTERN).date()
    if twist == "shifted date":
        on += timedelta(days=1)
    stamp = f"{on:%y}{on.strftime('%b').upper()}{on:%d}"
    hhmm = {"hhmm": kickoff.astimezone(EASTERN).strftime("%H%M"), "bad hhmm": "2599"}.get(twist, "")
    blob = f"{away.kalshi_code}{home.kalshi_code}"
    if twist == "other ticker teams":
        others = [t for t in TEAMS[league] if t.id not in (home.id, away.id)]
        blob = f"{others[0].kalshi_code}{home.kalshi_code}"
    ticker = f"{lg.kalshi_series}-{stamp}{hhmm}{blob}"
    if twist == "malformed ticker":
        ticker = f"{lg.kalshi_series}-{stamp}-{blob}"
    elif twist == "bad month":
        ticker = f"{lg.kalshi_series}-{on:%y}XYZ{on:%d}{blob}"
    ticker = f"{ticker}{i}" if draw(st.booleans()) else ticker  # repeated tickers stay possible
    series = {"wrong series": LEAGUES["NBA" if league != "NBA" else "MLB"].kalshi_series,
              "spread series": lg.spread_series or "KXNOSPREAD", "individual": "KXATPMATCH"}.get(twist)
    tie = lg.three_way and draw(st.booleans())
    event = game_event(league, ticker, [(away.kalshi_code, away.kalshi_label), (home.kalshi_code, home.kalshi_label)],
                       on=on, tie=tie, series=series,
                       prices={away.kalshi_code: ("0.30", "0.32"), home.kalshi_code: ("0.50", "0.52")})
    prices: dict[str, Decimal] = {}
    overrides: list[Override] = []
    markets = [_market(draw, m, league, home, away, prices, overrides, i, market_twists) for m in event.markets]
    if draw(st.booleans()):
        markets.reverse()
    event = replace(event, markets=tuple(markets))
    details: dict[str, object] = {"neutral_site": True} if twist == "neutral" else {}
    kind = lg.milestone_type
    start = kickoff.replace(tzinfo=None) if twist == "naive milestone" else kickoff
    ms = [milestone(ticker, start, home=home.id, away=away.id if twist != "same team" else home.id, kind=kind,
                    details=details, milestone_id=f"ms{i}")]
    if twist == "no milestone":
        ms = []
    elif twist == "two milestones":
        ms.append(milestone(ticker, kickoff, home=home.id, away=away.id, kind=kind, milestone_id=f"ms{i}b"))
    elif twist == "no details":
        ms = [milestone(ticker, kickoff, kind=kind, milestone_id=f"ms{i}")]
    elif twist in ("unknown target", "foreign target"):
        other = "urn:nobody" if twist == "unknown target" else tid(TEAMS["NBA" if league != "NBA" else "EPL"][0].id)
        ms = [milestone(ticker, kickoff, home_id=other, away=away.id, kind=kind, milestone_id=f"ms{i}")]
    book_home, book_away = (away, home) if twist == "swapped home" else (home, away)
    book_time = kickoff + timedelta(hours=6) if twist == "postponed" else kickoff
    outcomes = {Outcome.HOME: "2.10", Outcome.AWAY: "3.40"}
    if lg.three_way and twist != "draw-less book":
        outcomes[Outcome.DRAW] = "3.50"
    quotes = [] if twist == "no game" else h2h(f"g{i}", league, book_home.full_name, book_away.full_name, book_time,
                                                outcomes)
    if twist == "doubleheader":
        quotes += h2h(f"g{i}b", league, home.full_name, away.full_name, kickoff + timedelta(hours=1), outcomes)
    if twist == "reject event":
        overrides.append(Override(OverrideAction.REJECT, who="ops", when=WHEN, why="t", kalshi_event=ticker,
                                  sportsbook_event_id=draw(st.sampled_from([None, f"g{i}"]))))
    elif twist in ("confirm event", "force event"):
        action = OverrideAction.CONFIRM if twist == "confirm event" else OverrideAction.FORCE
        overrides.append(Override(action, who="ops", when=WHEN, why="t", kalshi_event=ticker,
                                  sportsbook_event_id=draw(st.sampled_from([f"g{i}", "g0", "missing"]))))
    return event, ms, quotes, overrides, prices, twist


def _market(draw, market, league, home, away, prices, overrides, i, twists):
    twist = draw(st.sampled_from(twists))
    key = CATALOGUE.league(league).target_type
    other = next(t for t in TEAMS[league] if t.id not in (home.id, away.id))
    is_tie = market.ticker.endswith("-TIE")
    change: dict[str, object] = {}
    if twist == "no target":
        change["custom_strike"] = None
    elif twist == "two targets":
        change["custom_strike"] = {key: tid(home.id), "other": tid(away.id)}
    elif twist == "other team target":
        change["custom_strike"] = {key: tid(other.id)}
    elif twist == "unknown market target":
        change["custom_strike"] = {key: "urn:unknown"}
    elif twist == "int target":
        change["custom_strike"] = {key: 7}
    elif twist == "as tie":  # a Tie market, also in a two-way league
        change.update(custom_strike=None, yes_sub_title="Tie", ticker=f"{market.event_ticker}-TIE",
                      rules_primary="If the game ends in a tie, then the market resolves to Yes.")
    elif twist == "code disagrees":
        change["ticker"] = f"{market.event_ticker}-{other.kalshi_code}"
    elif twist == "tie code" and not is_tie:
        change["ticker"] = f"{market.event_ticker}-TIE"
    elif twist == "odd code":
        change["ticker"] = f"{market.event_ticker}-A-B" if draw(st.booleans()) else f"OTHER-{market.ticker}"
    elif twist == "label disagrees":
        change["yes_sub_title"] = other.kalshi_label if not is_tie else home.kalshi_label
    elif twist == "tie label":
        change["yes_sub_title"] = "Draw"
    elif twist == "no label":
        change["yes_sub_title"] = None
    elif twist == "rules disagree":
        change["rules_primary"] = f"If {other.full_name} wins the game, then the market resolves to Yes."
    elif twist == "rules date":
        change["rules_primary"] = (market.rules_primary or "").replace("originally scheduled for Nov",
                                                                       "originally scheduled for Dec")
    elif twist == "long month":  # the same date, not in the phrase the fast path looks for
        change["rules_primary"] = (market.rules_primary or "").replace("scheduled for Nov ", "scheduled for November ")
    elif twist == "two dates":  # the first "originally scheduled for" has no date; the second decides
        change["rules_primary"] = ("Unless originally scheduled for later, "
                                   + (market.rules_primary or "").replace("Nov", draw(st.sampled_from(["Nov", "Dec"]))))
    elif twist == "rules bad date":
        change["rules_primary"] = "If it happens, originally scheduled for Feb 30, 2026, then Yes."
    elif twist == "inactive":
        change["status"] = "closed"
    elif twist == "no price":
        change["yes_bid"] = None
    elif twist == "inverted":
        change["yes_bid"], change["yes_ask"] = Decimal("0.90"), Decimal("0.92")
    if twist == "priced":
        prices[market.ticker] = Decimal(draw(st.sampled_from(["0.05", "0.33", "0.5", "0.95"])))
    elif twist == "reject market":
        overrides.append(Override(OverrideAction.REJECT, who="ops", when=WHEN, why="t", kalshi_market=market.ticker,
                                  sportsbook_event_id=draw(st.sampled_from([None, f"g{i}"]))))
    elif twist == "confirm market":
        overrides.append(Override(OverrideAction.CONFIRM, who="ops", when=WHEN, why="t", kalshi_market=market.ticker,
                                  sportsbook_event_id=draw(st.sampled_from([f"g{i}", "missing"]))))
    elif twist == "force market":
        overrides.append(Override(OverrideAction.FORCE, who="ops", when=WHEN, why="t", kalshi_market=market.ticker,
                                  sportsbook_event_id=f"g{i}", outcome=Outcome.HOME))
    return replace(market, **change)


@st.composite
def snapshots(draw, event_twists: list[str] = EVENT_TWISTS, market_twists: list[str] = MARKET_TWISTS):
    n = draw(st.integers(1, 8))
    events, milestones, quotes, overrides, prices, twists = [], [], [], [], {}, []
    for i in range(n):
        event, ms, qs, os_, ps, twist = _event(draw, i, event_twists, market_twists)
        events.append(event)
        milestones += ms
        quotes += qs
        overrides += os_
        prices.update(ps)
        twists.append(twist)
    if draw(st.booleans()) and events:  # the same event (or its markets) twice
        events.append(draw(st.sampled_from(events)))
    as_of = draw(st.sampled_from([utc(2026, 11, 1), utc(2026, 11, 3, 0, 27), utc(2026, 11, 3, 19), utc(2026, 11, 5)]))
    return events, milestones, quotes, overrides, prices, as_of


def both(events, milestones, quotes, overrides=(), prices=None, as_of=utc(2026, 11, 1), **kw):
    """The general path's and the fast path's answer: a `Resolution`, or the error it raised."""
    kw.setdefault("targets", TARGETS)

    def answer(fast: bool):
        try:
            return resolve(events, milestones, quotes, as_of=as_of, overrides=overrides, prices=prices,
                           common_fast_path=fast, **kw)
        except ValueError as exc:  # bad input (a naive milestone start): the same error both ways
            return (type(exc), str(exc))

    return answer(False), answer(True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_fast_path_gives_the_general_paths_resolution(snapshot) -> None:
    general, fast = both(*snapshot)
    assert fast == general
    assert repr(fast) == repr(general)


@pytest.mark.parametrize("twist", sorted({*EVENT_TWISTS, *MARKET_TWISTS} - {"none"}))
def test_each_unusual_case_gives_the_general_paths_resolution(twist: str) -> None:
    """Every twist, on many events and markets at once, next to common ones (none left to chance)."""
    events = [twist, "none"] if twist in EVENT_TWISTS else ["none"]
    markets = [twist, "none"] if twist in MARKET_TWISTS else ["none"]

    @settings(max_examples=15, deadline=None, database=None)
    @given(snapshots(events, markets))
    def check(snapshot) -> None:
        general, fast = both(*snapshot)
        assert fast == general
        assert repr(fast) == repr(general)

    check()


def _scan_parts(events, milestones, quotes, overrides=(), as_of=utc(2026, 11, 1)):
    config = ResolverConfig()
    override_set = OverrideSet(overrides)
    lookups = {code: TeamLookup(lg, override_set.aliases, TARGETS) for code, lg in CATALOGUE.leagues.items()}
    games, _ = group_games(quotes, CATALOGUE, lookups, config)
    by_event: dict[str, list] = {}
    for m in milestones:
        for ticker in {*m.primary_event_tickers, *m.related_event_tickers}:
            by_event.setdefault(ticker, []).append(m)
    guard = GuardContext(as_of, config, {})
    return CommonEvents(CATALOGUE, override_set, config, GameIndex(games), lookups, by_event, guard)


def _clean_event(league: str, i: int, kickoff=KICKOFFS[0]):
    lg = LEAGUES[league]
    home, away = TEAMS[league][0], TEAMS[league][1]
    on = kickoff.astimezone(EASTERN).date()
    ticker = f"{lg.kalshi_series}-{on:%y}{on.strftime('%b').upper()}{on:%d}{away.kalshi_code}{home.kalshi_code}{i}"
    event = game_event(league, ticker, [(away.kalshi_code, away.kalshi_label), (home.kalshi_code, home.kalshi_label)],
                       on=on, tie=lg.three_way)
    outcomes = {Outcome.HOME: "2.10", Outcome.AWAY: "3.40"} | ({Outcome.DRAW: "3.50"} if lg.three_way else {})
    return (event, [milestone(ticker, kickoff, home=home.id, away=away.id, kind=lg.milestone_type)],
            h2h(f"g{i}", league, home.full_name, away.full_name, kickoff, outcomes))


def test_the_common_event_takes_the_fast_path_and_the_unusual_one_does_not() -> None:
    """The property above is not vacuous: common events are resolved by the fast path itself."""
    for league in LEAGUES:
        event, ms, quotes = _clean_event(league, 1)
        common = _scan_parts([event], ms, quotes)
        rows = common.rows(event)
        assert rows is not None and len(rows) == len(event.markets)
        general, fast = both([event], ms, quotes)
        assert fast.rows == general.rows == tuple(rows) and all(r.tradable for r in rows)
        assert _scan_parts([event], [], quotes).rows(event) is None  # no milestone: the general path says why
        reject = Override(OverrideAction.REJECT, who="ops", when=WHEN, why="t", kalshi_event=event.event_ticker)
        assert _scan_parts([event], ms, quotes, [reject]).rows(event) is None


def test_a_large_varied_slate_resolves_the_same_both_ways() -> None:
    """Hundreds of events of every league at once (memos shared across events and games)."""
    events, milestones, quotes = [], [], []
    for i in range(300):
        league = sorted(LEAGUES)[i % 3]
        kickoff = KICKOFFS[i % len(KICKOFFS)] + timedelta(days=4 * i)  # one game of a pair per window
        event, ms, qs = _clean_event(league, i, kickoff)
        events.append(event)
        milestones += ms
        quotes += qs
    general, fast = both(events, milestones, quotes)
    assert fast == general and repr(fast) == repr(general)
    assert len(fast.rows) == sum(len(e.markets) for e in events) and not fast.unresolved


def test_date_helpers_match_the_ticker_parser() -> None:
    from arb_pipeline.mapping.tickers import parse_event_ticker

    common = _scan_parts([], [], [])
    for text in ("26NOV03", "26FEB29", "28FEB29", "26XYZ01", "26NOV31"):
        try:
            expected: date | None = parse_event_ticker(f"KXNBAGAME-{text}BOSNYK").game_date
        except ValueError:
            expected = None
        assert common.ticker_date(text[:2], text[2:5], text[5:]) == expected

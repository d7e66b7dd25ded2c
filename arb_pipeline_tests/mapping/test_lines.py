"""Spread and total markets: reached through the game's milestone, the line read from the strike,
YES placed on the line's axis, and every text a cross-check that can only block."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from arb_pipeline.domain import KalshiEvent, Outcome, SportsbookQuote
from arb_pipeline.mapping.resolver import resolve
from arb_pipeline_tests.mapping.conftest import assert_each_market_once
from arb_pipeline_tests.mapping.factories import (
    FETCHED,
    TARGETS,
    game_event,
    h2h,
    market,
    milestone,
    tid,
    utc,
)

D = Decimal
AS_OF = utc(2026, 6, 1, 12)
START = utc(2026, 11, 4, 0, 30)
GAME = "KXNBAGAME-26NOV03BOSNYK"
SPREAD = "KXNBASPREAD-26NOV03BOSNYK"
TOTAL = "KXNBATOTAL-26NOV03BOSNYK"


def spread_market(team_id: str | None, label: str, strike: str, *, code: str, target: bool = True,
                  bid: str = "0.48", ask: str = "0.50", **extra: object):
    rules = (f"If {label} wins by more than {strike} points in the Boston vs New York Pro Basketball game "
             f"originally scheduled for Nov 3, 2026, then the market resolves to Yes.")
    strike_field = {"basketball_team": tid(team_id)} if target and team_id else None
    return market(SPREAD, f"{code}{strike.replace('.', '')}", f"{label} wins by over {strike} points", rules=rules,
                  yes_bid=bid, yes_ask=ask, strike=strike_field,
                  extra={"strike_type": "greater", "floor_strike": float(strike), **extra})


def total_market(strike: str, *, bid: str = "0.48", ask: str = "0.50", **extra: object):
    rules = (f"If the teams collectively score more than {strike} points in the Boston vs New York Pro Basketball "
             "game originally scheduled for Nov 3, 2026, then the market resolves to Yes.")
    return market(TOTAL, str(int(D(strike) + D("0.5"))), f"Over {strike} points scored", rules=rules, yes_bid=bid,
                  yes_ask=ask, extra={"strike_type": "greater", "floor_strike": strike, **extra},
                  title=f"Full Game: Over {strike} points scored")


def line_event(ticker: str, series: str, *markets) -> KalshiEvent:
    return KalshiEvent(event_ticker=ticker, series_ticker=series, title="Boston at New York", sub_title="",
                       mutually_exclusive=False, collateral_return_type="", markets=tuple(markets))


def book_line(event_id: str, market: str, points: dict[str, str], prices: dict[str, str],
              books=("draftkings", "fanduel")) -> list[SportsbookQuote]:
    names = {"home": "New York Knicks", "away": "Boston Celtics", "over": "Over", "under": "Under"}
    return [SportsbookQuote(
        provider="the-odds-api", bookmaker=b, bookmaker_title=b.title(), sport_key="basketball_nba", league="NBA",
        event_id=event_id, home_team="New York Knicks", away_team="Boston Celtics", commence_time=START,
        market=market, outcome=o, outcome_name=names[o], decimal_odds=D(prices[o]), last_update=FETCHED,
        fetched_at=FETCHED, point=D(points[o])) for b in books for o in points]


MS = milestone(GAME, START, home="NBA-NYK", away="NBA-BOS", related=(SPREAD, TOTAL))
GAME_EVENT = game_event("NBA", GAME, [("BOS", "Boston"), ("NYK", "New York")], on=date(2026, 11, 3))
H2H = h2h("g1", "NBA", "New York Knicks", "Boston Celtics", START)
# books: New York (home) -3.5 at 1.91 / Boston +3.5 at 1.91; total 221.5 at 1.91 / 1.91
SPREADS = book_line("g1", "spreads", {"home": "-3.5", "away": "3.5"}, {"home": "1.91", "away": "1.91"})
TOTALS = book_line("g1", "totals", {"over": "221.5", "under": "221.5"}, {"over": "1.91", "under": "1.91"})


def run(events, quotes=H2H + SPREADS + TOTALS, milestones=(MS,), **kw):
    return resolve(events, list(milestones), quotes, as_of=AS_OF, targets=TARGETS, **kw)


def test_spread_and_total_markets_reach_the_game_through_its_milestone() -> None:
    home_spread = spread_market("NBA-NYK", "New York", "3.5", code="NYK")
    away_spread = spread_market("NBA-BOS", "Boston", "1.5", code="BOS")
    total = total_market("221.5")
    events = [GAME_EVENT, line_event(SPREAD, "KXNBASPREAD", home_spread, away_spread),
              line_event(TOTAL, "KXNBATOTAL", total)]
    res = run(events)
    assert_each_market_once(events, res)
    assert len(res.rows) == 2 and len(res.lines) == 3
    ny = res.line_for(home_spread.ticker)
    assert (ny.kind, ny.strike, ny.team_id, ny.yes_outcome, ny.point) == ("spread", D("3.5"), "NBA-NYK", Outcome.HOME,
                                                                         D("3.5"))
    assert (ny.book_market, ny.yes_book_outcome, ny.yes_book_point, ny.label) == (
        "spreads", "home", D("-3.5"), "New York Knicks -3.5")
    assert ny.tradable and ny.fair_probability == pytest.approx(0.5) and ny.sportsbook_event_id == "g1"
    bos = res.line_for(away_spread.ticker)  # Boston by more than 1.5 = home margin below -1.5
    assert (bos.yes_outcome, bos.point, bos.yes_book_outcome, bos.yes_book_point) == (
        Outcome.AWAY, D("-1.5"), "away", D("-1.5"))
    assert bos.guards == ("orientation not verifiable: no sportsbook spreads line at this point",)
    over = res.line_for(total.ticker)
    assert (over.kind, over.yes_outcome, over.point, over.yes_book_outcome, over.label) == (
        "total", Outcome.OVER, D("221.5"), "over", "Over 221.5")
    assert over.tradable and res.to_dict()["lines"][2]["strike"] == "221.5"


def test_a_spread_without_a_target_takes_its_team_from_rules_primary() -> None:
    no_target = spread_market("NBA-BOS", "Boston", "3.5", code="BOS", target=False)
    quotes = H2H + book_line("g1", "spreads", {"home": "3.5", "away": "-3.5"}, {"home": "1.95", "away": "1.87"})
    res = run([line_event(SPREAD, "KXNBASPREAD", no_target)], quotes)
    row = res.line_for(no_target.ticker)
    assert (row.team_id, row.yes_outcome, row.point, row.yes_book_point) == ("NBA-BOS", Outcome.AWAY, D("-3.5"),
                                                                             D("-3.5"))
    assert row.tradable and row.fair_probability == pytest.approx((1 / 1.87) / (1 / 1.87 + 1 / 1.95))


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda m: replace(m, yes_sub_title="Boston wins by over 3.5 points"), "yes_sub_title 'Boston'→NBA-BOS"),
    (lambda m: replace(m, ticker=f"{SPREAD}-BOS35"), "ticker code 'BOS'→NBA-BOS"),
    (lambda m: replace(m, rules_primary=m.rules_primary.replace("3.5", "4.5")), "floor_strike 3.5 but rules_primary "
     "says 4.5"),
    (lambda m: replace(m, extra={**m.extra, "strike_type": "less"}), "strike_type 'less' is not one of"),
    (lambda m: replace(m, extra={**m.extra, "floor_strike": 3.25}), "strike 3.25 is not a whole or half point"),
    (lambda m: replace(m, extra={"strike_type": "greater"}), "no floor_strike"),
    (lambda m: replace(m, extra={**m.extra, "cap_strike": 6.5}), "a range, not a line"),
    (lambda m: replace(m, custom_strike={"basketball_team": tid("NBA-PHI")}), "not one of the milestone's teams"),
    (lambda m: replace(m, custom_strike=None, rules_primary=""), "its team is unknown"),
    (lambda m: replace(m, rules_primary=m.rules_primary.replace("Nov 3", "Nov 4")),
     "rules_primary date Nov 4, 2026 disagrees with ticker date 2026-11-03"),
])
def test_spread_cross_checks_block(mutate, reason) -> None:
    bad = mutate(spread_market("NBA-NYK", "New York", "3.5", code="NYK"))
    res = run([line_event(SPREAD, "KXNBASPREAD", bad)])
    assert res.lines == ()
    (miss,) = res.unresolved_for(bad.ticker)
    assert reason in miss.reason


def test_total_cross_checks_and_direction() -> None:
    wrong_title = replace(total_market("221.5"), title="Full Game: Over 220.5 points scored")
    res = run([line_event(TOTAL, "KXNBATOTAL", wrong_title)])
    assert "title says 220.5" in res.unresolved_for(wrong_title.ticker)[0].reason
    no_direction = replace(total_market("221.5"), extra={"floor_strike": "221.5"}, rules_primary="")
    res = run([line_event(TOTAL, "KXNBATOTAL", no_direction)])
    assert "direction of the line is unknown" in res.unresolved_for(no_direction.ticker)[0].reason
    from_rules = replace(total_market("221.5"), extra={"floor_strike": 221.5})  # no strike_type: rules say "more than"
    assert run([line_event(TOTAL, "KXNBATOTAL", from_rules)]).line_for(from_rules.ticker).tradable


def test_whole_number_line_and_inverted_price() -> None:
    whole = total_market("222", bid="0.30", ask="0.32")  # books: over 222 is ~78% given no push
    quotes = H2H + book_line("g1", "totals", {"over": "222", "under": "222"}, {"over": "1.22", "under": "4.50"})
    row = run([line_event(TOTAL, "KXNBATOTAL", whole)], quotes).line_for(whole.ticker)
    assert row.point == D("222") and not row.tradable
    assert row.guards[0].startswith("possibly inverted")


def test_line_markets_need_the_milestone_and_duplicates_are_excluded() -> None:
    ny = spread_market("NBA-NYK", "New York", "3.5", code="NYK")
    no_link = replace(MS, related_event_tickers=(GAME,))
    res = run([line_event(SPREAD, "KXNBASPREAD", ny)], milestones=(no_link,))
    assert "no milestone links to event KXNBASPREAD" in res.unresolved_for(SPREAD)[0].reason
    twin = replace(ny, ticker=f"{SPREAD}-NYK35B")
    res = run([line_event(SPREAD, "KXNBASPREAD", ny, twin)])
    assert len(res.lines) == 2 and not any(r.tradable for r in res.lines)
    assert all(any(g.startswith("duplicate mapping") for g in r.guards) for r in res.lines)

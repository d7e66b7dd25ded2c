"""Spread/total detection end to end: known arbitrages priced to the cent against depth with fees,
the push handled exactly, +EV against the consensus at the same line, and the money properties —
every reported line arbitrage is re-verified here from its legs over every result near the point,
independently of the code under test."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.line_detect import detect_lines
from arb_pipeline.arb.line_game import LineGame
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import SPREADS, TOTALS, SportsbookQuote, line_position, line_sides
from arb_pipeline.domain import Outcome as O

D = Decimal
BIG = SizingPolicy(bankroll=D(1_000_000), bankroll_fraction=D("0.5"), max_per_event=D(100_000),
                   max_per_market=D(100_000), max_total_exposure=D(1_000_000), max_sportsbook_stake=D(100_000),
                   max_contracts=D(100_000))
NO_VALUE = Limits(min_value_edge_bps=D(10_000))


def line_quote(b, bookmaker: str, market: str, outcome: str, point: str, odds: str, *, age_s: float = 20.0,
               max_stake: str | None = None) -> SportsbookQuote:
    ts = b.as_of - timedelta(seconds=age_s)
    return SportsbookQuote("test", bookmaker, bookmaker.title(), "basketball_nba", "NBA", "evt1", "Home Team",
                           "Away Team", b.as_of + timedelta(hours=3), market, outcome, outcome, D(odds), ts, ts,
                           D(point), None, D(max_stake) if max_stake else None)


def line_game(b, market: str, point: str, kalshi: dict, quotes: list, **kw) -> LineGame:
    above, below = line_sides(market)
    labels = ({above: f"Home Team -{point}", below: f"Away Team +{point}"} if market == SPREADS
              else {above: f"Over {point}", below: f"Under {point}"})
    return LineGame("KXNBASPREAD-26NOV24AAABBB" if market == SPREADS else "KXNBATOTAL-26NOV24AAABBB", "NBA",
                    kw.pop("commence", b.as_of + timedelta(hours=3)), market, D(point), labels, kalshi, tuple(quotes),
                    **kw)


def results_near(game: LineGame) -> list[tuple[O, int]]:
    """(outcome region, axis value) for every integer result within 5 of the point."""
    out = []
    above, below = game.sides
    for value in range(math.floor(game.point) - 5, math.floor(game.point) + 6):
        region = above if value > game.point else below if value < game.point else O.PUSH
        out.append((region, value))
    return out


def book_pays(leg, rates) -> Fraction:
    """A winning back's payout from its stake and odds alone: gross floored to the cent, minus the
    exchange's commission on the net winnings rounded up to the cent."""
    stake, odds = Fraction(leg.size), Fraction(leg.price)
    cut = Fraction(math.ceil((odds - 1) * stake * Fraction(rates.get(leg.market, 0)) * 100), 100)
    return Fraction(math.floor(stake * odds * 100), 100) - cut


def verify(opp, game: LineGame, rates=None) -> Fraction:
    """Cost and every result's payout from the legs alone (fees recomputed per level, commission from
    `rates`, none by default); worst profit."""
    rates = rates or {}
    cost = Fraction(0)
    pay: dict[int, Fraction] = {v: Fraction(0) for _, v in results_near(game)}
    for leg in opp.legs:
        for region, value in results_near(game):
            if leg.venue == "kalshi":
                yes_wins = region == leg.outcome
                if (leg.side == "yes") == yes_wins:
                    pay[value] += Fraction(leg.size)
            elif region == leg.outcome:
                pay[value] += book_pays(leg, rates)
            elif region == O.PUSH:
                pay[value] += Fraction(leg.size)  # the book refunds the stake on a push
        if leg.venue == "kalshi":
            units = sum(math.ceil(Fraction(7, 100) * Fraction(c) * Fraction(p) * (1 - Fraction(p)) * 10_000)
                        for p, c in leg.levels)
            fee = Fraction(math.ceil(Fraction(units, 100)), 100)
            assert fee == leg.fee
            cost += sum(Fraction(p) * Fraction(c) for p, c in leg.levels) + fee
        else:
            cost += Fraction(leg.size)
    assert cost == opp.cost
    for region, value in results_near(game):
        assert pay[value] == opp.payouts[region], (region, value)
    worst = min(pay.values()) - cost
    assert worst == opp.profit
    return worst


def test_half_point_spread_arbitrage_priced_to_the_cent(builders):
    b = builders
    home = b.contract("KXNBASPREAD-HOM35", O.HOME, yes_bids=[("0.38", 300)], no_bids=[("0.60", 500)])
    game = line_game(b, SPREADS, "3.5", {O.HOME: home},
                     [line_quote(b, "fanduel", SPREADS, "home", "-3.5", "2.30"),
                      line_quote(b, "fanduel", SPREADS, "away", "3.5", "1.80")])
    result = detect_lines([game], NO_VALUE, BIG, as_of=b.as_of)
    assert not result.rejected
    [opp] = result.opportunities
    kalshi, book = opp.legs
    assert (kalshi.market, kalshi.side, kalshi.outcome, kalshi.outcome_label) == ("KXNBASPREAD-HOM35", "yes", O.HOME,
                                                                                   "Home Team -3.5")
    assert (kalshi.price, kalshi.size, kalshi.fee, kalshi.cost) == (D("0.40"), D(500), D("8.40"), D("208.40"))
    assert (book.market, book.side, book.outcome, book.outcome_label) == ("fanduel", "back", O.AWAY, "Away Team +3.5")
    assert (book.price, book.size, book.payout, book.refunded_in) == (D("1.80"), D("277.78"), D("500.00"), ())
    assert opp.cost == D("486.18") and opp.profit == D("13.82")
    assert opp.payouts == {O.HOME: D(500), O.AWAY: D("500.00")}
    assert verify(opp, game) > 0
    assert line_position(SPREADS, "home", D("-3.5")) == (O.HOME, game.point)


def test_a_line_cover_at_a_book_without_an_account_is_labelled_paper(builders):
    b = builders
    home = b.contract("KXNBASPREAD-HOM35", O.HOME, yes_bids=[("0.38", 300)], no_bids=[("0.60", 500)])
    game = line_game(b, SPREADS, "3.5", {O.HOME: home},
                     [line_quote(b, "fanduel", SPREADS, "away", "3.5", "1.75"),
                      line_quote(b, "pinnacle", SPREADS, "away", "3.5", "1.80")])
    mine = replace(NO_VALUE, account_books=frozenset({"fanduel"}))
    [at_fanduel] = detect_lines([game], mine, BIG, as_of=b.as_of).opportunities
    assert at_fanduel.legs[1].market == "fanduel" and at_fanduel.executable
    only_pinnacle = line_game(b, SPREADS, "3.5", {O.HOME: home},
                              [line_quote(b, "fanduel", SPREADS, "away", "3.5", "1.60"),
                               line_quote(b, "pinnacle", SPREADS, "away", "3.5", "1.80")])
    [paper] = detect_lines([only_pinnacle], mine, BIG, as_of=b.as_of).opportunities
    assert paper.legs[1].market == "pinnacle" and paper.not_executable == (
        "PAPER: no account at pinnacle (ARB_ACCOUNT_BOOKS)",)
    assert verify(paper, only_pinnacle) == paper.profit > 0


def test_whole_number_total_prices_the_push_exactly(builders):
    """NO "over 222" + the book's Over 222: NO wins on exactly 222 and the back is refunded on top.

    (Both covers of the next test at once need books that are an arbitrage on their own: YES + NO of
    one market cost at least $1, so the two book legs must cost less than $1 together.)"""
    b = builders
    over = b.contract("KXNBATOTAL-222", O.OVER, yes_bids=[("0.52", 400)], no_bids=[("0.40", 400)])
    game = line_game(b, TOTALS, "222", {O.OVER: over},
                     [line_quote(b, "draftkings", TOTALS, "over", "222", "2.25"),
                      line_quote(b, "draftkings", TOTALS, "under", "222", "2.70")])
    result = detect_lines([game], NO_VALUE, BIG, as_of=b.as_of)
    [opp] = result.opportunities
    kalshi, book = opp.legs
    assert (kalshi.side, kalshi.pays_in) == ("no", (O.PUSH, O.UNDER))
    assert (book.outcome, book.pays_in, book.refunded_in) == (O.OVER, (O.OVER,), (O.PUSH,))
    assert opp.payouts[O.PUSH] == kalshi.size + book.size  # the refund is counted exactly
    assert opp.payouts[O.OVER] == book.payout and opp.payouts[O.UNDER] == kalshi.size
    assert opp.profit == min(opp.payouts.values()) - opp.cost and verify(opp, game) > 0
    # YES over at 0.60 + Under at 2.70 is an arbitrage on 221.5 (next test) but pays only the refund on a
    # push at 222: not a cover, so not even a candidate
    assert not any(r.candidate == "yes:over + book:under" for r in result.rejected)
    assert all(o.legs[0].side == "no" for o in result.opportunities)


def test_the_same_prices_on_a_half_point_total_are_two_covers(builders):
    b = builders
    over = b.contract("KXNBATOTAL-2215", O.OVER, yes_bids=[("0.52", 400)], no_bids=[("0.40", 400)])
    game = line_game(b, TOTALS, "221.5", {O.OVER: over},
                     [line_quote(b, "draftkings", TOTALS, "over", "221.5", "2.25"),
                      line_quote(b, "draftkings", TOTALS, "under", "221.5", "2.70")])
    result = detect_lines([game], NO_VALUE, BIG, as_of=b.as_of)
    shapes = {tuple((leg.side, leg.outcome) for leg in o.legs) for o in result.opportunities}
    assert shapes == {(("yes", O.OVER), ("back", O.UNDER)), (("no", O.OVER), ("back", O.OVER))}
    for opp in result.opportunities:
        assert O.PUSH not in opp.payouts and verify(opp, game) > 0


def test_gates_reject_with_reasons(builders):
    b = builders
    contract = b.contract("KXNBASPREAD-HOM35", O.HOME, no_bids=[("0.60", 500)])
    quotes = [line_quote(b, "fanduel", SPREADS, "away", "3.5", "1.80", age_s=500)]
    result = detect_lines([line_game(b, SPREADS, "3.5", {O.HOME: contract}, quotes)], NO_VALUE, BIG, as_of=b.as_of)
    assert not result.opportunities
    assert any("no fresh sportsbook quote for Away Team +3.5" in r for rej in result.rejected for r in rej.reasons)
    started = line_game(b, SPREADS, "3.5", {O.HOME: contract},
                        [line_quote(b, "fanduel", SPREADS, "away", "3.5", "1.80")], commence=b.as_of)
    result = detect_lines([started], NO_VALUE, BIG, as_of=b.as_of)
    assert any("too close to or past the start" in r for rej in result.rejected for r in rej.reasons)
    blocked = line_game(b, SPREADS, "3.5", {O.HOME: contract}, [line_quote(b, "fanduel", SPREADS, "away", "3.5", "1.80")],
                        tradable=False, blocked_reasons=("possibly inverted",))
    result = detect_lines([blocked], NO_VALUE, BIG, as_of=b.as_of)
    assert any("possibly inverted" in r for rej in result.rejected for r in rej.reasons)


def test_line_game_refuses_quotes_at_another_point(builders):
    b = builders
    contract = b.contract("KXNBASPREAD-HOM35", O.HOME, no_bids=[("0.60", 500)])
    with pytest.raises(ValueError, match="is at 4.5 on the line's axis, not 3.5"):
        line_game(b, SPREADS, "3.5", {O.HOME: contract}, [line_quote(b, "fanduel", SPREADS, "away", "4.5", "1.80")])
    with pytest.raises(ValueError, match="not a spreads quote"):
        line_game(b, SPREADS, "3.5", {O.HOME: contract}, [line_quote(b, "fanduel", TOTALS, "over", "3.5", "1.80")])
    with pytest.raises(ValueError, match="quarter lines"):
        line_game(b, SPREADS, "3.25", {O.HOME: contract}, [])
    with pytest.raises(ValueError, match="keyed"):
        line_game(b, SPREADS, "3.5", {O.AWAY: contract}, [])


def test_value_against_the_consensus_of_the_same_line(builders):
    b = builders
    books = {"pinnacle": ("1.70", "2.25"), "fanduel": ("1.68", "2.30"), "draftkings": ("1.72", "2.20")}
    quotes = [line_quote(b, bk, SPREADS, side, pt, odds) for bk, (home, away) in books.items()
              for side, pt, odds in (("home", "-3.5", home), ("away", "3.5", away))]
    contract = b.contract("KXNBASPREAD-HOM35", O.HOME, yes_bids=[("0.40", 100)], no_bids=[("0.48", 400)])
    result = detect_lines([line_game(b, SPREADS, "3.5", {O.HOME: contract}, quotes)], Limits(), SizingPolicy(),
                          as_of=b.as_of)
    [opp] = [o for o in result.opportunities if o.kind == "value"]
    leg = opp.legs[0]
    assert (leg.side, leg.outcome, leg.price, leg.pays_in) == ("yes", O.HOME, D("0.52"), (O.HOME,))
    assert 0.56 < opp.fair_probability < 0.58 and set(opp.consensus_books) == set(books)
    assert opp.edge_bps >= Limits().min_value_edge_bps and opp.cost <= SizingPolicy().max_outlay()


def test_whole_line_value_uses_a_conservative_fair_and_never_prices_yes(builders):
    b = builders
    books = {"pinnacle": ("1.70", "2.25"), "fanduel": ("1.68", "2.30"), "draftkings": ("1.72", "2.20")}
    quotes = [line_quote(b, bk, TOTALS, side, "222", odds) for bk, (over, under) in books.items()
              for side, odds in (("over", over), ("under", under))]
    cheap_yes = b.contract("KXNBATOTAL-222", O.OVER, yes_bids=[("0.62", 100)], no_bids=[("0.48", 400)])
    result = detect_lines([line_game(b, TOTALS, "222", {O.OVER: cheap_yes}, quotes)], Limits(), SizingPolicy(),
                          as_of=b.as_of)
    assert not [o for o in result.opportunities if o.kind == "value"]  # YES fair unknown: P(push) unknown
    cheap_no = b.contract("KXNBATOTAL-222", O.OVER, yes_bids=[("0.66", 400)], no_bids=[("0.20", 100)])
    result = detect_lines([line_game(b, TOTALS, "222", {O.OVER: cheap_no}, quotes)], Limits(), SizingPolicy(),
                          as_of=b.as_of)
    [opp] = [o for o in result.opportunities if o.kind == "value"]
    assert (opp.legs[0].side, opp.legs[0].pays_in) == ("no", (O.PUSH, O.UNDER))
    assert 0.42 < opp.fair_probability < 0.44  # the Under consensus: a lower bound, the push is extra


# ---- properties over random lines ---------------------------------------------------------------

def bid_ladder(lo: int, hi: int):
    prices = st.integers(lo, hi).map(lambda c: D(c) / 100)
    return st.lists(st.tuples(prices, st.integers(1, 300)), max_size=4, unique_by=lambda t: t[0])


@st.composite
def uncrossed_bids(draw):
    mid = draw(st.integers(2, 98))
    return draw(bid_ladder(1, mid - 1)), draw(bid_ladder(1, 99 - mid))


@st.composite
def random_line(draw, b, books=None):
    market = draw(st.sampled_from([SPREADS, TOTALS]))
    point = draw(st.sampled_from(["3", "3.5", "7", "0.5"] if market == SPREADS else ["6", "6.5", "221.5", "222"]))
    above, below = line_sides(market)
    kalshi = {}
    for side in (above, below):
        if draw(st.booleans()) or not kalshi:
            yes_bids, no_bids = draw(uncrossed_bids())
            kalshi[side] = b.contract(f"KX-{side.value.upper()}", side, yes_bids=yes_bids, no_bids=no_bids)
    odds = st.integers(105, 400).map(lambda c: str(D(c) / 100))
    quotes = []
    names = (draw(st.lists(st.sampled_from(books), min_size=1, max_size=3, unique=True)) if books
             else [f"book{i}" for i in range(draw(st.integers(1, 3)))])
    for name in names:
        for side in (above, below):
            outcome_point = (str(-D(point)) if side is O.HOME else point) if market == SPREADS else point
            quotes.append(line_quote(b, name, market, side.value, outcome_point, draw(odds),
                                     age_s=draw(st.sampled_from([5.0, 100.0, 500.0]))))
    return line_game(b, market, point, kalshi, quotes)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_line_arbitrage_pays_its_profit_net_of_fees_and_commission(builders, data):
    """Brute force over every result near the point (the push included), to the cent: with exchanges
    charging a random commission, every reported cover pays its stated profit in the worst result."""
    game = data.draw(random_line(builders, books=("fanduel", "betfair_ex_eu", "smarkets")))
    rates = {ex: D(data.draw(st.integers(0, 1000))) / 10_000 for ex in ("betfair_ex_eu", "smarkets")}
    limits = {bk: D(data.draw(st.integers(1, 50_000))) / 100 for bk in ("fanduel", "smarkets")
              if data.draw(st.booleans())}
    sizing = replace(BIG, book_commission=rates, book_stake_limits=limits)
    result = detect_lines([game], NO_VALUE, sizing, as_of=builders.as_of)
    for opp in result.opportunities:
        assert verify(opp, game, rates) == opp.profit > 0
        event("a line arbitrage with a commissioned exchange leg" if any(leg.commission > 0 for leg in opp.legs)
              else "a line arbitrage without commission")
        assert all(leg.size <= limits.get(leg.market, BIG.max_sportsbook_stake)
                   for leg in opp.legs if leg.venue == "sportsbook")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_reported_line_arbitrage_profits_in_every_result(builders, data):
    game = data.draw(random_line(builders))
    result = detect_lines([game], NO_VALUE, BIG, as_of=builders.as_of)
    for opp in result.opportunities:
        assert opp.kind == "arbitrage"
        assert verify(opp, game) > 0
        assert all(age <= 180 for age in opp.quote_ages.values())
        assert set(opp.payouts) == set(game.outcomes)

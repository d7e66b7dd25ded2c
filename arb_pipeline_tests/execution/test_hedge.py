from decimal import ROUND_FLOOR, Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from arb_pipeline.domain import Outcome
from arb_pipeline.execution.hedge import KalshiFilled, hedge_plans
from arb_pipeline.execution.plan import plan_opportunity
from arb_pipeline_tests.execution.factories import book_leg, kalshi_leg, opportunity

D = Decimal
CENT = D("0.01")


def worst_case(outcomes, kalshi, bets):
    """Independent recomputation: per outcome, everything received minus everything paid."""
    paid = sum(k.cost for k in kalshi) + sum(stake for stake, _, _ in bets)
    results = []
    for o in outcomes:
        received = sum(k.filled for k in kalshi if o in k.pays_in)
        received += sum((stake * odds).quantize(CENT, rounding=ROUND_FLOOR) for stake, odds, pays in bets if o in pays)
        results.append(received - paid)
    return min(results)


def test_full_fill_worked_example():
    plan = plan_opportunity(opportunity())
    (h,) = hedge_plans(plan, [KalshiFilled(0, D(25), D(25), D("11.84"), frozenset({"home"}))])
    # outlay 11.84 + 11.11 = 22.95; BOS must pay >= 22.95: 22.95 / 11.11 = 2.065706.. -> 2.0658
    assert (h.stake, h.worst_acceptable_odds, h.status, h.worst_case_at_quote) == (
        D("11.11"), D("2.0658"), "pending", D("2.04"))


def test_partial_fill_scales_the_stake_and_a_worse_fill_raises_the_odds():
    plan = plan_opportunity(opportunity())
    (h,) = hedge_plans(plan, [KalshiFilled(0, D(25), D(10), D("4.70"), frozenset({"home"}))])
    assert h.stake == D("4.44")  # 11.11 * 10/25 = 4.444 floored to the cent
    assert h.worst_acceptable_odds == D("2.0586")  # (4.70 + 4.44) / 4.44 = 2.05855.. rounded up


def test_nothing_filled_means_no_hedge():
    plan = plan_opportunity(opportunity())
    assert hedge_plans(plan, [KalshiFilled(0, D(25), D(0), D(0), frozenset({"home"}))]) == []


def test_no_odds_can_save_an_arb_whose_kalshi_side_already_loses():
    plan = plan_opportunity(opportunity())
    (h,) = hedge_plans(plan, [KalshiFilled(0, D(25), D(25), D("14.50"), frozenset({"home"}))])
    # home pays 25 against 14.50 + 11.11 = 25.61 paid: loses whatever BOS pays
    assert h.worst_acceptable_odds is None and h.status == "do_not_place" and "home" in h.note


@given(
    contracts=st.integers(1, 500),
    filled_pct=st.integers(1, 100),
    price_cents=st.integers(5, 95),
    fee_cents=st.integers(0, 200),
    odds=st.decimals(D("1.05"), D("15"), places=3),
)
def test_worst_acceptable_odds_are_break_even_and_tight(contracts, filled_pct, price_cents, fee_cents, odds):
    count = D(contracts)
    filled = (count * filled_pct / 100).quantize(CENT, rounding=ROUND_FLOOR)
    assume(filled > 0)
    stake = (count / odds).quantize(CENT, rounding=ROUND_FLOOR)
    assume(stake > 0)
    leg = kalshi_leg(count=count, levels=((D(price_cents) / 100, count),), fee=D(fee_cents) / 100)
    plan = plan_opportunity(opportunity(legs=(leg, book_leg(stake=stake, odds=odds))))
    cost = filled * D(price_cents) / 100 + D(fee_cents) / 100
    kalshi = [KalshiFilled(0, count, filled, cost, frozenset({"home"}))]
    (h,) = hedge_plans(plan, kalshi)
    if h.worst_acceptable_odds is None:
        assert worst_case(plan.outcomes, kalshi, [(h.stake, D("1000"), frozenset({"away"}))]) < 0
        return
    pays = frozenset({"away"})
    assert worst_case(plan.outcomes, kalshi, [(h.stake, h.worst_acceptable_odds, pays)]) >= 0
    if h.worst_acceptable_odds > D("1.0001"):
        below = h.worst_acceptable_odds - D("0.0001")
        assert worst_case(plan.outcomes, kalshi, [(h.stake, below, pays)]) < 0


def test_three_way_game_checks_the_draw_too():
    three = (Outcome.HOME, Outcome.DRAW, Outcome.AWAY)
    covered = (kalshi_leg(side="no", outcome=Outcome.AWAY, pays_in=(Outcome.HOME, Outcome.DRAW)), book_leg())
    plan = plan_opportunity(opportunity(legs=covered, outcomes=three))
    assert plan.outcomes == {"home", "draw", "away"}
    kalshi = [KalshiFilled(0, D(25), D(25), D("11.84"), frozenset({"home", "draw"}))]
    (h,) = hedge_plans(plan, kalshi)
    assert h.status == "pending"
    assert worst_case(plan.outcomes, kalshi, [(h.stake, h.worst_acceptable_odds, frozenset({"away"}))]) >= 0
    # YES home + back away leaves the draw uncovered: no odds can make it break-even
    plan = plan_opportunity(opportunity(outcomes=three))
    (h,) = hedge_plans(plan, [KalshiFilled(0, D(25), D(25), D("11.84"), frozenset({"home"}))])
    assert h.worst_acceptable_odds is None and h.status == "do_not_place" and "draw" in h.note


# --- spread/total lines (issue #12): a push refunds the book leg ------------------------------------------


def whole_line_opportunity():
    """NO "over 222" + the book's Over 222 (a whole-number total): NO wins the push, the back is refunded."""
    from datetime import UTC, datetime, timedelta

    from arb_pipeline.arb.book import OrderBook
    from arb_pipeline.arb.constraints import Limits
    from arb_pipeline.arb.line_detect import detect_lines
    from arb_pipeline.arb.line_game import LineGame
    from arb_pipeline.arb.market import KalshiContract
    from arb_pipeline.arb.sizing import SizingPolicy
    from arb_pipeline.domain import TOTALS, PriceRange, SeriesFees, SportsbookQuote

    as_of = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    ticker = "KXNBATOTAL-26NOV24AAABBB-222"
    book = OrderBook.from_orderbook_fp(ticker, {"yes_dollars": [["0.52", "400"]], "no_dollars": [["0.40", "400"]]})
    over = KalshiContract(ticker, Outcome.OVER, "Over 222", book, SeriesFees("KXNBATOTAL"),
                          (PriceRange(D(0), D(1), CENT),), "active", as_of - timedelta(seconds=2))
    ts = as_of - timedelta(seconds=20)
    quotes = [SportsbookQuote("test", "draftkings", "DraftKings", "basketball_nba", "NBA", "evt1", "Home", "Away",
                              as_of + timedelta(hours=3), TOTALS, side, side.capitalize(), D(odds), ts, ts, D(222))
              for side, odds in (("over", "2.25"), ("under", "2.70"))]
    game = LineGame("KXNBATOTAL-26NOV24AAABBB", "NBA", as_of + timedelta(hours=3), TOTALS, D(222),
                    {Outcome.OVER: "Over 222", Outcome.UNDER: "Under 222"}, {Outcome.OVER: over}, tuple(quotes))
    sizing = SizingPolicy(bankroll=D(100_000), max_per_event=D(10_000), max_per_market=D(10_000),
                          max_total_exposure=D(100_000), max_sportsbook_stake=D(10_000))
    (opp,) = detect_lines([game], Limits(min_value_edge_bps=D(10_000)), sizing, as_of=as_of).opportunities
    return opp


def test_a_whole_line_plan_refunds_the_book_leg_in_the_push_and_states_the_line():
    opp = whole_line_opportunity()
    plan = plan_opportunity(opp)
    assert (plan.market, plan.point, plan.outcomes) == ("totals", D(222), frozenset({"over", "push", "under"}))
    (book,) = plan.book_legs
    assert (book.pays_in, book.refunded_in) == (frozenset({"over"}), frozenset({"push"}))
    assert book.selection == "Over 222 (totals; a push refunds the stake)"
    (kalshi,) = plan.kalshi_legs
    full = [KalshiFilled(kalshi.leg_index, kalshi.count, kalshi.count, kalshi.expected_cost, kalshi.pays_in)]
    (hedge,) = hedge_plans(plan, full)
    assert (hedge.status, hedge.stake, hedge.selection) == ("pending", book.stake, book.selection)
    # the hedge's worst case is the detector's guaranteed profit: the push counted with its refund
    assert hedge.worst_case_at_quote == opp.profit > 0
    outlay = kalshi.expected_cost + book.stake
    assert opp.payouts[Outcome.PUSH] - outlay == kalshi.count + book.stake - outlay >= opp.profit
    # the hedge maths counts the refund in the push exactly as the detector did (and only there)
    from arb_pipeline.execution.hedge import pnl_by_outcome

    bet = (book.stake, book.odds, book.pays_in, book.refunded_in)
    pnl = pnl_by_outcome(plan.outcomes, full, [bet])
    assert pnl == {o.value: v - outlay for o, v in opp.payouts.items()}
    assert pnl["push"] - pnl_by_outcome(plan.outcomes, full, [bet[:3]])["push"] == book.stake
    # worst acceptable odds: the least odds keeping "over" at or above zero (push and under do not need them)
    need = outlay - D(0)  # only the book pays in "over"
    assert (book.stake * hedge.worst_acceptable_odds).quantize(CENT, rounding=ROUND_FLOOR) >= need
    assert (book.stake * (hedge.worst_acceptable_odds - D("0.0001"))).quantize(CENT, rounding=ROUND_FLOOR) < need


def test_a_half_filled_whole_line_hedge_still_covers_the_push():
    opp = whole_line_opportunity()
    plan = plan_opportunity(opp)
    (kalshi,) = plan.kalshi_legs
    half = (kalshi.count / 2).to_integral_value(rounding=ROUND_FLOOR)
    cost = (kalshi.expected_cost * half / kalshi.count).quantize(CENT)
    (hedge,) = hedge_plans(plan, [KalshiFilled(kalshi.leg_index, kalshi.count, half, cost, kalshi.pays_in)])
    assert hedge.status == "pending" and hedge.stake <= plan.book_legs[0].stake
    from arb_pipeline.execution.hedge import pnl_by_outcome

    pnl = pnl_by_outcome(plan.outcomes, [KalshiFilled(0, kalshi.count, half, cost, kalshi.pays_in)],
                         [(hedge.stake, hedge.worst_acceptable_odds, frozenset({"over"}), frozenset({"push"}))])
    assert min(pnl.values()) >= 0  # at the worst acceptable odds every outcome, the push included, breaks even


def test_a_line_opportunity_round_trips_its_line_and_refunds():
    from arb_pipeline.arb.results import Opportunity

    opp = whole_line_opportunity()
    again = Opportunity.from_dict(opp.to_dict())
    assert (again.market, again.point) == ("totals", D(222))
    assert [leg.refunded_in for leg in again.legs] == [leg.refunded_in for leg in opp.legs] == [(), (Outcome.PUSH,)]
    assert plan_opportunity(again).book_legs == plan_opportunity(opp).book_legs


def test_a_replacement_for_a_no_leg_names_the_side_it_pays_on_not_the_contracts_own():
    """Two Kalshi legs, one filled: the replacement for an unfilled NO "over 221.5" backs the under."""
    from dataclasses import replace as dc_replace
    from datetime import UTC, datetime

    from arb_pipeline.domain import ContractSide
    from arb_pipeline.execution.plan import ExecutionPlan, KalshiLegPlan

    under_no = KalshiLegPlan(0, "c0", "KXNBATOTAL-X-222", ContractSide.NO, D(10), D("0.45"), D("4.70"),
                             frozenset({"under"}), "Over 221.5")
    over_yes = dc_replace(under_no, leg_index=1, client_order_id="c1", ticker="KXNBATOTAL-Y-222",
                          side=ContractSide.YES, pays_in=frozenset({"over"}), label="Over 221.5")
    plan = ExecutionPlan("o", "k", "arbitrage", "KXNBATOTAL-X", "NBA", datetime(2026, 1, 1, tzinfo=UTC),
                         frozenset({"over", "under"}), (under_no, over_yes), (), D("9.40"), D("0.60"), {},
                         "totals", D("221.5"))
    held = [KalshiFilled(0, D(10), D(0), D(0), frozenset({"under"})),
            KalshiFilled(1, D(10), D(10), D("4.70"), frozenset({"over"}))]
    (replacement,) = hedge_plans(plan, held)
    assert replacement.outcome == "under" and replacement.selection == "under (the side against Over 221.5)"
    assert "back under (the side against Over 221.5)" in replacement.note

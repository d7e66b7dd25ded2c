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

"""The hedge lifecycle and two-leg P&L, worked by hand on the execution factories' arbitrage.

The arbitrage (execution/factories.py): Kalshi YES NYK 25 contracts for $11.40 + $0.44 fee = $11.84
(pays $25 if New York wins) + back Boston at the book for $11.11 at 2.25 (pays floor(24.9975) = $24.99).
Outlay $22.95: New York wins -> +$2.05, Boston wins -> +$2.04. Locked profit $2.04.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.execution.paper import PaperExecutor, PaperMarket
from arb_pipeline.services import hedges
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.services.ledger import arbitrages, cash, expired_unhedged, pnl_report, risk
from arb_pipeline.services.reconcile import reconcile
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import HedgeInstruction
from arb_pipeline.storage.repositories.marks import GameMarkRepository
from arb_pipeline_tests.execution.factories import BOOK, EVENT, T0, TICKER, book_leg, kalshi_leg, opportunity
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

D = Decimal
NOW = T0 + timedelta(seconds=2)
PAPER = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=NOW)
START = T0 + timedelta(hours=2)  # the game's start


@pytest.fixture
def alerts():
    return []


@pytest.fixture
def breaker(session_factory, alerts):
    config = BreakerConfig(max_daily_loss=D("5"), cooldown_s=300)
    return CircuitBreaker(session_factory, config, alert=lambda *a: alerts.append(a), clock=lambda: NOW)


def trade(session_factory, breaker, alerts, bookmaker="pinnacle", commission="", start=START):
    """Execute the arbitrage in paper mode (marking the game first, so the hedge knows its start)."""
    if start is not None:
        with session_scope(session_factory) as s:
            marks = GameMarkRepository(s)
            marks.mark(event_ticker=EVENT, outcome="home", kalshi_ticker=TICKER, league="NBA", commence_time=start,
                       fair_probability=0.47, method="multiplicative", at=T0)
            marks.mark(event_ticker=EVENT, outcome="away", kalshi_ticker=f"{EVENT}-BOS", league="NBA",
                       commence_time=start, fair_probability=0.53, method="multiplicative", at=T0)
    settings = Settings(_env_file=None, ARB_BOOK_COMMISSION=commission, ARB_HEDGE_EXPIRY_BEFORE_START_S="120")
    opp = opportunity(legs=(kalshi_leg(), book_leg(bookmaker=bookmaker)))
    report = execute_opportunities([opp], context=PAPER, sessions=session_factory, breaker=breaker, settings=settings,
                                   alert=lambda *a: alerts.append(a),
                                   executor=PaperExecutor({TICKER: PaperMarket(BOOK)}))
    assert [o.status for o in report.orders] == ["filled"]
    with session_scope(session_factory) as s:
        return s.scalars(select(HedgeInstruction)).one().id


def hedge(session_factory, hedge_id):
    with session_scope(session_factory) as s:
        row = s.get(HedgeInstruction, hedge_id)
        s.expunge(row)
        return row


def the_arb(session_factory):
    with session_scope(session_factory) as s:
        (arb,) = arbitrages(s, "paper")
        return arb


def test_the_instruction_knows_its_game_start_expiry_outcome_and_commission(session_factory, breaker, alerts):
    h = hedge(session_factory, trade(session_factory, breaker, alerts))
    assert (h.status, h.mode, h.outcome, h.pays_in, h.stake, h.odds) == ("pending", "paper", "away", "away",
                                                                           D("11.11"), D("2.25"))
    assert h.game_start == START and h.expires_at == START - timedelta(seconds=120)
    assert h.worst_acceptable_odds == D("2.0658") and h.commission_rate == 0
    assert the_arb(session_factory).locked_profit(planned=True) == D("2.04")


def test_placed_at_quoted_odds_settles_both_legs_to_the_cent(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    placed = hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=NOW)
    assert (placed.locked_before, placed.locked_after, placed.forced) == (D("2.04"), D("2.04"), False)
    # New York wins: Kalshi pays 25 - 11.84 = +13.16, the back loses 11.11: +2.05
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START + timedelta(hours=3),
                       settlement_results={TICKER: "yes"})
    assert report.settled == {TICKER: D("13.16")} and report.books_settled == {hedge_id: D("-11.11")}
    assert report.daily_realized_pnl == D("2.05") and report.open_exposure == 0
    with session_scope(session_factory) as s:
        summary = pnl_report(s, "paper", START + timedelta(hours=3))
        assert cash(s, "paper", D(1000)) == D("1002.05")
    (arb,) = summary["arbitrages"]
    assert (arb["status"], arb["realized"], arb["winner"], arb["locked_profit"]) == ("settled", "2.05", "home", "2.04")
    assert summary["total_realized"] == "2.05" and summary["days"] == [
        {"day": "2026-11-24", "realized": "2.05", "cumulative": "2.05"}]
    # CLV: Kalshi paid 11.84/25 = 0.4736 for a 0.47 close (-36 bps); the back 1/2.25 = 0.4444 for 0.53 (+856)
    legs = {leg["venue"]: leg for leg in arb["clv"]["legs"]}
    assert round(legs["kalshi"]["clv_bps"]) == -36 and round(legs["sportsbook"]["clv_bps"]) == 856
    assert arb["clv"]["final"] is True and arb["clv"]["clv_dollars"] == "2.04"  # 0.47*25 + 0.53*24.99 - 22.95


def test_a_hedge_placed_at_worse_odds_recomputes_the_locked_profit(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    placed = hedges.mark_placed(session_factory, hedge_id, odds="2.10", stake="11.11", who="alice", at=NOW)
    # Boston now pays floor(11.11 x 2.10) = 23.33: 23.33 - 22.95 = 0.38 is the worst case
    assert (placed.locked_before, placed.locked_after) == (D("2.04"), D("0.38"))
    h = hedge(session_factory, hedge_id)
    assert (h.status, h.placed_odds, h.placed_stake, h.acted_by) == ("placed", D("2.10"), D("11.11"), "alice")
    assert "worse than the quoted 2.25" in h.note and the_arb(session_factory).locked_profit() == D("0.38")
    reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START + timedelta(hours=3),
              settlement_results={TICKER: "no"})  # Boston wins: 23.33 - 11.11 - 11.84 = +0.38
    with session_scope(session_factory) as s:
        (arb,) = pnl_report(s, "paper", START + timedelta(hours=3))["arbitrages"]
    assert (arb["realized"], arb["winner"]) == ("0.38", "away")


def test_beyond_the_worst_acceptable_odds_is_refused_unless_forced(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    with pytest.raises(hedges.HedgeRefused, match=r"odds 2.00 are below the worst acceptable 2.0658.*lock -\$0.73"):
        hedges.mark_placed(session_factory, hedge_id, odds="2.00", stake="11.11", who="alice", at=NOW)
    assert hedge(session_factory, hedge_id).status == "pending"  # refused: nothing changed
    placed = hedges.mark_placed(session_factory, hedge_id, odds="2.00", stake="11.11", who="alice", at=NOW,
                                force=True, alert=lambda *a: alerts.append(a))
    assert placed.forced and placed.locked_after == D("-0.73")  # 22.22 - 22.95
    assert hedge(session_factory, hedge_id).note.startswith("FORCED by alice")
    assert any(a[3] == f"hedge-forced:{hedge_id}" and a[0] == "critical" for a in alerts)


def test_bad_input_and_wrong_states_are_refused_with_the_reason(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    for odds, stake, message in (("abc", "11.11", "odds must be a decimal number"),
                                 ("1.0", "11.11", "decimal odds above 1"),
                                 ("2.25", "11.111", "stake has at most 2 decimals"),
                                 ("2.25", "-1", "stake must be a positive number")):
        with pytest.raises(ValueError, match=message):
            hedges.mark_placed(session_factory, hedge_id, odds=odds, stake=stake, who="alice", at=NOW)
    with pytest.raises(hedges.HedgeNotFound, match="no hedge instruction 999"):
        hedges.mark_placed(session_factory, 999, odds="2.25", stake="11.11", who="alice", at=NOW)
    hedges.abandon(session_factory, hedge_id, who="bob", why="book closed the market", at=NOW)
    with pytest.raises(hedges.HedgeRefused, match="is abandoned, not pending"):
        hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=NOW)
    with pytest.raises(hedges.HedgeRefused, match="is abandoned, not pending"):
        hedges.abandon(session_factory, hedge_id, who="bob", why="again", at=NOW)


def test_an_abandoned_hedge_is_open_exposure_counted_and_alerted_once(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    hedges.abandon(session_factory, hedge_id, who="bob", why="book closed the market", at=NOW,
                   alert=lambda *a: alerts.append(a))
    named = [a for a in alerts if a[3] == f"hedge-unhedged:{hedge_id}"]
    assert len(named) == 1 and "Boston Celtics" in named[0][2] and "$11.84" in named[0][2]
    with session_scope(session_factory) as s:
        r = risk(s, "paper", NOW)
        assert (r.open_exposure, r.unhedged_exposure) == (D("11.84"), D("11.84"))
        assert [x["hedge_id"] for x in expired_unhedged(s, "paper")] == [hedge_id]
    # Boston wins: the one-sided Kalshi leg loses everything, and nothing offsets it
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START + timedelta(hours=3),
                       settlement_results={TICKER: "no"})
    assert report.daily_realized_pnl == D("-11.84") and report.breaker_state is BreakerState.OPEN
    with session_scope(session_factory) as s:
        assert expired_unhedged(s, "paper") == [] and risk(s, "paper", NOW).unhedged_exposure == 0


def test_a_pending_hedge_expires_before_the_game_starts(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    early = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START - timedelta(seconds=121))
    assert early.hedges_expired == [] and hedge(session_factory, hedge_id).status == "pending"
    due = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START - timedelta(seconds=120))
    assert due.hedges_expired == [hedge_id] and hedge(session_factory, hedge_id).status == "expired"
    assert due.unhedged_exposure == D("11.84")
    again = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START)
    assert again.hedges_expired == []
    assert len([a for a in alerts if a[3] == f"hedge-unhedged:{hedge_id}"]) == 1  # named once
    with pytest.raises(hedges.HedgeRefused, match="expired, not pending"):
        hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=START)


def test_no_known_start_means_no_automatic_expiry_and_the_note_says_so(session_factory, breaker, alerts):
    h = hedge(session_factory, trade(session_factory, breaker, alerts, start=None))
    assert h.expires_at is None and "start is unknown" in h.note


def test_a_winning_arb_whose_kalshi_leg_loses_does_not_trip_the_daily_loss_breaker(session_factory, breaker, alerts):
    hedge_id = trade(session_factory, breaker, alerts)
    hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=NOW)
    # Boston wins: Kalshi -11.84 (over the $5 daily-loss limit alone), the back +13.88: +2.04 together
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START + timedelta(hours=3),
                       settlement_results={TICKER: "no"})
    assert report.settled == {TICKER: D("-11.84")} and report.books_settled == {hedge_id: D("13.88")}
    assert report.daily_realized_pnl == D("2.04")
    assert report.breaker_state is BreakerState.CLOSED and breaker.status().state is BreakerState.CLOSED


@pytest.mark.parametrize(("rate", "worst", "payout", "commission", "realized"), [
    # 2 %: worst odds 1 + ((22.95 + 0.02) / 11.11 - 1) / 0.98 = 2.08929.. -> 2.0893; Boston wins at 2.25:
    # gross floor(24.9975) = 24.99, commission ceil(1.25 x 11.11 x 0.02 = 0.27775) = 0.28 -> 24.71 back
    ("0.02", D("2.0893"), D("24.71"), D("0.28"), "1.76"),
    # 5 %: worst 1 + (2.067507.. - 1) / 0.95 = 2.12369.. -> 2.1237; commission ceil(0.694375) = 0.70 -> 24.29
    ("0.05", D("2.1237"), D("24.29"), D("0.70"), "1.34"),
])
def test_a_betfair_leg_pays_commission_on_net_winnings(session_factory, breaker, alerts, rate, worst, payout,
                                                       commission, realized):
    hedge_id = trade(session_factory, breaker, alerts, bookmaker="betfair_ex_eu", commission=f"betfair_ex_eu:{rate}")
    h = hedge(session_factory, hedge_id)
    assert (h.commission_rate, h.worst_acceptable_odds) == (D(rate), worst)
    placed = hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=NOW)
    assert placed.locked_after == D(realized)  # Boston's outcome is the worst: 24.71 (24.29) - 22.95
    reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START + timedelta(hours=3),
              settlement_results={TICKER: "no"})
    h = hedge(session_factory, hedge_id)
    assert (h.result, h.payout, h.commission) == ("won", payout, commission)
    with session_scope(session_factory) as s:
        (arb,) = pnl_report(s, "paper", START + timedelta(hours=3))["arbitrages"]
    assert (arb["realized"], D(arb["commission"])) == (realized, commission)


def test_at_exactly_the_worst_acceptable_odds_no_outcome_loses(session_factory, breaker, alerts):
    for rate in ("0.02", "0.05"):
        with session_scope(session_factory) as s:
            for table in ("hedge_instructions", "fills", "orders", "positions", "opportunities", "game_marks"):
                s.execute(text(f"DELETE FROM {table}"))
        hedge_id = trade(session_factory, breaker, alerts, bookmaker="betfair_ex_eu",
                         commission=f"betfair_ex_eu:{rate}")
        worst = hedge(session_factory, hedge_id).worst_acceptable_odds
        placed = hedges.mark_placed(session_factory, hedge_id, odds=str(worst), stake="11.11", who="a", at=NOW)
        assert placed.locked_after >= 0 and not placed.forced


def test_sizing_takes_its_bankroll_from_the_two_leg_ledger(session_factory, engine, breaker, alerts, tmp_path):
    from arb_pipeline.services.ledger import sizing_bankroll
    from arb_pipeline.services.mappings import configured_scan

    hedge_id = trade(session_factory, breaker, alerts)
    hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=NOW)
    reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=START + timedelta(hours=3),
              settlement_results={TICKER: "no"})  # +2.04, both legs
    settings = Settings(_env_file=None, ARB_BANKROLL="1000", ARB_MAPPING_OVERRIDES=str(tmp_path / "o.yaml"))
    with session_scope(session_factory) as s:
        assert sizing_bankroll(s, "paper", D("1000")) == D("1002.04")
        assert sizing_bankroll(s, "live", D("1000")) == D("1000")  # no balance read yet: the setting
    assert configured_scan(settings, engine=engine).sizing.bankroll == D("1002.04")


def test_a_kalshi_market_settled_at_a_value_leaves_the_bet_waiting_until_its_book_rules(session_factory, breaker,
                                                                                         alerts):
    """A cancelled game: Kalshi settles the market at a value, the book's own ruling decides the bet."""
    hedge_id = trade(session_factory, breaker, alerts)
    hedges.mark_placed(session_factory, hedge_id, odds="2.25", stake="11.11", who="alice", at=NOW)
    later = START + timedelta(hours=3)
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=later,
                       settlement_results={TICKER: "0.5"})
    assert report.settled == {TICKER: D("0.66")}  # 25 x 0.50 = 12.50 - 11.84
    assert report.books_settled == {}
    (why,) = report.books_waiting
    assert f"market {TICKER} settled at a value (0.5 per YES contract)" in why and f"--result {TICKER}=void" in why
    # the book voided the game: the stake comes back and the arbitrage is settled at the Kalshi leg's +0.66
    report = reconcile(mode="paper", sessions=session_factory, breaker=breaker, as_of=later,
                       settlement_results={TICKER: "void"})
    assert report.settled == {} and report.books_settled == {hedge_id: D(0)} and report.books_waiting == []
    assert report.daily_realized_pnl == D("0.66") and report.open_exposure == 0

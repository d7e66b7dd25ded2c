"""The ledger of both legs, as a property: for random sequences of Kalshi fills (YES and NO on the same
market, so netting happens), hedges placed at random odds within the worst acceptable (some abandoned),
random exchange commission and random settlements,

    cash + open Kalshi positions at cost + placed unsettled stakes == starting cash + realized P&L

to the cent at every step, both legs; and once everything settled there is nothing open, cash is the
start plus the realized P&L, and the arbitrages' own realized P&L (each computed as a unit) adds up to
the ledger's.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
from arb_pipeline.services import hedges
from arb_pipeline.services.ledger import arbitrage_summary, arbitrages, cash, realized_total, risk
from arb_pipeline.services.reconcile import reconcile
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Base
from arb_pipeline.storage.repositories import (
    HedgeRepository,
    OpportunityRepository,
    OrderIntent,
    OrderRepository,
    PositionRepository,
)
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

D = Decimal
T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
START = D("1000")
CENTS = st.integers(min_value=1, max_value=99).map(lambda c: D(c) / 100)


def _truncate(engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def _identity(sessions, at) -> tuple[Decimal, Decimal]:
    with session_scope(sessions) as s:
        r = risk(s, "paper", at)
        return cash(s, "paper", START) + r.kalshi_exposure + r.book_exposure, START + realized_total(s, "paper")


def _fill(sessions, opp: str, n: int, ticker: str, side: str, count: Decimal, price: Decimal, fee: Decimal, at):
    purpose = "entry" if n == 0 else "unwind"  # later orders buy either side: netting or adding to the position
    with session_scope(sessions) as s:
        orders = OrderRepository(s)
        intent = OrderIntent(f"{opp}-{n}", opp, 0, "paper", ticker, "bid" if side == "yes" else "ask", count,
                             price if side == "yes" else 1 - price, purpose=purpose)
        orders.record_intent(intent, at=at)
        orders.claim_for_send(intent.client_order_id, at)
        row = orders.mark_filled(intent.client_order_id, fill_count=count, average_fill_price=price, fees=fee,
                                 fill_notional=count * price, at=at)
        orders.add_fill(row, count=count, price=price, fee=fee, filled_at=at)
        PositionRepository(s).apply_fill(mode="paper", ticker=ticker, outcome_side=side, count=count, price=price,
                                         fee=fee, at=at)


arb_strategy = st.fixed_dictionaries({
    "fills": st.lists(st.tuples(st.sampled_from(["yes", "no"]), st.integers(1, 40), CENTS,
                                st.integers(0, 150).map(lambda c: D(c) / 100)), min_size=1, max_size=4),
    "book": st.sampled_from(["pinnacle", "betfair_ex_eu", "smarkets"]),
    "rate": st.integers(0, 10).map(lambda p: D(p) / 100),
    "stake": st.integers(100, 5000).map(lambda c: D(c) / 100),
    "worst": st.integers(10_100, 40_000).map(lambda b: D(b) / 10_000),
    "extra_odds": st.integers(0, 20_000).map(lambda b: D(b) / 10_000),
    "placed_stake": st.one_of(st.none(), st.integers(100, 5000).map(lambda c: D(c) / 100)),
    "abandon": st.booleans(),
    "result": st.sampled_from(["yes", "no"]),
})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arbs=st.lists(arb_strategy, min_size=1, max_size=3))
def test_cash_plus_positions_equals_start_plus_realized_to_the_cent(engine, session_factory, arbs):
    _truncate(engine)
    sessions = session_factory
    at = T0
    breaker = CircuitBreaker(sessions, BreakerConfig(max_daily_loss=D("1e9"), max_open_exposure=D("1e9")),
                             alert=lambda *a: None, clock=lambda: at)
    results = {}
    for i, arb in enumerate(arbs):
        opp, event = f"opp-{i}", f"KXNBAGAME-26NOV24G{i}"
        ticker = f"{event}-HOM"
        payload = {"kind": "arbitrage", "event": event, "league": "NBA", "payouts": {"home": "1", "away": "1"},
                   "legs": [{"venue": "kalshi", "market": ticker, "side": "yes", "pays_in": ["home"],
                             "outcome_side": "home"},
                            {"venue": "sportsbook", "market": arb["book"], "pays_in": ["away"],
                             "outcome_side": "away"}]}
        with session_scope(sessions) as s:
            OpportunityRepository(s).record(opportunity_id=opp, opportunity_key=opp, event_key=event, detected_at=at,
                                            cost=D(1), profit=D(0), payload=payload, at=at)
        for n, (side, count, price, fee) in enumerate(arb["fills"]):
            side = "yes" if n == 0 else side  # the entry leg buys YES; later orders buy either side
            _fill(sessions, opp, n, ticker, side, D(count), price, fee, at)
            assert _identity(sessions, at)[0] == _identity(sessions, at)[1]
        with session_scope(sessions) as s:
            hedge_id = HedgeRepository(s).record(
                client_order_id=f"{opp}-0", opportunity_id=opp, leg_index=1, bookmaker=arb["book"], event=event,
                selection="Away", odds=arb["worst"] + D("0.1"), stake=arb["stake"], worst_acceptable_odds=arb["worst"],
                at=at, outcome="away", pays_in=["away"], commission_rate=arb["rate"]).id
        if arb["abandon"]:
            hedges.abandon(sessions, hedge_id, who="p", why="test", at=at)
        else:  # within the worst acceptable; forced so a random stake that locks a loss is still recorded
            hedges.mark_placed(sessions, hedge_id, odds=arb["worst"] + arb["extra_odds"],
                               stake=arb["placed_stake"] or arb["stake"], who="p", at=at, force=True)
        left, right = _identity(sessions, at)
        assert left == right, f"after the hedge of {opp}: {left} != {right}"
        results[ticker] = arb["result"]
        at += timedelta(minutes=1)
    for ticker, result in results.items():  # games settle one by one
        at += timedelta(hours=1)
        reconcile(mode="paper", sessions=sessions, breaker=breaker, as_of=at, settlement_results={ticker: result})
        left, right = _identity(sessions, at)
        assert left == right, f"after {ticker} settled {result}: {left} != {right}"
    with session_scope(sessions) as s:
        r = risk(s, "paper", at)
        assert (r.kalshi_exposure, r.book_exposure) == (0, 0)
        assert cash(s, "paper", START) == START + realized_total(s, "paper")
        per_arb = [arbitrage_summary(s, a, at) for a in arbitrages(s, "paper")]
        assert all(a["status"] == "settled" for a in per_arb), [a["waiting_for"] for a in per_arb]
        assert sum((D(a["realized"]) for a in per_arb), D(0)) == realized_total(s, "paper")


def test_a_position_netted_flat_still_settles_its_arbitrage_on_the_result(engine, session_factory):
    """Found by the property test above: YES and NO bought on one market net to zero contracts; the
    market's result was applied to nothing, so the arbitrage waited for 'the game's result' forever."""
    _truncate(engine)
    sessions, at = session_factory, T0
    breaker = CircuitBreaker(sessions, BreakerConfig(max_daily_loss=D("1e9"), max_open_exposure=D("1e9")),
                             alert=lambda *a: None, clock=lambda: at)
    opp, event = "opp-flat", "KXNBAGAME-26NOV24FLAT"
    ticker = f"{event}-HOM"
    payload = {"kind": "arbitrage", "event": event, "league": "NBA", "payouts": {"home": "1", "away": "1"},
               "legs": [{"venue": "kalshi", "market": ticker, "side": "yes", "pays_in": ["home"],
                         "outcome_side": "home"},
                        {"venue": "sportsbook", "market": "pinnacle", "pays_in": ["away"], "outcome_side": "away"}]}
    with session_scope(sessions) as s:
        OpportunityRepository(s).record(opportunity_id=opp, opportunity_key=opp, event_key=event, detected_at=at,
                                        cost=D(1), profit=D(0), payload=payload, at=at)
    _fill(sessions, opp, 0, ticker, "yes", D(1), D("0.01"), D("0"), at)
    _fill(sessions, opp, 1, ticker, "no", D(1), D("0.01"), D("0"), at)
    with session_scope(sessions) as s:
        hedge_id = HedgeRepository(s).record(
            client_order_id=f"{opp}-0", opportunity_id=opp, leg_index=1, bookmaker="pinnacle", event=event,
            selection="Away", odds=D("2"), stake=D("1"), worst_acceptable_odds=D("1.9"), at=at, outcome="away",
            pays_in=["away"], commission_rate=D("0")).id
    hedges.mark_placed(sessions, hedge_id, odds=D("2"), stake=D("1"), who="p", at=at, force=True)
    at += timedelta(hours=1)
    reconcile(mode="paper", sessions=sessions, breaker=breaker, as_of=at, settlement_results={ticker: "yes"})
    with session_scope(sessions) as s:
        (summary,) = [arbitrage_summary(s, a, at) for a in arbitrages(s, "paper")]
        assert summary["status"] == "settled", summary["waiting_for"]
        assert cash(s, "paper", START) == START + realized_total(s, "paper")

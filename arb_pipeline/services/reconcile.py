"""Reconciliation and P&L: make our ledger agree with the venue, or stop trading.

Each run:
1. Orders left in flight (`sent` / `unknown`: a crash, a lost response, fills not yet visible) are
   completed from the venue (a `sent` order only once `grace` has passed since it left: until then its
   sender may still be recording the answer, possibly in another process) - found by client_order_id, fills read back and recorded once each
   (unique venue fill id) - or, when the venue has no such order after a grace period, closed as
   unfilled. Paper orders have no venue memory: an in-flight paper order filled nothing.
   Intents never sent and older than the opportunity TTL are closed: they can never be sent now.
   Then every recent opportunity whose orders are all final but that its executing process never
   settled (it died between legs: `kill -9`, a crash) is settled here: what its Kalshi legs hold is
   hedged and, if the legs diverged, held flagged and alerted (`services.one_leg`; nothing is
   unwound automatically from here). Never silently one-legged.
2. Hedges: pending instructions past their expiry (before the game starts) expire at `as_of`:
   open one-sided exposure, alerted once (`services.hedges.expire_due`).
3. Settlements, both legs: the Kalshi leg when its market settles (live: GET /portfolio/settlements,
   whose revenue is checked against our payout; paper: the market's result - `settlement_results`
   and/or `market_results`, which asks the venue's market data, e.g. the simulator's GET /markets -
   by the stored ticker), and every placed sportsbook leg from the same game result
   (`services.ledger.settle_book_legs`: win -> payout net of commission, loss -> -stake, void ->
   stake back), all into the one realized-P&L ledger.
4. Positions: live - our net position per market against GET /portfolio/positions; paper - the
   positions table against the sum of our own recorded fills. Any difference trips the breaker.
   Live: the Kalshi cash (GET /portfolio/balance) against the ledger's Kalshi flows; a mismatch is
   alerted (`services.ledger.check_balance`).
5. Today's two-leg realized P&L and the two-leg open exposure are fed to the breaker (daily loss /
   exposure limits): a winning arbitrage whose Kalshi leg lost is a gain, not a loss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.arb.settlement import parse_result, position_payout
from arb_pipeline.execution.breaker import BreakerState, CircuitBreaker
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Fill, Order
from arb_pipeline.storage.repositories import (
    HedgeRepository,
    OpportunityRepository,
    OrderRepository,
    PositionRepository,
)
from arb_pipeline.storage.repositories.orders import OPEN_STATES

log = logging.getLogger(__name__)
ZERO = Decimal(0)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(slots=True)
class ReconcileReport:
    mode: str
    completed: list[str] = field(default_factory=list)  # client_order_ids brought to a final state
    pending: list[str] = field(default_factory=list)  # still in flight, retried next run
    mismatches: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # opportunity ids a dead process left: now hedged/flagged
    settled: dict[str, Decimal] = field(default_factory=dict)  # ticker -> realized P&L
    books_settled: dict[int, Decimal] = field(default_factory=dict)  # hedge id -> realized P&L of the bet
    books_waiting: list[str] = field(default_factory=list)  # placed bets whose game result is not known
    hedges_expired: list[int] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)  # Kalshi market results learned this pass
    balance: str = ""  # live balance reconciliation: what was found
    daily_realized_pnl: Decimal = ZERO  # both legs
    open_exposure: Decimal = ZERO  # both legs
    unhedged_exposure: Decimal = ZERO
    breaker_state: BreakerState = BreakerState.CLOSED


def reconcile(
    *,
    mode: str,
    sessions: sessionmaker[Session],
    breaker: CircuitBreaker,
    as_of: datetime,
    venue: Any | None = None,
    settlement_results: Mapping[str, str] | None = None,
    market_results: Callable[[list[str]], Mapping[str, str]] | None = None,
    grace: timedelta = timedelta(seconds=60),
    intent_ttl: timedelta = timedelta(seconds=20),
    lookback: timedelta = timedelta(days=1),
    balance_tolerance: Decimal = Decimal("0.01"),
) -> ReconcileReport:
    """Reconcile `mode`'s ledger (live needs `venue`: the Kalshi client or an equivalent).

    `market_results(tickers)` answers the settled result (yes/no/void/a scalar value) of those Kalshi markets that
    have one (`kalshi_market_results` on a client); it is asked for every market we hold or whose game
    a placed sportsbook bet depends on."""
    from arb_pipeline.services.hedges import expire_due
    from arb_pipeline.services.ledger import risk, settle_book_legs
    from arb_pipeline.storage.repositories.marks import GameMarkRepository

    if mode not in ("paper", "live"):
        raise ValueError(f"mode must be 'paper' or 'live', got {mode!r}")
    if mode == "live" and venue is None:
        raise ValueError("live reconciliation needs the venue client")
    report = ReconcileReport(mode)
    _close_in_flight(report, sessions, venue if mode == "live" else None, as_of, grace, intent_ttl)
    _settle_unfinished(report, sessions, breaker, as_of - lookback, as_of, max(grace, intent_ttl))
    report.hedges_expired = expire_due(sessions, mode, as_of, alert=breaker.alert)
    results = {t: parse_result(r, f"result of {t}") for t, r in (settlement_results or {}).items()}
    if market_results is not None:
        wanted = [t for t in _tickers_to_settle(sessions, mode) if t not in results]
        if wanted:
            try:
                asked = market_results(wanted)
            except Exception as exc:  # noqa: BLE001 - the venue unreachable: settle next run, say why
                log.warning("reconcile %s: market results unreadable (%s: %s): settlement waits", mode,
                            type(exc).__name__, exc)
            else:
                results.update({t: parse_result(r, f"the venue's result of {t}") for t, r in asked.items()})
    # settle first: a settled market has left the venue's position list
    _settle(report, sessions, venue if mode == "live" else None, results, as_of)
    report.results.update(results)
    with session_scope(sessions) as session:
        marks = GameMarkRepository(session)
        for ticker, result in report.results.items():
            marks.set_result(ticker, result, as_of)
        settled, report.books_waiting = settle_book_legs(session, mode, as_of, report.results)
        report.books_settled = {s.hedge_id: s.pnl for s in settled}
    _compare_positions(report, sessions, venue if mode == "live" else None)
    if mode == "live":
        _check_balance(report, sessions, venue, as_of, balance_tolerance, breaker)
    with session_scope(sessions) as session:
        now = risk(session, mode, as_of)
        report.daily_realized_pnl, report.open_exposure = now.realized_today, now.open_exposure
        report.unhedged_exposure = now.unhedged_exposure
    for detail in report.mismatches:
        breaker.report_reconciliation_mismatch(detail)
    report.breaker_state = breaker.evaluate(daily_realized_pnl=report.daily_realized_pnl,
                                            open_exposure=report.open_exposure).state
    log.info("reconciled %s: %d completed, %d pending, %d mismatches, %d unfinished executions flagged, %d hedges "
             "expired, %d sportsbook bets settled; today's realized P&L (both legs) %s, exposure %s", mode,
             len(report.completed), len(report.pending), len(report.mismatches), len(report.unfinished),
             len(report.hedges_expired), len(report.books_settled), report.daily_realized_pnl, report.open_exposure)
    return report


def _tickers_to_settle(sessions: sessionmaker[Session], mode: str) -> list[str]:
    """Markets whose result settles something of ours: open positions, and every market of a game on
    which a placed sportsbook bet waits (its result may decide the bet's)."""
    from arb_pipeline.services.ledger import arbitrages
    from arb_pipeline.storage.repositories.marks import GameMarkRepository

    with session_scope(sessions) as session:
        tickers = {p.ticker for p in PositionRepository(session).open_positions(mode)}
        waiting = {h.opportunity_id for h in HedgeRepository(session).placed_unsettled(mode)}
        marks = GameMarkRepository(session)
        for arb in arbitrages(session, mode, ids=waiting) if waiting else []:
            tickers |= {k.ticker for k in arb.kalshi}
            tickers |= {m.kalshi_ticker for m in marks.for_event(arb.event) if m.result is None}
    return sorted(tickers)


def kalshi_market_results(client: Any, tickers: Iterable[str], *, batch: int = 100) -> dict[str, str]:
    """The settled result of each market that has one: `GET /markets?tickers=...` (the simulator serves
    it like Kalshi); only a `finalized` market's `result` counts (kalshi-api.md §7.4: determined results
    may still be disputed). A `scalar` result is written as its `settlement_value_dollars`
    (`arb.settlement`); a scalar market without a readable value in [0, 1] is left unsettled and said."""
    wanted = sorted(set(tickers))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), batch):
        for market in client.iter_markets(tickers=",".join(wanted[i:i + batch])):
            result = str(market.extra.get("result") or "")
            if market.status != "finalized":
                continue
            if result in ("yes", "no", "void"):
                out[market.ticker] = result
            elif result == "scalar":
                value = market.extra.get("settlement_value_dollars")
                try:
                    out[market.ticker] = parse_result(str(value), f"{market.ticker}: settlement_value_dollars")
                except ValueError as exc:
                    log.warning("reconcile: %s settled scalar without a usable value (%s): it waits", market.ticker, exc)
    return out


def _check_balance(report: ReconcileReport, sessions: sessionmaker[Session], venue: Any, as_of: datetime,
                   tolerance: Decimal, breaker: CircuitBreaker) -> None:
    from arb_pipeline.services.ledger import check_balance

    try:
        balance = venue.get_balance().balance_dollars
    except Exception as exc:  # noqa: BLE001 - unreadable now: said, tried next run
        report.balance = f"balance unreadable: {type(exc).__name__}"
        return
    with session_scope(sessions) as session:
        matched, report.balance = check_balance(session, report.mode, balance, as_of, tolerance)
    if not matched:
        breaker.alert("critical", "balance mismatch: Kalshi cash vs the ledger", report.balance,
                      f"balance:{report.mode}:{as_of.date().isoformat()}")


def _close_in_flight(report: ReconcileReport, sessions: sessionmaker[Session], venue: Any | None, as_of: datetime,
                     grace: timedelta, intent_ttl: timedelta) -> None:
    with session_scope(sessions) as session:
        orders = OrderRepository(session)
        for order in orders.in_state("intent", mode=report.mode):
            if as_of - order.created_at > intent_ttl:
                orders.mark_failed(order.client_order_id, "intent never sent and now expired (TTL)", at=as_of)
                report.completed.append(order.client_order_id)
        for order in orders.in_state("sent", "unknown", mode=report.mode):
            if order.status == "sent" and as_of - (order.sent_at or order.created_at) < grace:
                # its sender may still be recording the answer: it is the sender's for `grace`
                report.pending.append(order.client_order_id)
                continue
            if venue is None:  # paper: the executor answers synchronously; in flight means nothing filled
                orders.mark_filled(order.client_order_id, fill_count=ZERO, average_fill_price=None, fees=ZERO,
                                   at=as_of)
                report.completed.append(order.client_order_id)
                continue
            if _complete_from_venue(session, order, venue, as_of, grace):
                report.completed.append(order.client_order_id)
            else:
                report.pending.append(order.client_order_id)


def _settle_unfinished(report: ReconcileReport, sessions: sessionmaker[Session], breaker: CircuitBreaker,
                       since: datetime, as_of: datetime, quiet: timedelta) -> None:
    """Settle what a dead process left: an opportunity whose orders are all final, that filled on some
    leg, and that shows no sign of having been settled (no hedge instruction, no unwind order).

    Only once it has been `quiet` (no order changed, and detected longer ago than the TTL): a live
    process may still be between two legs or writing its hedges, and must not be second-guessed."""
    from arb_pipeline.arb.results import Opportunity
    from arb_pipeline.execution.plan import plan_opportunity
    from arb_pipeline.services.one_leg import FeeBook, LegOutcome, LegSettler
    from arb_pipeline.services.order_desk import Sent

    unfinished = []
    with session_scope(sessions) as session:
        orders, hedges = OrderRepository(session), HedgeRepository(session)
        for record in OpportunityRepository(session).recorded_since(since):
            mine = [o for o in orders.for_opportunity(record.id) if o.mode == report.mode]
            if not mine or any(o.status in OPEN_STATES for o in mine):
                continue  # nothing of ours, or still in flight: a later run
            if as_of - record.detected_at < quiet or any(as_of - (o.sent_at or o.created_at) < quiet for o in mine):
                continue  # its process may still be at work (its last order left less than `quiet` ago)
            if any(o.purpose == "unwind" for o in mine) or hedges.for_opportunity(record.id):
                continue  # its process settled it
            entries = {o.leg_index: Sent(o.status if o.status != "failed" else "not_sent", o.fill_count or ZERO,
                                         o.fill_notional or ZERO, o.fees or ZERO, o.error or "")
                       for o in mine if o.purpose == "entry"}
            if any(sent.fill_count > 0 for sent in entries.values()):
                unfinished.append((record.id, dict(record.payload), entries))
    settler = LegSettler(None, sessions, "hold", ZERO, 1, FeeBook(None), breaker.alert, lambda: as_of)
    for opportunity_id, payload, entries in unfinished:
        try:
            plan = plan_opportunity(Opportunity.from_dict(payload))
        except (KeyError, TypeError, ValueError) as exc:
            breaker.alert("critical", f"unfinished execution not understood: {opportunity_id}",
                          f"its stored opportunity cannot be re-planned ({exc}); check its orders by hand",
                          f"one-leg:{opportunity_id}")
            report.unfinished.append(opportunity_id)
            continue
        if plan.opportunity_id != opportunity_id:  # pragma: no cover - the stored record is not what was planned
            log.error("opportunity %s re-plans as %s: left alone", opportunity_id, plan.opportunity_id)
            continue
        never = Sent("not_sent", reason="never sent: its process stopped before this leg")
        legs = [LegOutcome(leg, entries.get(leg.leg_index, never)) for leg in plan.kalshi_legs]
        settled = settler.settle(plan, legs, unwind_blocked="found by reconciliation: its process stopped "
                                 "mid-execution; the excess is held, flagged - unwind it by hand if wanted")
        if settled.one_legged or settled.hedges:
            report.unfinished.append(opportunity_id)


def _complete_from_venue(session: Session, order: Order, venue: Any, as_of: datetime, grace: timedelta) -> bool:
    orders, positions = OrderRepository(session), PositionRepository(session)
    found = venue.find_order_by_client_order_id(order.client_order_id, ticker=order.ticker)
    if found is None:
        sent_at = order.sent_at or order.created_at
        if as_of - sent_at < grace:
            return False
        orders.mark_filled(order.client_order_id, fill_count=ZERO, average_fill_price=None, fees=ZERO, at=as_of)
        return True
    if found.status == "resting":
        return False
    fills = venue.get_fills(order_id=found.order_id)
    if sum((f.count for f in fills), ZERO) != found.fill_count:
        return False  # the venue's fills are not all visible yet
    known = set(session.scalars(select(Fill.venue_fill_id).where(Fill.order_id == order.id)))
    for f in fills:
        if f.fill_id in known:
            continue
        price = f.yes_price if f.outcome_side == "yes" else f.no_price
        at = f.created_time or as_of
        orders.add_fill(order, count=f.count, price=price, fee=f.fee_cost, filled_at=at, venue_fill_id=f.fill_id)
        positions.apply_fill(mode=order.mode, ticker=order.ticker, outcome_side=f.outcome_side, count=f.count,
                             price=price, fee=f.fee_cost, at=at)
    session.flush()
    session.refresh(order)
    notional = sum((f.count * f.price for f in order.fills), ZERO)
    fees = sum((f.fee for f in order.fills), ZERO)
    average = (notional / found.fill_count).quantize(Decimal("0.000001")) if found.fill_count else None
    orders.mark_filled(order.client_order_id, fill_count=found.fill_count, average_fill_price=average, fees=fees,
                       venue_order_id=found.order_id, fill_notional=notional, at=as_of)
    return True


def _compare_positions(report: ReconcileReport, sessions: sessionmaker[Session], venue: Any | None) -> None:
    with session_scope(sessions) as session:
        ours = {p.ticker: p.count for p in PositionRepository(session).open_positions(report.mode)}
        if venue is not None:
            theirs = {p.ticker: p.position for p in venue.get_positions().market_positions if p.position != 0}
            source = "venue"
        else:
            theirs = {}
            query = select(Fill.ticker, Fill.outcome_side, Fill.count).join(Order).where(Order.mode == report.mode)
            settled = {p.ticker for p in PositionRepository(session).all_settled(report.mode)}
            for ticker, side, count in session.execute(query):
                if ticker not in settled:
                    theirs[ticker] = theirs.get(ticker, ZERO) + (count if side == "yes" else -count)
            theirs = {t: c for t, c in theirs.items() if c != 0}
            source = "recorded fills"
    for ticker in sorted(set(ours) | set(theirs)):
        if ours.get(ticker, ZERO) != theirs.get(ticker, ZERO):
            report.mismatches.append(f"{ticker}: our position {_fmt(ours.get(ticker, ZERO))}, {source} "
                                     f"{_fmt(theirs.get(ticker, ZERO))}")


def _settle(report: ReconcileReport, sessions: sessionmaker[Session], venue: Any | None,
            results: Mapping[str, str], as_of: datetime) -> None:
    with session_scope(sessions) as session:
        positions = PositionRepository(session)
        held = {p.ticker: p for p in positions.open_positions(report.mode)}
        if venue is not None:
            for s in venue.get_settlements():
                pos = held.get(s.ticker)
                if pos is None:
                    continue
                revenue = Decimal(s.revenue_cents) / 100
                if s.market_result in ("yes", "no"):
                    expected = position_payout(s.market_result, pos.count, pos.cost)
                    if revenue != expected:
                        report.mismatches.append(f"{s.ticker}: settlement revenue {_fmt(revenue)}, "
                                                 f"we expected {_fmt(expected)}")
                    result, paid = s.market_result, None  # by the rule; a different revenue is a mismatch
                else:  # scalar (or 3.15's void): what the venue paid is the payout; the value, if we know it
                    result, paid = results.get(s.ticker) or "void", revenue
                report.results.setdefault(s.ticker, result)
                report.settled[s.ticker] = positions.settle(mode=report.mode, ticker=s.ticker, result=result,
                                                            at=s.settled_time, payout=paid)
        else:
            waiting = {p.ticker for p in positions.unsettled(report.mode)}  # flat ones too: their result
            for ticker, result in results.items():                            # settles their arbitrage
                if ticker in waiting:
                    report.settled[ticker] = positions.settle(mode=report.mode, ticker=ticker, result=result, at=as_of)

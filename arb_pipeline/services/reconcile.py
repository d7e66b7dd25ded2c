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
2. Settlements: realized P&L when a market settles (live: GET /portfolio/settlements, whose revenue
   is checked against our payout; paper: results passed in), into the realized-P&L ledger.
3. Positions: live - our net position per market against GET /portfolio/positions; paper - the
   positions table against the sum of our own recorded fills. Any difference trips the breaker.
4. Today's realized P&L and the open exposure are fed to the breaker (daily loss / exposure limits).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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
    daily_realized_pnl: Decimal = ZERO
    open_exposure: Decimal = ZERO
    breaker_state: BreakerState = BreakerState.CLOSED


def reconcile(
    *,
    mode: str,
    sessions: sessionmaker[Session],
    breaker: CircuitBreaker,
    as_of: datetime,
    venue: Any | None = None,
    settlement_results: Mapping[str, str] | None = None,
    grace: timedelta = timedelta(seconds=60),
    intent_ttl: timedelta = timedelta(seconds=20),
    lookback: timedelta = timedelta(days=1),
) -> ReconcileReport:
    """Reconcile `mode`'s ledger (live needs `venue`: the Kalshi client or an equivalent)."""
    if mode not in ("paper", "live"):
        raise ValueError(f"mode must be 'paper' or 'live', got {mode!r}")
    if mode == "live" and venue is None:
        raise ValueError("live reconciliation needs the venue client")
    report = ReconcileReport(mode)
    _close_in_flight(report, sessions, venue if mode == "live" else None, as_of, grace, intent_ttl)
    _settle_unfinished(report, sessions, breaker, as_of - lookback, as_of, max(grace, intent_ttl))
    # settle first: a settled market has left the venue's position list
    _settle(report, sessions, venue if mode == "live" else None, settlement_results or {}, as_of)
    _compare_positions(report, sessions, venue if mode == "live" else None)
    with session_scope(sessions) as session:
        positions = PositionRepository(session)
        day = as_of.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        report.daily_realized_pnl = positions.realized_between(mode, day, day + timedelta(days=1))
        report.open_exposure = positions.open_exposure(mode)
    for detail in report.mismatches:
        breaker.report_reconciliation_mismatch(detail)
    report.breaker_state = breaker.evaluate(daily_realized_pnl=report.daily_realized_pnl,
                                            open_exposure=report.open_exposure).state
    log.info("reconciled %s: %d completed, %d pending, %d mismatches, %d unfinished executions flagged, today's "
             "realized P&L %s, exposure %s", mode, len(report.completed), len(report.pending), len(report.mismatches),
             len(report.unfinished), report.daily_realized_pnl, report.open_exposure)
    return report


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
                if pos is None or s.market_result not in ("yes", "no"):
                    continue
                expected = abs(pos.count) if (s.market_result == "yes") == (pos.count > 0) else ZERO
                if Decimal(s.revenue_cents) / 100 != expected:
                    report.mismatches.append(f"{s.ticker}: settlement revenue {_fmt(Decimal(s.revenue_cents) / 100)}, "
                                             f"we expected {_fmt(expected)}")
                report.settled[s.ticker] = positions.settle(mode=report.mode, ticker=s.ticker,
                                                            result=s.market_result, at=s.settled_time)
        else:
            for ticker, result in results.items():
                if ticker in held:
                    report.settled[ticker] = positions.settle(mode=report.mode, ticker=ticker, result=result, at=as_of)

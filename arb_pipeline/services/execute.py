"""Execute detected opportunities: the only code path that places orders.

Guarantees, each enforced here in code (and proven in `test_execute.py`):
- Money rule 4: a backfill / rematerialization (`is_backfill`) or a run without `allow_orders`
  places nothing and says why; only opportunities fresher than ARB_OPPORTUNITY_TTL_S are acted on.
- Money rule 5: paper unless the context *and* the settings say live and credentials exist.
- Money rule 6: the circuit breaker is asked before every single order.
- Money rule 3: the order intent (deterministic client_order_id) is committed before the request;
  only whoever atomically moves it intent → sent may send it, so a retry, a restart or a second
  process never places it twice (an order already sent is left to reconciliation).
Fills, positions and hedge instructions are recorded; every order outcome is reported to the
breaker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.connectors.kalshi.errors import KalshiError, KalshiOrderStateUnknown
from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
from arb_pipeline.execution.hedge import HedgePlan, KalshiFilled, hedge_plans
from arb_pipeline.execution.live import LiveExecutor, LiveModeNotEnabled, require_live
from arb_pipeline.execution.paper import PaperExecutor
from arb_pipeline.execution.plan import ExecutionPlan, KalshiLegPlan, plan_opportunity
from arb_pipeline.execution.venue import Executor, FillsNotVisible, VenueResult
from arb_pipeline.services.alerts import default_alerter
from arb_pipeline.settings import Settings, get_settings
from arb_pipeline.storage.db import get_engine, session_factory, session_scope
from arb_pipeline.storage.repositories import (
    HedgeRepository,
    OpportunityRepository,
    OrderIntent,
    OrderRepository,
    PositionRepository,
)
from arb_pipeline.storage.repositories.orders import OrderConflict

log = logging.getLogger(__name__)
AlertSink = Callable[[str, str, str, str], object]
_Q6 = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    mode: Literal["paper", "live"]
    allow_orders: bool
    is_backfill: bool
    as_of: datetime
    kinds: frozenset[str] = frozenset({"arbitrage"})  # +EV "value" bets only when asked for explicitly

    def __post_init__(self) -> None:
        if self.mode not in ("paper", "live"):
            raise ValueError(f"mode must be 'paper' or 'live', got {self.mode!r}")
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    opportunity_id: str
    client_order_id: str
    leg_index: int
    ticker: str
    side: str
    status: str  # filled / partially_filled / unfilled / failed / unknown / not_sent
    fill_count: Decimal
    cost: Decimal
    reason: str = ""


@dataclass(slots=True)
class ExecutionReport:
    refused: str | None = None
    orders: list[OrderOutcome] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (event or opportunity id, reason)
    hedges: list[HedgePlan] = field(default_factory=list)

    @property
    def orders_sent(self) -> int:
        return sum(1 for o in self.orders if o.status != "not_sent")


def _refusal(context: ExecutionContext, executor: Executor | None, settings: Settings) -> str | None:
    if context.is_backfill:
        return "backfill/rematerialization: orders are never placed from history (Money rule 4)"
    if not context.allow_orders:
        return "orders are not allowed in this run (allow_orders=False)"
    if context.mode == "live":
        try:
            require_live(settings)
        except LiveModeNotEnabled as exc:
            return str(exc)
    if executor is not None and executor.mode != context.mode:
        return f"executor mode {executor.mode!r} does not match the run's mode {context.mode!r}"
    return None


def execute_opportunities(
    opportunities: Iterable[Any],
    *,
    context: ExecutionContext,
    executor: Executor | None = None,
    snapshot: MarketSnapshot | None = None,
    sessions: sessionmaker[Session] | None = None,
    breaker: CircuitBreaker | None = None,
    settings: Settings | None = None,
    alert: AlertSink | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ExecutionReport:
    """Place the Kalshi legs of fresh opportunities (paper by default) and record everything.

    Paper runs fill against `snapshot`'s captured books (or a given `executor`); live runs build a
    `LiveExecutor` on the Kalshi client when no executor is given. `clock` gives "now" for the TTL
    check of each order (default: `context.as_of`).
    """
    settings = settings or get_settings()
    refused = _refusal(context, executor, settings)
    if refused:
        log.warning("execution refused, no order placed: %s", refused)
        return ExecutionReport(refused=refused)
    sessions = sessions or session_factory(get_engine(settings.effective_database_url))
    alert = alert or default_alerter(settings).send
    breaker = breaker or CircuitBreaker(sessions, BreakerConfig.from_settings(settings), alert=alert)
    if executor is None:
        if context.mode == "live":
            from arb_pipeline.connectors.kalshi.client import KalshiClient

            executor = LiveExecutor(KalshiClient.from_settings(settings), settings, alert=alert)
        elif snapshot is None:
            return ExecutionReport(refused="paper execution needs the captured order books: pass `snapshot`")
        else:
            executor = PaperExecutor.from_snapshot(snapshot, latency_ms=settings.paper_latency_ms,
                                                   slippage_ticks=settings.paper_slippage_ticks)
    run = _Run(context, executor, sessions, breaker, alert, clock or (lambda: context.as_of),
               timedelta(seconds=settings.opportunity_ttl_s), timedelta(seconds=settings.reentry_cooldown_s),
               settings.breaker_max_open_exposure,
               (snapshot.books_captured_at or snapshot.captured_at) if snapshot else None)
    for opportunity in opportunities:
        run.execute(opportunity)
    return run.report


@dataclass
class _Run:
    context: ExecutionContext
    executor: Executor
    sessions: sessionmaker[Session]
    breaker: CircuitBreaker
    alert: AlertSink
    clock: Callable[[], datetime]
    ttl: timedelta
    reentry_cooldown: timedelta
    max_exposure: Decimal
    data_captured_at: datetime | None
    report: ExecutionReport = field(default_factory=ExecutionReport)

    @property
    def mode(self) -> str:
        return self.context.mode

    def skip(self, what: str, reason: str) -> None:
        log.info("execution skipped %s: %s", what, reason)
        self.report.skipped.append((what, reason))

    def execute(self, opportunity: Any) -> None:
        event = getattr(opportunity, "event", "?")
        if getattr(opportunity, "kind", None) not in self.context.kinds:
            return self.skip(event, f"kind {getattr(opportunity, 'kind', None)!r} is not executed in this run")
        try:
            plan = plan_opportunity(opportunity)
        except (ValueError, AttributeError, TypeError) as exc:
            return self.skip(event, f"malformed opportunity: {exc}")
        filled: list[KalshiFilled] = []
        for leg in plan.kalshi_legs:
            count = min([leg.count, *(f.filled for f in filled)])
            if count <= 0:
                self.skip(plan.opportunity_id, f"leg {leg.leg_index} not sent: an earlier leg filled nothing")
                break
            outcome = self.place_leg(plan, leg, count)
            if outcome.status not in ("filled", "partially_filled"):
                if filled:
                    self.alert("critical", f"partial execution on {plan.event}",
                               f"leg {leg.leg_index} ({leg.ticker}) is {outcome.status}: {outcome.reason}; "
                               "earlier legs are filled and unhedged on Kalshi", f"partial:{plan.opportunity_id}")
                break
            filled.append(KalshiFilled(leg.leg_index, leg.count, outcome.fill_count, outcome.cost, leg.pays_in))
        if filled and len(filled) == len(plan.kalshi_legs):
            self.record_hedges(plan, filled)

    def place_leg(self, plan: ExecutionPlan, leg: KalshiLegPlan, count: Decimal) -> OrderOutcome:
        def done(status: str, reason: str, fill_count: Decimal = Decimal(0), cost: Decimal = Decimal(0)) -> OrderOutcome:
            outcome = OrderOutcome(plan.opportunity_id, leg.client_order_id, leg.leg_index, leg.ticker,
                                   leg.side.value, status, fill_count, cost, reason)
            self.report.orders.append(outcome)
            if status == "not_sent":
                self.skip(plan.opportunity_id, f"leg {leg.leg_index} {leg.ticker}: {reason}")
            return outcome

        now = self.clock()
        age = now - plan.detected_at
        if age < timedelta(0):
            return done("not_sent", f"detected {-age.total_seconds():.1f}s after now: clock skew, not trusted")
        if age > self.ttl:
            return done("not_sent", f"stale: detected {age.total_seconds():.1f}s before now, TTL "
                                    f"{self.ttl.total_seconds():.0f}s")
        with session_scope(self.sessions) as session:
            last = OrderRepository(session).last_sent_on(leg.ticker, leg.side.value, mode=self.mode,
                                                         other_than_opportunity=plan.opportunity_id)
        if last is not None and now - last < self.reentry_cooldown:
            return done("not_sent", f"re-entry cooldown: {leg.ticker} {leg.side.value} was traded "
                                    f"{(now - last).total_seconds():.0f}s ago (ARB_REENTRY_COOLDOWN_S="
                                    f"{self.reentry_cooldown.total_seconds():.0f})")
        with session_scope(self.sessions) as session:
            positions = PositionRepository(session)
            exposure = positions.open_exposure(self.mode)
            day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            realized = positions.realized_between(self.mode, day, day + timedelta(days=1))
        if exposure + leg.expected_cost > self.max_exposure:
            return done("not_sent", f"would raise open exposure to {exposure + leg.expected_cost} over "
                                    f"{self.max_exposure}")
        decision = self.breaker.check_before_order(open_exposure=exposure, daily_realized_pnl=realized,
                                                   data_captured_at=self.data_captured_at)
        if not decision.allowed:
            return done("not_sent", decision.reason)
        intent = OrderIntent(leg.client_order_id, plan.opportunity_id, leg.leg_index, self.mode, leg.ticker,
                             "bid" if leg.side.value == "yes" else "ask", count,
                             leg.limit_price if leg.side.value == "yes" else 1 - leg.limit_price)
        with session_scope(self.sessions) as session:  # committed BEFORE anything is sent
            OpportunityRepository(session).record(
                opportunity_id=plan.opportunity_id, opportunity_key=plan.opportunity_key, event_key=plan.event,
                detected_at=plan.detected_at, cost=plan.cost.quantize(_Q6), profit=plan.profit.quantize(_Q6),
                payload=plan.payload, at=now)
            try:
                row, _created = OrderRepository(session).record_intent(intent, at=now)
                status = row.status
            except OrderConflict as exc:
                status, conflict = "conflict", str(exc)
        if status == "conflict":
            self._release_probe(decision.probe)
            self.alert("critical", f"order id conflict on {leg.ticker}", conflict, f"conflict:{leg.client_order_id}")
            return done("not_sent", conflict)
        if status != "intent":
            self._release_probe(decision.probe)
            return done("not_sent", f"already sent earlier (status {status}): never resent; reconcile instead")
        with session_scope(self.sessions) as session:
            claimed = OrderRepository(session).claim_for_send(leg.client_order_id, now)
        if not claimed:
            self._release_probe(decision.probe)
            return done("not_sent", "claimed by another process: never sent twice")
        try:
            result = self.executor.place(ticker=leg.ticker, side=leg.side, count=count, limit_price=leg.limit_price,
                                         client_order_id=leg.client_order_id, submitted_at=now)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded below
            return done(*self._failed(leg, exc))
        fill_count, cost = self._record(leg, result)
        self.breaker.record_order_result(True)
        if self.mode == "live":
            self.breaker.record_api_call(True)
        status = "filled" if result.remaining_count == 0 else ("partially_filled" if fill_count else "unfilled")
        return done(status, "", fill_count, cost)

    def _release_probe(self, probe: bool) -> None:
        if probe:
            self.breaker.release_probe()

    def _failed(self, leg: KalshiLegPlan, exc: Exception) -> tuple[str, str]:
        definite = isinstance(exc, KalshiError | ValueError | KeyError) and not isinstance(
            exc, KalshiOrderStateUnknown) and not getattr(exc, "retryable", False)
        status = "failed" if definite else "unknown"
        reason = f"{type(exc).__name__}: {exc}"
        with session_scope(self.sessions) as session:
            repo = OrderRepository(session)
            (repo.mark_failed if definite else repo.mark_unknown)(leg.client_order_id, reason, at=self.clock())
        self.breaker.record_order_result(False, reason)
        if self.mode == "live":
            self.breaker.record_api_call(isinstance(exc, FillsNotVisible))
        if not definite:
            self.alert("critical", f"order state unknown: {leg.ticker}",
                       f"{leg.client_order_id}: {reason}. It may be live on the venue; reconcile before anything else.",
                       f"order-unknown:{leg.client_order_id}")
        log.error("order %s %s: %s", leg.client_order_id, status, reason)
        return status, reason

    def _record(self, leg: KalshiLegPlan, result: VenueResult) -> tuple[Decimal, Decimal]:
        with session_scope(self.sessions) as session:
            orders, positions = OrderRepository(session), PositionRepository(session)
            average = (result.notional / result.fill_count).quantize(_Q6, ROUND_HALF_EVEN) if result.fill_count else None
            row = orders.mark_filled(leg.client_order_id, fill_count=result.fill_count,
                                     remaining_count=result.remaining_count, average_fill_price=average,
                                     fees=result.fees, venue_order_id=result.venue_order_id,
                                     fill_notional=result.notional, at=self.clock())
            for fill in result.fills:
                orders.add_fill(row, count=fill.count, price=fill.price, fee=fill.fee, filled_at=fill.filled_at,
                                venue_fill_id=fill.venue_fill_id)
                positions.apply_fill(mode=self.mode, ticker=leg.ticker, outcome_side=leg.side.value, count=fill.count,
                                     price=fill.price, fee=fill.fee, at=fill.filled_at)
        return result.fill_count, result.notional + result.fees

    def record_hedges(self, plan: ExecutionPlan, filled: list[KalshiFilled]) -> None:
        hedges = hedge_plans(plan, filled)
        anchor = plan.kalshi_legs[0].client_order_id
        with session_scope(self.sessions) as session:
            repo = HedgeRepository(session)
            for h in hedges:
                repo.record(client_order_id=anchor, opportunity_id=plan.opportunity_id, leg_index=h.leg_index,
                            bookmaker=h.bookmaker, event=h.event, selection=h.selection,
                            odds=h.odds.quantize(_Q6, rounding=ROUND_FLOOR), stake=h.stake,
                            worst_acceptable_odds=h.worst_acceptable_odds, status=h.status, note=h.note,
                            at=self.clock())
        for h in hedges:
            self.report.hedges.append(h)
            body = (f"{h.bookmaker}: {h.event} - back {h.selection} for ${h.stake} at odds >= {h.worst_acceptable_odds}"
                    f" (quoted {h.odds})" if h.worst_acceptable_odds else f"{h.bookmaker}: {h.event}: {h.note}")
            self.alert("warning" if h.status == "pending" else "critical", f"hedge to place: {h.selection}", body,
                       f"hedge:{anchor}:{h.leg_index}")

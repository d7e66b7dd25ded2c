"""Execute detected opportunities: the only code path that places orders.

Guarantees, each enforced here in code (and proven in `test_execute.py`):
- One trader: the scan job or the websocket worker, whichever ARB_TRADER names; the other is refused.
- Money rule 4: a backfill / rematerialization (`is_backfill`) or a run without `allow_orders`
  places nothing and says why; only opportunities fresher than ARB_OPPORTUNITY_TTL_S are acted on,
  measured against the clock read immediately before each order is sent.
- Money rule 5: paper unless the context *and* the settings say live and credentials exist.
- Money rule 6: the circuit breaker is asked before the first order of an opportunity and its state
  checked again before every later one.
- Money rule 8: all legs or none - every check that can refuse a leg runs for every leg before the
  first order (`execution_checks`); legs that went and then diverged are unwound within a loss
  limit or held, hedged and alerted (`one_leg`).
- Money rule 3: each order's intent (deterministic client_order_id) is committed before its request;
  only whoever atomically moves it intent -> sent may send it (`order_desk`), so a retry, a restart
  or a second process never places it twice (an order already sent is left to reconciliation).
Fills, positions and hedge instructions are recorded; every order outcome is reported to the breaker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.arb.accounts import not_executable
from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.execution.breaker import BreakerConfig, BreakerState, CircuitBreaker
from arb_pipeline.execution.hedge import HedgePlan
from arb_pipeline.execution.live import LiveExecutor, LiveModeNotEnabled, require_live
from arb_pipeline.execution.paper import BookAfter, PaperExecutor
from arb_pipeline.execution.plan import ExecutionPlan, KalshiLegPlan, plan_opportunity
from arb_pipeline.execution.venue import Executor
from arb_pipeline.services.alerts import default_alerter
from arb_pipeline.services.execution_checks import Limits, Preflight, freshness
from arb_pipeline.services.one_leg import FeeBook, LegOutcome, LegSettler
from arb_pipeline.services.order_desk import OrderDesk, Sent
from arb_pipeline.services.order_lease import OrderLease
from arb_pipeline.settings import Settings, get_settings
from arb_pipeline.storage.db import get_engine, session_factory, session_scope
from arb_pipeline.storage.repositories import OpportunityRepository, OrderIntent

log = logging.getLogger(__name__)
AlertSink = Callable[[str, str, str, str], object]
_Q6 = Decimal("0.000001")
_COUNT = Decimal("0.01")
TRADERS = ("scan", "worker")  # the Dagster scan job, or `arb-pipeline worker` on websocket books


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    mode: Literal["paper", "live"]
    allow_orders: bool
    is_backfill: bool
    as_of: datetime
    kinds: frozenset[str] = frozenset({"arbitrage"})  # +EV "value" bets only when asked for explicitly
    trader: Literal["scan", "worker"] = "scan"  # who is asking; only the one ARB_TRADER names may place orders

    def __post_init__(self) -> None:
        if self.mode not in ("paper", "live"):
            raise ValueError(f"mode must be 'paper' or 'live', got {self.mode!r}")
        if self.trader not in TRADERS:
            raise ValueError(f"trader must be one of {TRADERS}, got {self.trader!r}")
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
    one_legged: list[str] = field(default_factory=list)  # what became of each opportunity whose legs diverged

    @property
    def orders_sent(self) -> int:
        return sum(1 for o in self.orders if o.status != "not_sent")


def running_clock(start: datetime, monotonic: Callable[[], float] = time.monotonic) -> Callable[[], datetime]:
    """A clock that reads `start` now and advances with real elapsed time from here on: "now" for a
    step that began at `start` - the wall clock when it began, or a replay's capture time, so a replay
    behaves the same on any day yet an order's `sent_at` still follows its detection and its intent."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    origin = monotonic()
    return lambda: start + timedelta(seconds=monotonic() - origin)


def _refusal(context: ExecutionContext, executor: Executor | None, settings: Settings) -> str | None:
    if context.trader != settings.trader:  # one switch, checked here, the only path that places orders
        return (f"ARB_TRADER={settings.trader}: only the {settings.trader} may place orders, "
                f"not the {context.trader}")
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
    paper_book_after: BookAfter | None = None,
) -> ExecutionReport:
    """Place the Kalshi legs of fresh opportunities (paper by default) and record everything.

    Paper runs fill against the book `paper_book_after` gives ARB_PAPER_LATENCY_MS after each order
    (`services.paper_books`; None: `snapshot`'s captured books), at most ARB_PAPER_FILL_RATIO of each
    level, or a given `executor`; live runs build a
    `LiveExecutor` on the Kalshi client when no executor is given. `clock` is read for every decision
    and stamp - the TTL immediately before each send, `sent_at` as the request leaves; by default it
    starts at `context.as_of` and advances with real elapsed time (`running_clock`), never frozen.
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
                                                   slippage_ticks=settings.paper_slippage_ticks,
                                                   fill_ratio=settings.paper_fill_ratio, book_after=paper_book_after)
    now = clock or running_clock(context.as_of)
    if context.trader == "scan":
        from arb_pipeline.services.worker import worker_claims_trading

        if worker_claims_trading(sessions, now(), settings.worker_heartbeat_max_age_s):
            refused = ("a websocket worker running with ARB_TRADER=worker reported within "
                       f"{settings.worker_heartbeat_max_age_s:g} s, but this process has ARB_TRADER=scan: only "
                       "one may trade - give every process the same ARB_TRADER")
            log.warning("execution refused, no order placed: %s", refused)
            return ExecutionReport(refused=refused)
    desk = OrderDesk(context.mode, executor, sessions, breaker, alert, now)
    limits = Limits(timedelta(seconds=settings.opportunity_ttl_s), timedelta(seconds=settings.reentry_cooldown_s),
                    settings.breaker_max_open_exposure)
    preflight = Preflight(context.mode, executor, sessions, breaker, limits, snapshot,
                          (snapshot.books_captured_at or snapshot.captured_at) if snapshot else None, now)
    settler = LegSettler(desk, sessions, settings.one_leg_policy, settings.unwind_max_loss, settings.unwind_steps,
                         FeeBook(snapshot), alert, now, mode=context.mode, rates=settings.book_commission_rates(),
                         hedge_expiry_before_start=timedelta(seconds=settings.hedge_expiry_before_start_s))
    run = _Run(context, desk, preflight, settler, limits, now, settings.account_book_set())
    lease = OrderLease(sessions, f"orders:{context.mode}")
    held_by = lease.acquire()
    if held_by:
        log.warning("execution refused, no order placed: %s", held_by)
        return ExecutionReport(refused=held_by)
    try:
        for opportunity in opportunities:
            lost = lease.acquire()  # renewed per opportunity; a process that stalls past the TTL lost it
            if lost:
                run.report.skipped.append((getattr(opportunity, "event", "?"), lost))
                break
            run.execute(opportunity)
    finally:
        lease.release()
    return run.report


@dataclass
class _Run:
    context: ExecutionContext
    desk: OrderDesk
    preflight: Preflight
    settler: LegSettler
    limits: Limits
    clock: Callable[[], datetime]
    account_books: frozenset[str] | None = None  # ARB_ACCOUNT_BOOKS (None: every book)
    report: ExecutionReport = field(default_factory=ExecutionReport)

    def skip(self, what: str, reason: str) -> None:
        log.info("execution skipped %s: %s", what, reason)
        self.report.skipped.append((what, reason))

    def outcome(self, plan: ExecutionPlan, leg: KalshiLegPlan, sent: Sent, *, client_order_id: str | None = None,
                side: str | None = None, reason: str | None = None) -> None:
        self.report.orders.append(OrderOutcome(plan.opportunity_id, client_order_id or leg.client_order_id,
                                               leg.leg_index, leg.ticker, side or leg.side.value, sent.status,
                                               sent.fill_count, sent.cost, reason if reason is not None else sent.reason))
        if sent.status == "not_sent":
            self.skip(plan.opportunity_id, f"leg {leg.leg_index} {leg.ticker}: {sent.reason}")

    def execute(self, opportunity: Any) -> None:
        event = getattr(opportunity, "event", "?")
        if getattr(opportunity, "kind", None) not in self.context.kinds:
            return self.skip(event, f"kind {getattr(opportunity, 'kind', None)!r} is not executed in this run")
        # the one rule the desk's "executable" label comes from (arb.accounts), applied again to what is
        # about to be traded: a hedge can only be placed at a book the trader holds an account at
        paper = not_executable(opportunity.kind, getattr(opportunity, "legs", ()), kinds=self.context.kinds,
                               account_books=self.account_books)
        if paper:
            return self.skip(event, "not executable: " + "; ".join(paper))
        try:
            plan = plan_opportunity(opportunity)
        except (ValueError, AttributeError, TypeError) as exc:
            return self.skip(event, f"malformed opportunity: {exc}")
        refusal, decision = self.preflight.check(plan)
        if refusal:
            for leg in plan.kalshi_legs:  # all legs or none: the reason applies to every leg
                self.outcome(plan, leg, Sent("not_sent", reason=refusal))
            return None
        probe = decision is not None and decision.probe
        with session_scope(self.desk.sessions) as session:  # committed before anything is sent
            OpportunityRepository(session).record(
                opportunity_id=plan.opportunity_id, opportunity_key=plan.opportunity_key, event_key=plan.event,
                detected_at=plan.detected_at, cost=plan.cost.quantize(_Q6), profit=plan.profit.quantize(_Q6),
                payload=plan.payload, at=self.clock())
        legs = self._send_legs(plan)
        if probe and not any(o.sent.went for o in legs):
            self.desk.breaker.release_probe()
        if not any(o.sent.went for o in legs):
            return None
        settled = self.settler.settle(plan, legs)
        for unwound in settled.unwinds:
            leg = next(leg for leg in plan.kalshi_legs if leg.leg_index == unwound.order.leg_index)
            self.outcome(plan, leg, unwound.sent, client_order_id=unwound.order.client_order_id,
                         side="no" if unwound.order.book_side == "ask" else "yes",
                         reason=f"unwind of leg {leg.leg_index}" + (f": {unwound.sent.reason}" if unwound.sent.reason
                                                                    else ""))
        self.report.hedges.extend(settled.hedges)
        if settled.one_legged:
            self.report.one_legged.append(settled.one_legged)
        return None

    def _send_legs(self, plan: ExecutionPlan) -> list[LegOutcome]:
        """Send the legs in order, each re-checked immediately before it leaves; a later leg is sized to
        what the earlier ones filled. Stops at the first leg that cannot go or fills nothing."""
        outcomes: list[LegOutcome] = []
        ratio = Decimal(1)  # the share of its plan every leg sent so far filled
        stop: str | None = None
        for leg in plan.kalshi_legs:
            count = (leg.count * ratio).quantize(_COUNT, rounding=ROUND_FLOOR)
            if stop is None and count <= 0:
                stop = "an earlier leg filled nothing"
            if stop is None:
                stop = self._refused_now(plan, leg, first=not outcomes)
            if stop is not None:
                sent = Sent("not_sent", reason=stop)
            else:
                intent = OrderIntent(leg.client_order_id, plan.opportunity_id, leg.leg_index, self.desk.mode,
                                     leg.ticker, "bid" if leg.side.value == "yes" else "ask", count,
                                     leg.limit_price if leg.side.value == "yes" else 1 - leg.limit_price)
                refused = self.desk.record_intent(intent)
                sent = Sent("not_sent", reason=refused) if refused else self.desk.send(intent, leg.side, leg.limit_price)
                if sent.status in ("filled", "partially_filled"):
                    ratio = min(ratio, sent.fill_count / leg.count)
                else:
                    stop = f"leg {leg.leg_index} was {sent.status}" + (f": {sent.reason}" if sent.reason else "")
            self.outcome(plan, leg, sent)
            outcomes.append(LegOutcome(leg, sent))
        return outcomes

    def _refused_now(self, plan: ExecutionPlan, leg: KalshiLegPlan, *, first: bool) -> str | None:
        """What refuses this leg at the moment it would leave: the TTL against the clock now, and for a
        later leg the breaker having opened meanwhile (another process, a failure)."""
        stale = freshness(plan, self.clock(), self.limits.ttl)
        if stale:
            return f"{stale} (at send time)"
        if not first:
            status = self.desk.breaker.status()
            if status.state is BreakerState.OPEN:
                return f"the breaker opened before this leg was sent: {status.reason}"
        return None

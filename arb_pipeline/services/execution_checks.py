"""Every check that can refuse a leg, run for *all* legs before the first order (DESIGN.md Money rule 8).

An arbitrage goes all legs or none: a refusal found after the first leg was sent would leave that
leg naked. So before anything is sent, every leg must pass: freshness against the clock (TTL), no
order of this opportunity already sent, market and exchange open, no recent entry on the same
market and side (re-entry cooldown), open exposure and the account's cash for the sum of all legs,
the book still able to fill each leg within its planned worst price, and the circuit breaker (a
half-open breaker allows exactly one probe order, so only a one-leg opportunity can be the probe;
it also waits until no order is left in flight, i.e. until reconciliation knows what they did).

The first failing check is the reason every leg of the opportunity is not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.arb.constraints import check_status
from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.execution.breaker import CircuitBreaker, Decision
from arb_pipeline.execution.plan import ExecutionPlan
from arb_pipeline.execution.venue import Executor
from arb_pipeline.services.ledger import risk
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import OrderRepository

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Limits:
    ttl: timedelta
    reentry_cooldown: timedelta
    max_exposure: Decimal


def freshness(plan: ExecutionPlan, now: datetime, ttl: timedelta) -> str | None:
    """Why the opportunity may not be acted on at `now` (the clock read just before a send)."""
    age = now - plan.detected_at
    if age < timedelta(0):
        return f"detected {-age.total_seconds():.1f}s after now: clock skew, not trusted"
    if age > ttl:
        return f"stale: detected {age.total_seconds():.1f}s before now, TTL {ttl.total_seconds():.0f}s"
    return None


@dataclass
class Preflight:
    mode: str
    executor: Executor
    sessions: sessionmaker[Session]
    breaker: CircuitBreaker
    limits: Limits
    snapshot: MarketSnapshot | None
    data_captured_at: datetime | None
    clock: Callable[[], datetime]

    def check(self, plan: ExecutionPlan) -> tuple[str | None, Decision | None]:
        """(refusal, breaker decision). No refusal means every leg may go; the decision says whether
        it is the half-open probe (report its result; release it if nothing is sent). A check that
        cannot be made (the venue's book or balance unreadable) refuses: nothing is sent blind."""
        for rule in (self._fresh, self._not_sent_before, self._markets_open, self._cooldown, self._money,
                     self._book):
            try:
                reason = rule(plan)
            except Exception as exc:  # noqa: BLE001 - e.g. KalshiError reading the book: refuse, say why
                if self.mode == "live":
                    self.breaker.record_api_call(False)
                return f"a pre-send check could not be made ({type(exc).__name__}: {exc}): nothing sent", None
            if reason:
                return reason, None
        return self._breaker(plan)

    def _fresh(self, plan: ExecutionPlan) -> str | None:
        return freshness(plan, self.clock(), self.limits.ttl)

    def _not_sent_before(self, plan: ExecutionPlan) -> str | None:
        with session_scope(self.sessions) as session:
            gone = [o for o in OrderRepository(session).for_opportunity(plan.opportunity_id) if o.status != "intent"]
            if gone:
                return (f"already sent earlier (status {gone[0].status}): never resent; reconcile instead")
        return None

    def _markets_open(self, plan: ExecutionPlan) -> str | None:
        if self.snapshot is None:
            return None
        if not self.snapshot.exchange.trading_active:
            return "the exchange is not trading (exchange status)"
        markets = {m.ticker: m for m in self.snapshot.markets}
        for leg in plan.kalshi_legs:
            market = markets.get(leg.ticker)
            if market is None:
                return f"leg {leg.leg_index}: {leg.ticker} is not in the captured snapshot"
            problem = check_status(leg.ticker, market.status)
            if problem:
                return f"leg {leg.leg_index}: {problem}"
        return None

    def _cooldown(self, plan: ExecutionPlan) -> str | None:
        now = self.clock()
        with session_scope(self.sessions) as session:
            orders = OrderRepository(session)
            for leg in plan.kalshi_legs:
                last = orders.last_sent_on(leg.ticker, leg.side.value, mode=self.mode,
                                           other_than_opportunity=plan.opportunity_id)
                if last is not None and now - last < self.limits.reentry_cooldown:
                    return (f"re-entry cooldown: leg {leg.leg_index} {leg.ticker} {leg.side.value} was traded "
                            f"{(now - last).total_seconds():.0f}s ago (ARB_REENTRY_COOLDOWN_S="
                            f"{self.limits.reentry_cooldown.total_seconds():.0f})")
        return None

    def _total_cost(self, plan: ExecutionPlan) -> Decimal:
        return sum((leg.expected_cost for leg in plan.kalshi_legs), ZERO)

    def _money(self, plan: ExecutionPlan) -> str | None:
        total = self._total_cost(plan)
        with session_scope(self.sessions) as session:
            exposure = risk(session, self.mode, self.clock()).open_exposure  # both legs
        if exposure + total > self.limits.max_exposure:
            return (f"all {len(plan.kalshi_legs)} Kalshi leg(s) cost {total}: would raise open exposure to "
                    f"{exposure + total} over {self.limits.max_exposure}")
        balance = self.executor.available_balance()
        if balance is not None and balance < total:
            return f"all {len(plan.kalshi_legs)} Kalshi leg(s) cost {total}; the account has {balance} available"
        return None

    def _book(self, plan: ExecutionPlan) -> str | None:
        for leg in plan.kalshi_legs:
            depth = self.executor.depth_within(ticker=leg.ticker, side=leg.side, limit_price=leg.limit_price)
            if depth is not None and depth < leg.count:
                return (f"leg {leg.leg_index}: {leg.ticker} {leg.side.value} offers {depth} at {leg.limit_price} "
                        f"or better, {leg.count} needed: the price moved past the planned worst price")
        return None

    def _breaker(self, plan: ExecutionPlan) -> tuple[str | None, Decision | None]:
        now = self.clock()
        with session_scope(self.sessions) as session:
            both_legs = risk(session, self.mode, now)  # Money rule 9: the breaker judges both legs
            exposure, realized = both_legs.open_exposure, both_legs.realized_today
            in_flight = len(OrderRepository(session).in_state("sent", "unknown", mode=self.mode))
        decision = self.breaker.check_before_order(open_exposure=exposure, daily_realized_pnl=realized,
                                                   data_captured_at=self.data_captured_at,
                                                   orders_in_flight=in_flight)
        if not decision.allowed:
            return decision.reason, None
        if decision.probe and len(plan.kalshi_legs) > 1:
            self.breaker.release_probe()
            return (f"breaker half-open: the probe is one order and this arbitrage needs "
                    f"{len(plan.kalshi_legs)}"), None
        return None, decision

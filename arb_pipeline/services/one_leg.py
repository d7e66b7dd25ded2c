"""After an arbitrage's Kalshi legs went: hedge what is held; when the legs diverged, unwind or hold.

Legs diverge when one filled more than a sibling (a later leg filled less or nothing, was refused at
send time, or its state is unknown). The excess - contracts no sibling matches - is one-legged risk,
handled by the one-leg policy (ARB_ONE_LEG_POLICY):

* `unwind`: sell the excess back with IOC, reduce-only orders stepping down from the entry price, never
  losing more than ARB_UNWIND_MAX_LOSS on the opportunity (`execution.unwind`); what cannot be sold
  within it is held. Not while a leg's state is unknown (it may have filled) or the kill switch is on.
* `hold`: keep the excess.

Either way the hedge instructions (`execution.hedge.hedge_plans`) cover what is actually held - the
sportsbook legs sized on it, a replacement back for a leg that holds too few - and the outcome is
recorded (orders, fills, instructions) and alerted once per opportunity: never silently one-legged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.arb.fees import kalshi_order_fee
from arb_pipeline.domain import ContractSide, MarketSnapshot, SeriesFees
from arb_pipeline.execution.breaker import BreakerState
from arb_pipeline.execution.hedge import HedgePlan, KalshiFilled, hedge_plans
from arb_pipeline.execution.ids import unwind_order_id
from arb_pipeline.execution.plan import ExecutionPlan, KalshiLegPlan
from arb_pipeline.execution.unwind import floor_price, ladder, sale_loss
from arb_pipeline.services.order_desk import OrderDesk, Sent
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import GameMarkRepository, HedgeRepository, OrderIntent

log = logging.getLogger(__name__)
ZERO = Decimal(0)
_Q6 = Decimal("0.000001")
_COUNT = Decimal("0.01")  # Kalshi counts have at most 2 decimals
DEFAULT_TICK = Decimal("0.01")
POLICIES = ("unwind", "hold")


@dataclass(frozen=True, slots=True)
class LegOutcome:
    leg: KalshiLegPlan
    sent: Sent  # the entry order (status not_sent when it never left)


@dataclass(frozen=True, slots=True)
class Unwound:
    order: OrderIntent
    sent: Sent


@dataclass(frozen=True, slots=True)
class Settlement:
    """What became of one opportunity's Kalshi legs: held now, unwind orders, instructions, the alert."""

    held: tuple[KalshiFilled, ...]
    unwinds: tuple[Unwound, ...]
    hedges: tuple[HedgePlan, ...]
    one_legged: str | None  # the alert's text when the legs diverged


def _n(count: Decimal) -> str:
    """A contract count as a trader writes it: 150, 12.5 (not 150.000000)."""
    return format(count.quantize(_Q6).normalize(), "f")


class FeeBook:
    """Fee schedule and price grid per market, from the captured snapshot (standard taker fee when unknown)."""

    def __init__(self, snapshot: MarketSnapshot | None) -> None:
        self.fees: dict[str, SeriesFees] = {}
        self.ticks: dict[str, tuple] = {}
        self.starts: dict[str, datetime] = {}  # Kalshi event ticker -> the game's scheduled start
        if snapshot is None:
            return
        for milestone in snapshot.milestones:
            for event_ticker in (*milestone.primary_event_tickers, *milestone.related_event_tickers):
                self.starts.setdefault(event_ticker, milestone.start_date)
        for event in snapshot.events:
            fees = snapshot.series_fees.get(event.series_ticker, SeriesFees(event.series_ticker))
            fees = SeriesFees(event.series_ticker, event.fee_type_override or fees.fee_type,
                              event.fee_multiplier_override if event.fee_multiplier_override is not None
                              else fees.fee_multiplier)
            for market in event.markets:
                self.fees[market.ticker] = fees
                self.ticks[market.ticker] = market.price_ranges

    def fee_of(self, ticker: str) -> Callable[[Decimal, Decimal], Decimal]:
        fees = self.fees.get(ticker, SeriesFees(ticker))
        return lambda count, price: kalshi_order_fee([(count, price)], fee_type=fees.fee_type,
                                                     fee_multiplier=fees.fee_multiplier)

    def start_of(self, event_ticker: str) -> datetime | None:
        return self.starts.get(event_ticker)

    def tick(self, ticker: str, price: Decimal) -> Decimal:
        for band in self.ticks.get(ticker, ()):
            if band.start <= price <= band.end:
                return band.step
        return DEFAULT_TICK


@dataclass
class LegSettler:
    desk: OrderDesk | None  # None: nothing can be sent (reconciliation flags and hedges, never unwinds)
    sessions: sessionmaker[Session]
    policy: str
    max_loss: Decimal
    steps: int
    fee_book: FeeBook
    alert: Callable[[str, str, str, str], object]
    clock: Callable[[], datetime]
    log_lines: list[str] = field(default_factory=list)
    mode: str = "paper"  # the ledger the hedges belong to when there is no desk (reconciliation)
    rates: Mapping[str, Decimal] = field(default_factory=dict)  # exchange commission per book
    hedge_expiry_before_start: timedelta = timedelta(seconds=60)  # ARB_HEDGE_EXPIRY_BEFORE_START_S

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"one-leg policy must be one of {POLICIES} (ARB_ONE_LEG_POLICY), got {self.policy!r}")

    def settle(self, plan: ExecutionPlan, legs: list[LegOutcome], *, unwind_blocked: str | None = None) -> Settlement:
        """Hedge what the legs hold; if they diverged, apply the policy (unless `unwind_blocked` says
        why not) and alert once. `legs` hold what each leg holds now (entry fills net of unwinds)."""
        held = [KalshiFilled(o.leg.leg_index, o.leg.count, o.sent.fill_count, o.sent.cost, o.leg.pays_in) for o in legs]
        unknown = [o for o in legs if o.sent.status == "unknown"]
        ratios = {k.filled / k.planned for k in held}
        if len(ratios) <= 1 and not unknown:  # every leg holds the same share of its plan: a whole arbitrage
            hedges = self._record_hedges(plan, held, unknown_legs=())
            return Settlement(tuple(held), (), tuple(hedges), None)
        unwinds: list[Unwound] = []
        why_not = unwind_blocked or self._why_not_unwind(unknown)
        if why_not is None:
            held, unwinds = self._unwind_excess(plan, legs, held)
        hedges = self._record_hedges(plan, held, unknown_legs={o.leg.leg_index for o in unknown})
        text, still_one_legged = self._describe(plan, legs, held, unwinds, hedges, why_not)
        self.alert("critical" if still_one_legged else "warning",
                   f"{'one-legged position held' if still_one_legged else 'one-legged excess unwound'}: {plan.event}",
                   text, f"one-leg:{plan.opportunity_id}")
        log.log(logging.CRITICAL if still_one_legged else logging.WARNING, "legs diverged on %s: %s", plan.event, text)
        return Settlement(tuple(held), tuple(unwinds), tuple(hedges), text)

    # --- policy ----------------------------------------------------------------------------------

    def _why_not_unwind(self, unknown: list[LegOutcome]) -> str | None:
        if self.policy == "hold":
            return "policy hold (ARB_ONE_LEG_POLICY): the excess is kept, flagged"
        if unknown:
            return (f"leg {', '.join(str(o.leg.leg_index) for o in unknown)} state unknown (it may have filled): "
                    "nothing is unwound before reconciliation")
        if self.desk is None:
            return "no venue to unwind on here: held, flagged"
        status = self.desk.breaker.status()
        if status.state is BreakerState.OPEN and status.manual:
            return "the kill switch is on: no order at all, not even an unwind"
        return None

    def _unwind_excess(self, plan: ExecutionPlan, legs: list[LegOutcome],
                       held: list[KalshiFilled]) -> tuple[list[KalshiFilled], list[Unwound]]:
        assert self.desk is not None  # `_why_not_unwind` says why not otherwise
        matched = min(k.filled / k.planned for k in held)
        after: list[KalshiFilled] = []
        unwinds: list[Unwound] = []
        budget = self.max_loss
        for k, outcome in zip(held, legs, strict=True):
            keep = (k.planned * matched).quantize(_COUNT, rounding=ROUND_FLOOR)
            excess = k.filled - keep
            if excess <= 0:
                after.append(k)
                continue
            cost_of_excess = k.cost * excess / k.filled
            average = outcome.sent.notional / outcome.sent.fill_count
            sold, sold_cost, loss, orders = self._unwind_leg(plan, outcome.leg, excess, cost_of_excess, average,
                                                             budget)
            budget -= loss
            unwinds += orders
            after.append(replace(k, filled=k.filled - sold, cost=k.cost - sold_cost))
        return after, unwinds

    def _unwind_leg(self, plan: ExecutionPlan, leg: KalshiLegPlan, excess: Decimal, cost: Decimal,
                    entry_price: Decimal, budget: Decimal) -> tuple[Decimal, Decimal, Decimal, list[Unwound]]:
        """IOC sells of `excess` contracts bought for `cost`; returns (sold, their cost, loss, orders)."""
        fee_of = self.fee_book.fee_of(leg.ticker)
        tick = self.fee_book.tick(leg.ticker, entry_price)
        floor = floor_price(excess, cost, budget, tick, fee_of)
        if floor is None:
            self.log_lines.append(f"leg {leg.leg_index}: no price sells {excess} within the loss left ({budget})")
            return ZERO, ZERO, ZERO, []
        other = ContractSide.NO if leg.side is ContractSide.YES else ContractSide.YES
        remaining, remaining_cost, loss = excess, cost, ZERO
        orders: list[Unwound] = []
        for step, price in enumerate(ladder(entry_price, floor, self.steps, tick)):
            if remaining <= 0 or sale_loss(remaining, remaining_cost, price, fee_of) > budget - loss:
                break
            # selling `leg.side` at `price` = buying `other` at 1 - price, reduce-only (kalshi-api.md §6.1)
            yes_price = price if leg.side is ContractSide.YES else 1 - price
            intent = OrderIntent(unwind_order_id(plan.opportunity_id, leg.leg_index, step), plan.opportunity_id,
                                 leg.leg_index, self.desk.mode, leg.ticker,
                                 "ask" if other is ContractSide.NO else "bid", remaining, yes_price, purpose="unwind")
            refused = self.desk.record_intent(intent)
            if refused:
                self.log_lines.append(f"leg {leg.leg_index} unwind step {step}: {refused}")
                break
            sent = self.desk.send(intent, other, 1 - price, reduce_only=True)
            orders.append(Unwound(intent, sent))
            if sent.fill_count > 0:
                share = (remaining_cost * sent.fill_count / remaining).quantize(_Q6)
                loss += share + sent.cost - sent.fill_count  # each YES+NO pair pays back exactly $1
                remaining -= sent.fill_count
                remaining_cost -= share
            if sent.status in ("failed", "unknown", "not_sent"):
                break
        return excess - remaining, cost - remaining_cost, loss, orders

    # --- records and words -------------------------------------------------------------------------

    def _record_hedges(self, plan: ExecutionPlan, held: list[KalshiFilled], *, unknown_legs) -> list[HedgePlan]:
        hedges = hedge_plans(plan, held, rates=self.rates)
        hedges = [replace(h, stake=h.stake, status="do_not_place",
                          note=f"{h.note}; leg {h.leg_index} state is unknown: reconcile before placing this")
                  if h.leg_index in unknown_legs and h.status == "pending" else h for h in hedges]
        if not hedges:
            return []
        anchor = plan.kalshi_legs[0].client_order_id
        mode = self.desk.mode if self.desk is not None else self.mode
        pays = {**{b.leg_index: b.pays_in for b in plan.book_legs}, **{k.leg_index: k.pays_in for k in plan.kalshi_legs}}
        with session_scope(self.sessions) as session:
            repo = HedgeRepository(session)
            start = self.fee_book.start_of(plan.event) or GameMarkRepository(session).start_of(plan.event)
            expires = start - self.hedge_expiry_before_start if start is not None else None
            for h in hedges:
                note = h.note if start is not None or h.status != "pending" else (
                    f"{h.note}; " if h.note else "") + "the game's start is unknown: this instruction never expires " \
                    "by itself - abandon it by hand if it cannot be placed before the start"
                repo.record(client_order_id=anchor, opportunity_id=plan.opportunity_id, leg_index=h.leg_index,
                            bookmaker=h.bookmaker, event=h.event, selection=h.selection,
                            odds=h.odds.quantize(_Q6, rounding=ROUND_FLOOR), stake=h.stake,
                            worst_acceptable_odds=h.worst_acceptable_odds, status=h.status, note=note,
                            at=self.clock(), mode=mode, outcome=h.outcome, pays_in=pays.get(h.leg_index, ()),
                            commission_rate=self.rates.get(h.bookmaker, ZERO) if h.bookmaker != "any" else None,
                            game_start=start, expires_at=expires)
        for h in hedges:
            where = "any bookmaker" if h.bookmaker == "any" else h.bookmaker
            body = (f"{where}: {h.event} - back {h.selection} for ${h.stake} at odds >= {h.worst_acceptable_odds}"
                    f" (quoted {h.odds})" if h.worst_acceptable_odds else f"{where}: {h.event}: {h.note}")
            if h.note and h.worst_acceptable_odds:
                body += f"\n{h.note}"
            self.alert("warning" if h.status == "pending" else "critical", f"hedge to place: {h.selection}", body,
                       f"hedge:{anchor}:{h.leg_index}")
        return hedges

    def _describe(self, plan: ExecutionPlan, legs: list[LegOutcome], held: list[KalshiFilled],
                  unwinds: list[Unwound], hedges: list[HedgePlan], why_not: str | None) -> tuple[str, bool]:
        lines = [f"opportunity {plan.opportunity_id} on {plan.event}: the Kalshi legs diverged"]
        for o in legs:
            extra = f" ({o.sent.reason})" if o.sent.reason else ""
            lines.append(f"  leg {o.leg.leg_index} {o.leg.ticker} {o.leg.side.value}: {o.sent.status}, "
                         f"{_n(o.sent.fill_count)}/{_n(o.leg.count)} filled{extra}")
        if unwinds:
            sold = sum((u.sent.fill_count for u in unwinds), ZERO)
            lines.append(f"  unwind: {len(unwinds)} IOC order(s), {_n(sold)} contract(s) sold back "
                         f"(loss limit ${self.max_loss}, ARB_UNWIND_MAX_LOSS)")
        if why_not:
            lines.append(f"  not unwound: {why_not}")
        lines += [f"  {line}" for line in self.log_lines]
        self.log_lines.clear()
        ratios = {k.filled / k.planned for k in held}
        still = len(ratios) > 1 or any(o.sent.status == "unknown" for o in legs)
        lines.append("  now held: " + ", ".join(f"leg {k.leg_index} {_n(k.filled)}/{_n(k.planned)}" for k in held)
                     + (" - ONE-LEGGED, flagged" if still else " - matched"))
        lines.append(f"  hedge instructions written: {len(hedges)}"
                     + "".join(f"\n    leg {h.leg_index} {h.bookmaker} {h.selection} ${h.stake} "
                               f"odds >= {h.worst_acceptable_odds} [{h.status}]" for h in hedges))
        return "\n".join(lines), still

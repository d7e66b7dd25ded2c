"""One ledger for both legs: an arbitrage as a unit, cash, exposure, settlement, P&L and CLV.

What is recorded (the truth this module reads, never a second copy of it):
* the Kalshi legs: orders and their fills (notional + fees), net positions per market and the
  realized-P&L ledger (netting, settlement) - `storage.repositories.positions`;
* the sportsbook legs: hedge instructions as *placed* (odds, stake), settled from the game's result
  with the book's commission (`arb.commission.book_net_payout`) into the same realized-P&L ledger
  (`kind` "sportsbook", naming the arbitrage);
* game marks: per game outcome its Kalshi market, start, the last de-vigged consensus before the
  start (the closing line) and the market's result.

An arbitrage's P&L is computed as a unit from its own orders and hedges: per game outcome o,
    P&L(o) = Σ Kalshi contracts it bought that pay in o − their notional and fees
           + Σ placed backs: net payout in o − stake.
Locked profit = min over o counting only placed backs (pending ones at their quoted terms for the
*planned* figure); realized = P&L(winner) once every leg settled.

The cash identity the property test checks, to the cent, both legs:
    cash + open Kalshi positions at cost + placed unsettled stakes == starting cash + Σ realized,
where cash = start − fills − stakes + $1 per YES/NO pair netted + settlement payouts + book payouts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.arb.commission import book_net_payout, commission_for, effective_decimal_odds
from arb_pipeline.arb.money import ZERO, decimal_text
from arb_pipeline.arb.settlement import decides_winner
from arb_pipeline.services.bankroll import sizing_bankroll_from
from arb_pipeline.storage.models import (
    Fill,
    HedgeInstruction,
    OpportunityRecord,
    Order,
    Position,
    RealizedPnl,
)
from arb_pipeline.storage.repositories.hedges import HedgeRepository
from arb_pipeline.storage.repositories.marks import GameMarkRepository
from arb_pipeline.storage.repositories.positions import PositionRepository

AlertSink = Callable[[str, str, str, str], object]
UNHEDGED_STATES = ("pending", "abandoned", "expired")


def day_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


# --- an arbitrage as a unit ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KalshiBet:
    """What one Kalshi order of the arbitrage holds: contracts that pay $1 in `pays_in`, for `cost`."""

    leg_index: int
    ticker: str
    side: str
    purpose: str
    contracts: Decimal
    cost: Decimal  # fill notional + fees
    pays_in: frozenset[str]


@dataclass(frozen=True, slots=True)
class BookBet:
    hedge_id: int
    leg_index: int
    bookmaker: str
    selection: str
    status: str
    stake: Decimal  # placed stake, or the instructed one while pending
    odds: Decimal  # placed odds, or the quoted ones while pending
    rate: Decimal
    pays_in: frozenset[str]
    result: str | None
    payout: Decimal | None
    settled_at: datetime | None

    def pays(self, outcome: str) -> Decimal:
        """Returned (stake included, net of commission) if the game ends in `outcome`."""
        return book_net_payout(self.stake, self.odds, self.rate) if outcome in self.pays_in else ZERO


@dataclass(slots=True)
class Arbitrage:
    opportunity_id: str
    mode: str
    event: str
    league: str
    kind: str
    detected_at: datetime
    outcomes: frozenset[str]
    kalshi: list[KalshiBet] = field(default_factory=list)
    books: list[BookBet] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # outcome -> team name

    @property
    def kalshi_cost(self) -> Decimal:
        return sum((k.cost for k in self.kalshi), ZERO)

    def placed(self) -> list[BookBet]:
        return [b for b in self.books if b.status == "placed"]

    def pnl_by_outcome(self, *, planned: bool = False) -> dict[str, Decimal]:
        books = [b for b in self.books if b.status == "placed" or (planned and b.status == "pending")]
        outlay = self.kalshi_cost + sum((b.stake for b in books), ZERO)
        return {o: sum((k.contracts for k in self.kalshi if o in k.pays_in), ZERO)
                + sum((b.pays(o) for b in books), ZERO) - outlay for o in sorted(self.outcomes)}

    def locked_profit(self, *, planned: bool = False) -> Decimal:
        values = self.pnl_by_outcome(planned=planned)
        return min(values.values()) if values else ZERO

    @property
    def unhedged(self) -> bool:
        return any(b.status in UNHEDGED_STATES for b in self.books)

    @property
    def has_pending(self) -> bool:
        return any(b.status == "pending" for b in self.books)

    def commission_charged(self) -> Decimal:
        return sum((commission_for(b.stake, b.odds, b.rate) for b in self.placed() if b.result == "won"), ZERO)


def _leg_pays_in(payload: Mapping[str, Any]) -> tuple[dict[int, frozenset[str]], frozenset[str], dict[str, str]]:
    legs = list(payload.get("legs") or [])
    pays = {i: frozenset(str(o) for o in leg.get("pays_in") or ()) for i, leg in enumerate(legs)}
    outcomes = frozenset(str(o) for o in dict(payload.get("payouts") or {})) or frozenset().union(*pays.values())
    labels = {str(leg.get("outcome_side")): str(leg.get("outcome_label") or leg.get("outcome") or "")
              for leg in legs if leg.get("outcome_side")}
    return pays, outcomes, labels


def load_arbitrage(session: Session, record: OpportunityRecord, mode: str) -> Arbitrage | None:
    """The arbitrage as the ledger holds it (None when `mode` has no filled order of it)."""
    pays, outcomes, labels = _leg_pays_in(record.payload or {})
    arb = Arbitrage(record.id, mode, str((record.payload or {}).get("event") or record.event_key),
                    str((record.payload or {}).get("league") or ""), str((record.payload or {}).get("kind") or ""),
                    record.detected_at, outcomes, labels=labels)
    orders = session.scalars(select(Order).where(Order.opportunity_id == record.id, Order.mode == mode)
                             .order_by(Order.id))
    legs = list((record.payload or {}).get("legs") or [])
    orders = list(orders)
    entry_sides = {o.leg_index: o.outcome_side for o in orders if o.purpose == "entry"}
    for order in orders:
        filled = order.fill_count or ZERO
        if filled <= 0:
            continue
        leg = pays.get(order.leg_index, frozenset())
        leg_side = (legs[order.leg_index].get("side") if order.leg_index < len(legs) else None) \
            or entry_sides.get(order.leg_index, order.outcome_side)
        # the leg's own side pays where the leg pays; the other side (an unwind buys it) everywhere else
        held = leg if order.outcome_side == leg_side else outcomes - leg
        arb.kalshi.append(KalshiBet(order.leg_index, order.ticker, order.outcome_side, order.purpose, filled,
                                    (order.fill_notional or ZERO) + (order.fees or ZERO), held))
    for h in HedgeRepository(session).for_opportunity(record.id):
        if h.mode != mode:
            continue
        pays_in = frozenset(filter(None, h.pays_in.split(","))) or pays.get(h.leg_index, frozenset())
        placed = h.status == "placed"
        arb.books.append(BookBet(h.id, h.leg_index, h.bookmaker, h.selection, h.status,
                                 (h.placed_stake if placed else h.stake) or ZERO,
                                 (h.placed_odds if placed else h.odds) or ZERO, h.commission_rate or ZERO, pays_in,
                                 h.result, h.payout, h.settled_at))
    return arb if arb.kalshi else None


def arbitrages(session: Session, mode: str, *, since: datetime | None = None,
               ids: Iterable[str] | None = None) -> list[Arbitrage]:
    query = select(OpportunityRecord)
    if since is not None:
        query = query.where(OpportunityRecord.detected_at >= since)
    if ids is not None:
        query = query.where(OpportunityRecord.id.in_(list(ids)))
    out = []
    for record in session.scalars(query.order_by(OpportunityRecord.detected_at)):
        arb = load_arbitrage(session, record, mode)
        if arb is not None:
            out.append(arb)
    return out


# --- game results ---------------------------------------------------------------------------------------


def game_winner(session: Session, arb: Arbitrage, known: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """(winning outcome, "") once the Kalshi results decide it; ("void", why) when a market was voided;
    (None, why not yet) otherwise - also when a market settled at a scalar value: the game's winner is then
    not known and the book's own ruling decides the bet. Results come from `known` (ticker -> yes/no/void/a
    value, this pass) and the
    game marks; outcomes are narrowed by every market whose outcome is known (a YES result names the
    winner; a NO removes its outcome)."""
    known = dict(known or {})
    possible = set(arb.outcomes)
    markets: dict[str, frozenset[str]] = {}
    for mark in GameMarkRepository(session).for_event(arb.event):
        markets[mark.kalshi_ticker] = frozenset({mark.outcome})
        if mark.result and mark.kalshi_ticker not in known:
            known[mark.kalshi_ticker] = mark.result
    for k in arb.kalshi:
        if k.purpose == "entry":
            markets.setdefault(k.ticker, k.pays_in if k.side == "yes" else arb.outcomes - k.pays_in)
    settled = select(RealizedPnl.ticker, RealizedPnl.detail).where(
        RealizedPnl.mode == arb.mode, RealizedPnl.kind == "settlement", RealizedPnl.ticker.in_(list(markets)))
    for ticker, detail in session.execute(settled):  # our own positions' settlements name the result too
        result = (detail or {}).get("result")
        if result:
            known.setdefault(ticker, str(result))
    seen = False
    for ticker, yes_in in markets.items():
        result = known.get(ticker)
        if result is None:
            continue
        seen = True
        if result == "void":
            return "void", f"market {ticker} was voided"
        if not decides_winner(result):
            return None, (f"market {ticker} settled at a value ({result} per YES contract), not on a winner - a "
                          f"cancelled or postponed game? Settle the bet with its book's ruling: arb-pipeline "
                          f"reconcile --result {ticker}=void (the book refunded the stake) or =yes/=no")
        possible = possible & yes_in if result == "yes" else possible - yes_in
    if len(possible) == 1 and seen:
        return next(iter(possible)), ""
    if not possible:
        return None, f"the results of {sorted(markets)} contradict each other: settle by hand"
    return None, "the game's result is not known yet" if not seen else \
        f"the known results leave {sorted(possible)} possible: waiting for the other markets"


@dataclass(slots=True)
class BookSettlement:
    hedge_id: int
    opportunity_id: str
    bookmaker: str
    result: str
    stake: Decimal
    payout: Decimal
    commission: Decimal

    @property
    def pnl(self) -> Decimal:
        return self.payout - self.stake


def settle_book_legs(session: Session, mode: str, at: datetime, known: Mapping[str, str] | None = None
                     ) -> tuple[list[BookSettlement], list[str]]:
    """Settle every placed, unsettled sportsbook bet of `mode` whose game result is known: a win pays
    `book_net_payout` (commission on net winnings), a loss loses the stake, a void returns it. Each goes
    into the realized-P&L ledger with the arbitrage it hedged. Returns (settled, why others wait)."""
    hedges, positions = HedgeRepository(session), PositionRepository(session)
    settled, waiting = [], []
    placed = hedges.placed_unsettled(mode)
    records = {r.id: r for r in session.scalars(select(OpportunityRecord).where(
        OpportunityRecord.id.in_({h.opportunity_id for h in placed})))}
    cache: dict[str, tuple[str | None, str]] = {}
    for h in placed:
        record = records.get(h.opportunity_id)
        if record is None:
            waiting.append(f"hedge {h.id}: its opportunity {h.opportunity_id} is not recorded: settle by hand")
            continue
        if h.opportunity_id not in cache:
            arb = load_arbitrage(session, record, mode)
            cache[h.opportunity_id] = game_winner(session, arb, known) if arb else (None, "no Kalshi fill")
        winner, why = cache[h.opportunity_id]
        if winner is None:
            waiting.append(f"hedge {h.id} ({h.bookmaker} {h.selection}): {why}")
            continue
        stake, odds, rate = h.placed_stake or ZERO, h.placed_odds or ZERO, h.commission_rate or ZERO
        pays_in = frozenset(filter(None, h.pays_in.split(",")))
        if winner == "void":
            result, payout, commission = "void", stake, ZERO
        elif winner in pays_in:
            result, payout, commission = "won", book_net_payout(stake, odds, rate), commission_for(stake, odds, rate)
        else:
            result, payout, commission = "lost", ZERO, ZERO
        hedges.settle(h.id, result=result, payout=payout, commission=commission, at=at)
        positions.record_book_settlement(
            mode=mode, bookmaker=h.bookmaker, opportunity_id=h.opportunity_id, amount=payout - stake, at=at,
            detail={"hedge_id": h.id, "result": result, "stake": str(stake), "odds": str(odds), "rate": str(rate),
                    "payout": str(payout), "commission": str(commission), "winner": winner})
        settled.append(BookSettlement(h.id, h.opportunity_id, h.bookmaker, result, stake, payout, commission))
    return settled, waiting


# --- cash, exposure, risk -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Risk:
    """The numbers the breaker judges, both legs (Money rule 9)."""

    mode: str
    day_start: datetime
    realized_today: Decimal  # Kalshi settlements and netting + sportsbook settlements, today (UTC)
    kalshi_exposure: Decimal  # open Kalshi positions at cost
    book_exposure: Decimal  # placed sportsbook stakes not settled yet
    unhedged_exposure: Decimal  # Kalshi cost of arbitrages with a hedge pending, abandoned or expired

    @property
    def open_exposure(self) -> Decimal:
        return self.kalshi_exposure + self.book_exposure


def risk(session: Session, mode: str, at: datetime) -> Risk:
    """Read by every order's preflight (twice): columns and sums only, no ORM objects (benchmarks/bench_risk.py)."""
    positions = PositionRepository(session)
    day = day_of(at)
    open_costs = positions.open_costs(mode)
    return Risk(mode, day, positions.realized_between(mode, day, day + timedelta(days=1)),
                sum(open_costs.values(), ZERO), HedgeRepository(session).placed_unsettled_stake(mode),
                unhedged_exposure(session, mode, open_tickers=open_costs.keys()))


def unhedged_exposure(session: Session, mode: str, *, open_tickers: Iterable[str] | None = None) -> Decimal:
    """What the filled Kalshi legs cost of arbitrages whose sportsbook leg is not placed (pending, or
    abandoned/expired: open one-sided exposure) while their markets are not settled. `open_tickers`: the
    open positions' tickers when the caller has read them already."""
    still_open = set(open_tickers if open_tickers is not None else PositionRepository(session).open_costs(mode))
    unhedged = select(HedgeInstruction.opportunity_id).where(
        HedgeInstruction.mode == mode, HedgeInstruction.status.in_(UNHEDGED_STATES))
    query = select(Order.ticker, Order.fill_count, Order.fill_notional, Order.fees).where(
        Order.mode == mode, Order.opportunity_id.in_(unhedged), Order.purpose == "entry")
    total = ZERO
    for ticker, fill_count, notional, fees in session.execute(query):
        if (fill_count or ZERO) > 0 and ticker in still_open:
            total += (notional or ZERO) + (fees or ZERO)
    return total


def kalshi_flows(session: Session, mode: str) -> Decimal:
    """The Kalshi account's cash movements the ledger knows: − fills (notional + fees), + $1 per YES/NO
    pair netted, + settlement payouts."""
    total = ZERO
    query = select(Fill.count, Fill.price, Fill.fee).join(Order, Fill.order_id == Order.id).where(Order.mode == mode)
    for count, price, fee in session.execute(query):
        total -= count * price + fee
    for row in PositionRepository(session).realized_rows(mode):
        if row.kind == "netting":
            total += Decimal(row.detail["contracts"])
        elif row.kind == "settlement":
            total += Decimal(row.detail["payout"])
    return total


def check_balance(session: Session, mode: str, venue_balance: Decimal, at: datetime,
                  tolerance: Decimal) -> tuple[bool, str]:
    """Live balance reconciliation: (matched, what was found). The venue's cash minus the ledger's
    Kalshi flows is the money from outside the ledger; it must stay where the last check found it
    (within `tolerance`). The first check only records the baseline."""
    from arb_pipeline.storage.models import BalanceCheck

    flows = kalshi_flows(session, mode)
    difference = venue_balance - flows
    last = session.scalars(select(BalanceCheck).where(BalanceCheck.mode == mode)
                           .order_by(BalanceCheck.at.desc(), BalanceCheck.id.desc())).first()
    matched = last is None or abs(difference - last.difference) <= tolerance
    session.add(BalanceCheck(mode=mode, at=at, venue_balance=venue_balance, ledger_flows=flows,
                             difference=difference, matched=matched))
    session.flush()
    if last is None:
        return True, f"baseline: venue cash {venue_balance}, ledger flows {flows}"
    if matched:
        return True, f"venue cash {venue_balance} agrees with the ledger (outside money {difference})"
    return False, (f"venue cash {venue_balance} moved {difference - last.difference:+} more than the ledger's Kalshi "
                   f"flows since {last.at.isoformat()} (tolerance {tolerance}): a fill, fee or settlement the "
                   "ledger does not know, or a deposit/withdrawal")


def cash(session: Session, mode: str, starting: Decimal) -> Decimal:
    """Cash from the ledger's flows, both legs (see the module docstring)."""
    total = starting + kalshi_flows(session, mode)
    for h in HedgeRepository(session).in_mode(mode, ("placed",)):
        total -= h.placed_stake or ZERO
        total += h.payout or ZERO
    return total


def realized_total(session: Session, mode: str) -> Decimal:
    return sum((r.amount for r in PositionRepository(session).realized_rows(mode)), ZERO)


def last_live_balance(session: Session) -> Decimal | None:
    """The Kalshi cash the last live reconciliation read (`check_balance`), or None before the first."""
    from arb_pipeline.storage.models import BalanceCheck

    last = session.scalars(select(BalanceCheck).where(BalanceCheck.mode == "live")
                           .order_by(BalanceCheck.at.desc(), BalanceCheck.id.desc())).first()
    return None if last is None else last.venue_balance


def sizing_bankroll(session: Session, mode: str, configured: Decimal) -> Decimal:
    """The bankroll sizing uses, read from the ledger in `session` (the rule: `services.bankroll`)."""
    return sizing_bankroll_from(mode, configured, paper_realized=lambda: realized_total(session, "paper"),
                                live_balance=lambda: last_live_balance(session))


# --- P&L report and CLV ---------------------------------------------------------------------------------


def _close_probabilities(session: Session, event: str) -> tuple[dict[str, float], datetime | None]:
    marks = [m for m in GameMarkRepository(session).for_event(event) if m.fair_probability is not None]
    total = sum(m.fair_probability for m in marks)  # type: ignore[misc]
    if not marks or total <= 0:
        return {}, None
    return ({m.outcome: m.fair_probability / total for m in marks},  # type: ignore[operator]
            min(m.commence_time for m in marks))


def clv(session: Session, arb: Arbitrage, now: datetime) -> dict[str, Any]:
    """Closing-line value of each leg against the last de-vigged consensus before the start:
    (p_close − p_entry) in bps, where p_entry is what the leg paid per $1 it returns (Kalshi: cost per
    contract; a back: 1 / odds after commission) and p_close the consensus for the outcomes it pays in.
    The arbitrage's CLV in dollars is Σ legs (p_close × what it returns − what it cost): its expected
    value at the closing line. `final` is false until the game has started (the line may still move)."""
    probs, start = _close_probabilities(session, arb.event)
    if not probs:
        return {"available": False, "final": False, "legs": [], "clv_dollars": None, "clv_bps": None}
    legs, dollars, weighted, weight = [], ZERO, 0.0, ZERO
    for k in arb.kalshi:
        p_close = sum(probs.get(o, 0.0) for o in k.pays_in)
        p_entry = float(k.cost / k.contracts)
        bps = (p_close - p_entry) * 10_000
        value = Decimal(repr(p_close)) * k.contracts - k.cost
        legs.append({"venue": "kalshi", "leg_index": k.leg_index, "ticker": k.ticker, "p_entry": p_entry,
                     "p_close": p_close, "clv_bps": bps, "clv_dollars": _text(value.quantize(Decimal("0.01")))})
        dollars += value
        weighted += bps * float(k.cost)
        weight += k.cost
    for b in arb.placed():
        p_close = sum(probs.get(o, 0.0) for o in b.pays_in)
        p_entry = float(1 / effective_decimal_odds(b.odds, b.rate))
        bps = (p_close - p_entry) * 10_000
        value = Decimal(repr(p_close)) * book_net_payout(b.stake, b.odds, b.rate) - b.stake
        legs.append({"venue": "sportsbook", "leg_index": b.leg_index, "bookmaker": b.bookmaker, "p_entry": p_entry,
                     "p_close": p_close, "clv_bps": bps, "clv_dollars": _text(value.quantize(Decimal("0.01")))})
        dollars += value
        weighted += bps * float(b.stake)
        weight += b.stake
    return {"available": True, "final": start is not None and now >= start, "legs": legs,
            "clv_dollars": _text(dollars.quantize(Decimal("0.01"))),
            "clv_bps": weighted / float(weight) if weight else None}


def arbitrage_summary(session: Session, arb: Arbitrage, now: datetime) -> dict[str, Any]:
    placed = arb.placed()
    settled_kalshi = _kalshi_settled(session, arb)
    books_done = all(b.settled_at is not None for b in placed)
    winner, why = game_winner(session, arb)
    realized = realized_at = None
    if settled_kalshi and books_done and not arb.has_pending and winner is not None:
        realized = _realized(arb, winner)
        times = [b.settled_at for b in placed if b.settled_at] + [t for t in _kalshi_settled_at(session, arb) if t]
        realized_at = max(times) if times else None
    unrealized = None
    if realized is None:
        probs, _start = _close_probabilities(session, arb.event)
        if probs:
            values = arb.pnl_by_outcome()
            unrealized = sum((Decimal(repr(probs.get(o, 0.0))) * v for o, v in values.items()), ZERO)
            unrealized = unrealized.quantize(Decimal("0.01"))
    status = "settled" if realized is not None else ("unhedged" if arb.unhedged else "open")
    return {
        "opportunity_id": arb.opportunity_id, "mode": arb.mode, "event": arb.event, "league": arb.league,
        "kind": arb.kind, "detected_at": arb.detected_at.isoformat(), "status": status,
        "kalshi_cost": _text(arb.kalshi_cost),
        "book_stakes": _text(sum((b.stake for b in placed), ZERO)),
        "commission": _text(arb.commission_charged()),
        "locked_profit": _text(arb.locked_profit()),
        "planned_profit": _text(arb.locked_profit(planned=True)),
        "pnl_by_outcome": {o: _text(v) for o, v in arb.pnl_by_outcome().items()},
        "realized": _text(realized), "realized_at": realized_at.isoformat() if realized_at else None,
        "winner": winner, "waiting_for": None if realized is not None else why,
        "unrealized": _text(unrealized),
        "hedges": [{"id": b.hedge_id, "bookmaker": b.bookmaker, "selection": b.selection, "status": b.status,
                    "stake": _text(b.stake), "odds": _text(b.odds), "commission_rate": _text(b.rate),
                    "result": b.result, "payout": _text(b.payout)} for b in arb.books],
        "clv": clv(session, arb, now),
    }


def _kalshi_settled(session: Session, arb: Arbitrage) -> bool:
    tickers = {k.ticker for k in arb.kalshi}
    rows = {p.ticker: p for p in session.scalars(select(Position).where(Position.mode == arb.mode,
                                                                        Position.ticker.in_(tickers)))}
    return all(t in rows and (rows[t].settled or rows[t].count == 0) for t in tickers)


def _kalshi_settled_at(session: Session, arb: Arbitrage) -> list[datetime]:
    tickers = {k.ticker for k in arb.kalshi}
    return [p.updated_at for p in session.scalars(select(Position).where(
        Position.mode == arb.mode, Position.ticker.in_(tickers), Position.settled.is_(True)))]


def _realized(arb: Arbitrage, winner: str) -> Decimal:
    kalshi = sum((k.contracts for k in arb.kalshi if winner in k.pays_in), ZERO) - arb.kalshi_cost
    books = sum(((b.payout or ZERO) - b.stake for b in arb.placed()), ZERO)
    return kalshi + books


def pnl_report(session: Session, mode: str, now: datetime, *, limit: int = 200) -> dict[str, Any]:
    """Realized P&L per day (the two-leg ledger, UTC days) and in total, every arbitrage as a unit
    (locked, realized, unrealized marked to the current consensus, CLV), and today's figure."""
    rows = PositionRepository(session).realized_rows(mode)
    per_day: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        per_day[day_of(row.realized_at).date().isoformat()] += row.amount
    days, running = [], ZERO
    for day in sorted(per_day):
        running += per_day[day]
        days.append({"day": day, "realized": _text(per_day[day]), "cumulative": _text(running)})
    arbs = arbitrages(session, mode)[-limit:]
    summaries = [arbitrage_summary(session, a, now) for a in reversed(arbs)]
    clvs = [(s["clv"]["clv_bps"], Decimal(s["kalshi_cost"]) + Decimal(s["book_stakes"]))
            for s in summaries if s["clv"]["clv_bps"] is not None]
    weight = sum((w for _, w in clvs), ZERO)
    today = day_of(now).date().isoformat()
    r = risk(session, mode, now)
    return {
        "mode": mode,
        "as_of": now.astimezone(UTC).isoformat(),
        "total_realized": _text(running),
        "today_realized": _text(per_day.get(today, ZERO)),
        "unrealized": _text(sum((Decimal(s["unrealized"]) for s in summaries if s["unrealized"]), ZERO)),
        "open_exposure": _text(r.open_exposure),
        "unhedged_exposure": _text(r.unhedged_exposure),
        "clv_bps_average": (sum(b * float(w) for b, w in clvs) / float(weight)) if weight else None,
        "days": days,
        "arbitrages": summaries,
    }


def open_exposure_by_game(session: Session, mode: str) -> list[dict[str, Any]]:
    """Money at risk per game, both legs: open Kalshi cost and placed unsettled stakes, plus the Kalshi
    cost still unhedged. Largest first."""
    games: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"kalshi": ZERO, "book": ZERO, "unhedged": ZERO})
    open_tickers = {p.ticker: p for p in PositionRepository(session).open_positions(mode)}
    for arb in arbitrages(session, mode):
        for k in arb.kalshi:
            if k.ticker in open_tickers:
                games[arb.event]["kalshi"] += k.cost
                if arb.unhedged:
                    games[arb.event]["unhedged"] += k.cost
        for b in arb.placed():
            if b.settled_at is None:
                games[arb.event]["book"] += b.stake
    out = [{"event": e, "kalshi_exposure": _text(v["kalshi"]), "book_exposure": _text(v["book"]),
            "open_exposure": _text(v["kalshi"] + v["book"]), "unhedged_exposure": _text(v["unhedged"])}
           for e, v in games.items() if v["kalshi"] + v["book"] > 0]
    return sorted(out, key=lambda g: (-Decimal(g["open_exposure"]), g["event"]))



def unreconciled(session: Session, mode: str, at: datetime, grace: timedelta = timedelta(minutes=5)) -> list[str]:
    """Exposure the ledger cannot vouch for: orders still in flight (sent/unknown) longer than `grace`,
    and (paper) positions that differ from the sum of their recorded fills."""
    problems = []
    for order in session.scalars(select(Order).where(Order.mode == mode, Order.status.in_(("sent", "unknown")))):
        since = order.sent_at or order.created_at
        if at - since > grace:
            problems.append(f"order {order.client_order_id} on {order.ticker} is {order.status} since "
                            f"{since.isoformat()}: what it holds is unknown")
    if mode == "paper":
        fills: dict[str, Decimal] = defaultdict(lambda: ZERO)
        settled = {p.ticker for p in PositionRepository(session).all_settled(mode)}
        query = select(Fill.ticker, Fill.outcome_side, Fill.count).join(Order).where(Order.mode == mode)
        for ticker, side, count in session.execute(query):
            if ticker not in settled:
                fills[ticker] += count if side == "yes" else -count
        held = {p.ticker: p.count for p in PositionRepository(session).open_positions(mode)}
        for ticker in sorted(set(held) | {t for t, c in fills.items() if c}):
            if held.get(ticker, ZERO) != fills.get(ticker, ZERO):
                problems.append(f"{ticker}: position {held.get(ticker, ZERO)} but recorded fills net "
                                f"{fills.get(ticker, ZERO)}")
    return problems


def expired_unhedged(session: Session, mode: str) -> list[dict[str, Any]]:
    """Hedges that expired or were abandoned while their arbitrage's Kalshi leg is still open."""
    open_tickers = {p.ticker for p in PositionRepository(session).open_positions(mode)}
    out = []
    for h in HedgeRepository(session).in_mode(mode, ("expired", "abandoned")):
        tickers = set(session.scalars(select(Order.ticker).where(Order.opportunity_id == h.opportunity_id,
                                                                 Order.mode == mode)))
        if tickers & open_tickers:
            out.append({"hedge_id": h.id, "status": h.status, "bookmaker": h.bookmaker, "event": h.event,
                        "selection": h.selection, "stake": _text(h.stake), "kalshi_tickers": sorted(tickers)})
    return out

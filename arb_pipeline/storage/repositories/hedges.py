"""Hedge instructions: the sportsbook leg a human places by hand after the Kalshi leg filled.

Rows move pending -> placed | abandoned | expired (`services.hedges` decides; this layer only refuses
a move from a state it cannot come from, under the row it read), and a placed bet is settled once.
Every time is the caller's `at` (Money rule 10).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import HedgeInstruction
from arb_pipeline.storage.repositories._insert import insert_if_absent
from arb_pipeline.storage.repositories._time import require_aware

STATUSES = ("pending", "placed", "abandoned", "expired", "skipped", "do_not_place")
OPEN_HEDGE_STATES = ("pending",)
RESULTS = ("won", "lost", "void")


class HedgeTransitionError(ValueError):
    """A hedge cannot move to that state from the one it is in (e.g. placing an expired one)."""


class HedgeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, *, client_order_id: str, opportunity_id: str, leg_index: int, bookmaker: str, event: str,
               selection: str, odds: Decimal, stake: Decimal, worst_acceptable_odds: Decimal | None,
               status: str = "pending", note: str = "", at: datetime, mode: str = "paper", outcome: str = "",
               pays_in: Iterable[str] = (), commission_rate: Decimal | None = None,
               game_start: datetime | None = None, expires_at: datetime | None = None) -> HedgeInstruction:
        """Insert once per (Kalshi order, sportsbook leg), created `at`; a repeat - also one racing in
        from another process - returns the stored instruction."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if mode not in ("paper", "live"):
            raise ValueError(f"mode must be 'paper' or 'live', got {mode!r}")
        insert_if_absent(self.session, HedgeInstruction, dict(
            client_order_id=client_order_id, opportunity_id=opportunity_id, leg_index=leg_index,
            bookmaker=bookmaker, event=event, selection=selection, odds=odds, stake=stake,
            worst_acceptable_odds=worst_acceptable_odds, status=status, note=note,
            created_at=require_aware(at, "at"), mode=mode, outcome=outcome, pays_in=",".join(sorted(pays_in)),
            commission_rate=commission_rate, game_start=game_start, expires_at=expires_at, acted_by=""),
            key=("client_order_id", "leg_index"))
        return self.session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.client_order_id == client_order_id, HedgeInstruction.leg_index == leg_index)).one()

    def get(self, instruction_id: int) -> HedgeInstruction | None:
        return self.session.get(HedgeInstruction, instruction_id)

    def require(self, instruction_id: int) -> HedgeInstruction:
        row = self.get(instruction_id)
        if row is None:
            raise KeyError(f"no hedge instruction {instruction_id}")
        return row

    def set_status(self, instruction_id: int, status: str, note: str = "") -> HedgeInstruction:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        row = self.require(instruction_id)
        row.status = status
        if note:
            row.note = note
        self.session.flush()
        return row

    def _move(self, instruction_id: int, to: str, values: dict) -> HedgeInstruction:
        """pending -> `to` in one conditional UPDATE: two operators (or the expiry) racing on one hedge
        cannot both win; the loser learns the state it is really in."""
        result = self.session.execute(
            update(HedgeInstruction)
            .where(HedgeInstruction.id == instruction_id, HedgeInstruction.status == "pending")
            .values(status=to, **values)
            .execution_options(synchronize_session=False))
        row = self.require(instruction_id)
        self.session.refresh(row)
        if result.rowcount != 1:
            raise HedgeTransitionError(f"hedge {instruction_id} is {row.status}, not pending: it cannot become {to}")
        return row

    def place(self, instruction_id: int, *, odds: Decimal, stake: Decimal, who: str, note: str,
              at: datetime) -> HedgeInstruction:
        return self._move(instruction_id, "placed", dict(placed_odds=odds, placed_stake=stake, acted_by=who,
                                                         placed_at=require_aware(at, "at"), note=note))

    def close(self, instruction_id: int, status: str, *, who: str, note: str, at: datetime) -> HedgeInstruction:
        if status not in ("abandoned", "expired"):
            raise ValueError(f"a hedge closes as abandoned or expired, not {status!r}")
        return self._move(instruction_id, status, dict(closed_at=require_aware(at, "at"), acted_by=who, note=note))

    def settle(self, instruction_id: int, *, result: str, payout: Decimal, commission: Decimal,
               at: datetime) -> HedgeInstruction:
        if result not in RESULTS:
            raise ValueError(f"result must be one of {RESULTS}, got {result!r}")
        row = self.require(instruction_id)
        if row.status != "placed" or row.settled_at is not None:
            raise HedgeTransitionError(f"hedge {instruction_id} is {row.status}"
                                       f"{' and settled' if row.settled_at else ''}: only a placed bet settles, once")
        row.result, row.payout, row.commission, row.settled_at = result, payout, commission, require_aware(at, "at")
        self.session.flush()
        return row

    def pending(self, mode: str | None = None) -> list[HedgeInstruction]:
        query = select(HedgeInstruction).where(HedgeInstruction.status == "pending")
        if mode is not None:
            query = query.where(HedgeInstruction.mode == mode)
        return list(self.session.scalars(query.order_by(HedgeInstruction.id)))

    def due_to_expire(self, mode: str, at: datetime) -> list[HedgeInstruction]:
        query = select(HedgeInstruction).where(
            HedgeInstruction.status == "pending", HedgeInstruction.mode == mode,
            HedgeInstruction.expires_at.is_not(None), HedgeInstruction.expires_at <= require_aware(at, "at"))
        return list(self.session.scalars(query.order_by(HedgeInstruction.id)))

    def placed_unsettled(self, mode: str) -> list[HedgeInstruction]:
        query = select(HedgeInstruction).where(HedgeInstruction.status == "placed", HedgeInstruction.mode == mode,
                                               HedgeInstruction.settled_at.is_(None))
        return list(self.session.scalars(query.order_by(HedgeInstruction.id)))

    def placed_unsettled_stake(self, mode: str) -> Decimal:
        """The stakes of the placed, unsettled instructions (open sportsbook exposure), read as a column."""
        query = select(HedgeInstruction.placed_stake).where(
            HedgeInstruction.status == "placed", HedgeInstruction.mode == mode, HedgeInstruction.settled_at.is_(None))
        return sum((stake or Decimal(0) for stake in self.session.scalars(query)), Decimal(0))

    def in_mode(self, mode: str, statuses: Iterable[str] | None = None) -> list[HedgeInstruction]:
        query = select(HedgeInstruction).where(HedgeInstruction.mode == mode)
        if statuses is not None:
            query = query.where(HedgeInstruction.status.in_(list(statuses)))
        return list(self.session.scalars(query.order_by(HedgeInstruction.id)))

    def for_opportunity(self, opportunity_id: str) -> list[HedgeInstruction]:
        return list(self.session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.opportunity_id == opportunity_id).order_by(HedgeInstruction.leg_index)))

    def for_order(self, client_order_id: str) -> list[HedgeInstruction]:
        return list(self.session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.client_order_id == client_order_id).order_by(HedgeInstruction.leg_index)))

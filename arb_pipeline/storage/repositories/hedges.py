"""Hedge instructions: the sportsbook leg a human places by hand after the Kalshi leg filled."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import HedgeInstruction
from arb_pipeline.storage.repositories._insert import insert_if_absent
from arb_pipeline.storage.repositories._time import require_aware

STATUSES = ("pending", "placed", "skipped", "do_not_place")


class HedgeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, *, client_order_id: str, opportunity_id: str, leg_index: int, bookmaker: str, event: str,
               selection: str, odds: Decimal, stake: Decimal, worst_acceptable_odds: Decimal | None,
               status: str = "pending", note: str = "", at: datetime) -> HedgeInstruction:
        """Insert once per (Kalshi order, sportsbook leg), created `at`; a repeat - also one racing in
        from another process - returns the stored instruction."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        insert_if_absent(self.session, HedgeInstruction, dict(
            client_order_id=client_order_id, opportunity_id=opportunity_id, leg_index=leg_index,
            bookmaker=bookmaker, event=event, selection=selection, odds=odds, stake=stake,
            worst_acceptable_odds=worst_acceptable_odds, status=status, note=note,
            created_at=require_aware(at, "at")), key=("client_order_id", "leg_index"))
        return self.session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.client_order_id == client_order_id, HedgeInstruction.leg_index == leg_index)).one()

    def set_status(self, instruction_id: int, status: str, note: str = "") -> HedgeInstruction:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        row = self.session.get(HedgeInstruction, instruction_id)
        if row is None:
            raise KeyError(f"no hedge instruction {instruction_id}")
        row.status = status
        if note:
            row.note = note
        self.session.flush()
        return row

    def pending(self) -> list[HedgeInstruction]:
        return list(self.session.scalars(
            select(HedgeInstruction).where(HedgeInstruction.status == "pending").order_by(HedgeInstruction.id)))

    def for_opportunity(self, opportunity_id: str) -> list[HedgeInstruction]:
        return list(self.session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.opportunity_id == opportunity_id).order_by(HedgeInstruction.leg_index)))

    def for_order(self, client_order_id: str) -> list[HedgeInstruction]:
        return list(self.session.scalars(select(HedgeInstruction).where(
            HedgeInstruction.client_order_id == client_order_id).order_by(HedgeInstruction.leg_index)))

"""Opportunities acted upon: stored once per stable id, with the detector's own `to_dict()`."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import OpportunityRecord
from arb_pipeline.storage.repositories._insert import insert_if_absent
from arb_pipeline.storage.repositories._time import require_aware


def json_safe(value: Any) -> Any:
    """JSON that PostgreSQL accepts too: NaN/Infinity (e.g. an unknown quote age) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal | datetime):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


class OpportunityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, *, opportunity_id: str, opportunity_key: str, event_key: str, detected_at: datetime,
               cost: Decimal, profit: Decimal, payload: dict[str, Any], at: datetime) -> OpportunityRecord:
        """Insert the opportunity (recorded `at`) if new; a repeat (same id) returns the stored row
        unchanged - also when another process inserts it at the same moment (no look-up-then-insert)."""
        insert_if_absent(self.session, OpportunityRecord, dict(
            id=opportunity_id, opportunity_key=opportunity_key, event_key=event_key,
            detected_at=require_aware(detected_at, "detected_at"), cost=cost, profit=profit,
            payload=json_safe(payload), recorded_at=require_aware(at, "at")), key=("id",))
        row = self.session.get(OpportunityRecord, opportunity_id, populate_existing=True)
        if row is None:  # pragma: no cover - inserted or already there, in this transaction
            raise RuntimeError(f"opportunity {opportunity_id} neither inserted nor found")
        return row

    def get(self, opportunity_id: str) -> OpportunityRecord | None:
        return self.session.get(OpportunityRecord, opportunity_id)

    def recorded_since(self, start: datetime) -> list[OpportunityRecord]:
        """Opportunities acted upon since `start`, oldest first."""
        query = select(OpportunityRecord).where(OpportunityRecord.recorded_at >= require_aware(start, "start"))
        return list(self.session.scalars(query.order_by(OpportunityRecord.recorded_at, OpportunityRecord.id)))

"""Market mappings (what the resolver decided) and human overrides (who, when, why).

Overrides are never deleted: revoking one keeps the row with who revoked it and when.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import MappingOverride, MarketMapping
from arb_pipeline.storage.repositories._time import require_aware

ACTIONS = ("confirm", "reject", "override")


class MappingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, *, kalshi_ticker: str, kalshi_event_ticker: str, provider: str, sportsbook_event_id: str,
               outcome: str, method: str, confidence: Decimal, resolved_at: datetime) -> MarketMapping:
        row = self.session.scalars(select(MarketMapping).where(
            MarketMapping.kalshi_ticker == kalshi_ticker, MarketMapping.provider == provider)).first()
        if row is None:
            row = MarketMapping(kalshi_ticker=kalshi_ticker, provider=provider)
            self.session.add(row)
        row.kalshi_event_ticker, row.sportsbook_event_id, row.outcome = kalshi_event_ticker, sportsbook_event_id, outcome
        row.method, row.confidence = method, confidence
        row.resolved_at = require_aware(resolved_at, "resolved_at")
        self.session.flush()
        return row

    def mappings(self, *, kalshi_event_ticker: str | None = None) -> list[MarketMapping]:
        query = select(MarketMapping)
        if kalshi_event_ticker is not None:
            query = query.where(MarketMapping.kalshi_event_ticker == kalshi_event_ticker)
        return list(self.session.scalars(query.order_by(MarketMapping.kalshi_ticker)))

    def add_override(self, *, kalshi_ticker: str, action: str, who: str, why: str,
                     at: datetime, sportsbook_event_id: str | None = None,
                     outcome: str | None = None) -> MappingOverride:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
        if not who.strip() or not why.strip():
            raise ValueError("an override needs who and why")
        if action == "override" and (not sportsbook_event_id or outcome not in ("home", "away", "draw")):
            raise ValueError("an override needs the sportsbook event id and an outcome (home/away/draw)")
        row = MappingOverride(kalshi_ticker=kalshi_ticker, sportsbook_event_id=sportsbook_event_id, outcome=outcome,
                              action=action, who=who, why=why, created_at=require_aware(at, "at"), active=True)
        self.session.add(row)
        self.session.flush()
        return row

    def revoke_override(self, override_id: int, *, who: str, at: datetime) -> MappingOverride:
        row = self.session.get(MappingOverride, override_id)
        if row is None:
            raise KeyError(f"no mapping override {override_id}")
        row.active, row.revoked_at, row.revoked_by = False, require_aware(at, "at"), who
        self.session.flush()
        return row

    def active_overrides(self, kalshi_ticker: str | None = None) -> list[MappingOverride]:
        query = select(MappingOverride).where(MappingOverride.active.is_(True))
        if kalshi_ticker is not None:
            query = query.where(MappingOverride.kalshi_ticker == kalshi_ticker)
        return list(self.session.scalars(query.order_by(MappingOverride.id)))

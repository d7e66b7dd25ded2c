"""Circuit-breaker rows: the one shared state row (read under a lock) and the transition log.

Locking: `lock()` first bumps the row's version with an UPDATE - on SQLite that takes the database
write lock for the rest of the transaction, on PostgreSQL a row lock - then reads it back with
`SELECT ... FOR UPDATE` (PostgreSQL). Every read-modify-write of the breaker is therefore serialized
across processes; a second process waits (busy timeout / lock wait) instead of interleaving.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import BreakerEvent, BreakerStateRow
from arb_pipeline.storage.repositories._time import require_aware


class BreakerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, name: str, now: datetime) -> BreakerStateRow:
        """The state row, locked for this transaction (created CLOSED on first use)."""
        bump = update(BreakerStateRow).where(BreakerStateRow.name == name).values(version=BreakerStateRow.version + 1)
        if self.session.execute(bump.execution_options(synchronize_session=False)).rowcount == 0:
            try:
                with self.session.begin_nested():
                    self.session.add(BreakerStateRow(
                        name=name, state="closed", reason="", manual=False, consecutive_errors=0, window_calls=0,
                        window_errors=0, version=1, updated_at=require_aware(now, "now"), updated_by="system"))
            except IntegrityError:  # created concurrently; take the lock on theirs
                self.session.execute(bump.execution_options(synchronize_session=False))
        row = self.session.scalars(
            select(BreakerStateRow).where(BreakerStateRow.name == name).with_for_update()
            .execution_options(populate_existing=True)).one()
        return row

    def read(self, name: str) -> BreakerStateRow | None:
        return self.session.scalars(
            select(BreakerStateRow).where(BreakerStateRow.name == name).execution_options(populate_existing=True)
        ).first()

    def log(self, *, name: str, at: datetime, from_state: str, to_state: str, trigger: str, reason: str,
            who: str) -> BreakerEvent:
        event = BreakerEvent(name=name, at=require_aware(at, "at"), from_state=from_state, to_state=to_state,
                             trigger=trigger, reason=reason[:4000], who=who)
        self.session.add(event)
        self.session.flush()
        return event

    def events(self, name: str, limit: int = 100) -> list[BreakerEvent]:
        return list(self.session.scalars(
            select(BreakerEvent).where(BreakerEvent.name == name).order_by(BreakerEvent.id.desc()).limit(limit)))

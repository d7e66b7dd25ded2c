"""Leases: a named right that one owner holds until it expires, shared by every process on the database.

`acquire` is one INSERT-if-absent or one conditional UPDATE (the row is free, expired, or already
ours), so two processes can never both hold it; a holder that dies simply lets it expire. Times are
the callers' clocks (the database server's clock is never asked).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import ExecutionLease
from arb_pipeline.storage.repositories._insert import insert_if_absent
from arb_pipeline.storage.repositories._time import require_aware


class LeaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def acquire(self, name: str, owner: str, *, at: datetime, ttl: timedelta) -> bool:
        """Take (or extend) lease `name` for `owner` until `at` + `ttl`; False while another holds it."""
        now = require_aware(at, "at")
        values = dict(name=name, owner=owner, acquired_at=now, expires_at=now + ttl)
        if insert_if_absent(self.session, ExecutionLease, values, key=("name",)):
            return True
        taken = self.session.execute(
            update(ExecutionLease)
            .where(ExecutionLease.name == name,
                   or_(ExecutionLease.owner == owner, ExecutionLease.expires_at <= now))
            .values(owner=owner, acquired_at=now, expires_at=now + ttl)
            .execution_options(synchronize_session=False))
        return taken.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        """Give the lease up (only its owner can)."""
        self.session.execute(
            delete(ExecutionLease).where(ExecutionLease.name == name, ExecutionLease.owner == owner)
            .execution_options(synchronize_session=False))

    def holder(self, name: str) -> ExecutionLease | None:
        return self.session.get(ExecutionLease, name, populate_existing=True)

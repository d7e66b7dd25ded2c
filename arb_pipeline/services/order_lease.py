"""One process at a time places orders of a mode: a lease in the application database.

Two `arb-pipeline run` processes, or one beside the Dagster daemon, would otherwise both pass the
re-entry cooldown for the same market and both buy it (seen running two at once on PostgreSQL: one
arbitrage's second leg then found no liquidity and diverged). The Dagster pool `kalshi_orders` only
serializes runs of one Dagster instance; this lease holds across every process on the database, and
expires for a process that dies holding it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import LeaseRepository


class OrderLease:
    """The lease `name` for this process (`LeaseRepository`): acquire (or renew), then release."""

    TTL = timedelta(seconds=300)

    def __init__(self, sessions: sessionmaker[Session], name: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        # real time, whatever clock the trading decisions use (a replay runs on its capture time): a lease
        # is about which live process may act, and must expire for a process that died
        self.sessions, self.name, self.clock = sessions, name, clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> str | None:
        """None when held (taken or renewed); otherwise why not."""
        with session_scope(self.sessions) as session:
            repo = LeaseRepository(session)
            if repo.acquire(self.name, self.owner, at=self.clock(), ttl=self.TTL):
                return None
            holder = repo.holder(self.name)
            who = f"{holder.owner} until {holder.expires_at.isoformat()}" if holder else "another process"
        return (f"another process is placing orders ({self.name} lease held by {who}): orders are placed by one "
                "process at a time")

    def release(self) -> None:
        with session_scope(self.sessions) as session:
            LeaseRepository(session).release(self.name, self.owner)

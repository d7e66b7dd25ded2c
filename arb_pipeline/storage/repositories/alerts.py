"""Alert rows: one per de-duplication key, counting what was sent and what was suppressed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arb_pipeline.storage.models import Alert
from arb_pipeline.storage.repositories._time import require_aware


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, dedup_key: str) -> Alert | None:
        return self.session.scalars(select(Alert).where(Alert.dedup_key == dedup_key)).first()

    def claim(self, *, dedup_key: str, severity: str, title: str, body: str, now: datetime,
              window: timedelta) -> bool:
        """True when this alert should be sent now (new key, or its window has passed); records it.

        A repeat inside the window only bumps `suppressed_count`. The unique key makes two processes
        racing on a new key agree: the loser sees the winner's row and is suppressed.
        """
        now = require_aware(now, "now")
        row = self.get(dedup_key)
        if row is None:
            row = Alert(dedup_key=dedup_key, severity=severity, title=title[:300], body=body, first_at=now,
                        last_sent_at=now, last_seen_at=now, sent_count=1, suppressed_count=0, channels="")
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                return True
            except IntegrityError:
                row = self.get(dedup_key)
                if row is None:
                    raise
        row.last_seen_at = now
        if now - row.last_sent_at < window:
            row.suppressed_count += 1
            self.session.flush()
            return False
        row.severity, row.title, row.body = severity, title[:300], body
        row.last_sent_at, row.sent_count = now, row.sent_count + 1
        self.session.flush()
        return True

    def set_channels(self, dedup_key: str, channels: list[str]) -> None:
        row = self.get(dedup_key)
        if row is not None:
            row.channels = ",".join(channels)[:100]
            self.session.flush()

    def recent(self, limit: int = 50) -> list[Alert]:
        return list(self.session.scalars(select(Alert).order_by(Alert.last_seen_at.desc()).limit(limit)))

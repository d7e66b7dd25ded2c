"""The simulator's notion of "now", injectable so tests and demos can move time on purpose.

Two flavours share one interface: a *fixed* clock that only moves when told to (tests, the bundled
sample snapshot) and a *live* clock that follows the wall clock plus any advances (the `make demo`
server). Request signatures and rate-limit buckets deliberately do not use this clock: they follow
the real wall clock, because the client signs with its real clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache


@lru_cache(maxsize=16_384)  # equal datetimes are the same instant, i.e. the same text
def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, second precision (`2026-11-24T17:00:00Z`).

    Memoized: a 1,000-game slate's responses print ~100,000 times a few thousand distinct moments (each
    book's update time), which was a tenth of the simulator's CPU per capture."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class SimClock:
    """Fixed start plus advances (fixed) or wall clock plus advances (live)."""

    def __init__(self, start: datetime | None = None, *, live: bool = False,
                 wall: Callable[[], datetime] | None = None) -> None:
        self._wall = wall or (lambda: datetime.now(UTC))
        self._live = live
        self._start = (start or self._wall()).astimezone(UTC)
        self._wall_at_start = self._wall()
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    @classmethod
    def fixed(cls, start: datetime) -> SimClock:
        return cls(start, live=False)

    @classmethod
    def live_from(cls, start: datetime | None = None) -> SimClock:
        return cls(start, live=True)

    @property
    def live(self) -> bool:
        return self._live

    def now(self) -> datetime:
        with self._lock:
            elapsed = self._wall() - self._wall_at_start if self._live else timedelta(0)
            return self._start + elapsed + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the simulator clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

"""Time in the storage layer: the caller's, never the wall clock (Money rule 10).

Repositories stamp rows with the `at` their caller passes, so a service running on a replay's clock
or a test on a fixed date writes exactly the times it decides by, on any calendar day.
"""

from __future__ import annotations

from datetime import UTC, datetime


def require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime {value!r}; pass an aware (UTC) datetime")
    return value.astimezone(UTC)

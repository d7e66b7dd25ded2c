"""One clock for the storage layer, so a test can see which timestamps a repository writes."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime {value!r}; pass an aware (UTC) datetime")
    return value.astimezone(UTC)

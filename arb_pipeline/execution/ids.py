"""Deterministic identifiers: the same opportunity seen again maps to the same ids (Money rule 3).

Opportunity key (the text hashed into the opportunity id):

    "v1|<kind>|<Kalshi event ticker>|<bucket>|<leg>;<leg>;..."
    leg    = "<venue>:<market>:<outcome>:<side>:<size>"  (size normalised: 10 == 10.00)
    bucket = floor(detected_at UTC epoch seconds / bucket_s), bucket_s = 60 by default

Prices are left out on purpose: the same trade re-detected a few seconds later at a slightly
different price inside the same bucket is the *same* opportunity and must not be executed twice.
A different size, leg, side or event - or the next minute - is a new opportunity.

opportunity_id  = uuid5(NAMESPACE, opportunity key)
client_order_id = uuid5(NAMESPACE, "<opportunity_id>|leg|<leg index>")  (a UUID, as Kalshi asks: §9.1)
unwind order id = uuid5(NAMESPACE, "<opportunity_id>|leg|<leg index>|unwind|<step>")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

NAMESPACE = uuid.UUID("6c1f1e0a-7d0b-5b4e-9a51-a7b0c0e1d2f3")  # fixed forever: changing it re-keys history
DEFAULT_BUCKET_S = 60


def _size(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def time_bucket(detected_at: datetime, bucket_s: int = DEFAULT_BUCKET_S) -> int:
    if detected_at.tzinfo is None or detected_at.utcoffset() is None:
        raise ValueError("detected_at must be timezone-aware")
    if bucket_s <= 0:
        raise ValueError(f"bucket_s must be > 0, got {bucket_s}")
    return int(detected_at.astimezone(UTC).timestamp() // bucket_s)


def opportunity_key(kind: str, event: str, legs: Iterable[tuple[str, str, str, str, Decimal]],
                    detected_at: datetime, bucket_s: int = DEFAULT_BUCKET_S) -> str:
    """The stable text key of an opportunity; `legs` are (venue, market, outcome, side, size)."""
    parts = [f"{venue}:{market}:{outcome}:{side}:{_size(size)}" for venue, market, outcome, side, size in legs]
    if not parts:
        raise ValueError("an opportunity needs at least one leg")
    return f"v1|{kind}|{event}|{time_bucket(detected_at, bucket_s)}|{';'.join(parts)}"


def opportunity_id(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def client_order_id(opportunity_id_: str, leg_index: int) -> str:
    if leg_index < 0:
        raise ValueError(f"leg_index must be >= 0, got {leg_index}")
    return str(uuid.uuid5(NAMESPACE, f"{opportunity_id_}|leg|{leg_index}"))


def unwind_order_id(opportunity_id_: str, leg_index: int, step: int) -> str:
    """The client_order_id of step `step` of unwinding leg `leg_index`: as deterministic as the entry's,
    so a restart re-derives it and can never sell twice."""
    if leg_index < 0 or step < 0:
        raise ValueError(f"leg_index and step must be >= 0, got {leg_index}, {step}")
    return str(uuid.uuid5(NAMESPACE, f"{opportunity_id_}|leg|{leg_index}|unwind|{step}"))

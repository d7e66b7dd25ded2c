"""Column types that keep money exact and time unambiguous on SQLite and PostgreSQL alike.

`Money` is `NUMERIC(18, 6)` on PostgreSQL. SQLite has no decimal type: its NUMERIC affinity turns
"0.1" into a binary float, so there the same column is stored as fixed-point text and parsed back
into `Decimal` - exact on both. A float, or a value with more than 6 decimals or 12 integer digits,
is refused instead of being rounded silently (Money rule 1).

`UTCDateTime` refuses naive datetimes and always returns aware UTC ones, whether the backend keeps
the zone (PostgreSQL `timestamptz`) or not (SQLite).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from arb_pipeline.storage.values import (
    MONEY_PRECISION,
    MONEY_SCALE,
    money_from_stored,
    to_money,
    utc_from_stored,
)

# Raw wire payloads: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Payload = JSON().with_variant(JSONB(), "postgresql")


class Money(TypeDecorator[Decimal]):
    """NUMERIC(18, 6) on PostgreSQL, exact fixed-point text on SQLite; always `Decimal` in Python."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        money = to_money(value)
        return format(money, "f") if dialect.name == "sqlite" else money

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return money_from_stored(value)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out; naive input is a bug and is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return utc_from_stored(value)

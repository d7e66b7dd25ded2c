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
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, DateTime, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_SCALE = 6
MONEY_PRECISION = 18
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_MAX_ABS = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)

# Raw wire payloads: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Payload = JSON().with_variant(JSONB(), "postgresql")


def to_money(value: Any) -> Decimal:
    """Validate and normalise a money value to exactly 6 decimals; raise ValueError otherwise."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"money must be Decimal, int or a decimal string, not {type(value).__name__}: {value!r}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value) if isinstance(value, int) else value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
    if not dec.is_finite():
        raise ValueError(f"money must be finite: {value!r}")
    quantized = dec.quantize(_QUANTUM)
    if quantized != dec:
        raise ValueError(f"{value!r} has more than {MONEY_SCALE} decimals; round it explicitly first")
    if abs(quantized) >= _MAX_ABS:
        raise ValueError(f"{value!r} does not fit NUMERIC({MONEY_PRECISION}, {MONEY_SCALE})")
    return quantized


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
        if value is None:
            return None
        return Decimal(value).quantize(_QUANTUM) if isinstance(value, str | Decimal | int) else to_money(value)


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
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

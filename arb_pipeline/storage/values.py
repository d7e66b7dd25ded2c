"""What a stored money or time value means, without SQLAlchemy: the rules `storage.types` applies.

The column types (`types.Money`, `types.UTCDateTime`) convert through these functions, and so does the
plain `sqlite3` reader (`storage.sqlite_read`) a scan uses, so a value read either way is the same
`Decimal` (digits and exponent) or the same aware UTC `datetime`. Kept apart from `types` because
importing SQLAlchemy costs a scan ~0.25 s CPU and ~8 MiB before anything is read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MONEY_SCALE = 6
MONEY_PRECISION = 18
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_MAX_ABS = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)


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


def money_from_stored(value: Any) -> Decimal | None:
    """A money column's stored value (SQLite: fixed-point text; PostgreSQL: a Decimal) as its `Decimal`."""
    if value is None:
        return None
    return Decimal(value).quantize(_QUANTUM) if isinstance(value, str | Decimal | int) else to_money(value)


def utc_from_stored(value: datetime | None) -> datetime | None:
    """A time column's value as an aware UTC datetime (SQLite keeps it naive, in UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_from_sqlite_text(text: str | None, *, where: str) -> datetime | None:
    """A SQLite time column's text (SQLAlchemy writes `YYYY-MM-DD HH:MM:SS.ffffff`, naive UTC) as an
    aware UTC datetime; anything else is an error naming `where` (table.column)."""
    if text is None:
        return None
    try:
        return utc_from_stored(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: not a stored time: {text!r}") from None

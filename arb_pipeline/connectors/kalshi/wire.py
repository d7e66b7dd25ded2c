"""Strict readers for Kalshi's wire fields: one place that turns JSON values into exact types.

Rules (kalshi-api.md §3): ``*_dollars`` and ``*_fp`` fields are *strings* parsed with `Decimal`;
a JSON number there is rejected, because a number in a dollar field is the signature of the
removed integer-cents fields and would be off by 100x. ``fee_multiplier``-style "number" fields
take an int, a float (through its shortest repr, exact for any JSON literal of up to 15 digits)
or a string. Datetimes are RFC 3339 with an offset and come back as aware UTC. Every failure names
the endpoint and the field path, e.g. ``GET /events: events[2].markets[0].yes_bid_dollars``.

Pure standard library: the snapshot replay parses recorded responses with the same readers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import KalshiResponseError

_MISSING = object()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")
ZERO = Decimal(0)
ONE = Decimal(1)


def to_decimal(value: Any, *, field: str, endpoint: str, strict_string: bool = True) -> Decimal:
    """A finite Decimal from a wire value; `strict_string` accepts only strings."""
    if isinstance(value, bool):
        raise KalshiResponseError(f"field {field!r} must be a number string, got a boolean", endpoint=endpoint)
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, Decimal) or (isinstance(value, int | float) and not strict_string):
        text = str(value)
    else:
        raise KalshiResponseError(
            f"field {field!r} must be a fixed-point string, got {type(value).__name__} {value!r}", endpoint=endpoint
        )
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise KalshiResponseError(f"field {field!r} is not a decimal number: {value!r}", endpoint=endpoint) from None
    if not number.is_finite():
        raise KalshiResponseError(f"field {field!r} is not finite: {value!r}", endpoint=endpoint)
    return number


def to_datetime(value: Any, *, field: str, endpoint: str) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value.strip()):
        raise KalshiResponseError(f"field {field!r} is not an RFC 3339 date-time: {value!r}", endpoint=endpoint)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise KalshiResponseError(f"field {field!r} is not a valid date-time: {value!r}", endpoint=endpoint) from None
    return parsed.astimezone(UTC)


def from_unix_seconds(value: Any, *, field: str, endpoint: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise KalshiResponseError(f"field {field!r} must be integer Unix seconds, got {value!r}", endpoint=endpoint)
    return datetime.fromtimestamp(value, tz=UTC)


class Reader:
    """Reads the fields of one JSON object, remembering which ones were consumed.

    `extra()` returns every field no reader asked for, verbatim, so an addition to Kalshi's
    schema is kept (and visible) instead of silently dropped.
    """

    def __init__(self, obj: Any, *, endpoint: str, path: str, strings: dict[str, str] | None = None,
                 numbers: dict[str, Decimal] | None = None, times: dict[str, datetime] | None = None,
                 keep_extra: frozenset[str] | None = None) -> None:
        if not isinstance(obj, Mapping):
            raise KalshiResponseError(f"{path or 'body'} must be a JSON object, got {type(obj).__name__}", endpoint=endpoint)
        self.obj = obj
        self.endpoint = endpoint
        self.path = path
        self._used: set[str] = set()
        # Optional text → one shared str: when a large response is parsed item by item, each item's
        # JSON has its own copy of every repeated text (the field names, timestamps, the same rules
        # paragraph in every market of a league); records keep one of each instead. Same values.
        self.strings = strings
        self.numbers = numbers  # likewise fixed-point text → one shared (immutable) Decimal
        self.times = times  # and RFC 3339 text → one shared datetime (read by `models._plain_market`)
        # Optional: the only unmapped fields `extra()` keeps (None: every one). A caller that reads a
        # few of them (the scan reads a line market's strike fields) need not hold the rest.
        self.keep_extra = keep_extra

    def share(self, value: str) -> str:
        """`value`, or the equal string already kept from this response (with a `strings` table)."""
        strings = self.strings
        if strings is None:
            return value
        return strings.setdefault(value, value)

    def shared_texts(self, value: dict[str, Any]) -> dict[str, Any]:
        """`value`, or an equal text-only dict kept before from this response (same keys in the same order,
        the same texts; with a `numbers` table): a market's `custom_strike` names one of a league's few
        hundred teams, every event of a league has the same `product_metadata`. Only dicts of str → str
        are shared (1 == True == 1.0 as keys of the table, never as values here); records never mutate
        their mappings (typed `Mapping`)."""
        table = self.numbers
        if table is None or any(type(k) is not str or type(v) is not str for k, v in value.items()):
            return value
        key = ("texts", *value.items())
        kept = table.get(key)  # type: ignore[call-overload]  # shared dicts live in the numbers table
        if kept is None:
            kept = table[key] = value  # type: ignore[index]
        return kept

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> KalshiResponseError:
        return KalshiResponseError(f"field {self.field(key)!r} {problem}", endpoint=self.endpoint)

    def raw(self, key: str, *, required: bool = True, nullable: bool = False) -> Any:
        self._used.add(key)
        value = self.obj.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise self.fail(key, "is missing")
            return None
        if value is None and not nullable:
            raise self.fail(key, "is null")
        return value

    # --- scalars ---------------------------------------------------------------------------------
    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.raw(key, required=required, nullable=not required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {type(value).__name__}")
        return value if self.strings is None else self.share(value)

    def ident(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.fail(key, "is empty")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.raw(key, required=False, nullable=True)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {type(value).__name__}")
        return value

    def flag(self, key: str, *, required: bool = True, default: bool = False) -> bool:
        value = self.raw(key, required=required, nullable=not required)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be a boolean, got {value!r}")
        return value

    def integer(self, key: str, *, required: bool = True, default: int | None = 0) -> int | None:
        value = self.raw(key, required=required, nullable=not required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, got {value!r}")
        return value

    def dollars(self, key: str, *, lo: Decimal | None = None, hi: Decimal | None = None) -> Decimal:
        return self._bounded(key, self._decimal(key, self.raw(key)), lo, hi)

    def opt_dollars(self, key: str, *, lo: Decimal | None = None, hi: Decimal | None = None) -> Decimal | None:
        raw = self.raw(key, required=False, nullable=True)
        if raw is None or raw == "":
            return None
        return self._bounded(key, self._decimal(key, raw), lo, hi)

    def nullable_dollars(self, key: str, *, lo: Decimal | None = None, hi: Decimal | None = None) -> Decimal | None:
        """Key required (spec), value may be null: e.g. a top-of-book price on an empty side."""
        raw = self.raw(key, nullable=True)
        if raw is None:
            return None
        return self._bounded(key, self._decimal(key, raw), lo, hi)

    def _decimal(self, key: str, raw: Any) -> Decimal:
        """`to_decimal` of a dollar field, shared by text when the reader has a `numbers` table."""
        numbers = self.numbers
        if numbers is None or type(raw) is not str:
            return to_decimal(raw, field=self.field(key), endpoint=self.endpoint)
        number = numbers.get(raw)
        if number is None:
            number = numbers[raw] = to_decimal(raw, field=self.field(key), endpoint=self.endpoint)
        return number

    def count(self, key: str, *, signed: bool = False) -> Decimal:
        value = to_decimal(self.raw(key), field=self.field(key), endpoint=self.endpoint)
        return value if signed else self._bounded(key, value, ZERO, None)

    def number(self, key: str) -> Decimal:
        """A spec `number` (e.g. `fee_multiplier`): int, float or string, exactly."""
        return to_decimal(self.raw(key), field=self.field(key), endpoint=self.endpoint, strict_string=False)

    def opt_number(self, key: str) -> Decimal | None:
        raw = self.raw(key, required=False, nullable=True)
        if raw is None:
            return None
        return to_decimal(raw, field=self.field(key), endpoint=self.endpoint, strict_string=False)

    def _bounded(self, key: str, value: Decimal, lo: Decimal | None, hi: Decimal | None) -> Decimal:
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(key, f"is out of range [{lo}, {hi}]: {value}")
        return value

    def time(self, key: str) -> datetime:
        return to_datetime(self.raw(key), field=self.field(key), endpoint=self.endpoint)

    def opt_time(self, key: str) -> datetime | None:
        raw = self.raw(key, required=False, nullable=True)
        if raw is None or raw == "":
            return None
        return to_datetime(raw, field=self.field(key), endpoint=self.endpoint)

    def unix_seconds(self, key: str) -> datetime:
        return from_unix_seconds(self.raw(key), field=self.field(key), endpoint=self.endpoint)

    # --- containers ------------------------------------------------------------------------------
    def array(self, key: str, *, required: bool = True) -> list[Any]:
        value = self.raw(key, required=required, nullable=not required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array, got {type(value).__name__}")
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        items = self.array(key)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{i}]", f"must be a string, got {type(item).__name__}")
        return tuple(items) if self.strings is None else tuple(map(self.share, items))

    def mapping(self, key: str, *, required: bool = True) -> dict[str, Any]:
        value = self.raw(key, required=required, nullable=True)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be an object, got {type(value).__name__}")
        strings = self.strings
        if strings is None:
            return dict(value)
        share = strings.setdefault  # the same keys (and often values) in every event: kept once
        return self.shared_texts({share(k, k) if type(k) is str else k: share(v, v) if type(v) is str else v
                                  for k, v in value.items()})

    def children(self, key: str, *, required: bool = True) -> list[Reader]:
        return [
            Reader(item, endpoint=self.endpoint, path=f"{self.field(key)}[{i}]", **self._tables())
            for i, item in enumerate(self.array(key, required=required))
        ]

    def child(self, key: str) -> Reader:
        return Reader(self.raw(key), endpoint=self.endpoint, path=self.field(key), **self._tables())

    def _tables(self) -> dict[str, Any]:
        """The shared-value tables, handed on to the readers of nested objects."""
        return {"strings": self.strings, "numbers": self.numbers, "times": self.times, "keep_extra": self.keep_extra}

    def cursor(self) -> str:
        """The next-page cursor: required by the spec; null is read as "" (last page)."""
        value = self.raw("cursor", nullable=True)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail("cursor", f"must be a string, got {type(value).__name__}")
        return value

    def extra(self) -> dict[str, Any]:
        """Every field no reader asked for, verbatim (with `keep_extra`: only those of them it names)."""
        used, strings, keep = self._used, self.strings, self.keep_extra
        items = self.obj.items() if keep is None else [(k, v) for k, v in self.obj.items() if k in keep]
        if strings is None:
            return {k: v for k, v in items if k not in used}
        share = strings.setdefault
        return self.shared_texts({share(k, k): share(v, v) if type(v) is str else v for k, v in items if k not in used})

"""A stage frame from one list per column, each column typed up front instead of inferred by pandas.

Why: handed Python lists (or a dict per row), pandas walks every value of every column to infer its dtype
(`maybe_convert_platform`, `maybe_infer_to_datetimelike`, `isna` over object columns, datetime parsing):
~0.1 s of each 1,000-game scan run's capture step, on the way to its paper order (issue #11). Here a column's
value types are read once in C (`set(map(type, values))`), and when they are one of the shapes below the
column is built directly with the dtype pandas would have inferred for it:

* only `str` / only `Decimal` / either with None, or only None: object, values as they are;
* only `float`: float64; only `int` (within int64): int64; only `bool`: bool;
* a datetime column whose values are UTC-aware `datetime`s (tzinfo `datetime.UTC`) or None:
  datetime64[ns, UTC] from the values' int64 nanoseconds (None: NaT), each distinct value converted once.

Anything else (mixed types, naive or other-zone datetimes, out-of-range values) is left to pandas exactly as
before (`pd.Series(values)` then, for a datetime column, `to_utc`), so a column is always the one the
row-by-row builders made; `arb_pipeline_tests/services/test_frame_columns.py` holds the two to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NAT = np.iinfo(np.int64).min  # numpy's NaT
_MIN_NS = pd.Timestamp.min.value
_MAX_NS = pd.Timestamp.max.value
_UTC_DTYPE = pd.DatetimeTZDtype("ns", "UTC")
_NONE = type(None)
_OBJECT_KINDS = (frozenset({str, _NONE}), frozenset({Decimal, _NONE}))
_PLAIN = {frozenset({float}): np.float64, frozenset({int}): np.int64, frozenset({bool}): np.bool_}


def to_utc(column: pd.Series) -> pd.Series:
    """`column` as datetime64[ns, UTC]. pandas already builds aware datetimes into a tz-aware column: that
    is converted as a whole (walking it as Timestamps and parsing them again cost ~0.7 s per 100,000
    quotes, a third of a 1,000-game capture step); anything else (naive, mixed) is parsed value by value."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return utc_column(column)


def utc_column(values: Iterable[Any]) -> pd.Series:
    """datetime64[ns, UTC] of `values`, parsed value by value (naive values are taken as UTC)."""
    return pd.Series(pd.to_datetime(list(values), utc=True), dtype="datetime64[ns, UTC]")


def _inferred(values: Sequence[Any], is_datetime: bool) -> pd.Series:
    """The column as pandas infers it from the list (the general path)."""
    series = pd.Series(list(values))
    return to_utc(series) if is_datetime else series


def _utc_nanoseconds(values: Sequence[Any]) -> np.ndarray | None:
    """int64 nanoseconds since the epoch of UTC-aware datetimes (NaT for None); None when a value is anything
    else or out of pandas' range (the general path then decides, and raises as it always did)."""
    ns: dict[Any, int] = {None: _NAT}
    for value in set(values):
        if value is None:
            continue
        if type(value) is not datetime or value.tzinfo is not UTC:
            return None
        nanos = (value - _EPOCH) // _MICROSECOND * 1000
        if not _MIN_NS <= nanos <= _MAX_NS:
            return None
        ns[value] = nanos
    return np.fromiter(map(ns.__getitem__, values), dtype=np.int64, count=len(values))


def column(values: Sequence[Any], *, is_datetime: bool = False) -> pd.Series:
    """One frame column from its values: typed directly when the value types allow, else inferred."""
    n = len(values)
    if is_datetime:
        nanos = _utc_nanoseconds(values)
        if nanos is None:
            return _inferred(values, True)
        return pd.Series(pd.DatetimeIndex(nanos.view("datetime64[ns]")).tz_localize("UTC"), dtype=_UTC_DTYPE)
    if pd.get_option("future.infer_string"):  # pandas would make text columns `str`: let it
        return _inferred(values, False)
    kinds = frozenset(map(type, values))
    if n and (kinds <= _OBJECT_KINDS[0] or kinds <= _OBJECT_KINDS[1]):
        return pd.Series(np.fromiter(values, dtype=object, count=n), dtype=object, copy=False)
    plain = _PLAIN.get(kinds)
    if plain is not None:
        try:
            array = np.fromiter(values, dtype=plain, count=n)
        except OverflowError:  # an int beyond int64: pandas picks uint64 or object
            return _inferred(values, False)
        return pd.Series(array, copy=False)
    return _inferred(values, False)


def frame(columns: Mapping[str, Sequence[Any]], datetime_columns: Iterable[str] = ()) -> pd.DataFrame:
    """A frame from one list per column (all the same length, in `columns`' order), its blocks consolidated
    once here: pandas otherwise merges them again in every copy the checks and the IO manager make
    (~2-8 ms per check of a 1,000-game sportsbook_odds frame)."""
    dated = set(datetime_columns)
    return pd.DataFrame({name: column(values, is_datetime=name in dated) for name, values in columns.items()},
                        copy=True)

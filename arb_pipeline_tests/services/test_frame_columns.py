"""Typed columns (`services.frame_columns`) against pandas' own inference, the way the frames were built
before: a column is `pd.Series(values)` (a datetime column then made datetime64[ns, UTC] as frames did),
a row-built frame is `pd.DataFrame(rows)`. Generated columns are mostly of one kind (the fast paths) with
intruders of every other kind (the general path)."""

from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.services import frame_columns, frames


class Side(StrEnum):
    HOME = "home"


# --- frozen reference: how frames built a column before typed columns -------------------------------


def _reference_as_utc(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return pd.Series(pd.to_datetime(list(column), utc=True), dtype="datetime64[ns, UTC]")


def _reference_finish(rows, datetime_columns):
    frame = pd.DataFrame(rows)
    for column in datetime_columns:
        if column in frame:
            frame[column] = _reference_as_utc(frame[column])
    return frame


# --- generated values --------------------------------------------------------------------------------

_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1))
aware_utc = _times.map(lambda d: d.replace(tzinfo=UTC))
KINDS = {
    "str": st.text(max_size=3),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-100, max_value=100),
    "float": st.floats(allow_nan=True, allow_infinity=True),
    "int": st.integers(min_value=-(2**70), max_value=2**70),
    "small_int": st.integers(min_value=-5, max_value=5),
    "bool": st.booleans(),
    "none": st.none(),
    "utc": aware_utc,
    "naive": _times,
    "offset": _times.map(lambda d: d.replace(tzinfo=timezone(timedelta(hours=5)))),
    "enum": st.just(Side.HOME),
    "timestamp": aware_utc.map(pd.Timestamp),
}


@st.composite
def columns(draw, kinds=tuple(KINDS)):
    main = draw(st.sampled_from(kinds))
    n = draw(st.integers(min_value=1, max_value=8))
    values = [draw(KINDS[main]) for _ in range(n)]
    for _ in range(draw(st.integers(min_value=0, max_value=2))):  # intruders: None mostly, or any other kind
        other = draw(st.sampled_from(("none", "none", *kinds)))
        values.insert(draw(st.integers(min_value=0, max_value=len(values))), draw(KINDS[other]))
    return values


def _same_column(values, is_datetime):
    try:
        expected = pd.Series(values)
        if is_datetime:
            expected = _reference_as_utc(expected)
    except Exception as error:  # noqa: BLE001 - the typed column must refuse the same values
        with pytest.raises(type(error)):
            frame_columns.column(values, is_datetime=is_datetime)
        return
    pd.testing.assert_series_equal(frame_columns.column(values, is_datetime=is_datetime), expected, check_exact=True)


@settings(max_examples=400, deadline=None)
@given(columns())
def test_a_typed_column_is_the_column_pandas_infers(values):
    _same_column(values, False)


@settings(max_examples=300, deadline=None)
@pytest.mark.filterwarnings("ignore:Could not infer format")
@given(columns(kinds=("utc", "utc", "none", "naive", "offset", "timestamp", "str")))
def test_a_typed_time_column_is_the_utc_column_frames_made(values):
    _same_column(values, True)


@settings(max_examples=200, deadline=None)
@pytest.mark.filterwarnings("ignore:Could not infer format")
@given(st.lists(columns(), min_size=1, max_size=4), st.data())
def test_finish_builds_the_frame_pandas_built_from_the_rows(cols, data):
    n = min(len(c) for c in cols)
    names = [f"c{i}" for i in range(len(cols))]
    rows = [{name: col[i] for name, col in zip(names, cols, strict=True)} for i in range(n)]
    change = data.draw(st.sampled_from(["none", "drop", "rename"]))
    if change != "none" and n > 1:  # a row without one key, or with another: pandas' own row path (NaN there)
        value = rows[-1].pop(names[0])
        if change == "rename":
            rows[-1]["other"] = value
    dated = [name for name, col in zip(names, cols, strict=True) if data.draw(st.booleans())]
    try:
        expected = _reference_finish(rows, dated)
    except Exception as error:  # noqa: BLE001
        with pytest.raises(type(error)):
            frames._finish(rows, object, dated)
        return
    pd.testing.assert_frame_equal(frames._finish(rows, object, dated), expected, check_exact=True)


def test_utc_datetimes_become_their_nanoseconds_and_none_nat():
    at = datetime(2026, 11, 24, 17, 0, 0, 123456, tzinfo=UTC)
    column = frame_columns.column([at, None, at], is_datetime=True)
    assert str(column.dtype) == "datetime64[ns, UTC]"
    assert column[0] == pd.Timestamp(at) and column[1] is pd.NaT and column[0].nanosecond == 0


def test_an_int_beyond_int64_is_left_to_pandas():
    assert frame_columns.column([2**63]).dtype == "uint64"
    assert frame_columns.column([2**64]).dtype == object

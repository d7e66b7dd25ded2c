"""Field readers: exact decimals, strict types, RFC 3339 to aware UTC, extras."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.connectors.kalshi import KalshiResponseError
from arb_pipeline.connectors.kalshi.wire import Reader, to_datetime, to_decimal


@given(st.decimals(min_value=0, max_value=1, places=4))
def test_dollar_strings_round_trip_exactly(value):
    assert to_decimal(f"{value:.4f}", field="p", endpoint="E") == value


@pytest.mark.parametrize("bad", [0.55, 55, True, None, [], "abc", "Infinity", "sNaN"])
def test_dollar_fields_reject_non_strings_and_non_numbers(bad):
    with pytest.raises(KalshiResponseError):
        to_decimal(bad, field="yes_bid_dollars", endpoint="GET /markets")


def test_number_fields_take_ints_and_floats_exactly():
    assert to_decimal(0.07, field="m", endpoint="E", strict_string=False) == Decimal("0.07")
    assert to_decimal(2, field="m", endpoint="E", strict_string=False) == Decimal(2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-04T03:00:00Z", datetime(2026, 11, 4, 3, tzinfo=UTC)),
        ("2026-11-04T03:00:00.123456789Z", datetime(2026, 11, 4, 3, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-03T22:00:00-05:00", datetime(2026, 11, 4, 3, tzinfo=UTC)),
    ],
)
def test_rfc3339_to_aware_utc(text, expected):
    parsed = to_datetime(text, field="t", endpoint="E")
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize("bad", ["2026-11-04", "2026-11-04T03:00:00", 1793757600, "yesterday"])
def test_naive_or_non_rfc3339_datetimes_are_rejected(bad):
    with pytest.raises(KalshiResponseError, match="RFC 3339"):
        to_datetime(bad, field="close_time", endpoint="GET /markets")


def test_reader_tracks_extras_and_names_paths():
    r = Reader({"a": "x", "b": 1, "c": None}, endpoint="GET /z", path="items[3]")
    assert r.text("a") == "x" and r.extra() == {"b": 1, "c": None}
    with pytest.raises(KalshiResponseError, match=r"GET /z: field 'items\[3\].c' is null"):
        r.text("c")
    with pytest.raises(KalshiResponseError, match="'items\\[3\\].d' is missing"):
        r.dollars("d")
    assert r.opt_time("c") is None and r.opt_dollars("missing") is None


def test_shared_texts_shares_only_equal_text_dicts_in_the_same_order():
    """With a `numbers` table, equal str → str dicts (same keys in the same order) are one object; any
    other dict (a non-text value, another order) is returned as it is."""
    from arb_pipeline.connectors.kalshi.wire import Reader

    r = Reader({}, endpoint="GET /events", path="", strings={}, numbers={}, times={})
    first = r.shared_texts({"football_team": "t1", "x": "y"})
    assert r.shared_texts({"football_team": "t1", "x": "y"}) is first
    reordered = {"x": "y", "football_team": "t1"}
    assert r.shared_texts(reordered) is reordered and list(r.shared_texts(reordered)) == ["x", "football_team"]
    for value in ({"a": 1}, {"a": True}, {"a": None}, {"a": ["t1"]}):
        assert r.shared_texts(value) is value and r.shared_texts(dict(value)) is not value
    unshared = Reader({}, endpoint="GET /events", path="")  # no tables: nothing is shared
    same = {"football_team": "t1", "x": "y"}
    assert unshared.shared_texts(same) is same

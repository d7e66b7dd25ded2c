"""Exact JSON round trip of odds: Decimals are written digit for digit and read back equal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arb_pipeline.connectors.sportsbooks.jsonio import dumps_exact, loads_exact


def test_round_trip_keeps_every_digit():
    value = {"price": Decimal("1.9090909090909090909090909"), "int": -110, "float": 2.05, "nested": [
        {"ok": True, "none": None, "text": "Borussia Mönchengladbach"}], "empty": {}, "list": []}
    text = dumps_exact(value)
    back = loads_exact(text)
    assert back["price"] == Decimal("1.9090909090909090909090909") and back["float"] == Decimal("2.05")
    assert back["nested"] == value["nested"] and back["int"] == -110 and back["empty"] == {}
    assert "Mönchengladbach" in text


@pytest.mark.parametrize("bad", [Decimal("NaN"), float("nan"), {1: "x"}, object()])
def test_refuses_what_is_not_json(bad):
    with pytest.raises((ValueError, TypeError)):
        dumps_exact({"v": bad} if not isinstance(bad, dict) else bad)


def test_loads_refuses_nan_and_can_keep_floats():
    with pytest.raises(ValueError, match="NaN"):
        loads_exact('{"price": NaN}')
    assert isinstance(loads_exact("[1.5]", exact_numbers=False)[0], float)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NUMBER_TEXTS = st.from_regex(r"-?(0|[1-9][0-9]{0,3})\.[0-9]{1,6}([eE][+-]?[0-9]{1,2})?", fullmatch=True)


@given(st.lists(_NUMBER_TEXTS, max_size=12))
def test_loads_exact_reads_each_number_text_as_its_own_decimal_and_shares_equal_texts(texts):
    """The shared Decimals (one object per distinct text in a document) have exactly each text's digits
    and exponent, as `Decimal(text)` does: "1.90" and "1.9" stay different, equal texts are one object."""
    values = loads_exact("[" + ",".join(texts) + "]")
    assert [(str(v), v.as_tuple()) for v in values] == [(str(Decimal(t)), Decimal(t).as_tuple()) for t in texts]
    first = {}
    for text, value in zip(texts, values, strict=True):
        assert first.setdefault(text, value) is value

"""Exact JSON round trip of odds: Decimals are written digit for digit and read back equal."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- loads_exact's msgspec first pass reads exactly what the standard library reads --------------------


@given(st.lists(_NUMBER_TEXTS, max_size=12))
def test_shared_decimals_is_decimal_of_each_text_one_object_per_text(texts):
    """The hook itself (a dict's `__getitem__` with `__missing__`), as the streamed reader and the odds
    Structs' decoder call it: `Decimal(text)` digit for digit, equal texts one object, a fresh cache per
    hook (two documents never share)."""
    from arb_pipeline.connectors.sportsbooks.jsonio import shared_decimals

    hook, other = shared_decimals(), shared_decimals()
    values = [hook(text) for text in texts]
    assert [(str(v), v.as_tuple()) for v in values] == [(str(Decimal(t)), Decimal(t).as_tuple()) for t in texts]
    for text, value in zip(texts, values, strict=True):
        assert hook(text) is value
        assert other(text) == value
    assert json.loads("[" + ",".join(texts) + "]", parse_float=shared_decimals()) == [Decimal(t) for t in texts]


def _stdlib(text):
    """The standard library alone: what `loads_exact` returned before msgspec read first."""
    import json

    from arb_pipeline.connectors.sportsbooks.jsonio import _reject_constant, shared_decimals

    try:
        return "ok", json.loads(text, parse_float=shared_decimals(), parse_constant=_reject_constant)
    except RecursionError:
        return "error", "ValueError"
    except ValueError as exc:
        return "error", type(exc).__name__, str(exc)


def _ours(text):
    try:
        return "ok", loads_exact(text)
    except ValueError as exc:
        return "error", type(exc).__name__, str(exc)


def _typed(value):
    """The value with every leaf's type and text, so 1 vs Decimal("1") vs True and 1.9 vs 1.90 differ."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}, list(value)
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return type(value).__name__, str(value)


_NUMBER_TEXT = st.one_of(
    st.integers().map(str), st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
)
_LEAF = st.one_of(_NUMBER_TEXT, st.sampled_from(["true", "false", "null", '"é\\u00e9\\n\\"x"', '"\\ud800"', "NaN",
                                                  "01", "1.", "-", '"a\x01"', "Infinity", "1" * 4400]),
                  st.text(max_size=8).map(lambda t: json.dumps(t, ensure_ascii=False)))
_DOCUMENT = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(['"a"', '"b"', '"price"', '"é"']), inner), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{k}: {v}" for k, v in pairs) + "}")),  # repeated keys too
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(document=_DOCUMENT, wrap=st.sampled_from(["{}", " {} ", "{}x", "\ufeff{}"]), as_bytes=st.booleans())
def test_loads_exact_reads_what_the_standard_library_reads(document, wrap, as_bytes):
    text = wrap.format(document)
    text = text.encode("utf-8", "surrogatepass") if as_bytes else text
    ours, theirs = _ours(text), _stdlib(text)
    if theirs[0] == "ok":
        assert ours[0] == "ok" and _typed(ours[1]) == _typed(theirs[1])
    else:
        assert ours[:2] == theirs[:2]


def test_loads_exact_reads_a_str_subclass_like_its_text():
    class Text(str):
        __slots__ = ()

    assert _typed(loads_exact(Text('{"a": [1.90, 2, "x"]}'))) == _typed(loads_exact('{"a": [1.90, 2, "x"]}'))

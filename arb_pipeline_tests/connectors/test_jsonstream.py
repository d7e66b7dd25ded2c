"""The streaming reader of a top-level object: exactly `json.loads`' values, or `NotStreamable`."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.connectors.jsonstream import NotStreamable, stream_members, text_chunks

STREAMED = frozenset(("items", "more"))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                      max_leaves=12)
documents = st.dictionaries(st.sampled_from(["items", "more", "cursor", "a", "b\u00e9", ""]),
                            st.one_of(values, st.lists(values, max_size=6)), max_size=5)


def pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def rebuilt(chunks, streamed=STREAMED) -> dict:
    """The document put back together from what `stream_members` yields."""
    out: dict = {}
    for key, i, value in stream_members(chunks, streamed):
        if i < 0:
            assert key not in out
            out[key] = value
        else:
            assert i == len(out.setdefault(key, []))
            out[key].append(value)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, indent=st.sampled_from([None, 0, 2]), size=st.integers(1, 64))
def test_streamed_members_equal_json_loads_at_every_chunk_size(document, indent, size):
    streamable = all(isinstance(document[k], list) for k in STREAMED & document.keys())
    text = json.dumps(document, indent=indent)
    if not streamable:
        with pytest.raises(NotStreamable):
            rebuilt(pieces(text, size))
        return
    assert rebuilt(pieces(text, size)) == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(document=documents, cut=st.integers(0, 10_000), size=st.integers(1, 64))
def test_a_truncated_or_altered_document_is_never_streamed_into_something_else(document, cut, size):
    """Every prefix of a document that json.loads refuses is refused here too (never a partial result)."""
    text = json.dumps(document)
    prefix = text[:cut % (len(text) + 1)]
    try:
        expected = json.loads(prefix)
    except json.JSONDecodeError:
        expected = None
    try:
        got = rebuilt(pieces(prefix, size))
    except NotStreamable:
        return
    assert expected is not None and got == expected


@pytest.mark.parametrize("text", [
    '{"items": [1, 2], "items": [3]}',  # json.loads keeps the last: the checked path decides
    '{"items": {"a": 1}}',  # a streamed member that is not an array
    '\ufeff{"items": []}',  # a byte-order mark (json.loads refuses it)
    '[1, 2]', '', '   ', '{"items": [1, 2]} x', '{"items": [1 2]}', '{"a": 1 "b": 2}', '{"a": NaN}',
    '{"items": [Infinity]}', '{"a": tru}', '{"a": 1,}', '{"items": [1,]}', '{1: 2}',
])
def test_anything_but_the_plain_shape_is_not_streamable(text):
    with pytest.raises(NotStreamable):
        for size in (1, 3, len(text) or 1):
            rebuilt(pieces(text, size))


def test_a_number_cut_by_a_chunk_boundary_is_read_whole():
    assert rebuilt(["{\"a\": 12", "345, \"items\": [6", "7, tr", "ue]}"]) == {"a": 12345, "items": [67, True]}


def test_an_empty_streamed_array_is_reported_present():
    assert list(stream_members(['{"items": [], "cursor": ""}'], STREAMED)) == [("items", -1, []), ("cursor", -1, "")]


def test_text_chunks_reads_until_the_end():
    data = iter(["ab", "c", ""])
    assert list(text_chunks(lambda size: next(data), 2)) == ["ab", "c"]


@pytest.mark.parametrize("indent", [None, 1])
def test_items_are_yielded_as_the_text_is_read_not_after_reading_it_all(indent):
    """The point of streaming: by the time item i is yielded, only the chunks up to (a little past) it
    have been read. A value must not wait for the whole text (e.g. a key, which ':' follows)."""
    document = {"cursor": "", "items": [{"n": n, "pad": "x" * 50} for n in range(200)], "more": [1.5, 2]}
    text = json.dumps(document, indent=indent)
    size = 16
    read = []

    def chunks():
        for piece in pieces(text, size):
            read.append(piece)
            yield piece

    for key, i, value in stream_members(chunks(), STREAMED):
        if key == "items":
            consumed = sum(map(len, read))
            assert value["n"] == i
            assert consumed <= text.index(f'"n": {i},') + 100 + 2 * size  # this item's end, plus a chunk
    assert "".join(read) == text

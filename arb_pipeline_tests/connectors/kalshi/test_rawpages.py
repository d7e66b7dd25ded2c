"""A capture's Kalshi pages kept as received: the merged files mean what the decoded-and-merged pages
meant, the facts read before parsing are the old ones, and anything unexpected is read the checked way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.connectors.kalshi import models
from arb_pipeline.connectors.kalshi.client import merge_events_payloads
from arb_pipeline.connectors.kalshi.errors import KalshiResponseError
from arb_pipeline.connectors.kalshi.rawpages import (
    _checked_events_page,
    books_file,
    merge_events_pages,
    read_books_page,
    read_events_page,
)
from arb_pipeline.connectors.kalshi.targets import target_ids_in_events_payload
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR


def _series_pages(directory: Path, per_page: int) -> list[dict]:
    """The recorded events split into `per_page`-event pages, each with every milestone (pages repeat
    them, as per-series responses do), as separate responses."""
    whole = json.loads((directory / "kalshi_events.json").read_bytes())
    events, milestones = whole["events"], whole.get("milestones") or []
    return [{"events": events[i:i + per_page], "milestones": milestones, "cursor": f"c{i}"}
            for i in range(0, len(events), per_page)]


def _old_facts(merged: dict) -> tuple[list[str], set, list[str]]:
    """What services.ingest.capture read from the decoded merge before this module."""
    tickers = list(dict.fromkeys(m["ticker"] for e in merged["events"] for m in e.get("markets", []) if "ticker" in m))
    return tickers, {e.get("series_ticker") for e in merged["events"]}, target_ids_in_events_payload(merged)


@pytest.mark.parametrize("where", ["sample", "generated"])
@pytest.mark.parametrize("indent", [None, 2])
def test_merged_pages_mean_what_the_decoded_merge_meant(generated, where, indent):
    directory = SAMPLE_SNAPSHOT_DIR if where == "sample" else generated
    pages = _series_pages(directory, per_page=7)
    bodies = [json.dumps(page, indent=indent, ensure_ascii=False).encode() for page in pages]
    read = [read_events_page(body) for body in bodies]
    assert [page.cursor for page in read] == [page["cursor"] for page in pages]
    merged = merge_events_pages(read)
    expected = merge_events_payloads(pages)
    assert json.loads(merged.text) == expected
    assert (merged.tickers, merged.series, merged.target_ids) == _old_facts(expected)
    assert merged.tickers and merged.target_ids is not None
    # the checked fallback keeps the same meaning and facts
    checked = merge_events_pages(_checked_events_page(body, models.EVENTS) for body in bodies)
    assert json.loads(checked.text) == expected
    assert (checked.tickers, checked.series, checked.target_ids) == (merged.tickers, merged.series, merged.target_ids)


def test_an_event_is_kept_byte_for_byte_with_its_own_spelling():
    page = {"events": [{"event_ticker": "E1", "series_ticker": "S", "title": "Atlético – Müller",
                        "markets": [{"ticker": "T1", "yes_ask_dollars": "0.5600"}]}], "milestones": []}
    body = json.dumps(page, ensure_ascii=False, indent=1).encode()
    read = read_events_page(body)
    assert read.events[0] in body and "Atlético – Müller".encode() in read.events[0]  # as sent: spacing too
    assert json.loads(read.events[0]) == page["events"][0]
    assert json.loads(merge_events_pages([read]).text)["events"] == page["events"]


@pytest.mark.parametrize(("body", "message"), [
    (b'{"events": [', "malformed JSON"),
    (b'{"events": [{"markets": []}]}\xff', "malformed JSON"),
    ('{"events": [{"title": "caf\u00e9"}]}'.encode("latin-1"), "malformed JSON"),  # not UTF-8
    (b'{"events": {"x": 1}}', None),
    (b'{"events": [{"event_ticker": "E", "series_ticker": "S", "markets": [{"ticker": 5}]}]}', None),
    (b'[]', None),
])
def test_a_malformed_page_raises_the_checked_error(body, message):
    with pytest.raises(KalshiResponseError) as raised:
        read_events_page(body)
    if message is None:  # the models' own message for this payload
        with pytest.raises(KalshiResponseError) as checked:
            models.parse_events_response(json.loads(body), endpoint=models.EVENTS)
        assert str(raised.value) == str(checked.value)
    else:
        assert message in str(raised.value)


def test_books_merge_in_the_asked_order_and_mean_the_decoded_books(generated):
    whole = json.loads((generated / "kalshi_orderbooks.json").read_bytes())["orderbooks"]
    bodies = [json.dumps({"orderbooks": whole[i:i + 9]}).encode() for i in range(0, len(whole), 9)]
    items = [item for body in bodies for item in read_books_page(body).books]
    assert [ticker for ticker, _ in items] == [book["ticker"] for book in whole]
    assert json.loads(books_file(items)) == {"orderbooks": whole}
    with pytest.raises(KalshiResponseError) as raised:
        read_books_page(b'{"orderbooks": [{"orderbook_fp": {}}]}')
    with pytest.raises(KalshiResponseError) as checked:
        models.parse_orderbooks_response({"orderbooks": [{"orderbook_fp": {}}]})
    assert str(raised.value) == str(checked.value)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(title=_text, strike=st.dictionaries(st.sampled_from(["team", "player"]), _text, max_size=2),
       price=st.decimals(min_value="0.0001", max_value="0.9999", places=4).map(str))
def test_any_text_and_price_spelling_survives_the_splice(title, strike, price):
    event = {"event_ticker": "E1", "series_ticker": "S", "title": title,
             "markets": [{"ticker": "T1", "custom_strike": strike, "yes_ask_dollars": price}]}
    page = {"events": [event], "milestones": [{"id": "m1", "details": {"home_team_id": title}}], "cursor": ""}
    body = json.dumps(page, ensure_ascii=False).encode()
    merged = merge_events_pages([read_events_page(body)])
    assert json.loads(merged.text) == merge_events_payloads([page])
    assert merged.target_ids == target_ids_in_events_payload(page)

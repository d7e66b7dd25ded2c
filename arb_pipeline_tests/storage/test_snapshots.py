from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Snapshot
from arb_pipeline.storage.repositories import SnapshotRepository
from arb_pipeline.storage.repositories.snapshots import AppendOnlyViolation

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
EVENTS = {"events": [{"event_ticker": "KXNBAGAME-26NOV24BOSNYK", "markets": []}], "cursor": ""}
BOOKS = {"orderbooks": [{"ticker": "X", "orderbook_fp": {"yes_dollars": [["0.4500", "10.00"]]}}]}


def test_append_and_between_return_payloads_verbatim(session_factory):
    with session_scope(session_factory) as s:
        repo = SnapshotRepository(s)
        ids = [repo.append(captured_at=T0 + timedelta(hours=h), source="sim", stored_at=T0,
                           payloads={"kalshi_events.json": EVENTS, "kalshi_orderbooks.json": BOOKS}) for h in range(5)]
    with session_scope(session_factory) as s:
        window = SnapshotRepository(s).between(T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert [w.id for w in window] == ids[1:3]  # end is exclusive
    assert {name: window[0].json(name) for name in window[0].payloads} == {
        "kalshi_events.json": EVENTS, "kalshi_orderbooks.json": BOOKS}
    assert window[0].captured_at == T0 + timedelta(hours=1)


def test_iter_between_pages_through_ties_in_order(session_factory):
    with session_scope(session_factory) as s:
        repo = SnapshotRepository(s)
        ids = [repo.append(captured_at=T0, source="sim", stored_at=T0, payloads={"a.json": {"i": i}}) for i in range(7)]
    with session_scope(session_factory) as s:
        got = [snap.id for snap in SnapshotRepository(s).iter_between(T0, T0 + timedelta(seconds=1), batch=3)]
    assert got == ids


def test_snapshots_are_append_only(session_factory):
    with session_scope(session_factory) as s:
        snap_id = SnapshotRepository(s).append(captured_at=T0, source="sim", stored_at=T0, payloads={"a.json": {}})
    with pytest.raises(AppendOnlyViolation):
        with session_scope(session_factory) as s:
            s.get(Snapshot, snap_id).source = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        with session_scope(session_factory) as s:
            s.delete(s.get(Snapshot, snap_id))


@pytest.mark.parametrize("payloads", [{}, {"../x.json": {}}, {".hidden": {}}, {"a.json": "{not json"},
                                      {"a.json": {"odds": Decimal("1.10")}}])
def test_bad_payload_names_are_refused(session_factory, payloads):
    with session_scope(session_factory) as s, pytest.raises(ValueError):
        SnapshotRepository(s).append(captured_at=T0, source="sim", stored_at=T0, payloads=payloads)


def test_append_directory_keeps_the_raw_text(session_factory, tmp_path):
    src = tmp_path / "snap"
    src.mkdir()
    raw = '[{"id": "e1", "price": 1.10, "long": 7.123456789012345678}]'
    (src / "kalshi_events.json").write_text('{"events": [], "cursor": ""}')
    (src / "odds_basketball_nba.json").write_text(raw)
    with session_scope(session_factory) as s:
        snap_id = SnapshotRepository(s).append_directory(src, captured_at=T0, stored_at=T0)
    with session_scope(session_factory) as s:
        stored = SnapshotRepository(s).get(snap_id)
    assert sorted(stored.payloads) == ["kalshi_events.json", "odds_basketball_nba.json"]
    assert stored.payloads["odds_basketball_nba.json"] == raw  # byte for byte: 1.10 stays 1.10
    assert stored.source == str(src)


def test_append_directory_takes_capture_time_from_meta(session_factory, tmp_path):
    (tmp_path / "meta.json").write_text('{"captured_at": "2026-11-24T05:00:00Z", "source": "sim"}')
    with session_scope(session_factory) as s:
        repo = SnapshotRepository(s)
        stored = repo.get(repo.append_directory(tmp_path, stored_at=T0))
        with pytest.raises(ValueError, match="differs"):
            repo.append_directory(tmp_path, captured_at=T0, stored_at=T0)
    assert stored.captured_at == T0 + timedelta(hours=5) and stored.source == "sim"


def test_text_is_checked_as_json_unless_its_producer_already_decoded_it(session_factory):
    from arb_pipeline.storage.repositories.snapshots import DecodedJson

    with session_scope(session_factory) as s, pytest.raises(ValueError, match=r"'a.json' is not valid JSON"):
        SnapshotRepository(s).append(captured_at=T0, source="sim", stored_at=T0, payloads={"a.json": '{"i": 1'})
    # a capture's texts were decoded in full by its parser: kept verbatim, not decoded a second time
    text = '{"odds": 1.9100, "x": [1, 2]}'
    with session_scope(session_factory) as s:
        snap_id = SnapshotRepository(s).append(captured_at=T0, source="sim", stored_at=T0,
                                               payloads={"a.json": DecodedJson(text)})
    with session_scope(session_factory) as s:
        (stored,) = SnapshotRepository(s).between(T0, T0 + timedelta(seconds=1))
    assert stored.id == snap_id and stored.payloads == {"a.json": text} and type(stored.payloads["a.json"]) is str

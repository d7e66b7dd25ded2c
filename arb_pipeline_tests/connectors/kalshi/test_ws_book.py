"""The local websocket books: exact Decimal levels, seq gaps, stale books, bad messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.connectors.kalshi.ws_book import BookStore, SequenceGap, WireError

MID = "0d1b7a1e-7c52-4f0e-9d52-3d0c6c7a4b11"


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def snapshot(sid: int, seq: int, ticker: str = "T1", yes=(("0.5400", "1200.00"),), no=(("0.4500", "800.00"),)):
    msg: dict[str, object] = {"market_ticker": ticker, "market_id": MID}
    if yes:
        msg["yes_dollars_fp"] = [list(level) for level in yes]
    if no:
        msg["no_dollars_fp"] = [list(level) for level in no]
    return {"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg}


def delta(sid: int, seq: int, price: str, amount: str, side: str = "yes", ticker: str = "T1"):
    return {"type": "orderbook_delta", "sid": sid, "seq": seq,
            "msg": {"market_ticker": ticker, "market_id": MID, "price_dollars": price, "delta_fp": amount,
                    "side": side, "ts_ms": 1793757600456}}


@pytest.fixture
def store() -> BookStore:
    s = BookStore(Clock())
    s.open_subscription(7)
    return s


def test_snapshot_then_deltas_keep_exact_decimal_levels(store):
    assert store.apply(snapshot(7, 1)) == "T1"
    store.apply(delta(7, 2, "0.5400", "-200.00"))
    store.apply(delta(7, 3, "0.5500", "10.50"))
    store.apply(delta(7, 4, "0.4500", "-800.00", side="no"))
    book = store.get("T1")
    assert book.yes == {Decimal("0.54"): Decimal("1000.00"), Decimal("0.55"): Decimal("10.50")}
    assert book.no == {}  # a level that reaches 0 is removed
    levels = book.levels()
    assert levels.yes == ((Decimal("0.5400"), Decimal("1000.00")), (Decimal("0.5500"), Decimal("10.50")))
    assert all(isinstance(v, Decimal) for pair in levels.yes for v in pair)


def test_a_side_missing_from_the_snapshot_is_empty(store):
    store.apply(snapshot(7, 1, yes=(), no=(("0.3000", "5.00"),)))
    assert store.get("T1").yes == {}


def test_a_skipped_seq_is_a_gap_naming_the_subscription(store):
    store.apply(snapshot(7, 1))
    with pytest.raises(SequenceGap) as gap:
        store.apply(delta(7, 3, "0.5400", "1.00"))
    assert (gap.value.sid, gap.value.expected, gap.value.got) == (7, 2, 3)
    assert store.gaps == 1


def test_a_repeated_seq_is_a_gap_too(store):
    store.apply(snapshot(7, 1))
    store.apply(delta(7, 2, "0.5400", "1.00"))
    with pytest.raises(SequenceGap):
        store.apply(delta(7, 2, "0.5400", "1.00"))


def test_a_delta_below_zero_means_the_book_is_not_known(store):
    store.apply(snapshot(7, 1))
    with pytest.raises(SequenceGap, match="would go to"):
        store.apply(delta(7, 2, "0.5400", "-1200.01"))
    assert store.get("T1") is None


def test_a_delta_before_any_snapshot_is_a_gap(store):
    with pytest.raises(SequenceGap, match="before its snapshot"):
        store.apply(delta(7, 1, "0.5400", "1.00"))


def test_messages_of_a_closed_subscription_are_ignored(store):
    store.apply(snapshot(7, 1))
    assert store.close_subscription(7) == ["T1"]
    assert store.apply(delta(7, 2, "0.5400", "1.00")) is None
    assert store.get("T1") is None


def test_bad_messages_say_what_and_where(store):
    with pytest.raises(WireError, match=r"orderbook_snapshot T1 \(sid 7 seq 1\) yes_dollars_fp\[0\] price"):
        store.apply(snapshot(7, 1, yes=(("1.2000", "1.00"),)))
    store.open_subscription(8)
    with pytest.raises(WireError, match="`seq` must be an integer"):
        store.apply({"type": "orderbook_delta", "sid": 8, "seq": "2", "msg": {}})
    store.apply(snapshot(8, 1, ticker="T2"))
    with pytest.raises(WireError, match="side"):
        store.apply(delta(8, 2, "0.5400", "1.00", side="maybe", ticker="T2"))


def test_books_go_stale_when_their_subscription_goes_quiet():
    clock = Clock()
    store = BookStore(clock)
    store.open_subscription(1)
    store.open_subscription(2)
    store.apply(snapshot(1, 1, ticker="A"))
    store.apply(snapshot(2, 1, ticker="B"))
    store.apply(snapshot(2, 2, ticker="Q"))
    clock.t += 5
    store.apply(delta(2, 3, "0.5400", "1.00", ticker="B"))
    clock.t += 6
    # A's subscription said nothing for 11 s; Q is quiet but its subscription is alive; C never had a book
    assert store.stale(10.0, ["A", "B", "C", "Q"]) == ["A", "C"]


@given(st.lists(st.tuples(st.sampled_from(["yes", "no"]), st.integers(1, 99), st.integers(-500, 500)),
                max_size=60))
def test_any_delta_sequence_matches_a_plain_ledger(steps):
    store = BookStore(Clock())
    store.open_subscription(1)
    store.apply(snapshot(1, 1, yes=(), no=()))
    ledger: dict[tuple[str, Decimal], Decimal] = {}
    seq = 1
    for side, cents, hundredths in steps:
        price = Decimal(cents) / 100
        amount = Decimal(hundredths) / 100
        if ledger.get((side, price), Decimal(0)) + amount < 0:
            continue  # the exchange never sends such a delta
        seq += 1
        store.apply(delta(1, seq, f"{price:.4f}", f"{amount:.2f}", side=side))
        ledger[(side, price)] = ledger.get((side, price), Decimal(0)) + amount
    book = store.get("T1")
    want_yes = {p: c for (s, p), c in ledger.items() if s == "yes" and c != 0}
    want_no = {p: c for (s, p), c in ledger.items() if s == "no" and c != 0}
    assert (book.yes, book.no) == (want_yes, want_no)


def test_a_retired_market_keeps_no_book_but_its_seq_still_counts(store):
    store.apply(snapshot(7, 1, "T1"))
    store.apply(snapshot(7, 2, "T2"))
    store.retire("T1")
    assert store.get("T1") is None and store.stale(10.0, ["T1", "T2"]) == []  # finished, not stale
    assert store.apply(delta(7, 3, "0.5400", "5.00", ticker="T1")) is None  # ignored, no gap
    assert store.apply(snapshot(7, 4, "T1")) is None and store.get("T1") is None  # a re-snapshot neither
    assert store.apply(delta(7, 5, "0.5400", "5.00", ticker="T2")) == "T2" and store.gaps == 0
    with pytest.raises(SequenceGap):
        store.apply(delta(7, 7, "0.5400", "5.00", ticker="T1"))  # a gap is still a gap

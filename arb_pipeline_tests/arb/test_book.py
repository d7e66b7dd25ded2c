import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.arb.book import InsufficientDepth, Level, OffGrid, OrderBook, check_on_grid, joint_max_size
from arb_pipeline.arb.fees import kalshi_fee
from arb_pipeline.domain import ContractSide, OrderBookLevels, PriceRange

D = Decimal
DOC_EXAMPLE = {"yes_dollars": [["0.5200", "300.00"], ["0.5300", "120.00"], ["0.5400", "1200.00"]],
               "no_dollars": [["0.4400", "500.00"], ["0.4500", "800.00"]]}


def test_asks_from_bids_doc_example():
    book = OrderBook.from_orderbook_fp("KX-A", DOC_EXAMPLE)
    assert book.yes_asks[0] == Level(D("0.55"), D("800"))
    assert book.yes_asks[1] == Level(D("0.56"), D("500"))
    assert book.no_asks[0] == Level(D("0.46"), D("1200"))
    assert [lv.price for lv in book.no_asks] == [D("0.46"), D("0.47"), D("0.48")]
    assert book.best_yes_f == 0.55 and book.best_no_f == 0.46


def test_sort_order_not_assumed_and_missing_key_is_empty():
    reversed_payload = {"yes_dollars": list(reversed(DOC_EXAMPLE["yes_dollars"]))}
    book = OrderBook.from_orderbook_fp("KX-A", reversed_payload)
    assert book.no_asks[0].price == D("0.46")
    assert book.yes_asks == () and book.best_ask(ContractSide.YES) is None
    with pytest.raises(InsufficientDepth, match="KX-A yes: wanted 1"):
        book.walk(ContractSide.YES, 1)


def test_from_levels_matches_fp():
    levels = OrderBookLevels("KX-A", yes=((D("0.52"), D("300")),), no=((D("0.44"), D("500")),))
    book = OrderBook.from_levels(levels)
    assert book.yes_asks == (Level(D("0.56"), D("500")),)
    assert book.no_asks == (Level(D("0.48"), D("300")),)


@pytest.mark.parametrize(("payload", "match"), [
    ({"yes_dollars": [["0.50", "-1"]]}, "count must be >= 0"),
    ({"yes_dollars": [["1.00", "5"]]}, "strictly between 0 and 1"),
    ({"no_dollars": [["0", "5"]]}, "strictly between 0 and 1"),
    ({"yes_dollars": [["0.50", "5"], ["0.50", "7"]]}, "duplicate price level"),
    ({"yes_dollars": [["0.50"]]}, r"yes_dollars\[0\]"),
    ({"yes_dollars": [["abc", "5"]]}, "price"),
    ({"yes_dollars": "0.5"}, "list"),
])
def test_malformed_books(payload, match):
    with pytest.raises(ValueError, match=match):
        OrderBook.from_orderbook_fp("KX-A", payload)


def test_walk_vwap_fee_and_cost():
    book = OrderBook.from_orderbook_fp("KX-A", DOC_EXAMPLE)
    fill = book.walk(ContractSide.YES, D(1000))
    assert [(lf.price, lf.contracts) for lf in fill.levels] == [(D("0.55"), D(800)), (D("0.56"), D(200))]
    assert fill.notional == D("440") + D("112")
    assert fill.vwap == D("0.552")
    # per-level trade fees 13.86 + 3.4496 = 17.3096 → one order → 17.31
    assert fill.fee == D("17.31")
    assert fill.total_cost == D("569.31")
    one_level = book.walk(ContractSide.YES, 100)
    assert one_level.fee == kalshi_fee(100, D("0.55"))
    with pytest.raises(InsufficientDepth):
        book.walk(ContractSide.YES, 1301)
    with pytest.raises(ValueError, match="contracts must be > 0"):
        book.walk(ContractSide.YES, 0)


def test_max_size_with_edge():
    book = OrderBook.from_orderbook_fp("KX-A", DOC_EXAMPLE)
    # YES asks 0.55 x800, 0.56 x500; marginal cost 0.55+0.07*.55*.45=0.567325, 0.56 → 0.577248
    assert book.max_size_with_edge(ContractSide.YES, D("0.60"), D("0.03")) == D(800)
    assert book.max_size_with_edge(ContractSide.YES, D("0.60"), D("0.02")) == D(1300)
    assert book.max_size_with_edge(ContractSide.YES, D("0.58"), D("0.02")) == D(0)
    assert book.max_size_with_edge(ContractSide.YES, lambda done: D("0.60") if done < 500 else D("0.5"),
                                   D("0.0")) == D(800)


def test_joint_max_size_merges_level_boundaries_and_budget():
    a = [Level(D("0.40"), D(100)), Level(D("0.45"), D(100))]
    b = [Level(D("0.50"), D(150)), Level(D("0.55"), D(100))]
    # unit costs (rate 0): 0.90 to 100, 0.95 to 150, 1.00 beyond
    assert joint_max_size([(a, D(0)), (b, D(0))], D(1), D("0.04")) == D(150)
    assert joint_max_size([(a, D(0)), (b, D(0))], D(1), D("0.06")) == D(100)
    assert joint_max_size([(a, D(0)), (b, D(0))], D(1), D("-1"), budget=D("99.5")) == D(110)


def test_tick_grid():
    linear = (PriceRange(D("0"), D("1"), D("0.01")),)
    tapered = (PriceRange(D("0"), D("0.10"), D("0.001")), PriceRange(D("0.10"), D("0.90"), D("0.01")),
               PriceRange(D("0.90"), D("1"), D("0.001")))
    assert check_on_grid(D("0.55"), linear) == D("0.55")
    assert check_on_grid(D("0.055"), tapered) == D("0.055")
    assert check_on_grid(D("0.50"), tapered) == D("0.50")
    for price, grid in ((D("0.555"), linear), (D("0.505"), tapered), (D("1.5"), linear)):
        with pytest.raises(OffGrid, match=str(price)):
            check_on_grid(price, grid)
    with pytest.raises(OffGrid, match="no price_ranges"):
        check_on_grid(D("0.5"), ())


levels = st.lists(st.tuples(st.integers(1, 99), st.integers(1, 500)), min_size=1, max_size=8,
                  unique_by=lambda t: t[0])


@given(levels, st.integers(1, 4000))
def test_walk_properties(no_bids, wanted):
    book = OrderBook.from_orderbook_fp("KX", {"no_dollars": [[str(D(p) / 100), str(c)] for p, c in no_bids]})
    depth = sum(c for _, c in no_bids)
    if wanted > depth:
        with pytest.raises(InsufficientDepth):
            book.walk(ContractSide.YES, wanted)
        return
    fill = book.walk(ContractSide.YES, wanted)
    assert sum(lf.contracts for lf in fill.levels) == wanted
    assert fill.levels[0].price == book.best_ask(ContractSide.YES)
    assert book.best_ask(ContractSide.YES) <= fill.vwap <= fill.levels[-1].price
    # independent recomputation in exact rationals: each level's fee up to $0.0001, the order up to the cent
    ten_thousandths = sum(math.ceil(Fraction(7, 100) * Fraction(lf.contracts) * Fraction(lf.price)
                                    * (1 - Fraction(lf.price)) * 10_000) for lf in fill.levels)
    assert fill.fee == Decimal(math.ceil(Fraction(ten_thousandths, 100))) / 100
    assert fill.total_cost == sum(lf.price * lf.contracts for lf in fill.levels) + fill.fee


def test_crossed_book_is_detected():
    ok = OrderBook.from_orderbook_fp("KX", {"yes_dollars": [["0.40", "5"]], "no_dollars": [["0.55", "5"]]})
    crossed = OrderBook.from_orderbook_fp("KX", {"yes_dollars": [["0.46", "5"]], "no_dollars": [["0.55", "5"]]})
    assert not ok.crossed and crossed.crossed
    assert not OrderBook.from_orderbook_fp("KX", {"yes_dollars": [["0.46", "5"]]}).crossed


# --- from_levels: the parser's exact levels, not parsed again ----------------------------------

_PRICE = st.one_of(st.integers(-5, 105).map(lambda c: Decimal(c) / 100), st.sampled_from([Decimal("NaN"), Decimal("Infinity")]))
_COUNT = st.one_of(st.integers(-3, 500).map(Decimal), st.just(Decimal("0")), st.just(Decimal("NaN")))
_LEVELS = st.lists(st.tuples(_PRICE, _COUNT), max_size=6).map(tuple)


def _full_parse(levels: OrderBookLevels):
    from arb_pipeline.arb.book import _parse_levels

    return OrderBook.from_bids(levels.ticker, _parse_levels(levels.ticker, "yes", levels.yes),
                               _parse_levels(levels.ticker, "no", levels.no))


def _outcome(build, levels):
    try:
        return build(levels)
    except ValueError as exc:
        return ("error", str(exc))


@given(_LEVELS, _LEVELS)
def test_from_levels_equals_the_full_parse_on_any_levels(yes, no):
    """The one-pass path gives the same book (or the same error) as parsing every level again."""
    levels = OrderBookLevels("KX-T", yes, no)
    fast, full = _outcome(OrderBook.from_levels, levels), _outcome(_full_parse, levels)
    assert fast == full
    if isinstance(fast, OrderBook):
        assert (fast.best_yes_f, fast.best_no_f) == (full.best_yes_f, full.best_no_f) or (
            math.isnan(fast.best_yes_f) or math.isnan(fast.best_no_f))


def test_from_levels_shares_complements_but_keeps_each_price_exactly_as_written():
    """Asks of books built from the same price objects share `1 - price`; an equal price written with
    other digits still gets its own exact complement (its digits are kept, never swapped for another's)."""
    count = Decimal("10")
    for _ in range(2):  # a second scan's parse brings new price objects: they share among themselves too
        price = Decimal("0.5400")
        first = OrderBook.from_levels(OrderBookLevels("A", yes=((price, count),), no=()))
        second = OrderBook.from_levels(OrderBookLevels("B", yes=((price, count),), no=()))
        assert first.no_asks[0].price is second.no_asks[0].price
        other = OrderBook.from_levels(OrderBookLevels("C", yes=((Decimal("0.54"), count),), no=()))
        assert str(first.no_asks[0].price) == "0.4600" and str(other.no_asks[0].price) == "0.46"


def test_from_levels_shares_equal_levels_but_keeps_each_count_exactly_as_written():
    """Books built from the same price and count objects share their (immutable) ask `Level`s; a count
    equal in value but written with other digits keeps its own digits (never another book's)."""
    for _ in range(2):  # a second scan's parse brings new objects: they share among themselves too
        price, count = Decimal("0.5400"), Decimal("10")
        first = OrderBook.from_levels(OrderBookLevels("A", yes=((price, count),), no=()))
        second = OrderBook.from_levels(OrderBookLevels("B", yes=((price, count),), no=()))
        assert first.no_asks[0] is second.no_asks[0]
        other = OrderBook.from_levels(OrderBookLevels("C", yes=((price, Decimal("10.00")),), no=()))
        assert other.no_asks[0] == first.no_asks[0] and other.no_asks[0] is not first.no_asks[0]
        assert str(other.no_asks[0].size) == "10.00" and str(first.no_asks[0].size) == "10"
        assert first.no_asks[0].size is count and first.no_asks[0].price is second.no_asks[0].price


# --- books_from_levels: many records at once, equal to from_levels one by one ------------------

_RECORDS = st.lists(st.tuples(_LEVELS, _LEVELS), max_size=5)


def _shared(records):
    """Records whose equal-text levels are one tuple object, as the Kalshi parser shares them."""
    pool: dict[tuple[str, str], tuple] = {}

    def share(side):
        return tuple(pool.setdefault((str(p), str(c)), (p, c)) for p, c in side)

    return {f"KX-{i}": OrderBookLevels(f"KX-{i}", share(yes), share(no)) for i, (yes, no) in enumerate(records)}


@given(_RECORDS, st.booleans())
def test_books_from_levels_equals_from_levels_record_by_record(records, shared):
    """Every book it builds is `from_levels`' book (same levels, same digits, same float mirrors); what it
    leaves out is exactly what `from_levels` refuses, or everything when any level is bad."""
    from arb_pipeline.arb.book_batch import books_from_levels

    given_records = _shared(records) if shared else {
        f"KX-{i}": OrderBookLevels(f"KX-{i}", yes, no) for i, (yes, no) in enumerate(records)}
    books = books_from_levels(given_records)
    expected = {key: _outcome(OrderBook.from_levels, levels) for key, levels in given_records.items()}
    for key, book in books.items():
        assert book == expected[key]
        assert [(str(lv.price), str(lv.size)) for lv in book.yes_asks + book.no_asks] == [
            (str(lv.price), str(lv.size)) for lv in expected[key].yes_asks + expected[key].no_asks]
        assert repr((book.best_yes_f, book.best_no_f)) == repr((expected[key].best_yes_f, expected[key].best_no_f))
    refused = {key for key, outcome in expected.items() if not isinstance(outcome, OrderBook)}
    assert not refused & books.keys()
    if not refused:  # all good: nothing is left for the checked path but a repeated price (even of count 0,
        # which `from_levels` accepts): those are left out as documented
        assert books.keys() == given_records.keys() - _with_repeated_price(given_records)


def _with_repeated_price(records):
    return {key for key, levels in records.items()
            if any(len({p for p, _ in side}) != len(side) for side in (levels.yes, levels.no))}


def test_books_from_levels_keeps_each_pairs_own_digits():
    """Equal pairs written with other digits are different objects: each book keeps its own digits."""
    from arb_pipeline.arb.book_batch import books_from_levels

    books = books_from_levels({
        "A": OrderBookLevels("A", yes=((Decimal("0.5400"), Decimal("10")),), no=()),
        "B": OrderBookLevels("B", yes=((Decimal("0.54"), Decimal("10.00")),), no=()),
    })
    assert [str(books["A"].no_asks[0].price), str(books["A"].no_asks[0].size)] == ["0.4600", "10"]
    assert [str(books["B"].no_asks[0].price), str(books["B"].no_asks[0].size)] == ["0.46", "10.00"]


def test_books_from_levels_leaves_bad_records_to_the_checked_path():
    from arb_pipeline.arb.book_batch import books_from_levels

    good = OrderBookLevels("G", yes=((Decimal("0.40"), Decimal("5")),), no=((Decimal("0.55"), Decimal("3")),))
    repeated = OrderBookLevels("R", yes=((Decimal("0.40"), Decimal("5")), (Decimal("0.4"), Decimal("1"))), no=())
    assert books_from_levels({"G": good, "R": repeated}).keys() == {"G"}
    out_of_range = OrderBookLevels("X", yes=((Decimal("1.40"), Decimal("5")),), no=())
    assert books_from_levels({"G": good, "X": out_of_range}) == {}
    as_lists = OrderBookLevels("L", yes=[[Decimal("0.40"), Decimal("5")]], no=())  # type: ignore[arg-type]
    assert books_from_levels({"G": good, "L": as_lists}) == {}


_GOOD_PRICE = st.integers(1, 99).flatmap(lambda c: st.sampled_from([Decimal(c) / 100, Decimal(f"{c / 100:.4f}")]))
_GOOD_COUNT = st.integers(0, 50).flatmap(lambda n: st.sampled_from([Decimal(n), Decimal(f"{n}.00")]))
_GOOD_LEVELS = st.lists(st.tuples(_GOOD_PRICE, _GOOD_COUNT), max_size=8).map(tuple)


@given(st.lists(st.tuples(_GOOD_LEVELS, _GOOD_LEVELS), min_size=1, max_size=12), st.booleans(), st.randoms())
def test_books_from_levels_on_valid_levels_builds_every_book_from_levels_builds(records, shared, rnd):
    """The batch path itself (every level valid, so nothing falls back): zero counts, equal prices written
    with other digits, repeated prices on one side, pairs shared or not, records given in any order (the
    batch walks them in memory order). Each book is `from_levels`' own, down to the digits and the float
    mirrors, under its own key and in the given order; a record with a repeated price is left out
    (`from_levels` refuses it, or accepts it when the repeats count 0)."""
    from arb_pipeline.arb.book_batch import books_from_levels

    given_records = _shared(records) if shared else {
        f"KX-{i}": OrderBookLevels(f"KX-{i}", yes, no) for i, (yes, no) in enumerate(records)}
    keys = list(given_records)
    rnd.shuffle(keys)  # the given order is not the records' memory order
    given_records = {key: given_records[key] for key in keys}
    books = books_from_levels(given_records)
    assert list(books) == [key for key in given_records if key in books]
    expected = {key: _outcome(OrderBook.from_levels, levels) for key, levels in given_records.items()}
    assert books.keys() == {key for key, outcome in expected.items()
                            if isinstance(outcome, OrderBook)} - _with_repeated_price(given_records)
    for key, book in books.items():
        want = expected[key]
        assert book == want and book.ticker == want.ticker
        assert [(str(lv.price), str(lv.size)) for lv in book.yes_asks + book.no_asks] == [
            (str(lv.price), str(lv.size)) for lv in want.yes_asks + want.no_asks]
        assert repr((book.best_yes_f, book.best_no_f)) == repr((want.best_yes_f, want.best_no_f))
        assert all(type(lv) is Level for lv in book.yes_asks + book.no_asks)

from dataclasses import replace
from decimal import Decimal

import pytest

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.orientation import check_orientation, consensus_probabilities, yes_mid
from arb_pipeline_tests.mapping.factories import h2h, market, utc

TWO = frozenset({Outcome.HOME, Outcome.AWAY})


def test_multiplicative_consensus_across_books() -> None:
    qs = h2h("g", "NBA", "H", "A", utc(2026, 1, 1), {Outcome.HOME: "1.50", Outcome.AWAY: "2.50"}, books=("b1",))
    qs += h2h("g", "NBA", "H", "A", utc(2026, 1, 1), {Outcome.HOME: "2.00", Outcome.AWAY: "2.00"}, books=("b2",))
    p = consensus_probabilities(qs, TWO)
    b1_home = (1 / 1.5) / (1 / 1.5 + 1 / 2.5)
    assert p[Outcome.HOME] == pytest.approx((b1_home + 0.5) / 2)
    assert p[Outcome.HOME] + p[Outcome.AWAY] == pytest.approx(1.0)


def test_incomplete_books_and_other_markets_are_skipped() -> None:
    qs = h2h("g", "NBA", "H", "A", utc(2026, 1, 1), {Outcome.HOME: "1.50"}, books=("b1",))
    qs += [replace(q, market="spreads") for q in h2h("g", "NBA", "H", "A", utc(2026, 1, 1), books=("b2",))]
    assert consensus_probabilities(qs, TWO) == {}


def test_yes_mid() -> None:
    assert yes_mid(market("E", "X", "x", yes_bid="0.40", yes_ask="0.44")) == Decimal("0.42")
    assert yes_mid(market("E", "X", "x", yes_bid=None, yes_ask="0.44")) is None
    assert yes_mid(market("E", "X", "x", yes_bid="0.00", yes_ask="0.44")) is None


def test_check_orientation() -> None:
    assert not check_orientation(Decimal("0.75"), 0.78, 0.15).inverted
    flipped = check_orientation(Decimal("0.22"), 0.78, 0.15)
    assert flipped.inverted and "possibly inverted" in flipped.reason and "p=0.780" in flipped.reason
    assert not check_orientation(Decimal("0.45"), 0.55, 0.15).inverted  # coin flips cannot be judged
    unknown = check_orientation(None, 0.6, 0.15)
    assert not unknown.inverted and unknown.reason == "orientation not verifiable: no Kalshi YES price"

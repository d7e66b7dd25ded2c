"""`pricing.randint` draws exactly what `random.Random.randint` draws, so the seeded scenario is unchanged."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.sim.pricing import randint


@given(st.integers(0, 2**64), st.lists(st.tuples(st.integers(-1000, 1000), st.integers(0, 5000)), min_size=1,
                                       max_size=40))
def test_randint_follows_the_library_draw_for_draw(seed: int, ranges: list[tuple[int, int]]) -> None:
    ours, library = random.Random(seed), random.Random(seed)
    for low, width in ranges:
        assert randint(ours, low, low + width) == library.randint(low, low + width)
    assert ours.getstate() == library.getstate()  # the stream goes on identically

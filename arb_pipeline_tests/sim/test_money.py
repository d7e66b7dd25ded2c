"""The memoized wire formatting prints exactly what quantizing each value afresh prints."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.sim.money import COUNT_QUANTUM, PRICE_QUANTUM, count_fp, dollars

values = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), allow_nan=False,
                     allow_infinity=False, places=6)


@given(st.lists(values, min_size=1, max_size=20))
def test_memoized_formatting_equals_quantizing_afresh(seen: list[Decimal]) -> None:
    # the same numbers at other exponents too ("0.5" / "0.50000"), in any order, each printed twice
    for value in seen + [v.normalize() for v in seen] + seen:
        assert dollars(value) == str(value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP))
        assert count_fp(value) == str(value.quantize(COUNT_QUANTUM, rounding=ROUND_HALF_UP))


def test_a_negative_zero_keeps_its_sign() -> None:
    """-0 == 0 is one memo key; zero bypasses the memo so each prints as quantize does."""
    assert (dollars(Decimal("0")), dollars(Decimal("-0")), dollars(Decimal("0"))) == ("0.0000", "-0.0000", "0.0000")
    assert (count_fp(Decimal("-0.00")), count_fp(Decimal("0"))) == ("-0.00", "0.00")

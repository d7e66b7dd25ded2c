"""Value (+EV) sizing with the binary-contract Kelly: fractional Kelly of the bankroll, then every cap.

The expected sizes are recomputed here from first principles: a YES at $0.50 with a 7 % quadratic fee
costs 0.50·N + ceil_to_cent(0.0175·N); Kelly uses the all-in price per contract at the depth cap."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal

import pytest

from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.opportunity import detect
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import Outcome as O

D = Decimal
ROOMY = SizingPolicy(bankroll=D(10_000), bankroll_fraction=D("0.5"), max_per_event=D(100_000),
                     max_per_market=D(100_000), max_total_exposure=D(1_000_000), max_contracts=D(1000))


def cost(n: int) -> Decimal:
    """All-in cost of n YES contracts at 0.50 (fee 0.07 · n · 0.25, rounded up to the cent)."""
    return D("0.50") * n + D(math.ceil(D("1.75") * n)) / 100


def most_contracts_within(dollars: Decimal, cap: int = 1000) -> int:
    return max(n for n in range(cap + 1) if cost(n) <= dollars)


def value_bet(b, sizing: SizingPolicy):
    quotes = [b.quote(bk, o, odds) for bk, pair in {"pinnacle": ("1.62", "2.45"), "fanduel": ("1.60", "2.50"),
                                                    "draftkings": ("1.64", "2.40")}.items()
              for o, odds in zip((O.HOME, O.AWAY), pair, strict=True)]
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.40", 10)], no_bids=[("0.50", 5000)])}, quotes)
    [opp] = [o for o in detect([game], Limits(), sizing, as_of=b.as_of).opportunities if o.kind == "value"]
    return opp


def kelly_dollars(p: float, bankroll: Decimal, multiplier: float) -> Decimal:
    c = 0.5175  # 0.50 + the fee per contract at the 1000-contract depth cap (17.50 / 1000)
    k = max(0.0, (p - c) / (1.0 - c)) * multiplier
    return (D(repr(k)) * bankroll).quantize(D("0.01"), rounding=ROUND_FLOOR)


@pytest.mark.parametrize(("bankroll", "multiplier"), [(D(10_000), 0.25), (D(20_000), 0.25), (D(10_000), 0.5),
                                                       (D(3_000), 1.0)])
def test_a_value_bet_is_fractional_kelly_of_the_bankroll(builders, bankroll, multiplier):
    sizing = replace(ROOMY, bankroll=bankroll, kelly_multiplier=multiplier)
    opp = value_bet(builders, sizing)
    [leg] = opp.legs
    budget = kelly_dollars(opp.fair_probability, bankroll, multiplier)
    assert 0 < budget < sizing.max_outlay()  # Kelly binds, not a cap
    assert leg.size == most_contracts_within(budget) and leg.cost == cost(int(leg.size)) <= budget
    assert f"Kelly/caps ${budget}" in opp.reasons[1]


def test_half_kelly_bets_about_half_of_full_kelly(builders):
    full = value_bet(builders, replace(ROOMY, bankroll=D(1_500), kelly_multiplier=1.0)).legs[0].size
    half = value_bet(builders, replace(ROOMY, bankroll=D(1_500), kelly_multiplier=0.5)).legs[0].size
    assert abs(2 * half - full) <= 2


@pytest.mark.parametrize(("caps", "limit"), [
    (dict(), D(200)),  # the defaults: 2 % of a $10k bankroll per opportunity
    (dict(max_per_market=D(60)), D(60)),
    (dict(max_per_event=D(45)), D(45)),
    (dict(max_total_exposure=D(5_000), current_exposure=D(4_970)), D(30)),
])
def test_a_value_bet_never_exceeds_a_cap(builders, caps, limit):
    sizing = replace(SizingPolicy(), **caps)
    opp = value_bet(builders, sizing)
    [leg] = opp.legs
    assert kelly_dollars(opp.fair_probability, sizing.bankroll, sizing.kelly_multiplier) > limit  # a cap binds
    assert leg.size == most_contracts_within(limit) and leg.cost <= limit


def test_max_contracts_caps_a_value_bet(builders):
    opp = value_bet(builders, replace(ROOMY, max_contracts=D(25)))
    assert opp.legs[0].size == 25 and opp.legs[0].cost == cost(25)

"""The simulator's opportunity arithmetic uses the scan's own rules (weights, fees, odds conversion)."""

from decimal import Decimal as D

from arb_pipeline.arb.fees import kalshi_fee
from arb_pipeline.arb.odds import american_to_decimal_exact
from arb_pipeline.settings import get_settings
from arb_pipeline.sim.pricing import decimal_from_american
from arb_pipeline.sim.windows import fair_probabilities, fee_per_contract, sharp_book_weights

QUOTES = {"pinnacle": {"home": D("1.80"), "away": D("2.10")}, "draftkings": {"home": D("2.00"), "away": D("1.85")}}


def _devig(prices):
    raw = {o: 1 / p for o, p in prices.items()}
    return {o: r / sum(raw.values()) for o, r in raw.items()}


def test_sharp_book_weights_are_the_consensus_settings(monkeypatch):
    monkeypatch.setenv("ARB_SHARP_BOOK_WEIGHTS", "pinnacle:5,draftkings:0.5")
    get_settings.cache_clear()
    try:
        assert sharp_book_weights() == {"pinnacle": D(5), "draftkings": D("0.5")}
        fair = fair_probabilities(QUOTES, ["home", "away"])
    finally:
        get_settings.cache_clear()
    sharp, soft = _devig(QUOTES["pinnacle"]), _devig(QUOTES["draftkings"])
    assert fair["home"] == (5 * sharp["home"] + D("0.5") * soft["home"]) / D("5.5")
    unweighted = fair_probabilities(QUOTES, ["home", "away"], weights={})
    assert unweighted["home"] == (sharp["home"] + soft["home"]) / 2 != fair["home"]


def test_fees_and_odds_are_the_arb_packages():
    assert fee_per_contract(D("0.13"), D(7)) == kalshi_fee(D(7), D("0.13")) / 7
    for american in (-110, -250, 100, 137, 2500):
        assert decimal_from_american(american) == american_to_decimal_exact(american)

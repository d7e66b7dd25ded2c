import json
from decimal import Decimal

from arb_pipeline.arb.results import DetectionResult, Leg, Opportunity, Rejection
from arb_pipeline.domain import Outcome as O


def test_to_dict_is_json_ready_with_decimal_strings(builders):
    leg = Leg("kalshi", "KX-A", O.HOME, "Boston", "yes", Decimal("0.40"), Decimal(10), Decimal("0.17"),
              Decimal("4.17"), Decimal(10), (O.HOME,), 1.5, ((Decimal("0.40"), Decimal(10)),))
    opp = Opportunity("value", "KX", "NBA", (leg,), Decimal("4.17"), Decimal("0.5"), Decimal("0.12"), Decimal(300),
                      {}, {"kalshi:KX-A": 1.5}, ("ok",), builders.as_of, 0.45, ("pinnacle",))
    result = DetectionResult((opp,), (Rejection("arbitrage", "KX", "yes:home + book:away", ("stale",)),), {"games": 1})
    data = json.loads(json.dumps(result.to_dict()))
    o = data["opportunities"][0]
    assert o["cost"] == "4.17" and o["legs"][0]["levels"] == [["0.4", "10"]] and o["legs"][0]["outcome"] == "Boston"
    assert o["legs"][0]["outcome_side"] == "home"
    assert o["detected_at"] == builders.as_of.isoformat() and o["fair_probability"] == 0.45
    assert data["rejected"][0]["reasons"] == ["stale"]


def test_every_decimal_is_written_one_way(builders):
    """"150.00", "150" and "150.000000" are one amount: JSON spells it once ("150"), exactly."""
    leg = Leg("kalshi", "KX-A", O.HOME, "Boston", "yes", Decimal("0.240000"), Decimal("150"), Decimal("1.92"),
              Decimal("37.9200"), Decimal("150.00"), (O.HOME,), 0.0)
    opp = Opportunity("arbitrage", "KX", "NBA", (leg,), Decimal("146.7800"), Decimal("3.2200"), Decimal("0.021938"),
                      Decimal("214.67"), {O.HOME: Decimal("150.00"), O.AWAY: Decimal("150")}, {}, (), builders.as_of)
    data = opp.to_dict()
    assert (data["cost"], data["profit"], data["payouts"]) == ("146.78", "3.22", {"home": "150", "away": "150"})
    assert (data["legs"][0]["price"], data["legs"][0]["cost"], data["legs"][0]["payout"]) == ("0.24", "37.92", "150")

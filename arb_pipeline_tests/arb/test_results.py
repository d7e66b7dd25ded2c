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
    assert o["cost"] == "4.17" and o["legs"][0]["levels"] == [["0.40", "10"]] and o["legs"][0]["outcome"] == "Boston"
    assert o["legs"][0]["outcome_side"] == "home"
    assert o["detected_at"] == builders.as_of.isoformat() and o["fair_probability"] == 0.45
    assert data["rejected"][0]["reasons"] == ["stale"]

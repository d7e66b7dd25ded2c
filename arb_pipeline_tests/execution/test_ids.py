import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arb_pipeline.execution.ids import client_order_id, opportunity_id, opportunity_key, time_bucket

T0 = datetime(2026, 11, 24, 17, 0, 5, tzinfo=UTC)
LEGS = [("kalshi", "KX-NYK", "home", "yes", Decimal("25")), ("sportsbook", "pinnacle", "away", "back", Decimal("11.11"))]


def key(**kw):
    args = dict(kind="arbitrage", event="KX", legs=LEGS, detected_at=T0)
    args.update(kw)
    return opportunity_key(args["kind"], args["event"], args["legs"], args["detected_at"])


def test_same_opportunity_same_bucket_same_ids():
    again = key(detected_at=T0 + timedelta(seconds=50), legs=[(*LEGS[0][:4], Decimal("25.00")), LEGS[1]])
    assert opportunity_id(key()) == opportunity_id(again)
    assert client_order_id(opportunity_id(key()), 0) == client_order_id(opportunity_id(again), 0)


@pytest.mark.parametrize("change", [
    {"detected_at": T0 + timedelta(seconds=55)},  # next minute bucket
    {"event": "KY"},
    {"kind": "value"},
    {"legs": [(*LEGS[0][:4], Decimal("24")), LEGS[1]]},
    {"legs": [("kalshi", "KX-NYK", "home", "no", Decimal("25")), LEGS[1]]},
])
def test_any_material_change_gives_a_new_id(change):
    assert opportunity_id(key(**change)) != opportunity_id(key())


def test_ids_are_uuids_and_differ_per_leg():
    opp = opportunity_id(key())
    assert uuid.UUID(opp).version == 5
    assert client_order_id(opp, 0) != client_order_id(opp, 1)
    assert uuid.UUID(client_order_id(opp, 1)).version == 5


def test_ids_are_stable_across_releases():
    """Pinned: changing the derivation would re-key history and could re-send old intents."""
    assert key() == "v1|arbitrage|KX|29925660|kalshi:KX-NYK:home:yes:25;sportsbook:pinnacle:away:back:11.11"
    assert opportunity_id(key()) == "fd0bf283-0171-587c-b06e-77ed79fc4288"


@pytest.mark.parametrize("bad", [datetime(2026, 1, 1), None])
def test_naive_time_or_no_legs_refused(bad):
    with pytest.raises((ValueError, AttributeError)):
        if bad is None:
            key(legs=[])
        else:
            time_bucket(bad)

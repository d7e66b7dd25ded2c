"""Cost estimation and the quota tracker (floor, alert once per crossing, header parsing)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from arb_pipeline.connectors.sportsbooks.errors import QuotaFloorReached
from arb_pipeline.connectors.sportsbooks.quota import QuotaTracker, estimate_cost

NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(("markets", "regions", "bookmakers", "cost"), [
    (["h2h"], ["us"], [], 1),
    (["h2h", "spreads", "totals"], ["us"], [], 3),
    (["h2h"], ["us", "uk", "eu"], [], 3),
    (["h2h", "spreads", "totals"], ["us", "uk", "eu"], [], 9),
    (["h2h"], ["us", "eu"], [f"b{i}" for i in range(10)], 1),  # bookmakers win; 10 = one region
    (["h2h", "totals"], [], [f"b{i}" for i in range(11)], 4),  # 11 books = two groups
    (["h2h", "h2h"], ["us", "us"], [], 1),  # repeats are not billed twice
])
def test_estimate_cost(markets, regions, bookmakers, cost):
    assert estimate_cost(markets, regions=regions, bookmakers=bookmakers) == cost


def test_estimate_cost_needs_markets_and_regions():
    with pytest.raises(ValueError, match="market"):
        estimate_cost([], regions=["us"])
    with pytest.raises(ValueError, match="MISSING_REGION"):
        estimate_cost(["h2h"])


def test_headers_parsed_and_unparsable_ones_ignored(caplog):
    tracker = QuotaTracker(floor=10)
    state = tracker.observe({"x-requests-remaining": "490", "x-requests-used": "10", "x-requests-last": "2"}, NOW)
    assert (state.remaining, state.used, state.last, state.observed_at) == (490, 10, 2, NOW)
    with caplog.at_level(logging.WARNING):
        state = tracker.observe({"x-requests-remaining": "lots", "x-requests-used": "12.5"}, NOW)
    assert (state.remaining, state.used) == (None, None) and "unparsable" in caplog.text
    assert tracker.observe({}, NOW) is state  # a response without quota headers changes nothing


def test_floor_allows_down_to_the_floor_and_refuses_below():
    alerts = []
    tracker = QuotaTracker(floor=10, on_alert=lambda s, m: alerts.append(s))
    tracker.check(5)  # unknown balance: allowed
    tracker.observe({"x-requests-remaining": "13"}, NOW)
    tracker.check(3)  # leaves exactly the floor
    with pytest.raises(QuotaFloorReached):
        tracker.check(4)
    tracker.check(0)  # free calls always pass
    assert alerts == ["critical"]


def test_a_failing_alert_hook_never_hides_the_quota_error(caplog):
    def broken(severity, message):
        raise RuntimeError("webhook down")

    tracker = QuotaTracker(floor=10, on_alert=broken)
    tracker.observe({"x-requests-remaining": "5"}, NOW)
    with pytest.raises(QuotaFloorReached):
        tracker.check(1)
    assert "on_alert hook failed" in caplog.text


def test_negative_floor_is_rejected():
    with pytest.raises(ValueError):
        QuotaTracker(floor=-1)


def test_calls_in_flight_hold_their_credits_so_overlapping_calls_cannot_pass_the_floor_together():
    """A capture fetches its sports on several threads: with 14 credits left, a floor of 10 and calls of
    3, one call may go; a second overlapping it is refused until the first is answered."""
    tracker = QuotaTracker(floor=10)
    tracker.observe({"x-requests-remaining": "14"}, NOW)
    with tracker.reserve(3):
        with pytest.raises(QuotaFloorReached, match="3 held by calls in flight"):
            with tracker.reserve(3):
                pass  # pragma: no cover - refused above
        tracker.observe({"x-requests-remaining": "11"}, NOW)  # the first call's answer
    with pytest.raises(QuotaFloorReached):
        tracker.check(3)  # 11 - 3 < 10: the floor holds without anything held
    tracker.observe({"x-requests-remaining": "100"}, NOW)  # nothing stays held after the blocks
    with tracker.reserve(45), tracker.reserve(45):
        pass

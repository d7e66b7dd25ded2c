"""Every fault mode is observable over HTTP, switchable from Python and from POST /_sim/faults."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from arb_pipeline.sim.faults import FaultController


def test_error_burst_hits_the_next_n_matching_requests(make_venue):
    venue = make_venue()
    venue.handle.faults.set("error_burst", count=2, status=503, venue="kalshi", path_prefix="/trade-api/v2/markets")
    assert venue.public("/exchange/status").status_code == 200  # other paths untouched
    first, second = venue.public("/markets"), venue.public("/markets")
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.json()["error"]["code"] == "internal_server_error"
    assert venue.public("/markets").status_code == 200
    assert venue.odds("basketball_nba").status_code == 200


def test_no_fill_makes_immediate_orders_on_a_market_fill_nothing(make_venue):
    venue = make_venue()
    ticker, other = (venue.handle.scenario.games[0].market_ticker(o) for o in ("home", "away"))
    venue.handle.faults.set("no_fill", ticker=ticker, count=1)
    empty = venue.order(ticker, "bid", "0.99", "5", client_order_id="nf-1")
    assert empty.status_code == 201 and (empty.json()["fill_count"], empty.json()["remaining_count"]) == ("0.00", "0.00")
    assert venue.order(other, "bid", "0.99", "5", client_order_id="nf-2").json()["fill_count"] == "5.00"  # other market
    assert venue.order(ticker, "bid", "0.99", "5", client_order_id="nf-3").json()["fill_count"] == "5.00"  # consumed
    assert venue.order(ticker, "bid", "0.99", "5", client_order_id="nf-1").status_code == 409  # it did exist


def test_slow_responses_and_timeouts(make_venue):
    venue = make_venue()
    venue.handle.faults.set("slow", delay_s=0.4, venue="odds")
    started = time.monotonic()
    assert venue.odds("basketball_nba").status_code == 200
    assert time.monotonic() - started >= 0.4
    venue.handle.faults.clear()
    venue.handle.faults.set("slow", delay_s=2.0, count=1, venue="kalshi")
    with pytest.raises(httpx.ReadTimeout):
        venue.http.get("/trade-api/v2/exchange/status", timeout=0.3)


def test_rate_limit_storm_uses_each_venues_429(make_venue):
    venue = make_venue()
    venue.handle.faults.set("rate_limit_storm", count=2)
    kalshi = venue.public("/events")
    assert kalshi.status_code == 429 and kalshi.json() == {"error": "too many requests"}
    odds = venue.odds("basketball_nba")
    assert odds.status_code == 429 and odds.json()["error_code"] == "EXCEEDED_FREQ_LIMIT"
    assert venue.public("/events").status_code == 200


def test_malformed_json(make_venue):
    venue = make_venue()
    venue.handle.faults.set("malformed_json", count=1, venue="kalshi")
    response = venue.public("/markets")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert venue.public("/markets").json()["markets"]


def test_renamed_and_missing_fields(make_venue):
    venue = make_venue()
    venue.handle.faults.set("rename_field", field="yes_ask_dollars", to="yes_ask", venue="kalshi")
    venue.handle.faults.set("missing_field", field="no_dollars", venue="kalshi")
    venue.handle.faults.set("missing_field", field="last_update", venue="odds")
    market = venue.public("/markets").json()["markets"][0]
    assert "yes_ask_dollars" not in market and "yes_ask" in market
    book = venue.public(f"/markets/{market['ticker']}/orderbook").json()["orderbook_fp"]
    assert "no_dollars" not in book and "yes_dollars" in book
    event = venue.odds("basketball_nba").json()[0]
    assert "last_update" not in event["bookmakers"][0] and "last_update" not in event["bookmakers"][0]["markets"][0]
    venue.handle.faults.clear("rename_field")
    assert "yes_ask_dollars" in venue.public("/markets").json()["markets"][0]


def test_stale_odds_freeze_last_update_in_the_past(make_venue):
    venue = make_venue()
    assert venue.handle.scenario.now().isoformat() == "2026-11-24T17:00:00+00:00"
    venue.handle.faults.set("stale_odds", age_s=1200, sport="basketball_nba")
    venue.handle.scenario.advance(600)
    for event in venue.odds("basketball_nba").json():
        for book in event["bookmakers"]:
            assert book["last_update"] == "2026-11-24T16:40:00Z" == book["markets"][0]["last_update"]
    fresh = venue.odds("americanfootball_nfl").json()[0]["bookmakers"]
    assert max(b["last_update"] for b in fresh) > "2026-11-24T17:00:00Z"


def test_a_frozen_book_stops_updating(make_venue):
    venue = make_venue()
    venue.handle.faults.set("frozen_book", bookmaker="draftkings")
    before = {b["key"]: b for b in venue.odds("basketball_nba").json()[0]["bookmakers"]}
    venue.handle.scenario.advance(1800)
    after = {b["key"]: b for b in venue.odds("basketball_nba").json()[0]["bookmakers"]}
    assert after["draftkings"] == before["draftkings"]
    assert after["fanduel"]["last_update"] > before["fanduel"]["last_update"]


def test_admin_endpoints(make_venue):
    venue = make_venue()
    http = venue.http
    assert http.post("/_sim/faults", json={"fault": "error_burst", "count": 1, "venue": "odds"}).status_code == 200
    state = http.get("/_sim/state").json()
    assert [f["kind"] for f in state["faults"]] == ["error_burst"]
    assert venue.odds("basketball_nba").status_code == 500
    assert http.post("/_sim/faults", json={"fault": "nope"}).status_code == 400
    assert http.post("/_sim/faults", json={"fault": "slow", "bogus": 1}).status_code == 400
    http.post("/_sim/faults", json={"fault": "slow", "delay_s": 0.01})
    assert http.post("/_sim/faults", json={"clear": True}).json()["faults"] == []
    advanced = http.post("/_sim/advance", json={"seconds": 600}).json()
    assert advanced["now"] == "2026-11-24T17:10:00Z"
    assert http.post("/_sim/advance", json={"seconds": -5}).status_code == 400
    injected = http.post("/_sim/inject", json={"kind": "arbitrage", "edge": "0.02"}).json()
    assert injected["kind"] == "arbitrage" and injected["market_ticker"]
    state = http.get("/_sim/state").json()
    assert [w["id"] for w in state["windows"]] == [injected["id"]]
    assert state["now"] == "2026-11-24T17:10:00Z" and len(state["games"]) == 10


def test_controller_validates_and_counts():
    controller = FaultController(lambda: None)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError):
        controller.set("rename_field", field="x")
    with pytest.raises(ValueError):
        controller.set("error_burst", status=404)
    with pytest.raises(ValueError):
        controller.set("slow", venue="elsewhere")
    controller.set("error_burst", count=2)
    assert controller.plan("kalshi", "/trade-api/v2/x").error_status == 500
    assert controller.plan("odds", "/v4/sports").error_status == 500
    assert controller.plan("kalshi", "/trade-api/v2/x").error_status is None

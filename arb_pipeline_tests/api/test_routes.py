"""Read routes on a database seeded like a live scan: what a trader sees, exact and in order."""

from decimal import Decimal

from arb_pipeline.services.desk import opportunities as desk_opportunities
from arb_pipeline.storage.db import session_scope
from arb_pipeline_tests.api.conftest import CAPTURED, NOW


def test_health_says_whether_actions_are_enabled_and_how_fresh_the_scan_is(client, seeded):
    body = client.get("/api/health").json()
    assert body == {"status": "ok", "mode": "paper", "database": "ok", "act_routes_enabled": True,
                    "latest_scan_at": CAPTURED.isoformat().replace("+00:00", "Z"), "latest_scan_age_s": 5.0}


def test_latest_opportunities_executable_first_with_legs_profit_age_and_orders(client, seeded):
    body = client.get("/api/opportunities").json()
    assert body["scope"] == "latest" and body["scan"]["opportunities"] == 3
    kinds = [(o["kind"], o["executable"]) for o in body["opportunities"]]
    assert kinds == [("arbitrage", True), ("value", False), ("value", False)]
    arb = body["opportunities"][0]
    # Betfair's 1.378 nets 1.3591 after its (default) 5 % commission: the hedge is DraftKings' 1.37
    assert (arb["event"], arb["cost"], arb["profit"], arb["age_s"]) == ("KXNBAGAME-26NOV24BOSMEM", "147.41", "2.59",
                                                                        5.0)
    assert [(leg["venue"], leg["price"], leg["size"]) for leg in arb["legs"]] == [
        ("kalshi", "0.24", "150"), ("sportsbook", "1.37", "109.49")]
    assert [(o["status"], o["fill_count"]) for o in arb["orders"]] == [("filled", "150")]
    values = body["opportunities"][1:]
    assert Decimal(values[0]["edge_bps"]) > Decimal(values[1]["edge_bps"])  # then by edge
    assert all(o["orders"] == [] for o in values)  # +EV bets are shown, not executed


def test_filters_and_history(client, seeded):
    get = lambda **params: client.get("/api/opportunities", params=params).json()["opportunities"]  # noqa: E731
    assert [o["kind"] for o in get(kind="value")] == ["value", "value"]
    assert [o["kind"] for o in get(executable="true")] == ["arbitrage"]
    assert {o["league"] for o in get(league="EPL")} == {"EPL"} and len(get(league="EPL")) == 1
    assert len(get(scope="history")) == 3
    assert get(scope="history", since=NOW.isoformat()) == []
    assert len(get(scope="history", since="2026-11-24T16:59:00")) == 3  # a naive time is UTC
    assert len(get(scope="history", limit=1)) == 1


def test_an_arbitrage_hedged_at_a_book_without_an_account_is_not_executable_on_the_desk(app, client, sample):
    """ARB_ACCOUNT_BOOKS: the desk's `executable` (and its filter) is detection's PAPER label."""
    from arb_pipeline.services import scans
    from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
    from arb_pipeline.settings import Settings
    from arb_pipeline.storage.repositories import SnapshotRepository

    snapshot, _ = sample
    settings = Settings(_env_file=None, ARB_ACCOUNT_BOOKS="bet365")
    result = scan(snapshot, ScanConfig.from_settings(settings), snapshot.captured_at)
    sessions = app.state.sessions
    with session_scope(sessions) as session:
        snapshot_id = SnapshotRepository(session).append_directory(SAMPLE_SNAPSHOT_DIR, stored_at=CAPTURED)
    scans.record_capture(sessions, scans.capture_stats(snapshot, snapshot_id), at=CAPTURED)
    scans.record_detection(sessions, snapshot_id, result.detection.opportunities, detected_at=CAPTURED, rejected=0)
    get = lambda **params: client.get("/api/opportunities", params=params).json()["opportunities"]  # noqa: E731
    assert get(executable="true") == []
    assert sorted(o["kind"] for o in get(executable="false")) == ["arbitrage", "value", "value"]
    [arb] = get(executable="false", kind="arbitrage")
    assert arb["reasons"][-1].startswith("at your account books: no fresh quote")


def test_a_later_scan_with_nothing_found_shows_nothing_not_the_old_opportunities(app, client, seeded, sample):
    from arb_pipeline.services import scans

    snapshot, _ = sample
    later = CAPTURED.replace(minute=1)
    from dataclasses import replace

    scans.record_capture(app.state.sessions, replace(scans.capture_stats(snapshot, 99), captured_at=later), at=later)
    scans.record_detection(app.state.sessions, 99, [], detected_at=later, rejected=3)
    body = client.get("/api/opportunities").json()
    assert body["scan"]["snapshot_id"] == 99 and body["scan"]["rejected"] == 3 and body["opportunities"] == []
    assert len(client.get("/api/opportunities", params={"scope": "history"}).json()["opportunities"]) == 3


def test_orders_fills_positions_and_hedges(client, seeded):
    (order,) = client.get("/api/orders").json()
    assert (order["mode"], order["status"], order["side"], order["fill_count"]) == ("paper", "filled", "yes", "150")
    assert order["event"] == "KXNBAGAME-26NOV24BOSMEM" and order["limit_price"] == "0.24"
    assert order["purpose"] == "entry"
    assert client.get("/api/orders", params={"status": "failed"}).json() == []
    fills = client.get("/api/fills").json()
    assert sum(Decimal(f["count"]) for f in fills) == 150 and {f["client_order_id"] for f in fills} == {
        order["client_order_id"]}
    (game,) = client.get("/api/positions").json()
    assert game["event"] == "KXNBAGAME-26NOV24BOSMEM" and Decimal(game["cost"]) == Decimal("37.92")
    assert [(p["ticker"], p["side"], p["contracts"]) for p in game["positions"]] == [
        ("KXNBAGAME-26NOV24BOSMEM-BOS", "yes", "150")]
    assert client.get("/api/positions", params={"mode": "live"}).json() == []
    (hedge,) = client.get("/api/hedges").json()
    assert (hedge["status"], hedge["bookmaker"], hedge["selection"]) == ("pending", "draftkings", "Memphis Grizzlies")
    assert Decimal(hedge["stake"]) == Decimal("109.49") and Decimal(hedge["worst_acceptable_odds"]) > 1


def test_hedges_to_place_come_first(app, client, seeded):
    from arb_pipeline.storage.repositories import HedgeRepository

    with session_scope(app.state.sessions) as session:
        repo = HedgeRepository(session)
        first = repo.record(client_order_id="c-old", opportunity_id="o-old", leg_index=1, bookmaker="pinnacle",
                            event="A @ B", selection="B", odds=Decimal("2.1"), stake=Decimal("10"),
                            worst_acceptable_odds=Decimal("2.0"), at=CAPTURED)
        repo.set_status(first.id, "placed")
    statuses = [h["status"] for h in client.get("/api/hedges").json()]
    assert statuses == ["pending", "placed"]
    assert [h["status"] for h in client.get("/api/hedges", params={"status": "placed"}).json()] == ["placed"]


def test_breaker_shows_state_limits_loss_and_exposure(client, seeded):
    body = client.get("/api/breaker").json()
    assert (body["state"], body["manual"], body["mode"]) == ("closed", False, "paper")
    assert body["limits"]["max_daily_loss"] == "250" and body["limits"]["max_open_exposure"] == "5000"
    assert body["realized_pnl_today"] == "0" and body["loss_today"] == "0"
    assert Decimal(body["open_exposure"]) == Decimal("37.92")


def test_scans_mappings_and_alerts(client, seeded):
    (scan,) = client.get("/api/scans").json()
    assert scan["odds_quota_remaining"] == 477 and scan["kalshi_markets"] == 33 and scan["detected"]
    mappings = client.get("/api/mappings").json()
    assert len(mappings["rows"]) == 33 and mappings["resolved_from"]["snapshot_id"] == seeded[0]
    assert isinstance(client.get("/api/alerts").json(), list)


def test_every_amount_is_canonical_decimal_text(client, seeded):
    import re

    canonical = re.compile(r"^-?(0|[1-9]\d*)(\.\d*[1-9])?$")
    arb = client.get("/api/opportunities").json()["opportunities"][0]
    amounts = [arb["cost"], arb["profit"], arb["roi"]] + [leg[k] for leg in arb["legs"] for k in ("price", "size")]
    amounts += [v for o in client.get("/api/orders").json() for k, v in o.items()
                if k in ("count", "limit_price", "fill_notional", "fees") and v is not None]
    assert amounts and all(canonical.match(a) for a in amounts), amounts


def test_the_api_and_the_service_agree(app, client, seeded):
    with session_scope(app.state.sessions) as session:
        direct = desk_opportunities(session, now=NOW)
    served = client.get("/api/opportunities").json()
    assert [o["opportunity_id"] for o in served["opportunities"]] == [
        o["opportunity_id"] for o in direct["opportunities"]]


def test_a_since_at_the_edge_of_time_is_clamped_not_a_server_error(client, seeded):
    """Found by schemathesis: 0001-01-01T00:00:23+18:01 overflowed converting to UTC (HTTP 500)."""
    for since in ("0001-01-01T00:00:23+18:01", "9999-12-31T23:59:59-18:00"):
        response = client.get("/api/opportunities", params={"scope": "history", "since": since})
        assert response.status_code == 200, response.text
    assert len(client.get("/api/opportunities", params={"scope": "history",
                                                        "since": "0001-01-01T00:00:23+18:01"}).json()[
        "opportunities"]) == 3


def test_marking_a_hedge_placed_and_abandoned_through_the_api(client, seeded, auth):
    (hedge,) = client.get("/api/hedges").json()
    url = f"/api/hedges/{hedge['id']}"
    body = {"odds": hedge["odds"], "stake": hedge["stake"], "who": "alice"}
    assert client.post(f"{url}/placed", json=body).status_code == 401  # the token guards it
    refused = client.post(f"{url}/placed", headers=auth, json={**body, "odds": "1.01"})
    assert refused.status_code == 409 and "below the worst acceptable" in refused.json()["detail"]
    placed = client.post(f"{url}/placed", headers=auth, json=body)
    assert placed.status_code == 200, placed.text
    out = placed.json()
    assert out["hedge"]["status"] == "placed" and out["hedge"]["placed_odds"] == hedge["odds"]
    assert out["hedge"]["acted_by"] == "alice" and not out["forced"]
    assert Decimal(out["locked_profit_after"]) == Decimal(out["locked_profit_before"]) > 0
    again = client.post(f"{url}/placed", headers=auth, json=body)
    assert again.status_code == 409 and "is placed, not pending" in again.json()["detail"]
    assert client.post(f"{url}/abandon", headers=auth, json={"who": "bob", "why": "x"}).status_code == 409
    missing = client.post("/api/hedges/999999/abandon", headers=auth, json={"who": "bob", "why": "x"})
    assert missing.status_code == 404 and "no hedge instruction 999999" in missing.json()["detail"]
    # the ledger sees both legs now: the breaker's exposure counts the stake
    breaker = client.get("/api/breaker").json()
    assert Decimal(breaker["book_exposure"]) == Decimal(hedge["stake"])
    assert Decimal(breaker["open_exposure"]) == Decimal("37.92") + Decimal(hedge["stake"])
    (arb,) = client.get("/api/pnl").json()["arbitrages"]
    assert arb["status"] == "open" and arb["hedges"][0]["status"] == "placed"


def test_abandoning_leaves_the_kalshi_leg_unhedged(client, seeded, auth):
    (hedge,) = client.get("/api/hedges").json()
    response = client.post(f"/api/hedges/{hedge['id']}/abandon", headers=auth,
                           json={"who": "bob", "why": "book suspended the market"})
    assert response.status_code == 200 and response.json()["status"] == "abandoned"
    assert Decimal(client.get("/api/breaker").json()["unhedged_exposure"]) == Decimal("37.92")
    (game,) = client.get("/api/exposure").json()
    assert (game["event"], Decimal(game["unhedged_exposure"])) == ("KXNBAGAME-26NOV24BOSMEM", Decimal("37.92"))
    alerts = client.get("/api/alerts").json()
    assert any(a["dedup_key"] == f"hedge-unhedged:{hedge['id']}" for a in alerts)


def test_pnl_per_day_per_arbitrage_with_clv(client, seeded):
    body = client.get("/api/pnl").json()
    assert (body["mode"], body["total_realized"], body["days"]) == ("paper", "0", [])
    (arb,) = body["arbitrages"]
    assert arb["event"] == "KXNBAGAME-26NOV24BOSMEM" and arb["status"] == "unhedged"
    assert Decimal(arb["kalshi_cost"]) == Decimal("37.92") and arb["realized"] is None

"""Acting through the API: the token guard, closed CORS, the body-size limit, the kill switch."""

import logging

import pytest
import yaml
from fastapi.testclient import TestClient

from arb_pipeline.api.app import create_app
from arb_pipeline.api.security import OperatorToken, TokenConfigError, load_token
from arb_pipeline.services.operations import breaker_for
from arb_pipeline_tests.api.conftest import NOW, TOKEN

TRIP = {"reason": "desk closed: feed looks wrong", "who": "alice"}


def test_without_a_token_the_api_is_read_only_and_says_how_to_enable_it(make_settings, engine):
    with TestClient(create_app(make_settings(), clock=lambda: NOW)) as client:
        response = client.post("/api/breaker/trip", json=TRIP, headers={"Authorization": "Bearer anything-at-all-long"})
        assert response.status_code == 403
        assert "ARB_API_TOKEN" in response.json()["detail"] and "read-only" in response.json()["detail"]
        assert client.get("/api/breaker").json()["state"] == "closed"
        assert client.get("/api/health").json()["act_routes_enabled"] is False


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-of-enough-length"},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
                         ids=["none", "wrong", "basic-scheme", "no-scheme"])
def test_a_missing_or_wrong_token_is_refused_and_never_echoed(client, headers, caplog):
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/breaker/trip", json=TRIP, headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text and TOKEN not in caplog.text
    assert client.get("/api/breaker").json()["state"] == "closed"


def test_the_kill_switch_stops_orders_in_every_process_until_reset(client, auth, settings):
    response = client.post("/api/breaker/trip", json=TRIP, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["manual"], body["updated_by"]) == ("open", True, "alice")
    decision = breaker_for(settings).check_before_order()  # another process's view, same database
    assert not decision.allowed and "desk closed: feed looks wrong" in decision.reason
    assert client.post("/api/breaker/reset", json={"who": "bob"}, headers=auth).json()["state"] == "closed"
    assert breaker_for(settings).check_before_order().allowed
    transitions = client.get("/api/breaker").json()["recent_transitions"]
    assert [(t["from"], t["to"], t["who"]) for t in transitions[:2]] == [("open", "closed", "bob"),
                                                                         ("closed", "open", "alice")]


@pytest.mark.parametrize("body", [{"reason": "", "who": "a"}, {"reason": "x"}, {"reason": "x", "who": "a", "z": 1},
                                  {"reason": "   ", "who": "a"}, {"reason": "\u0085", "who": "a"},
                                  {"reason": "x", "who": "\u00a0"}, {"reason": "two\nlines", "who": "a"}])
def test_bad_act_bodies_are_refused_with_what_was_wrong(client, auth, body):
    """U+0085 and U+00A0 were found by schemathesis: whitespace to Python, not to the schema's regex."""
    response = client.post("/api/breaker/trip", json=body, headers=auth)
    assert response.status_code == 422 and response.json()["detail"]
    assert client.get("/api/breaker").json()["state"] == "closed"


def test_mapping_decisions_go_through_the_mapping_service(client, auth, settings, seeded):
    market = "KXNBAGAME-26NOV24BOSMEM-BOS"
    response = client.post(f"/api/mappings/{market}/reject", json={"why": "wrong game", "who": "alice"},
                           headers=auth)
    assert response.status_code == 200 and response.json()["action"] == "reject"
    stored = yaml.safe_load(settings.overrides_path.read_text())
    assert stored["overrides"][0]["kalshi_market"] == market and stored["overrides"][0]["who"] == "alice"
    mappings = client.get("/api/mappings").json()  # the cached overview was cleared by the decision
    assert [o["kalshi_market"] for o in mappings["overrides"]] == [market]
    assert market not in {r["kalshi_market"] for r in mappings["rows"]}  # the rejection applies at once

    forced = client.post(f"/api/mappings/{market}/override", headers=auth, json={
        "why": "feed renamed the team", "who": "bob", "game": "b57a6a1dfaf8cda9601e5b4578511608", "outcome": "away"})
    assert forced.status_code == 200 and forced.json()["outcome"] == "away"
    unreadable = client.post(f"/api/mappings/{market}/confirm", json={"why": "checked", "who": "carol",
                                                                      "store": "db"}, headers=auth)
    assert unreadable.status_code == 422  # the schema says a confirmation names its game
    db = client.post(f"/api/mappings/{market}/confirm", headers=auth, json={
        "why": "checked", "who": "carol", "store": "db", "game": "b57a6a1dfaf8cda9601e5b4578511608"})
    assert db.status_code == 200 and db.json()["action"] == "confirm" and "id" in db.json()
    assert [o["who"] for o in client.get("/api/mappings").json()["stored_overrides"]] == ["carol"]


@pytest.mark.parametrize(("path", "body"), [
    ("/api/mappings/KX%20BAD/reject", {"why": "x", "who": "a"}),
    ("/api/mappings/KXNBA-X/override", {"why": "x", "who": "a", "game": "g1"}),
    ("/api/mappings/KXNBA-X/override", {"why": "x", "who": "a", "game": "g1", "outcome": "sideways"}),
    ("/api/mappings/KXNBA-X/reject", {"why": "x", "who": "a", "store": "s3"}),
])
def test_bad_mapping_decisions_are_refused_and_nothing_is_written(client, auth, settings, path, body):
    assert client.post(path, json=body, headers=auth).status_code == 422
    assert not settings.overrides_path.exists()


def test_cors_is_closed_by_default(client):
    preflight = client.options("/api/breaker/trip", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    get = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in get.headers


def test_cors_allows_only_the_configured_origins(make_settings, engine):
    settings = make_settings(ARB_API_TOKEN=TOKEN, ARB_API_CORS_ORIGINS="https://desk.example")
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        ok = client.get("/api/health", headers={"Origin": "https://desk.example"})
        assert ok.headers["access-control-allow-origin"] == "https://desk.example"
        other = client.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_request_bodies_over_the_limit_are_refused_before_they_are_read(client, auth):
    big = {"reason": "x" * 20_000, "who": "alice"}
    response = client.post("/api/breaker/trip", json=big, headers=auth)
    assert response.status_code == 413 and "ARB_API_MAX_BODY_BYTES" in response.json()["detail"]

    def chunks():  # no Content-Length: the limit still holds while streaming
        for _ in range(40):
            yield b"x" * 1024

    streamed = client.post("/api/breaker/trip", content=chunks(), headers={**auth, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert client.get("/api/breaker").json()["state"] == "closed"


def test_the_dashboard_page_is_served_with_a_strict_content_security_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_token_sources(make_settings, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    loaded = load_token(make_settings(ARB_API_TOKEN_FILE=str(token_file)))
    assert loaded.matches(TOKEN) and not loaded.matches(TOKEN[:-1]) and TOKEN not in repr(loaded)
    with pytest.raises(TokenConfigError, match="not both"):
        load_token(make_settings(ARB_API_TOKEN=TOKEN, ARB_API_TOKEN_FILE=str(token_file)))
    with pytest.raises(TokenConfigError, match="at least 16"):
        load_token(make_settings(ARB_API_TOKEN="short"))
    token_file.write_text("\n")
    with pytest.raises(TokenConfigError, match="is empty"):
        load_token(make_settings(ARB_API_TOKEN_FILE=str(token_file)))
    assert not OperatorToken(None).matches("")
    assert load_token(make_settings(ARB_API_TOKEN="")).configured is False  # empty means "no token"


def test_a_database_outage_is_a_clear_503_not_a_traceback(app, client):
    from sqlalchemy.orm import sessionmaker

    from arb_pipeline.storage.db import create_app_engine

    app.state.sessions = sessionmaker(bind=create_app_engine(
        "postgresql+psycopg2://nobody:secret-pw@127.0.0.1:9/none", connect_args={"connect_timeout": 1}))
    response = client.get("/api/orders")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "did not answer" in response.json()["detail"] and "secret-pw" not in response.text

"""A local The Odds API v4 look-alike (FastAPI + uvicorn on a free port) for the provider tests.

It speaks the documented wire format: `apiKey` query auth, `error_code` bodies, `x-requests-*`
quota headers, markets × regions billing, decimal/American prices, iso/unix dates. Tests steer it
through `FakeOddsApi` (quota balance, scripted failures) and read back the requests it received.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

VALID_KEY = "0123456789abcdef0123456789abcdef"
FEATURED = {"h2h", "spreads", "totals", "outrights", "h2h_lay", "outrights_lay"}
NBA_ID = "a" * 32
EPL_ID = "b" * 32


def _o(name, american, decimal, point=None):
    return {"name": name, "american": american, "decimal": decimal, "point": point}


# Outcomes hold both formats as a book would publish them; the server emits the one asked for.
SAMPLE_EVENTS = {
    "basketball_nba": [{
        "id": NBA_ID, "sport_key": "basketball_nba", "sport_title": "NBA",
        "commence_time": "2026-11-25T00:30:00Z", "home_team": "Boston Celtics", "away_team": "New York Knicks",
        "bookmakers": [
            {"key": "draftkings", "title": "DraftKings", "last_update": "2026-11-24T22:10:41Z", "markets": {
                "h2h": [_o("New York Knicks", 150, 2.5), _o("Boston Celtics", -110, 1.91)],
                "totals": [_o("Over", -108, 1.93, 221.5), _o("Under", -112, 1.89, 221.5)]}},
            {"key": "fanduel", "title": "FanDuel", "last_update": "2026-11-24T22:11:00Z", "markets": {
                "h2h": [_o("New York Knicks", 145, 2.45), _o("Boston Celtics", -170, 1.59)]}},
        ],
    }],
    "soccer_epl": [{
        "id": EPL_ID, "sport_key": "soccer_epl", "sport_title": "EPL",
        "commence_time": "2026-11-28T15:00:00Z", "home_team": "Arsenal", "away_team": "Chelsea",
        "bookmakers": [
            {"key": "pinnacle", "title": "Pinnacle", "last_update": "2026-11-24T22:00:00Z", "markets": {
                "h2h": [_o("Arsenal", -125, 1.8), _o("Chelsea", 330, 4.3), _o("Draw", 290, 3.9)]}},
        ],
    }],
}


def _unix(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


@dataclass
class Scripted:
    """One forced answer to the next `/odds` call: an error body, or a delay before the normal answer."""

    status: int | None = None
    body: dict | None = None
    delay_s: float = 0.0
    quota_headers: bool = False


@dataclass
class FakeOddsApi:
    remaining: int = 500
    used: int = 0
    script: list[Scripted] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    base_url: str = ""
    generation: int = 0  # bumped by each reset, so a request still sleeping from an old test is inert

    @property
    def odds_requests(self) -> list[dict[str, str]]:
        """The billed `/odds` calls received (the provider also makes free `/sports` calls)."""
        return [r for r in self.requests if r.get("path", "").endswith("/odds")]

    def fail_next(self, status: int, body: dict, times: int = 1, *, quota_headers: bool = False) -> None:
        """The next `times` `/odds` calls answer `status` with `body` (quota headers only if asked)."""
        self.script.extend(Scripted(status, body, quota_headers=quota_headers) for _ in range(times))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` `/odds` calls wait `seconds` before answering normally."""
        self.script.extend(Scripted(delay_s=seconds) for _ in range(times))

    def quota_headers(self, last: int) -> dict[str, str]:
        return {"x-requests-remaining": str(self.remaining), "x-requests-used": str(self.used),
                "x-requests-last": str(last)}

    def error(self, status: int, code: str, message: str, *, quota: bool = True) -> JSONResponse:
        body = {"message": message, "error_code": code,
                "details_url": f"https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html#{code.lower()}"}
        return JSONResponse(body, status_code=status, headers=self.quota_headers(0) if quota else None)

    def auth(self, key: str | None, *, billed: bool) -> JSONResponse | None:
        if not key:
            return self.error(401, "MISSING_KEY", "API key is missing", quota=False)
        if key != VALID_KEY:
            return self.error(401, "INVALID_KEY", "API key is not valid", quota=False)
        if billed and self.remaining <= 0:
            return self.error(401, "OUT_OF_USAGE_CREDITS", "Usage quota has been reached")
        return None

    def render(self, event: dict, markets: set[str], books: set[str] | None, fmt: str, unix: bool) -> dict:
        def when(iso: str):
            return _unix(iso) if unix else iso

        out = {k: event[k] for k in ("id", "sport_key", "sport_title", "home_team", "away_team")}
        out["commence_time"] = when(event["commence_time"])
        out["bookmakers"] = []
        for book in event["bookmakers"]:
            if books is not None and book["key"] not in books:
                continue
            rendered = []
            for key, outcomes in book["markets"].items():
                if key in markets:
                    rendered.append({"key": key, "last_update": when(book["last_update"]), "outcomes": [
                        {"name": o["name"], "price": o[fmt]} | ({"point": o["point"]} if o["point"] else {})
                        for o in outcomes]})
            out["bookmakers"].append({"key": book["key"], "title": book["title"],
                                      "last_update": when(book["last_update"]), "markets": rendered})
        return out

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v4/sports")
        def sports(request: Request):
            self.requests.append(dict(request.query_params))
            if (denied := self.auth(request.query_params.get("apiKey"), billed=False)) is not None:
                return denied
            body = [{"key": k, "group": "x", "title": k.split("_")[-1].upper(), "description": "",
                     "active": True, "has_outrights": False} for k in SAMPLE_EVENTS]
            return JSONResponse(body, headers=self.quota_headers(0))

        @app.get("/v4/sports/{sport}/odds")
        def odds(sport: str, request: Request):
            q = request.query_params
            self.requests.append(dict(q) | {"path": request.url.path})
            if self.script:
                step, generation = self.script.pop(0), self.generation
                time.sleep(step.delay_s)
                if generation != self.generation:  # a later test reset the fake while we slept
                    return JSONResponse({"message": "stale"}, status_code=503)
                if step.status is not None:
                    return JSONResponse(step.body or {}, status_code=step.status,
                                        headers=self.quota_headers(0) if step.quota_headers else None)
            if (denied := self.auth(q.get("apiKey"), billed=True)) is not None:
                return denied
            markets = set(q.get("markets", "h2h").split(","))
            if bad := sorted(markets - FEATURED):
                return self.error(422, "INVALID_MARKET", f"Markets not supported by this endpoint: {','.join(bad)}")
            if sport not in SAMPLE_EVENTS:
                return self.error(404, "UNKNOWN_SPORT", "Unknown sport")
            books = set(q["bookmakers"].split(",")) if q.get("bookmakers") else None
            if books is None and not q.get("regions"):
                return self.error(422, "MISSING_REGION", "Missing regions")
            groups = math.ceil(len(books) / 10) if books else len(q["regions"].split(","))
            events = [e for e in SAMPLE_EVENTS[sport]
                      if q.get("commenceTimeFrom", "") <= e["commence_time"] <= q.get("commenceTimeTo", "9999")]
            cost = len(markets) * groups if events else 0
            self.remaining -= cost
            self.used += cost
            fmt = q.get("oddsFormat", "decimal")
            body = [self.render(e, markets, books, fmt, q.get("dateFormat") == "unix") for e in events]
            return JSONResponse(body, headers=self.quota_headers(cost))

        return app


@dataclass
class _Running:
    fake: FakeOddsApi
    base_url: str


@pytest.fixture(scope="session")
def _odds_server():
    fake = FakeOddsApi()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake odds server did not start")
        time.sleep(0.02)
    yield _Running(fake, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def odds_api(_odds_server) -> FakeOddsApi:
    """The running fake, reset to a fresh account (500 credits, no script, no recorded requests)."""
    fake = _odds_server.fake
    fake.remaining, fake.used, fake.script, fake.requests = 500, 0, [], []
    fake.generation += 1
    fake.base_url = _odds_server.base_url
    return fake

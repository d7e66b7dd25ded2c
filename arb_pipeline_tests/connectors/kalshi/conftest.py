"""A small, honest Kalshi test server for the connector tests: real HTTP on 127.0.0.1.

FastAPI app served by uvicorn in a background thread on a free port, speaking the current wire
format (kalshi-api.md §5, §6, §14: every 3.34-required field is sent). It verifies signatures
with the test key's public half (stale timestamps > 30 s, a tampered path or a signed query
string -> 401), validates every create-order body against `CreateOrderV2Request` of the saved
OpenAPI file, keeps orders by client_order_id (a duplicate -> 409) and lets each test script
faults per route: status bursts, slow responses, malformed JSON, overridden bodies, and "process
the order, then lose the response".

Builders for spec-shaped objects are exposed through the `wire` fixture (tests run under
importlib import mode, so they cannot import this module).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import re
import socket
import threading
import time
import types
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from openapi_schema_validator import OAS30Validator

from arb_pipeline.connectors.kalshi import Backoff, KalshiClient, KalshiSigner, RateLimiter, Timeouts

SPEC_PATH = str(Path(__file__).resolve().parents[2] / "data" / "kalshi-openapi.yaml")
PREFIX = "/trade-api/v2"
KEY_ID = "0f2b6c3e-test-key-id-4a1d"
SKEW_MS = 30_000


# --- spec-shaped builders ------------------------------------------------------------------------
def make_market(ticker: str, event_ticker: str, **over: Any) -> dict[str, Any]:
    market = {
        "ticker": ticker,
        "event_ticker": event_ticker,
        "market_type": "binary",
        "yes_sub_title": ticker.rsplit("-", 1)[-1],
        "no_sub_title": ticker.rsplit("-", 1)[-1],
        "title": f"{ticker} wins",
        "created_time": "2026-11-01T12:00:00Z",
        "updated_time": "2026-11-02T12:00:00.123456789Z",
        "open_time": "2026-11-01T14:00:00Z",
        "close_time": "2026-11-18T00:00:00Z",
        "expected_expiration_time": "2026-11-04T03:00:00Z",
        "latest_expiration_time": "2026-11-18T00:00:00Z",
        "settlement_timer_seconds": 300,
        "status": "active",
        "yes_bid_dollars": "0.5400",
        "yes_bid_size_fp": "1200.00",
        "yes_ask_dollars": "0.5500",
        "yes_ask_size_fp": "800.00",
        "no_bid_dollars": "0.4500",
        "no_ask_dollars": "0.4600",
        "last_price_dollars": "0.5500",
        "volume_fp": "250000.00",
        "volume_24h_fp": "1000.00",
        "result": "",
        "can_close_early": True,
        "open_interest_fp": "90000.00",
        "notional_value_dollars": "1.0000",
        "previous_yes_bid_dollars": "0.5300",
        "previous_yes_ask_dollars": "0.5400",
        "previous_price_dollars": "0.5350",
        "settlement_bounds_type": "default",
        "expiration_value": "",
        "rules_primary": f"If {ticker} wins the game, then the market resolves to Yes.",
        "rules_secondary": "Postponed games resolve per the rulebook.",
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
        "strike_type": "structured",
        "custom_strike": {"basketball_team": "00000000-0000-0000-0000-000000000001"},
        "exchange_index": 0,
    }
    market.update(over)
    return market


def make_event(event_ticker: str, series_ticker: str = "KXNBAGAME", n_markets: int = 2, **over: Any) -> dict[str, Any]:
    codes = ["NYK", "BOS", "TIE"][:n_markets]
    event = {
        "event_ticker": event_ticker,
        "series_ticker": series_ticker,
        "sub_title": "Boston at New York",
        "title": "Boston at New York",
        "collateral_return_type": "",
        "mutually_exclusive": True,
        "settlement_sources": [{"name": "NBA", "url": "https://www.nba.com"}],
        "product_metadata": {"competition": "Pro Basketball (M)"},
        "exchange_index": 0,
        "markets": [make_market(f"{event_ticker}-{c}", event_ticker) for c in codes],
    }
    event.update(over)
    return event


def make_milestone(event_ticker: str, **over: Any) -> dict[str, Any]:
    milestone = {
        "id": f"ms-{event_ticker}",
        "category": "Sports",
        "type": "basketball_game",
        "start_date": "2026-11-04T00:30:00Z",
        "end_date": None,
        "related_event_tickers": [event_ticker],
        "primary_event_tickers": [event_ticker],
        "title": "Boston at New York",
        "notification_message": "",
        "details": {"home_team_id": "team-nyk", "away_team_id": "team-bos"},
        "last_updated_ts": "2026-11-02T12:00:00Z",
    }
    milestone.update(over)
    return milestone


def make_fill(order_id: str, ticker: str, **over: Any) -> dict[str, Any]:
    fill = {
        "fill_id": str(uuid.uuid4()),
        "trade_id": str(uuid.uuid4()),
        "exchange_index": 0,
        "order_id": order_id,
        "ticker": ticker,
        "market_ticker": ticker,
        "outcome_side": "yes",
        "book_side": "bid",
        "side": "yes",
        "action": "buy",
        "count_fp": "25.00",
        "yes_price_dollars": "0.5500",
        "no_price_dollars": "0.4500",
        "is_taker": True,
        "fee_cost": "0.4400",
        "created_time": "2026-11-03T23:00:00Z",
        "ts": 1793746800,
    }
    fill.update(over)
    return fill


# --- server state --------------------------------------------------------------------------------
@dataclass
class Fault:
    """One scripted reaction to the next request on a route.

    status: answer with this status (body `body`, else a nested error body) instead of the normal
    one; delay: sleep this long first; raw: answer 200 with these bytes; process: still process
    the request (an order is created) before the fault is applied, i.e. the response is lost.
    """

    status: int | None = None
    body: Any = None
    delay: float = 0.0
    raw: bytes | None = None
    process: bool = False


@dataclass
class ServerState:
    public_key: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    markets_extra: list[dict[str, Any]] = field(default_factory=list)
    books: dict[str, dict[str, Any]] = field(default_factory=dict)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, Any] = field(default_factory=lambda: {"market_positions": [], "event_positions": []})
    balance: dict[str, Any] = field(default_factory=dict)
    settlements: list[dict[str, Any]] = field(default_factory=list)
    exchange: dict[str, Any] = field(default_factory=lambda: {"exchange_active": True, "trading_active": True})
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    order_bodies: list[dict[str, Any]] = field(default_factory=list)
    body_errors: list[str] = field(default_factory=list)
    reject: tuple[int, str] | None = None  # (status, code) for every order create
    last_page_cursor: str | None = ""  # "" per spec; None exercises the tolerated null
    require_auth_everywhere: bool = False
    now_ms: Any = None  # callable; server clock for the staleness check
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, route: str, *faults: Fault) -> None:
        self.faults.setdefault(route, deque()).extend(faults)

    def hits(self, route: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["route"] == route]

    def all_markets(self) -> list[dict[str, Any]]:
        return [mk for e in self.events for mk in e.get("markets", [])] + self.markets_extra


_TEMPLATES = [
    (re.compile(r"^/markets/(?!orderbooks$)[^/]+/orderbook$"), "/markets/{id}/orderbook"),
    (re.compile(r"^/portfolio/orders/(?!queue_positions$)[^/]+$"), "/portfolio/orders/{id}"),
    (re.compile(r"^/portfolio/events/orders/(?!batched$)[^/]+$"), "/portfolio/events/orders/{id}"),
    (re.compile(r"^/series/[^/]+$"), "/series/{id}"),
]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": ""}}, status_code=status)


def _page(items: list[Any], request: Request, last_cursor: str | None, default_limit: int) -> tuple[list[Any], str | None]:
    limit = int(request.query_params.get("limit", default_limit))
    start = int(request.query_params.get("cursor") or 0)
    chunk = items[start : start + limit]
    nxt = start + limit
    return chunk, (str(nxt) if nxt < len(items) else last_cursor)


def build_app(holder: dict[str, Any], validator: OAS30Validator) -> FastAPI:
    app = FastAPI()

    def verify(request: Request, st: ServerState) -> Response | None:
        key_id = request.headers.get("KALSHI-ACCESS-KEY")
        ts = request.headers.get("KALSHI-ACCESS-TIMESTAMP")
        sig = request.headers.get("KALSHI-ACCESS-SIGNATURE")
        path = request.url.path
        needs = path.startswith(f"{PREFIX}/portfolio") or st.require_auth_everywhere
        if not (key_id or ts or sig):
            return _error(401, "authentication_error", "missing auth headers") if needs else None
        if key_id != KEY_ID or not ts or not sig or not ts.isdigit():
            return _error(401, "authentication_error", "bad auth headers")
        now = st.now_ms() if st.now_ms else time.time_ns() // 1_000_000
        if abs(now - int(ts)) > SKEW_MS:
            return _error(401, "authentication_error", "stale timestamp")
        raw_path = request.scope.get("raw_path") or path.encode()
        message = (ts + request.method + raw_path.split(b"?", 1)[0].decode()).encode()
        try:
            signature = base64.b64decode(sig, validate=True)
            if isinstance(st.public_key, rsa.RSAPublicKey):
                st.public_key.verify(
                    signature,
                    message,
                    padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                    hashes.SHA256(),
                )
            else:
                st.public_key.verify(signature, message)
        except (InvalidSignature, ValueError):
            return _error(401, "authentication_error", "signature does not verify")
        return None

    @app.middleware("http")
    async def kalshi(request: Request, call_next: Any) -> Response:
        st: ServerState = holder["state"]
        body = await request.body()
        template = request.url.path.removeprefix(PREFIX)
        for pattern, name in _TEMPLATES:
            template = pattern.sub(name, template)
        route = f"{request.method} {template}"
        with st.lock:
            st.requests.append({
                "route": route, "path": request.url.path, "query": list(request.query_params.multi_items()),
                "headers": dict(request.headers), "body": body,
            })
            queue = st.faults.get(route)
            fault = queue.popleft() if queue else None
        denied = verify(request, st)
        if denied is not None:
            return denied
        if fault is None:
            return await call_next(request)
        if fault.process:
            await call_next(request)  # the venue does the work (e.g. creates the order)...
        if fault.delay:
            await asyncio.sleep(fault.delay)  # ...and answers too late, or...
        if fault.raw is not None:
            return Response(fault.raw, status_code=fault.status or 200, media_type="application/json")
        if fault.status is not None:
            if fault.body is not None:
                return JSONResponse(fault.body, status_code=fault.status)
            return _error(fault.status, f"status_{fault.status}", "scripted fault")
        if fault.body is not None:
            return JSONResponse(fault.body, status_code=200)
        if fault.process:
            return _error(500, "internal", "response lost")
        return await call_next(request)  # a slow but correct answer

    def state() -> ServerState:
        return holder["state"]

    @app.get(PREFIX + "/exchange/status")
    def exchange_status() -> Any:
        return state().exchange

    @app.get(PREFIX + "/series/{ticker}")
    def series(ticker: str) -> Any:
        found = state().series.get(ticker)
        return {"series": found} if found else _error(404, "not_found", "no such series")

    @app.get(PREFIX + "/events")
    def events(request: Request) -> Any:
        st = state()
        items = [e for e in st.events if request.query_params.get("series_ticker") in (None, e["series_ticker"])]
        if request.query_params.get("with_nested_markets") != "true":
            items = [{k: v for k, v in e.items() if k != "markets"} for e in items]
        chunk, cursor = _page(items, request, st.last_page_cursor, 200)
        payload: dict[str, Any] = {"events": chunk, "cursor": cursor}
        if request.query_params.get("with_milestones") == "true":
            tickers = {e["event_ticker"] for e in chunk}
            payload["milestones"] = [ms for ms in st.milestones if set(ms["related_event_tickers"]) & tickers]
        return payload

    @app.get(PREFIX + "/markets")
    def markets(request: Request) -> Any:
        st = state()
        items = [mk for mk in st.all_markets() if request.query_params.get("event_ticker") in (None, mk["event_ticker"])]
        chunk, cursor = _page(items, request, st.last_page_cursor, 100)
        return {"markets": chunk, "cursor": cursor}

    @app.get(PREFIX + "/markets/orderbooks")
    def orderbooks(request: Request) -> Any:
        tickers = request.query_params.getlist("tickers")
        if not 1 <= len(tickers) <= 100:
            return _error(400, "invalid_parameters", "1 to 100 tickers")
        st = state()
        return {"orderbooks": [{"ticker": t, "orderbook_fp": st.books[t]} for t in tickers if t in st.books]}

    @app.get(PREFIX + "/markets/{ticker}/orderbook")
    def orderbook(ticker: str) -> Any:
        book = state().books.get(ticker)
        return {"orderbook_fp": book} if book is not None else _error(404, "not_found", "no such market")

    @app.post(PREFIX + "/portfolio/events/orders")
    async def create_order(request: Request) -> Any:
        st = state()
        body = await request.json()
        errors = [e.message for e in validator.iter_errors(body)]
        with st.lock:
            st.order_bodies.append(body)
            st.body_errors.extend(errors)
            if errors:
                return _error(400, "invalid_parameters", "; ".join(errors))
            if st.reject:
                return _error(st.reject[0], st.reject[1], "rejected by scenario")
            coid = body["client_order_id"]
            if any(o["client_order_id"] == coid for o in st.orders.values()):
                return _error(409, "order_already_exists", "duplicate client_order_id")
            order_id = str(uuid.uuid4())
            price = body["price"]
            count = f"{float(body['count']):.2f}"
            st.orders[order_id] = {
                "order_id": order_id, "user_id": "user-1", "client_order_id": coid, "ticker": body["ticker"],
                "outcome_side": "yes" if body["side"] == "bid" else "no", "book_side": body["side"],
                "side": "yes" if body["side"] == "bid" else "no", "action": "buy", "type": "limit",
                "status": "resting", "yes_price_dollars": price,
                "no_price_dollars": f"{1 - float(price):.4f}",
                "fill_count_fp": "0.00", "remaining_count_fp": count, "initial_count_fp": count,
                "taker_fill_cost_dollars": "0.0000", "maker_fill_cost_dollars": "0.0000",
                "taker_fees_dollars": "0.0000", "maker_fees_dollars": "0.0000",
                "created_time": "2026-11-03T23:00:00Z", "self_trade_prevention_type": body["self_trade_prevention_type"],
                "exchange_index": 0,
            }
        return JSONResponse(
            {"order_id": order_id, "client_order_id": coid, "fill_count": "0.00", "remaining_count": count,
             "ts_ms": int(time.time() * 1000)},
            status_code=201,
        )

    @app.delete(PREFIX + "/portfolio/events/orders/{order_id}")
    def cancel_order(order_id: str, request: Request) -> Any:
        st = state()
        if "market_ticker" not in request.query_params:
            return _error(400, "invalid_parameters", "market_ticker required")
        with st.lock:
            order = st.orders.get(order_id)
            if order is None or order["status"] != "resting":
                return _error(404, "not_found", "no resting order")
            reduced = order["remaining_count_fp"]
            order.update(status="canceled", remaining_count_fp="0.00")
        return {"order_id": order_id, "client_order_id": order["client_order_id"], "reduced_by": reduced,
                "ts_ms": int(time.time() * 1000)}

    @app.get(PREFIX + "/portfolio/orders")
    def orders(request: Request) -> Any:
        st = state()
        ticker = request.query_params.get("ticker")
        items = [o for o in st.orders.values() if ticker in (None, o["ticker"])]
        chunk, cursor = _page(items, request, st.last_page_cursor, 100)
        return {"orders": chunk, "cursor": cursor}

    @app.get(PREFIX + "/portfolio/orders/{order_id}")
    def order(order_id: str) -> Any:
        found = state().orders.get(order_id)
        return {"order": found} if found else _error(404, "not_found", "no such order")

    @app.get(PREFIX + "/portfolio/fills")
    def fills(request: Request) -> Any:
        st = state()
        chunk, cursor = _page(st.fills, request, st.last_page_cursor, 100)
        return {"fills": chunk, "cursor": cursor}

    @app.get(PREFIX + "/portfolio/positions")
    def positions() -> Any:
        return {**state().positions, "cursor": ""}

    @app.get(PREFIX + "/portfolio/balance")
    def balance() -> Any:
        return state().balance

    @app.get(PREFIX + "/portfolio/settlements")
    def settlements(request: Request) -> Any:
        st = state()
        chunk, cursor = _page(st.settlements, request, st.last_page_cursor, 100)
        return {"settlements": chunk, "cursor": cursor}

    return app


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def rsa_pem(rsa_key: rsa.RSAPrivateKey) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


@pytest.fixture(scope="session")
def ed25519_pem() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="session")
def openapi_spec() -> dict[str, Any]:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="session")
def create_order_validator(openapi_spec: dict[str, Any]) -> OAS30Validator:
    schema = {"$ref": "#/components/schemas/CreateOrderV2Request", "components": openapi_spec["components"]}
    return OAS30Validator(schema)


@dataclass
class ServerHandle:
    origin: str
    holder: dict[str, Any]
    rsa_pem: bytes

    @property
    def base_url(self) -> str:
        return self.origin + PREFIX

    @property
    def state(self) -> ServerState:
        return self.holder["state"]

    def signer(self, pem: bytes | None = None, **kwargs: Any) -> KalshiSigner:
        return KalshiSigner.from_pem(KEY_ID, pem or self.rsa_pem, **kwargs)

    def client(self, **overrides: Any) -> KalshiClient:
        """A client with fast backoff, short timeouts and its own (roomy) limiter."""
        kwargs: dict[str, Any] = {
            "signer": self.signer(),
            "timeouts": Timeouts(connect_s=3.0, read_s=3.0),  # generous: the box is shared
            "max_retries": 3,
            "backoff": Backoff(initial_s=0.01, max_s=0.05, jitter_s=0.01),
            "rate_limiter": RateLimiter("prestige"),
        }
        kwargs.update(overrides)
        return KalshiClient(self.base_url, **kwargs)


@pytest.fixture(scope="session")
def _server(rsa_pem: bytes, create_order_validator: OAS30Validator) -> Any:
    holder: dict[str, Any] = {}
    app = build_app(holder, create_order_validator)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test Kalshi server did not start")
        time.sleep(0.01)
    yield ServerHandle(f"http://127.0.0.1:{port}", holder, rsa_pem)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def kalshi_server(_server: ServerHandle, rsa_key: rsa.RSAPrivateKey) -> ServerHandle:
    """The running server with a fresh state for this test."""
    _server.holder["state"] = ServerState(public_key=rsa_key.public_key())
    return _server


@pytest.fixture
def wire() -> types.SimpleNamespace:
    """Builders of spec-shaped Kalshi objects (deep copies: tests may mutate them)."""
    return types.SimpleNamespace(
        market=lambda *a, **k: copy.deepcopy(make_market(*a, **k)),
        event=lambda *a, **k: copy.deepcopy(make_event(*a, **k)),
        milestone=lambda *a, **k: copy.deepcopy(make_milestone(*a, **k)),
        fill=lambda *a, **k: copy.deepcopy(make_fill(*a, **k)),
        Fault=Fault,
        KEY_ID=KEY_ID,
    )


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """A small `benchmarks/make_snapshot.py` directory: the simulator's wire shapes at scale, one-day
    slate (several leagues), written once for the tests that read it (fastwire, rawpages)."""
    import importlib.util

    make = Path(__file__).resolve().parents[3] / "benchmarks" / "make_snapshot.py"
    spec = importlib.util.spec_from_file_location("make_snapshot", make)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_snapshot(30, tmp_path_factory.mktemp("generated"))

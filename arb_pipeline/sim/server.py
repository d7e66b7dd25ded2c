"""The simulator as a real local HTTP server: one ASGI app serving both venues and /_sim.

`create_app` wires the scenario, the fault controller, signature verification and rate limits into
FastAPI. `start_simulator` runs it under uvicorn in a background thread on a free (or given) port,
for tests and the demo, and hands back everything a client needs to talk to it.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from arb_pipeline.sim import admin_api, kalshi_api, odds_api, pinnacle_api
from arb_pipeline.sim import ws as kalshi_ws
from arb_pipeline.sim.auth import (
    KeyMaterial,
    SignatureVerifier,
    demo_key_material,
    generate_key_material,
    load_public_key,
)
from arb_pipeline.sim.faults import FaultController, venue_of
from arb_pipeline.sim.kalshi_api import KalshiContext, KalshiError, KalshiRateLimited, error_response
from arb_pipeline.sim.middleware import FaultMiddleware
from arb_pipeline.sim.odds_api import OddsContext, OddsError, odds_error_body
from arb_pipeline.sim.ratelimit import CallRateLimiter, KalshiRateLimiter
from arb_pipeline.sim.scenario import ScenarioConfig, ScenarioEngine

DEFAULT_ODDS_API_KEY = "5a1d0e5f0c2b4d7e9f3a6b8c1d2e4f60"  # a fixed demo key: 32 hex characters like real keys


@dataclass
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    seed: int = 7
    start: datetime | None = None
    live_clock: bool = False
    games_per_league: int | dict[str, int] = 3
    scenario: ScenarioConfig | None = None  # full control; overrides seed/start/live_clock/games_per_league
    engine: ScenarioEngine | None = None  # serve an existing engine (e.g. to record it)
    kalshi_key_id: str | None = None
    kalshi_public_key_pem: bytes | None = None
    data_dir: Path | None = None  # where the demo key pair lives; None: an in-memory key
    kalshi_tier: str | None = "basic"  # None disables Kalshi rate limits
    odds_api_key: str = DEFAULT_ODDS_API_KEY
    pinnacle_username: str = pinnacle_api.DEFAULT_USERNAME  # HTTP Basic credentials of the Pinnacle routes
    pinnacle_password: str = field(default=pinnacle_api.DEFAULT_PASSWORD, repr=False)
    odds_quota: int = 20_000
    odds_calls_per_second: int | None = 30
    # The rate limiters' clock (seconds, monotonic). Real pacing by default; a test that must not
    # depend on how fast the machine answers freezes it (the buckets then never refill).
    rate_limit_clock: Callable[[], float] = time.monotonic
    log_level: str = "warning"  # uvicorn's access log stays off: it would print apiKey query strings

    def scenario_config(self) -> ScenarioConfig:
        if self.scenario is not None:
            return self.scenario
        return ScenarioConfig(seed=self.seed, start=self.start, live_clock=self.live_clock,
                              games_per_league=self.games_per_league)


@dataclass
class SimState:
    engine: ScenarioEngine
    faults: FaultController
    key: KeyMaterial
    created_key_dir: Path | None = None

    @property
    def key_id(self) -> str:
        return self.key.key_id


@lru_cache(maxsize=1)
def _session_key() -> KeyMaterial:
    """One generated key per process: RSA generation is slow and tests start many servers."""
    return generate_key_material()


def resolve_key(config: SimConfig) -> tuple[KeyMaterial, Path | None]:
    """The configured public key, else the demo key under data_dir/sim (created on first run)."""
    if config.kalshi_public_key_pem is not None:
        if not config.kalshi_key_id:
            raise ValueError("a Kalshi public key needs its key id")
        return KeyMaterial(config.kalshi_key_id, load_public_key(config.kalshi_public_key_pem)), None
    if config.data_dir is not None:
        material, created = demo_key_material(config.data_dir / "sim")
        return material, (config.data_dir / "sim") if created else None
    return _session_key(), None


def create_app(config: SimConfig) -> FastAPI:
    key, created_dir = resolve_key(config)
    engine = config.engine if config.engine is not None else ScenarioEngine(config.scenario_config())
    faults = FaultController(engine.now)
    engine.faults = faults  # the scenario asks it which bookmakers are frozen
    app = FastAPI(title="arb_pipeline venue simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = SimState(engine, faults, key, created_dir)
    app.state.kalshi = KalshiContext(engine, SignatureVerifier(key),
                                     KalshiRateLimiter(config.kalshi_tier, monotonic=config.rate_limit_clock)
                                     if config.kalshi_tier else None)
    app.state.odds = OddsContext(engine, faults, config.odds_api_key, config.odds_quota,
                                 CallRateLimiter(config.odds_calls_per_second, monotonic=config.rate_limit_clock)
                                 if config.odds_calls_per_second else None)
    app.include_router(kalshi_api.router)
    app.include_router(odds_api.router)
    app.state.pinnacle = pinnacle_api.PinnacleContext(engine, config.pinnacle_username, config.pinnacle_password)
    app.include_router(pinnacle_api.router)
    app.include_router(admin_api.router)
    app.include_router(kalshi_ws.router)  # /trade-api/ws/v2 (websocket books, fills, lifecycle)
    app.state.ws_hub = kalshi_ws.BookHub(engine, faults)
    app.add_middleware(FaultMiddleware, controller=faults)

    @app.exception_handler(KalshiError)
    async def _kalshi_error(_request: Request, exc: KalshiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(KalshiRateLimited)
    async def _kalshi_429(_request: Request, _exc: KalshiRateLimited) -> JSONResponse:
        return kalshi_api.rate_limited_response()

    @app.exception_handler(OddsError)
    async def _odds_error(request: Request, exc: OddsError) -> JSONResponse:
        headers = request.app.state.odds.headers(0) if exc.quota_headers else None
        return JSONResponse(odds_error_body(exc.code, exc.message), status_code=exc.status, headers=headers)

    @app.exception_handler(pinnacle_api.PinnacleError)
    async def _pinnacle_error(_request: Request, exc: pinnacle_api.PinnacleError) -> JSONResponse:
        return JSONResponse(pinnacle_api.error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        venue = venue_of(request.url.path)
        message = str(exc.detail)
        if venue == "kalshi":
            code = "not_found" if exc.status_code == 404 else "invalid_request"
            return error_response(exc.status_code, code, message)
        if venue == "odds":
            return JSONResponse(odds_error_body("NOT_FOUND", message), status_code=exc.status_code)
        return JSONResponse({"error": message}, status_code=exc.status_code)

    return app


@dataclass
class SimHandle:
    url: str
    odds_api_key: str = field(repr=False)  # secrets stay out of reprs and logs
    key_id: str = field(repr=False)
    private_key_pem: bytes | None = field(repr=False)
    faults: FaultController
    scenario: ScenarioEngine
    app: FastAPI
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def kalshi_base_url(self) -> str:
        return self.url + "/trade-api/v2"

    @property
    def kalshi_ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + kalshi_ws.WS_PATH

    @property
    def odds_base_url(self) -> str:
        return self.url

    @property
    def pinnacle_base_url(self) -> str:
        return self.url  # /v1/fixtures and /v2/odds, as under https://api.pinnacle.com

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        gc.unfreeze()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def launch(config: SimConfig) -> SimHandle:
    """Start the server in a background thread and wait until it accepts connections."""
    app = create_app(config)
    sock = _bind(config.host, config.port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=config.log_level, lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"sim-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the simulator did not start")
        time.sleep(0.01)
    sim: SimState = app.state.sim
    # The engine's slate, books and catalogue (~100,000 objects at 1,000 games) live as long as the server;
    # its requote allocates ~22,000 orders every tick, so full collections come every tick or two and each
    # rescanned all of them: a fifth to a third of the simulator's CPU per capture. gc.freeze() moves every
    # object alive now out of the collector's generations (process-wide: the cyclic collector skips them;
    # reference counting still frees them) until stop() gives them back with gc.unfreeze().
    gc.freeze()
    return SimHandle(f"http://{config.host}:{port}", config.odds_api_key, sim.key_id, sim.key.private_key_pem,
                     sim.faults, sim.engine, app, server, thread)


@contextmanager
def start_simulator(config: SimConfig | None = None) -> Iterator[SimHandle]:
    handle = launch(config or SimConfig())
    try:
        yield handle
    finally:
        handle.stop()

"""`create_app(settings)`: the FastAPI application of the operator's desk.

Wiring only: the database (migrated on start, like every other entry point), the breaker, the
operator token, the request-size limit, CORS (closed unless ARB_API_CORS_ORIGINS lists origins),
security headers for the dashboard, `/metrics`, and the routes of `api/routes.py`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from arb_pipeline.api.limits import BodySizeLimit
from arb_pipeline.api.metrics import build_registry
from arb_pipeline.api.routes import act, read
from arb_pipeline.api.security import load_token
from arb_pipeline.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    # the page loads only its own script, style and data: data from the venues can never run as code
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MAPPINGS_CACHE_S = 10.0


class MappingOverviewCache:
    """`services.mappings.mapping_overview` re-resolves the latest stored snapshot; a dashboard that
    refreshes every few seconds reuses it for a few seconds (a decision made here clears it)."""

    def __init__(self, settings: Settings, ttl_s: float = MAPPINGS_CACHE_S) -> None:
        self.settings, self.ttl_s = settings, ttl_s
        self._value: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        from arb_pipeline.services.mappings import mapping_overview

        with self._lock:
            if self._value is not None and time.monotonic() - self._value[0] < self.ttl_s:
                return self._value[1]
            value = mapping_overview(self.settings)
            self._value = (time.monotonic(), value)
            return value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The desk's app on the configured database. `clock` gives "now" for ages (tests pass a fixed one)."""
    from arb_pipeline.services.operations import breaker_for
    from arb_pipeline.storage.db import get_engine, session_factory

    settings = settings or get_settings()
    clock = clock or (lambda: datetime.now(UTC))
    token = load_token(settings)  # a broken token configuration stops start-up with the reason
    breaker = breaker_for(settings)  # migrates the database: the API may be the first thing started
    sessions = session_factory(get_engine(settings.effective_database_url))
    registry, request_metrics = build_registry(sessions, clock)

    app = FastAPI(
        title="arb_pipeline — operator's desk",
        version="1",
        summary="Opportunities, orders, fills, positions, hedges to place, the breaker and alerts; "
                "token-guarded actions (kill switch, mapping decisions). Paper mode unless configured live.",
    )
    app.state.settings, app.state.clock, app.state.token = settings, clock, token
    app.state.breaker, app.state.sessions = breaker, sessions
    app.state.mapping_overview = MappingOverviewCache(settings)

    @app.middleware("http")
    async def headers_and_timing(request: Request, call_next):
        started = time.perf_counter()
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        request_metrics.observe(request.method, route, response.status_code, started)
        return response

    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:  # closed by default: a browser on another origin may not call the API at all
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)

    app.include_router(read)
    app.include_router(act)

    from sqlalchemy.exc import DBAPIError

    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        # the driver's message can name hosts and users: only its type is said (Money rule 7)
        import logging

        logging.getLogger(__name__).error("API: database error on %s (%s)", request.url.path,
                                          type(getattr(exc, "orig", exc)).__name__)
        return JSONResponse({"detail": "the application database did not answer; try again shortly"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app

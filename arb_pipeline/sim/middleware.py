"""Applies the HTTP-level fault modes to live requests, before and after the venue code runs."""

from __future__ import annotations

import asyncio
import json

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from arb_pipeline.sim.faults import FaultController, rewrite, venue_of


def venue_error(venue: str, status: int) -> JSONResponse:
    if status == 429:
        if venue == "kalshi":
            return JSONResponse({"error": "too many requests"}, status_code=429)
        return JSONResponse({"message": "Requests are being sent too frequently.", "error_code": "EXCEEDED_FREQ_LIMIT",
                             "details_url": "https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html"
                                            "#exceeded_freq_limit"}, status_code=429)
    if venue == "kalshi":
        return JSONResponse({"error": {"code": "internal_server_error", "message": "internal server error",
                                       "details": "simulated fault"}}, status_code=status)
    return JSONResponse({"message": "Internal server error (simulated fault).", "error_code": "INTERNAL_ERROR",
                         "details_url": "https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html"},
                        status_code=status)


class FaultMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: object, controller: FaultController) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.controller = controller

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        venue = venue_of(request.url.path)
        if venue is None:
            return await call_next(request)
        plan = self.controller.plan(venue, request.url.path)
        if plan.delay_s:
            await asyncio.sleep(plan.delay_s)
        if plan.error_status is not None:
            return venue_error(venue, plan.error_status)
        if plan.rate_limited:
            return venue_error(venue, 429)
        response = await call_next(request)
        if not plan.rewrites_body:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        if plan.renames or plan.drops:
            try:
                body = json.dumps(rewrite(json.loads(body), plan.renames, plan.drops)).encode()
            except ValueError:
                pass
        if plan.malformed:
            body = b'{"truncated": ' + body[: len(body) // 2]
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(body, status_code=response.status_code, headers=headers, media_type="application/json")

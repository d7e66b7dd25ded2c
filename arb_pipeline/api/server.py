"""`arb-pipeline api`: serve the desk with uvicorn until interrupted.

One worker on purpose: the app is I/O-light, every state it shows lives in the database, and its
own request-latency histogram is in-process (see `api/metrics.py`).
"""

from __future__ import annotations

from arb_pipeline.settings import Settings


def describe(settings: Settings, host: str, port: int, *, token_configured: bool) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    lines = [f"arb_pipeline desk ({settings.mode} mode) on {base}",
             f"  dashboard  {base}/",
             f"  API        {base}/api/... (OpenAPI: {base}/docs)",
             f"  metrics    {base}/metrics"]
    lines.append("  actions    enabled (ARB_API_TOKEN is set)" if token_configured else
                 "  actions    disabled: read-only until ARB_API_TOKEN (or ARB_API_TOKEN_FILE) is set")
    return "\n".join(lines)


def serve(settings: Settings, host: str, port: int, *, log_level: str = "warning") -> None:
    import uvicorn

    from arb_pipeline.api.app import create_app

    app = create_app(settings)
    print(describe(settings, host, port, token_configured=app.state.token.configured), flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, server_header=False)
